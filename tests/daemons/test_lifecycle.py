"""Archive, upgrade, restore and thaw: correct under redelivery, crashes and races."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pytest

from app.accounts import subscriptions
from app.accounts.users import User
from app.jobs.control import delete_job
from app.jobs.job import COMPLETED, FAILED, PENDING, RUNNING, Job, Status, utcnow
from app.jobs.lifecycle import JobResult, RestoreCompleted, UserUpgraded
from app.ports.cold import ColdTier, Restore, Tier
from app.ports.cold.local import LocalColdTier
from app.ports.jobs import JobStore
from app.ports.objects import ObjectNotFound
from app.ports.payments import Paid
from app.services import Services
from daemons import archive, notify, restore, thaw
from tests.daemons.conftest import RETENTION, mail_to, make_job, make_user, message
from tests.live_events import events_heard


async def archive_now(services: Services, job: Job) -> None:
    body = {"job_id": job.job_id, "user_id": job.user_id, "status": job.status}
    await archive.handle(services, message(archive.QUEUE, body), JobResult.decode(body))


async def restore_now(services: Services, body: dict[str, Any]) -> None:
    await restore.handle(services, message(restore.QUEUE, body), UserUpgraded.decode(body))


async def thaw_now(services: Services, body: dict[str, Any]) -> None:
    await thaw.handle(services, message(thaw.QUEUE, body), thaw.decode(services, body))


async def upgrade(services: Services, user: User) -> None:
    """Pay (test mode) and run the restorer on the user-upgraded message, as the bus would."""
    await subscriptions.upgrade(services.db, services.bus, Paid(user.user_id, "test", uuid.uuid4().hex))
    for delivery in await services.bus.receive(restore.QUEUE, max_messages=10, wait_seconds=1):
        await restore.handle(services, delivery, UserUpgraded.decode(json.loads(delivery.body)))
        await services.bus.ack(delivery)


async def thaw_completed(services: Services, wait: float = 4, expect: int | None = None) -> int:
    """Deliver restore completions to the thawer for ``wait`` seconds, or until
    ``expect`` of them were; how many there were."""
    handled = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while (left := deadline - loop.time()) > 0 and handled != expect:
        for delivery in await services.bus.receive(thaw.QUEUE, max_messages=10, wait_seconds=left):
            await thaw.handle(services, delivery, thaw.decode(services, json.loads(delivery.body)))
            await services.bus.ack(delivery)
            handled += 1
    return handled


async def storage(services: Services, job: Job) -> str | None:
    found = await services.jobs.get(job.job_id)
    assert found is not None
    return found.storage


async def downloadable(services: Services, job: Job) -> bool:
    assert job.result_bucket and job.result_key
    try:
        await services.objects.get_bytes(job.result_bucket, job.result_key)
    except ObjectNotFound:
        return False
    return True


class Counting(ColdTier):
    """The real cold tier, counting calls, with a hook that can stop or crash a step."""

    def __init__(self, inner: ColdTier) -> None:
        self.inner = inner
        self.calls: dict[str, int] = {}
        self.hooks: dict[str, Callable[[], Awaitable[None]]] = {}

    async def _after(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        if name in self.hooks:
            await self.hooks[name]()

    async def archive(self, bucket: str, key: str) -> None:
        if "before-archive" in self.hooks:
            await self.hooks["before-archive"]()
        await self.inner.archive(bucket, key)
        await self._after("archive")

    async def is_archived(self, bucket: str, key: str) -> bool:
        return await self.inner.is_archived(bucket, key)

    async def restore(self, bucket: str, key: str, tier: Tier) -> Restore:
        done = await self.inner.restore(bucket, key, tier)
        await self._after("restore")
        return done

    async def thaw(self, bucket: str, key: str) -> None:
        await self.inner.thaw(bucket, key)
        await self._after("thaw")

    async def delete(self, bucket: str, key: str) -> None:
        if "before-delete" in self.hooks:
            await self.hooks["before-delete"]()
        await self.inner.delete(bucket, key)

    def expected_seconds(self, tier: Tier) -> int:
        return self.inner.expected_seconds(tier)

    def completed(self, body: dict[str, Any]) -> RestoreCompleted:
        return self.inner.completed(body)


@pytest.fixture
def cold(services: Services, monkeypatch: pytest.MonkeyPatch) -> Counting:
    counting = Counting(services.cold)
    monkeypatch.setattr(services, "cold", counting)
    return counting


class Killed(Exception):
    """Stands for the process dying at this point: the message is not acknowledged."""


async def kill() -> None:
    raise Killed


# -- archive -----------------------------------------------------------------------

async def test_free_result_archived_after_retention(services: Services) -> None:
    """A free user's result stays hot until the retention has passed (the message is
    re-queued), then goes cold and cannot be downloaded; the job says archived."""
    user = await make_user(services)
    job = await make_job(services, user, age=0)
    await archive_now(services, job)
    assert await storage(services, job) == "hot" and await downloadable(services, job)
    [requeued] = await services.bus.receive(archive.QUEUE, wait_seconds=RETENTION + 2)
    await archive.handle(services, requeued, JobResult.decode(json.loads(requeued.body)))
    archived = await services.jobs.get(job.job_id)
    assert archived is not None and archived.storage == "cold" and archived.archived_at
    assert not await downloadable(services, job)


async def test_long_retention_requeues_with_the_remaining_delay(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retention longer than the queue's 15-minute maximum is waited out in steps:
    15 minutes at most, then exactly what remains."""
    user = await make_user(services)
    monkeypatch.setattr(services.settings, "free_retention_seconds", 3600)
    job = await make_job(services, user, age=0)
    await archive_now(services, job)
    late = await make_job(services, user, age=3000)
    await archive_now(services, late)
    delays = sorted(
        row[0] for row in await services.db.fetch_all(
            "SELECT extract(epoch FROM visible_at - now())::int FROM queue_messages WHERE queue = :q",
            {"q": archive.QUEUE},
        )
    )
    assert delays[0] == pytest.approx(600, abs=3) and delays[1] == pytest.approx(900, abs=3)


