"""A completed job's result moving between storage tiers (STORAGE_MOVES in app/jobs/job.py):
the steps the archiver, the restorer and the thawer share.

Each step is a conditional move announced as it lands (the owner's open pages show
"archived", "being restored" or the download without a reload), and each is re-entrant:
a redelivered message finds the step done and goes on to the next.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from app.accounts import users
from app.jobs import mails, notifications
from app.jobs.job import COMPLETED, DELETING, Job, Storage, utcnow
from app.jobs.lifecycle import (
    JOB_RESULTS_ARCHIVE,
    MAX_QUEUE_DELAY_SECONDS,
    JobResult,
    Move,
    StorageEvent,
    announce,
)
from app.ports.bus import Message
from app.ports.cold import TIERS, Restore, RestoreRefused
from app.services import Services

log = logging.getLogger(__name__)


class JobMoved(Exception):
    """Another daemon moved the job between our read and our write: retry on fresh state."""


async def as_stored(services: Services, jobs: Iterable[Job]) -> list[Job]:
    """``jobs`` read again by their keys, as they are now (those deleted since are left out).
    A user's jobs are listed from an index that may be behind: DynamoDB's global secondary
    index is eventually consistent, while a read by key is strongly consistent."""
    found = [await services.jobs.get(job.job_id) for job in jobs]
    return [job for job in found if job is not None and job.status != DELETING]


def retention_left(services: Services, job: Job, owner: users.User | None) -> int:
    """How long the result must stay downloadable still (0 once retention is over). The free
    retention runs from completion, or from the owner's downgrade if Premium ended since: a
    result kept while they paid is not archived the moment they stop."""
    assert job.completed_at is not None
    start = job.completed_at
    if owner is not None and owner.downgraded_at is not None and owner.downgraded_at > start:
        start = owner.downgraded_at
    due = start + timedelta(seconds=services.settings.free_retention_seconds)
    return max(0, math.ceil((due - utcnow()).total_seconds()))


async def queue_archive(services: Services, job: Job, owner: users.User) -> None:
    """Ask the archiver for a free owner's hot result, due when its retention has passed (the
    archiver looks again when that is longer than a queue can delay)."""
    wait = min(retention_left(services, job, owner), MAX_QUEUE_DELAY_SECONDS)
    await services.bus.send(JOB_RESULTS_ARCHIVE, JobResult(job.job_id, job.user_id, COMPLETED).encode(),
                            delay_seconds=wait)


async def owner_premium(services: Services, job: Job) -> bool:
    """Whether the job's owner is Premium now (their results stay hot)."""
    owner = await users.get(services.db, job.user_id)
    return owner is not None and owner.premium


async def move(services: Services, job: Job, was: Storage, to: Storage, **fields: Any) -> bool:
    """Move a completed job's result from storage ``was`` to ``to`` if it is still there."""
    return await announce(
        services, job, event=StorageEvent(job.job_id, to),
        move=Move([COMPLETED], COMPLETED, {"storage": was}, {"storage": to, "storage_error": None, **fields}),
    )


async def stuck(services: Services, job: Job, storage: Storage, why: str, exc: Exception,
                message: Message) -> None:
    """The result stays ``storage``: say why on the job (and its open pages), not leave
    it "being restored" for ever. The message goes on to the dead-letter queue, whose
    alarm tells the operator on AWS (deploy/gas.yaml; `gas queues` shows it elsewhere); a
    redrive that moves the job clears the error."""
    text = (f"{why} ({exc.__class__.__name__}, {message.receive_count} attempts). "
            "The operator has been told and will retry it.")
    await announce(services, job, event=StorageEvent(job.job_id, storage),
                   move=Move([COMPLETED], COMPLETED, {"storage": storage}, {"storage_error": text}))


async def request_restore(services: Services, job: Job) -> Restore:
    """Ask the cold tier for the job's result at the fastest tier that takes it."""
    assert job.result_bucket and job.result_key
    ctx = {"job_id": job.job_id, "user_id": job.user_id}
    for tier in TIERS[:-1]:
        try:
            return await services.cold.restore(job.result_bucket, job.result_key, tier)
        except RestoreRefused as exc:
            log.info("%s restore refused (%s); trying the next tier", tier, exc, extra=ctx)
    return await services.cold.restore(job.result_bucket, job.result_key, TIERS[-1])


