"""The restorer and the thawer list a user's jobs from an index that may be behind (DynamoDB's
global secondary index is eventually consistent): a Premium user's result still ends hot, and
the logs say what the index had wrong."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from app.jobs.job import COMPLETED, Job, Status
from app.jobs.storage import move
from app.ports.jobs import JobStore
from app.services import Services
from tests.daemons import test_lifecycle
from tests.daemons.conftest import mail_to, make_job, make_user
from tests.daemons.test_lifecycle import (
    Counting,
    UpgradeOnTransition,
    archive_now,
    downloadable,
    storage,
    thaw_completed,
    upgrade,
)

cold = test_lifecycle.cold  # the fixture: the real cold tier, counting its calls


async def nothing() -> None:
    return None


class StaleIndex(UpgradeOnTransition):
    """The job store, listing a user's jobs as they were when :meth:`freeze` was called
    (reads by key see the table as it is), and running ``hook`` once, just before the
    first write that marks a job ``restoring``."""

    def __init__(self, inner: JobStore, hook: Callable[[], Awaitable[None]] = nothing) -> None:
        super().__init__(inner, hook)
        self.frozen: dict[str, list[Job]] = {}

    async def freeze(self, user_id: str) -> None:
        self.frozen[user_id] = await self.inner.all_for_user(user_id)

    async def all_for_user(self, user_id: str) -> list[Job]:
        if user_id in self.frozen:
            return self.frozen[user_id]
        return await self.inner.all_for_user(user_id)

    async def conditional_write(self, job_id: str, from_states: list[Status], to_state: Status,
                                when: dict[str, Any] | None, fields: dict[str, Any]) -> bool:
        if fields.get("storage") == "restoring":
            hook, self.hook = self.hook, nothing
            await hook()
        return await self.inner.conditional_write(job_id, from_states, to_state, when, fields)


@pytest.fixture
def stale(services: Services, monkeypatch: pytest.MonkeyPatch) -> StaleIndex:
    index = StaleIndex(services.jobs)
    monkeypatch.setattr(services, "jobs", index)
    return index


async def test_a_result_archived_after_the_index_was_read_is_restored(
    services: Services, cold: Counting, stale: StaleIndex, caplog: pytest.LogCaptureFixture
) -> None:
    """The index still shows the result hot when the user upgrades, but it has been archived
    since: the restorer reads the job itself, restores it, and says why it did."""
    user = await make_user(services)
    job = await make_job(services, user)
    await stale.freeze(user.user_id)
    await archive_now(services, job)
    assert await storage(services, job) == "cold"
    with caplog.at_level(logging.INFO, logger="daemons.restore"):
        await upgrade(services, user)
    assert await storage(services, job) == "restoring"
    assert "the job is completed (cold), not completed (hot) as the user's job list had it" in caplog.text
    await thaw_completed(services, expect=1)
    assert await storage(services, job) == "hot" and await downloadable(services, job)


async def test_a_move_the_archiver_beat_is_made_again_from_where_the_job_is(
    services: Services, cold: Counting, stale: StaleIndex, caplog: pytest.LogCaptureFixture
) -> None:
    """The restorer finds the job archiving, but the archiver marks it cold just before the
    restorer marks it restoring: the lost move is not dropped; the job is read again, its
    restore asked for from cold, and the result ends hot."""
    user = await make_user(services)
    job = await make_job(services, user)
    assert await move(services, job, "hot", "archiving")
    await stale.freeze(user.user_id)

    async def archiver_finishes() -> None:
        assert job.result_bucket and job.result_key
        await services.cold.archive(job.result_bucket, job.result_key)
        assert await move(services, job, "archiving", "cold")

    stale.hook = archiver_finishes
    with caplog.at_level(logging.INFO, logger="daemons.restore"):
        await upgrade(services, user)
    assert await storage(services, job) == "restoring"
    said = "the job is completed (cold), not completed (archiving) as a read a moment ago had it"
    assert said in caplog.text
    assert cold.calls.get("restore") == 1
    await thaw_completed(services, expect=1)
    assert await storage(services, job) == "hot" and await downloadable(services, job)


async def test_a_job_deleted_since_it_was_listed_is_skipped_and_said(
    services: Services, cold: Counting, stale: StaleIndex, caplog: pytest.LogCaptureFixture
) -> None:
    """A job the index still lists but its owner deleted is left alone, with the reason."""
    user = await make_user(services)
    job = await make_job(services, user)
    await archive_now(services, job)
    await stale.freeze(user.user_id)
    assert await services.jobs.transition(job.job_id, [COMPLETED], "deleting")
    with caplog.at_level(logging.INFO, logger="daemons.restore"):
        await upgrade(services, user)
    assert "restore" not in cold.calls
    assert "the job was deleted since the user's job list named it" in caplog.text


async def test_results_back_mail_is_sent_when_the_index_still_shows_them_restoring(
    services: Services, cold: Counting, stale: StaleIndex
) -> None:
    """The index still shows both results of an upgrade restoring when the second is back:
    the thawer reads them by key, finds both back, and the owner gets the mail naming both
    (not none, each thaw waiting for the other)."""
    user = await make_user(services)
    archived = [await make_job(services, user) for _ in range(2)]
    for job in archived:
        await archive_now(services, job)
    await upgrade(services, user)
    await stale.freeze(user.user_id)
    assert await thaw_completed(services, expect=2) == 2
    [back] = [m for m in mail_to(services, user) if "are back" in m["Subject"]]
    assert back["Subject"] == "2 results are back from the archive"