async def test_premium_and_failed_results_never_move(services: Services, cold: Counting) -> None:
    """Premium results stay hot for good; a failed job has nothing to archive."""
    premium = await make_user(services, "premium")
    kept = await make_job(services, premium)
    failed = await make_job(services, await make_user(services), status=FAILED)
    await archive_now(services, kept)
    await archive_now(services, failed)
    assert await storage(services, kept) == "hot" and await downloadable(services, kept)
    assert cold.calls == {}


@pytest.mark.parametrize("status", [PENDING, RUNNING])
async def test_upgrade_while_job_unfinished_never_archives(
    services: Services, cold: Counting, status: Status
) -> None:
    """Upgrading while the job is pending or running: the role is read when the
    archive message fires, so the result is never archived."""
    user = await make_user(services)
    job = await make_job(services, user, status=PENDING)
    if status == RUNNING:
        assert await services.jobs.transition(job.job_id, [PENDING], RUNNING)
    await upgrade(services, user)
    if status == PENDING:  # claimed only now: the job store moves no job straight to completed
        assert await services.jobs.transition(job.job_id, [PENDING], RUNNING)
    assert await services.jobs.transition(
        job.job_id, [RUNNING], COMPLETED, completed_at=utcnow(), result_bucket="gas-results",
        result_key=f"results/{user.user_id}/{job.job_id}~in.annot.vcf", storage="hot",
    )
    await services.objects.put_bytes("gas-results", f"results/{user.user_id}/{job.job_id}~in.annot.vcf",
                                     b"x", "text/plain")
    await asyncio.sleep(RETENTION + 0.5)
    done = await services.jobs.get(job.job_id)
    assert done is not None
    await archive_now(services, done)
    assert await storage(services, job) == "hot" and cold.calls == {}


async def test_same_archive_message_twice_archives_once(services: Services, cold: Counting) -> None:
    """Two deliveries of one archive message at once, then one more later: the
    result is archived once (one move, one archived_at) and the late one does nothing."""
    job = await make_job(services, await make_user(services))
    await asyncio.gather(archive_now(services, job), archive_now(services, job))
    first = await services.jobs.get(job.job_id)
    calls = dict(cold.calls)
    await archive_now(services, job)
    again = await services.jobs.get(job.job_id)
    assert first is not None and again is not None
    assert first.storage == again.storage == "cold" and again.archived_at == first.archived_at
    assert cold.calls == calls and not await downloadable(services, job)


async def test_archiver_killed_between_move_and_record(services: Services, cold: Counting) -> None:
    """Killed after the object moved but before the job said so: the redelivered
    message finishes the archive."""
    job = await make_job(services, await make_user(services))
    cold.hooks["archive"] = kill
    with pytest.raises(Killed):
        await archive_now(services, job)
    assert await storage(services, job) == "archiving"
    del cold.hooks["archive"]
    await archive_now(services, job)
    assert await storage(services, job) == "cold" and not await downloadable(services, job)


