"""Job store contract: create once, list newest first, change state only conditionally."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from app.jobs.job import COMPLETED, FAILED, PENDING, RUNNING, ForbiddenMove, Job, Status, Storage, utcnow
from app.ports.jobs import JobStore
from tests.job_states import advance


def new_job(user_id: str, minutes_ago: int = 0) -> Job:
    job_id = str(uuid.uuid4())
    return Job(
        job_id=job_id, user_id=user_id, input_file_name="a.vcf", input_bucket="in",
        input_key=f"inputs/{user_id}/{job_id}~a.vcf", input_size=10,
        submitted_at=utcnow() - timedelta(minutes=minutes_ago),
    )


async def test_create_is_once_per_id(job_store: JobStore) -> None:
    """Creating a job id twice keeps the first and says so."""
    job = new_job(str(uuid.uuid4()))
    assert await job_store.create(job) is True
    assert await job_store.create(job) is False
    stored = await job_store.get(job.job_id)
    assert stored is not None and stored.status == PENDING and stored.input_key == job.input_key


async def test_get_unknown_is_none(job_store: JobStore) -> None:
    """An unknown job id is None, not an error."""
    assert await job_store.get(str(uuid.uuid4())) is None


async def test_list_newest_first_with_cursor(job_store: JobStore) -> None:
    """A user's jobs come newest first, page by page, and only theirs."""
    user = str(uuid.uuid4())
    jobs = [new_job(user, minutes_ago=m) for m in (5, 1, 3, 2, 4)]
    for job in jobs:
        await job_store.create(job)
    await job_store.create(new_job(str(uuid.uuid4())))
    expected = [j.job_id for j in sorted(jobs, key=lambda j: j.submitted_at, reverse=True)]
    first = await job_store.list_for_user(user, limit=3)
    assert [j.job_id for j in first] == expected[:3]
    last = first[-1]
    rest = await job_store.list_for_user(user, limit=3, before=(last.submitted_at, last.job_id))
    assert [j.job_id for j in rest] == expected[3:]
    assert await job_store.count_for_user(user) == 5


async def test_summaries_are_the_listed_jobs(job_store: JobStore) -> None:
    """The job list's summaries are the same jobs, in the same order and pages, as
    list_for_user's, with the fields the list shows (a store may read only those)."""
    user = str(uuid.uuid4())
    for minutes in (4, 1, 3, 2):
        await job_store.create(new_job(user, minutes_ago=minutes))
    jobs = await job_store.list_for_user(user, limit=3)
    assert await job_store.summaries_for_user(user, limit=3) == [job.summary() for job in jobs]
    last = jobs[-1]
    rest = await job_store.summaries_for_user(user, limit=3, before=(last.submitted_at, last.job_id))
    assert rest == [job.summary() for job in
                    await job_store.list_for_user(user, limit=3, before=(last.submitted_at, last.job_id))]
    assert len(rest) == 1 and isinstance(rest[0].job_id, str)


async def test_transition_only_from_the_given_states(job_store: JobStore) -> None:
    """A state change happens only from the named states, with its fields."""
    job = new_job(str(uuid.uuid4()))
    await job_store.create(job)
    assert await job_store.transition(job.job_id, [RUNNING], COMPLETED) is False
    now = utcnow()
    assert await job_store.transition(job.job_id, [PENDING], RUNNING, started_at=now) is True
    assert await job_store.transition(job.job_id, [PENDING], RUNNING) is False
    assert await job_store.transition(job.job_id, [RUNNING], COMPLETED, progress=100,
                                      storage="hot") is True
    stored = await job_store.get(job.job_id)
    assert stored is not None
    assert (stored.status, stored.progress, stored.storage) == (COMPLETED, 100, "hot")
    assert stored.started_at == now


async def test_transition_sets_and_clears_a_field(job_store: JobStore) -> None:
    """A field set by one transition is cleared by another passing None (a storage
    error that a later move wipes)."""
    job = new_job(str(uuid.uuid4()))
    await job_store.create(job)
    assert await advance(job_store, job.job_id, COMPLETED, storage="hot")
    assert await job_store.transition(job.job_id, [COMPLETED], COMPLETED, storage_error="stuck")
    stored = await job_store.get(job.job_id)
    assert stored is not None and stored.storage_error == "stuck"
    assert await job_store.transition(job.job_id, [COMPLETED], COMPLETED, storage_error=None)
    stored = await job_store.get(job.job_id)
    assert stored is not None and stored.storage_error is None


async def test_transition_with_field_condition(job_store: JobStore) -> None:
    """``when`` adds field conditions (e.g. storage must still be hot)."""
    job = new_job(str(uuid.uuid4()))
    await job_store.create(job)
    assert await advance(job_store, job.job_id, COMPLETED, storage="hot")
    assert not await job_store.transition(job.job_id, [COMPLETED], COMPLETED,
                                          when={"storage": "cold"}, storage="restoring")
    assert await job_store.transition(job.job_id, [COMPLETED], COMPLETED,
                                      when={"storage": "hot"}, storage="archiving")


async def test_an_allowed_move_is_made(job_store: JobStore) -> None:
    """Every move of the state machines is one the store makes: here the whole path from
    pending to a result restored from the archive."""
    job = new_job(str(uuid.uuid4()))
    await job_store.create(job)
    assert await advance(job_store, job.job_id, COMPLETED, storage="restoring")
    assert await job_store.transition(job.job_id, [COMPLETED], COMPLETED, when={"storage": "restoring"},
                                      storage="hot")
    stored = await job_store.get(job.job_id)
    assert stored is not None and (stored.status, stored.storage) == (COMPLETED, "hot")


