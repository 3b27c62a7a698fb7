"""Premium ending (app/accounts/billing.py): the user's hot results get the free retention from
the downgrade, are queued for the archiver, the user is told, and they are archived like any
free result once that retention has passed."""

from __future__ import annotations

import asyncio
import json

from app.accounts import billing, users
from app.jobs.job import COMPLETED
from app.jobs.lifecycle import JobResult
from app.jobs.storage import retention_left
from app.services import Services
from daemons import archive
from tests.daemons.conftest import RETENTION, mail_to, make_job, make_user, message
from tests.daemons.test_lifecycle import archive_now, thaw_completed, upgrade


async def _storage(services: Services, job_id: str) -> str | None:
    found = await services.jobs.get(job_id)
    assert found is not None
    return found.storage


async def test_retention_runs_from_the_downgrade_not_from_completion(services: Services) -> None:
    """A result completed long before its owner stopped paying is kept the whole free retention
    from the downgrade; one of an owner never downgraded (or downgraded before it completed)
    counts from completion."""
    user = await make_user(services, "premium")
    job = await make_job(services, user, age=RETENTION * 100)
    assert retention_left(services, job, user) == 0
    assert await billing.downgrade(services, user.user_id)
    owner = await users.get(services.db, user.user_id)
    assert owner is not None and owner.role == "free" and owner.downgraded_at is not None
    assert RETENTION - 1 <= retention_left(services, job, owner) <= RETENTION
    recent = await make_job(services, owner, age=0)
    assert RETENTION - 1 <= retention_left(services, recent, owner) <= RETENTION


async def test_downgrade_queues_hot_results_mails_and_archives_after_retention(services: Services) -> None:
    """Downgrading a Premium user with an old hot result (and a failed job, which has none):
    one archive message for the result, a mail naming it and the retention; the archiver keeps
    it hot until the retention from the downgrade has passed, then archives it. Downgrading
    again does nothing twice."""
    user = await make_user(services, "premium")
    job = await make_job(services, user, age=RETENTION * 100)
    await make_job(services, user, status="failed")
    assert await billing.downgrade(services, user.user_id)
    assert not await billing.downgrade(services, user.user_id)
    rows = await services.db.fetch_all("SELECT body FROM queue_messages WHERE queue = :q",
                                       {"q": archive.QUEUE})
    assert [json.loads(r["body"]) for r in rows] == [
        {"job_id": job.job_id, "user_id": user.user_id, "status": COMPLETED}]
    [mail] = mail_to(services, user)
    assert mail["Subject"] == "Your GAS Premium subscription has ended"
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "in.vcf" in text and "for 1 minute, until" in text and "archived" in text

    body = {"job_id": job.job_id, "user_id": user.user_id, "status": COMPLETED}
    # Handled at once, within the retention from the downgrade: kept hot, looked at again later.
    await archive.handle(services, message(archive.QUEUE, body), JobResult.decode(body))
    assert await _storage(services, job.job_id) == "hot"
    await asyncio.sleep(RETENTION + 0.5)
    delivered = await services.bus.receive(archive.QUEUE, max_messages=10, wait_seconds=1)
    assert delivered
    for each in delivered:
        await archive.handle(services, each, JobResult.decode(json.loads(each.body)))
    assert await _storage(services, job.job_id) == "cold"


async def test_a_result_on_its_way_back_when_premium_ends_gets_the_free_clock(services: Services) -> None:
    """Premium ends while a result is being restored (it is not hot, so the downgrade queues
    nothing for it): once the thawer brings it back, it is queued for the archiver like the
    owner's other results, and archived when the retention from the downgrade has passed,
    instead of staying hot for good."""
    user = await make_user(services)
    job = await make_job(services, user, age=RETENTION * 100)
    await archive_now(services, job)
    await upgrade(services, user)
    assert await _storage(services, job.job_id) == "restoring"
    assert await billing.downgrade(services, user.user_id)
    assert await services.bus.count(archive.QUEUE) == 0
    assert await thaw_completed(services, wait=10, expect=1) == 1
    assert await _storage(services, job.job_id) == "hot"
    rows = await services.db.fetch_all("SELECT body FROM queue_messages WHERE queue = :q",
                                       {"q": archive.QUEUE})
    assert [json.loads(r["body"]) for r in rows] == [
        {"job_id": job.job_id, "user_id": user.user_id, "status": COMPLETED}]
    await asyncio.sleep(RETENTION + 0.5)
    for each in await services.bus.receive(archive.QUEUE, max_messages=10, wait_seconds=1):
        await archive.handle(services, each, JobResult.decode(json.loads(each.body)))
    assert await _storage(services, job.job_id) == "cold"