# -- upgrade, restore, thaw --------------------------------------------------------

async def test_upgrade_restores_every_archived_result(services: Services, cold: Counting) -> None:
    """On upgrade every cold result of the user is restored (Expedited), comes back
    hot and downloadable, and the owner gets one 'results are back' mail naming them all
    (not one per job), sent when the last is back; hot and failed jobs are left alone."""
    user = await make_user(services)
    archived = [await make_job(services, user) for _ in range(2)]
    for job in archived:
        await archive_now(services, job)
    hot = await make_job(services, user, age=0)
    await make_job(services, user, status=FAILED)
    other = await make_job(services, await make_user(services))
    await archive_now(services, other)
    await upgrade(services, user)
    for job in archived:
        restoring = await services.jobs.get(job.job_id)
        assert restoring is not None
        assert (restoring.storage, restoring.restore_tier) == ("restoring", "Expedited")
        assert restoring.restore_requested_at is not None
    assert await storage(services, hot) == "hot"
    assert await storage(services, other) == "cold"  # another user's results stay archived
    assert await thaw_completed(services, expect=2) == 2
    for job in archived:
        assert await storage(services, job) == "hot" and await downloadable(services, job)
    [back] = [m for m in mail_to(services, user) if "are back" in m["Subject"]]
    assert back["Subject"] == "2 results are back from the archive"
    text = back.get_body(("plain",)).get_content()
    for job in archived:
        assert f"{job.input_file_name}: http://gas.test/annotations/{job.job_id}" in text