@pytest.mark.parametrize(("was", "to"), [(PENDING, COMPLETED), (COMPLETED, RUNNING), (FAILED, PENDING),
                                         (COMPLETED, "cancelled"), ("cancelled", RUNNING),
                                         ("cancelled", COMPLETED), (PENDING, "deleting")])
async def test_a_forbidden_status_move_is_an_error_and_writes_nothing(
    job_store: JobStore, was: Status, to: Status
) -> None:
    """A status move the state machine does not allow is refused before the store is asked,
    even when the job is where the move starts (it would have been written otherwise)."""
    job = new_job(str(uuid.uuid4()))
    await job_store.create(job)
    assert await advance(job_store, job.job_id, was)
    with pytest.raises(ForbiddenMove):
        await job_store.transition(job.job_id, [was], to, progress=42)
    stored = await job_store.get(job.job_id)
    assert stored is not None and (stored.status, stored.progress) == (was, job.progress)


@pytest.mark.parametrize(("was", "to"), [("hot", "cold"), ("cold", "hot"), ("restoring", "archiving")])
async def test_a_forbidden_storage_move_is_an_error_and_writes_nothing(
    job_store: JobStore, was: Storage, to: Storage
) -> None:
    """A result's storage cannot skip a step (hot → cold without archiving it, cold → hot
    without restoring it), nor be written without saying which storage it leaves."""
    job = new_job(str(uuid.uuid4()))
    await job_store.create(job)
    assert await advance(job_store, job.job_id, COMPLETED, storage=was)
    with pytest.raises(ForbiddenMove):
        await job_store.transition(job.job_id, [COMPLETED], COMPLETED, when={"storage": was}, storage=to)
    with pytest.raises(ForbiddenMove):
        await job_store.transition(job.job_id, [COMPLETED], COMPLETED, storage=was)
    stored = await job_store.get(job.job_id)
    assert stored is not None and stored.storage == was


async def test_concurrent_claims_have_one_winner(job_store: JobStore) -> None:
    """Ten workers racing to claim one pending job: exactly one succeeds."""
    job = new_job(str(uuid.uuid4()))
    await job_store.create(job)
    wins = await asyncio.gather(*(job_store.transition(job.job_id, [PENDING], RUNNING)
                                  for _ in range(10)))
    assert sum(wins) == 1


async def test_unknown_fields_are_refused(job_store: JobStore) -> None:
    """A typo in a field name is an error, not a silent no-op."""
    job = new_job(str(uuid.uuid4()))
    await job_store.create(job)
    with pytest.raises(ValueError, match="not job fields"):
        await job_store.transition(job.job_id, [PENDING], FAILED, eror="x")


async def test_count_by_status_counts_one_users_jobs_in_the_given_states(job_store: JobStore) -> None:
    """The caps on queued and running jobs count a user's jobs per status: only that
    user's, only the states asked for, none as 0, and a state change is seen at once."""
    user = str(uuid.uuid4())
    jobs = [new_job(user, minutes_ago=m) for m in range(5)]
    for job in jobs:
        await job_store.create(job)
    await job_store.create(new_job(str(uuid.uuid4())))
    assert await job_store.transition(jobs[0].job_id, [PENDING], RUNNING)
    assert await job_store.transition(jobs[1].job_id, [PENDING], RUNNING)
    assert await job_store.transition(jobs[1].job_id, [RUNNING], COMPLETED)
    assert await job_store.transition(jobs[2].job_id, [PENDING], FAILED)
    assert await job_store.count_by_status(user, [PENDING, RUNNING]) == {PENDING: 2, RUNNING: 1}
    assert await job_store.count_by_status(user, [RUNNING]) == {RUNNING: 1}
    assert await job_store.count_by_status(str(uuid.uuid4()), [PENDING, RUNNING]) == {
        PENDING: 0, RUNNING: 0}


@pytest.mark.parametrize("was", [PENDING, RUNNING])
async def test_a_pending_or_running_job_can_be_cancelled(job_store: JobStore, was: Status) -> None:
    """Its owner cancels a pending or running job; the annotator's next write from running
    (progress, completion) then finds it moved and writes nothing (DynamoDB has no CHECK:
    the port enforces the moves on both backends)."""
    job = new_job(str(uuid.uuid4()))
    await job_store.create(job)
    assert await advance(job_store, job.job_id, was)
    assert await job_store.transition(job.job_id, [PENDING, RUNNING], "cancelled")
    assert not await job_store.transition(job.job_id, [RUNNING], RUNNING, progress=50)
    assert not await job_store.transition(job.job_id, [RUNNING], COMPLETED, progress=100)
    stored = await job_store.get(job.job_id)
    assert stored is not None and stored.status == "cancelled" and stored.progress == 0


async def test_delete_removes_only_a_job_being_deleted(job_store: JobStore) -> None:
    """A job's record is deleted only once it is marked deleting (its objects go first):
    a completed job is kept, a deleting one is gone for good, and deleting again is False."""
    job = new_job(str(uuid.uuid4()))
    await job_store.create(job)
    assert await advance(job_store, job.job_id, COMPLETED, storage="cold")
    assert not await job_store.delete(job.job_id)
    assert await job_store.get(job.job_id) is not None
    assert await job_store.transition(job.job_id, [COMPLETED], "deleting")
    assert not await job_store.transition(job.job_id, [COMPLETED], COMPLETED, when={"storage": "cold"},
                                          storage="restoring")
    assert await job_store.delete(job.job_id)
    assert await job_store.get(job.job_id) is None
    assert not await job_store.delete(job.job_id)
    assert await job_store.list_for_user(job.user_id) == []