async def keep_hot(services: Services, job: Job) -> None:
    """The owner upgraded while the result was on its way out: bring it back."""
    assert job.result_bucket and job.result_key
    ctx = {"job_id": job.job_id, "user_id": job.user_id}
    if await services.cold.is_archived(job.result_bucket, job.result_key):
        restore = await request_restore(services, job)
        assert job.storage is not None
        if not await move(
            services, job, job.storage, "restoring",
            restore_requested_at=job.restore_requested_at or utcnow(), restore_tier=restore.tier,
        ):
            raise JobMoved(f"job {job.job_id} is no longer {job.storage}")
        log.info("upgraded while archiving; restore requested (%s)", restore.tier, extra=ctx)
    elif job.storage == "restoring":
        await bring_back(services, job)
    elif job.storage == "archiving":
        if not await move(services, job, "archiving", "hot"):
            raise JobMoved(f"job {job.job_id} is no longer archiving")
        log.info("upgraded before the result moved; it stays hot", extra=ctx)


async def bring_back(services: Services, job: Job) -> None:
    """Restoring → hot (object first, then the record), then tell the owner, once."""
    ctx = {"job_id": job.job_id, "user_id": job.user_id}
    if job.storage == "restoring":
        assert job.result_bucket and job.result_key
        await services.cold.thaw(job.result_bucket, job.result_key)
        if await move(services, job, "restoring", "hot"):
            log.info("result restored to the hot tier", extra=ctx)
            # Back for an owner whose Premium ended while it was on its way: the free clock
            # (from the downgrade) runs for it as for their other results.
            owner = await users.get(services.db, job.user_id)
            if owner is not None and not owner.premium:
                await queue_archive(services, job, owner)
        job = await services.jobs.get(job.job_id) or job
    if job.storage == "hot" and job.restore_requested_at is not None:
        await tell_owner(services, job)


async def tell_owner(services: Services, job: Job) -> None:
    """One mail about every result of the owner back from the archive and not told of yet, once
    none is still on its way (a restore that gave up, with its storage error, is not on its way).
    Each job is claimed as it is for any mail, so a result is told of once: two last results
    back at the same moment may make two mails, never none and never a result twice."""
    owner = await users.get(services.db, job.user_id)
    if owner is None:
        return
    listed = await services.jobs.all_for_user(job.user_id)
    # A result the index still shows restoring may be back (this one, a moment ago): were it
    # taken as on its way, no thaw would ever send the mail.
    shown_restoring = [j for j in listed if j.storage == "restoring"]
    restoring = {j.job_id: j for j in await as_stored(services, shown_restoring)}
    jobs = [restoring.get(j.job_id, j) for j in listed if j.storage != "restoring" or j.job_id in restoring]
    if any(j.storage == "restoring" and not j.storage_error for j in jobs):
        return  # the last one back tells about all
    back = [j for j in jobs if j.storage == "hot" and j.restore_requested_at is not None]
    by_id = {j.job_id: j for j in back}
    ctx = {"job_id": job.job_id, "user_id": job.user_id}
    try:
        told = await notifications.send_once_about(
            services.db, services.mail, job_ids=list(by_id), kind="restored",
            lease_seconds=services.settings.queue_visibility_seconds / 2, to=owner.email,
            compose=lambda ids: mails.restored(services.settings, [by_id[i] for i in ids]),
        )
    except Exception as exc:
        # The results are back whatever the mail does, refused for good (MailRefused) or not
        # (the SES client retried those already): failing the thaw, or the restorer's pass over
        # every result, for it would redo or dead-letter moves already made. The claims were
        # given back, so the next result back tells of these too.
        log.error("could not tell the owner their results are back: %r", exc, extra=ctx)
        return
    if told:
        log.info("told the owner %d result(s) are back", len(told), extra=ctx)