async def test_expedited_refused_falls_back_to_standard(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the cold tier refuses Expedited, the restore is asked for at Standard."""
    inner = services.cold
    assert isinstance(inner, LocalColdTier)
    monkeypatch.setattr(services, "cold", LocalColdTier(
        inner.objects, inner.root, inner.bus, expedited_seconds=1, standard_seconds=1,
        expedited_available=False,
    ))
    user = await make_user(services)
    job = await make_job(services, user)
    await archive_now(services, job)
    await upgrade(services, user)
    restoring = await services.jobs.get(job.job_id)
    assert restoring is not None and restoring.restore_tier == "Standard"
    assert await thaw_completed(services, expect=1) == 1
    assert await storage(services, job) == "hot"


async def test_same_upgrade_message_twice_restores_once(services: Services, cold: Counting) -> None:
    """user-upgraded delivered twice (at once, then again): one restore, one thaw, one mail."""
    user = await make_user(services)
    job = await make_job(services, user)
    await archive_now(services, job)
    await subscriptions.upgrade(services.db, services.bus, Paid(user.user_id, "test", "ref"))
    body = {"user_id": user.user_id}
    await asyncio.gather(*(restore_now(services, body) for _ in range(2)))
    await restore_now(services, body)
    assert await thaw_completed(services, wait=2.5) == 1
    completion = {"bucket": job.result_bucket, "key": job.result_key}
    await thaw_now(services, completion)  # the completion again
    assert await storage(services, job) == "hot"
    assert cold.calls.get("thaw", 0) >= 1
    assert len([m for m in mail_to(services, user) if "are back" in m["Subject"]]) == 1


async def test_restorer_killed_between_request_and_record(services: Services, cold: Counting) -> None:
    """Killed after asking for the restore but before marking the job: the redelivered
    message marks it, and the cold tier does not start a second restore."""
    user = await make_user(services)
    job = await make_job(services, user)
    await archive_now(services, job)
    await subscriptions.upgrade(services.db, services.bus, Paid(user.user_id, "test", "ref2"))
    body = {"user_id": user.user_id}
    cold.hooks["restore"] = kill
    with pytest.raises(Killed):
        await restore_now(services, body)
    assert await storage(services, job) == "cold"
    del cold.hooks["restore"]
    await restore_now(services, body)
    assert await storage(services, job) == "restoring"
    assert await thaw_completed(services, wait=2.5) == 1
    assert await storage(services, job) == "hot"


async def test_thawer_killed_between_move_and_record(services: Services, cold: Counting) -> None:
    """Killed after the object came back but before the job said so: the redelivered
    completion finishes it, with one mail."""
    user = await make_user(services)
    job = await make_job(services, user)
    await archive_now(services, job)
    await upgrade(services, user)
    cold.hooks["thaw"] = kill
    with pytest.raises(Killed):
        await thaw_completed(services)
    assert await storage(services, job) == "restoring" and await downloadable(services, job)
    del cold.hooks["thaw"]
    completion = {"bucket": job.result_bucket, "key": job.result_key}
    await thaw_now(services, completion)
    assert await storage(services, job) == "hot"
    assert len([m for m in mail_to(services, user) if "are back" in m["Subject"]]) == 1


async def test_completion_before_the_job_is_restoring_is_retried(services: Services) -> None:
    """A completion that overtakes the restorer's mark is retried, not dropped."""
    job = await make_job(services, await make_user(services))
    await archive_now(services, job)
    completion = {"bucket": job.result_bucket, "key": job.result_key}
    with pytest.raises(thaw.NotRestoringYet):
        await thaw_now(services, completion)


async def test_completion_for_no_job_is_poison(services: Services) -> None:
    """A completion naming an object that is no job's result goes to the DLQ path."""
    from app.infra.consumer import PoisonMessage

    for body in ({"bucket": "gas-results", "key": "results/x/y~z"}, {"nothing": 1}):
        with pytest.raises(PoisonMessage):
            await thaw_now(services, body)


async def test_s3_test_event_is_acknowledged_not_dead_lettered(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """The s3:TestEvent S3 sends when the bucket notification is set up is no
    completion, and no poison either: it is taken (no exception) and logged."""
    body = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "gas-results"}
    with caplog.at_level(logging.INFO, logger="daemons.thaw"):
        await thaw_now(services, body)
    assert "S3 test event for bucket gas-results" in caplog.text


# -- races between the archiver and an upgrade --------------------------------------

class UpgradeOnTransition(JobStore):
    """The job store, running ``hook`` just before the archiver marks a job archiving."""

    def __init__(self, inner: JobStore, hook: Callable[[], Awaitable[None]]) -> None:
        self.inner, self.hook = inner, hook

    async def create(self, job: Job) -> bool:
        return await self.inner.create(job)

    async def get(self, job_id: str) -> Job | None:
        return await self.inner.get(job_id)

    async def delete(self, job_id: str) -> bool:
        return await self.inner.delete(job_id)

    async def list_for_user(self, user_id: str, **kwargs: Any) -> list[Job]:
        return await self.inner.list_for_user(user_id, **kwargs)

    async def count_for_user(self, user_id: str) -> int:
        return await self.inner.count_for_user(user_id)

    async def count_by_status(self, user_id: str, statuses: Iterable[Status]) -> dict[Status, int]:
        return await self.inner.count_by_status(user_id, statuses)

    async def conditional_write(self, job_id: str, from_states: list[Status], to_state: Status,
                                when: dict[str, Any] | None, fields: dict[str, Any]) -> bool:
        if fields.get("storage") == "archiving":
            await self.hook()
        return await self.inner.conditional_write(job_id, from_states, to_state, when, fields)


@pytest.mark.parametrize("moment", ["before-marked", "before-archive", "archive"])
async def test_upgrade_while_archive_in_flight_ends_hot(
    services: Services, cold: Counting, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    """An upgrade that lands while the archiver works — before it marks the job
    archiving, before the object moves, or after it moved but before the job is
    marked cold — ends with the result hot and downloadable."""
    user = await make_user(services)
    job = await make_job(services, user)

    async def upgrade_now() -> None:
        await upgrade(services, user)

    if moment == "before-marked":
        monkeypatch.setattr(services, "jobs", UpgradeOnTransition(services.jobs, upgrade_now))
    else:
        cold.hooks[moment] = upgrade_now
    await archive_now(services, job)
    await thaw_completed(services, wait=2.5)
    assert await storage(services, job) == "hot" and await downloadable(services, job)
    assert not await services.cold.is_archived(job.result_bucket or "", job.result_key or "")


async def test_owner_hears_every_storage_move(services: Services, cold: Counting) -> None:
    """Archive, restore and thaw each tell the owner's open pages (the live-events port),
    so the job page goes archived → being restored → downloadable without a reload."""
    user = await make_user(services)
    job = await make_job(services, user)

    async def archive_and_bring_back() -> None:
        await archive_now(services, job)
        await upgrade(services, user)
        assert await thaw_completed(services, expect=1) == 1

    events = await events_heard(services, user.user_id, 4, archive_and_bring_back)
    assert [(e["type"], e["job_id"], e["storage"]) for e in events] == [
        ("storage", job.job_id, s) for s in ("archiving", "cold", "restoring", "hot")
    ]


# -- giving up: the last delivery fails, the job says why ----------------------------

async def boom() -> None:
    raise RuntimeError("the cold tier is down")


async def last_delivery(services: Services, queue: str, body: dict[str, Any],
                        decode: Callable[[dict[str, Any]], Any],
                        handle: Callable[..., Awaitable[None]],
                        give_up: Callable[..., Awaitable[None]]) -> None:
    """``body`` on its last allowed delivery, through the consumer, as it fails again."""
    from app.infra.consumer import handle_one
    from app.ports.bus import Message

    limit = services.settings.queue_max_receives
    delivery = Message(queue, str(uuid.uuid4()), json.dumps(body), str(uuid.uuid4()), limit)
    await handle_one(
        services.bus, delivery, lambda m, b: handle(services, m, decode(b)), 30, max_receives=limit,
        give_up=lambda m, b, e: give_up(services, m, decode(b), e),
    )


async def test_archive_that_keeps_failing_stays_downloadable(services: Services, cold: Counting) -> None:
    """Archiving fails every delivery: the result the cold tier never took is "hot"
    again and downloadable, with nothing to apologise for."""
    job = await make_job(services, await make_user(services))
    cold.hooks["before-archive"] = boom
    body = {"job_id": job.job_id, "user_id": job.user_id, "status": job.status}
    await last_delivery(services, archive.QUEUE, body, JobResult.decode, archive.handle, archive.give_up)
    found = await services.jobs.get(job.job_id)
    assert found is not None and (found.storage, found.storage_error) == ("hot", None)
    assert await downloadable(services, job)


async def test_restore_that_keeps_failing_says_why(services: Services, cold: Counting) -> None:
    """The upgrade's restore requests fail every delivery: the archived job says so
    (not "upgrade to restore"), and a later restore that works clears it."""
    user = await make_user(services)
    job = await make_job(services, user)
    await archive_now(services, job)
    await subscriptions.upgrade(services.db, services.bus, Paid(user.user_id, "test", uuid.uuid4().hex))
    cold.hooks["restore"] = boom
    body = {"user_id": user.user_id}
    await last_delivery(services, restore.QUEUE, body, UserUpgraded.decode, restore.handle, restore.give_up)
    found = await services.jobs.get(job.job_id)
    assert found is not None and found.storage == "cold"
    assert found.storage_error is not None
    assert "archive failed (RuntimeError, 5 attempts)" in found.storage_error
    del cold.hooks["restore"]
    await restore_now(services, body)  # the operator's redrive
    found = await services.jobs.get(job.job_id)
    assert found is not None and (found.storage, found.storage_error) == ("restoring", None)


async def test_thaw_that_keeps_failing_says_why(services: Services, cold: Counting) -> None:
    """The restored copy cannot be brought back, every delivery: the job stops saying
    "being restored" and says why; the redriven completion finishes it."""
    user = await make_user(services)
    job = await make_job(services, user)
    await archive_now(services, job)
    await upgrade(services, user)
    cold.hooks["thaw"] = boom
    completion = {"bucket": job.result_bucket, "key": job.result_key}
    await last_delivery(services, thaw.QUEUE, completion, lambda b: thaw.decode(services, b), thaw.handle,
                        thaw.give_up)
    found = await services.jobs.get(job.job_id)
    assert found is not None and found.storage == "restoring"
    assert found.storage_error is not None and "could not be made downloadable" in found.storage_error
    del cold.hooks["thaw"]
    await thaw_now(services, completion)
    found = await services.jobs.get(job.job_id)
    assert found is not None and (found.storage, found.storage_error) == ("hot", None)


async def test_results_back_mail_waits_for_the_batch_and_not_for_a_thaw_that_gave_up(
    services: Services, cold: Counting
) -> None:
    """The first result back sends no mail while another of the upgrade is still on its way; when
    that one's thaw gives up (it says why on its job), the owner is told of the one that is back;
    when the redriven one comes back, of it alone."""
    user = await make_user(services)
    first, second = [await make_job(services, user) for _ in range(2)]
    for job in (first, second):
        await archive_now(services, job)
    await upgrade(services, user)

    def completion(job: Job) -> dict[str, str | None]:
        return {"bucket": job.result_bucket, "key": job.result_key}

    await thaw_now(services, completion(first))
    assert await storage(services, first) == "hot"
    assert not [m for m in mail_to(services, user) if "are back" in m["Subject"]]

    cold.hooks["thaw"] = boom
    await last_delivery(services, thaw.QUEUE, completion(second), lambda b: thaw.decode(services, b),
                        thaw.handle, thaw.give_up)
    [told] = [m for m in mail_to(services, user) if "are back" in m["Subject"]]
    text = told.get_body(("plain",)).get_content()
    assert f"/annotations/{first.job_id}" in text and f"/annotations/{second.job_id}" not in text

    del cold.hooks["thaw"]
    await thaw_now(services, completion(second))
    back = [m for m in mail_to(services, user) if "are back" in m["Subject"]]
    assert len(back) == 2
    text = back[1].get_body(("plain",)).get_content()
    assert f"/annotations/{second.job_id}" in text and f"/annotations/{first.job_id}" not in text


# -- races between the daemons and a deletion (app/jobs/control.py) -----------------

async def gone(services: Services, job: Job) -> bool:
    """Nothing of the job is left: no record, no result in either tier."""
    assert job.result_bucket and job.result_key
    return (await services.jobs.get(job.job_id) is None and not await downloadable(services, job)
            and not await services.cold.is_archived(job.result_bucket, job.result_key))


@pytest.mark.parametrize("moment", ["before-archive", "archive"])
async def test_delete_while_archiving_leaves_nothing(
    services: Services, cold: Counting, moment: str
) -> None:
    """The owner deletes the job while the archiver works on it — before the object moves,
    or after it moved but before the job is marked cold: nothing comes back, and the
    redelivered message is acknowledged quietly (not dead-lettered)."""
    job = await make_job(services, await make_user(services))

    async def delete_now() -> None:
        await delete_job(services, job)

    cold.hooks[moment] = delete_now
    try:
        await archive_now(services, job)
    except ObjectNotFound:
        pass  # the object went before the archiver moved it: retried, as any storage error
    del cold.hooks[moment]
    await archive_now(services, job)  # the redelivery
    assert await gone(services, job)


async def test_delete_while_restoring_leaves_nothing(services: Services, cold: Counting) -> None:
    """Deleted just after the restorer asked for the result back: its completion finds
    no job, is acknowledged, and brings nothing back to the hot tier."""
    user = await make_user(services)
    job = await make_job(services, user)
    await archive_now(services, job)

    async def delete_now() -> None:
        await delete_job(services, job)

    cold.hooks["restore"] = delete_now
    await upgrade(services, user)
    assert await thaw_completed(services, wait=2.5) == 1
    assert await gone(services, job)
    assert cold.calls.get("thaw", 0) == 0


@pytest.mark.parametrize("moment", ["in flight", "thaw", "between the deletes"])
async def test_delete_while_a_thaw_is_in_flight_leaves_nothing(
    services: Services, cold: Counting, moment: str
) -> None:
    """Deleted while the restore's completion is on its way, just as the thawer moved the
    object back but before it marked the job hot, or with a thawer (that read the job before
    the deletion) moving it back after the hot copies went and before the cold one did: the
    object does not come back."""
    user = await make_user(services)
    job = await make_job(services, user)
    await archive_now(services, job)
    await upgrade(services, user)
    assert job.result_bucket and job.result_key

    async def delete_now() -> None:
        await delete_job(services, job)

    async def thaw_meanwhile() -> None:
        del cold.hooks["before-delete"]
        await cold.inner.thaw(job.result_bucket or "", job.result_key or "")

    if moment == "in flight":
        await delete_now()
    elif moment == "thaw":
        cold.hooks["thaw"] = delete_now
    else:
        cold.hooks["before-delete"] = thaw_meanwhile
        await delete_now()
    assert await thaw_completed(services, wait=2.5) == 1
    assert await gone(services, job)
    assert not [m for m in mail_to(services, user) if "are back" in m["Subject"]]


async def test_a_deleted_jobs_messages_are_done_with(services: Services) -> None:
    """Every daemon acknowledges a message about a job deleted meanwhile (no mail, no
    error, nothing dead-lettered): the notifier, the archiver, the thawer."""
    user = await make_user(services)
    job = await make_job(services, user)
    await delete_job(services, job)
    body = {"job_id": job.job_id, "user_id": user.user_id, "status": COMPLETED}
    await notify.handle(services, message(notify.QUEUE, body), JobResult.decode(body))
    await archive_now(services, job)
    await archive.give_up(services, message(archive.QUEUE, body), JobResult.decode(body), RuntimeError())
    await thaw_now(services, {"bucket": job.result_bucket, "key": job.result_key})
    assert mail_to(services, user) == []
