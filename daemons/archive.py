"""The archiver: a free user's result, once its retention has passed → cold tier.

Storage moves hot → archiving → cold, each step a conditional transition. The
owner's role is read when the message fires, and again once the job is marked
archiving: an upgrade that lands before that mark finds the job hot (never
archived), one that lands after it finds the job archiving, which the restorer
marks restoring. Whenever this archiver then finds the job restoring — or its
owner Premium — it brings the result back itself (:func:`keep_hot`), so an upgrade
while the archive is in flight always ends hot.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from datetime import timedelta
from typing import Any

from app.accounts import users
from app.jobs.job import COMPLETED, Job, utcnow
from app.ports.bus import Message
from app.services import MAX_QUEUE_DELAY_SECONDS, Services
from daemons import job_in, move, serve, stuck, unclaimed_uploads
from daemons.restore import request_restore
from daemons.thaw import bring_back

log = logging.getLogger(__name__)
QUEUE = "job-results-archive"


class JobMoved(Exception):
    """Another daemon moved the job between our read and our write: retry on fresh state."""


def seconds_left(services: Services, job: Job) -> int:
    """How long the result must stay downloadable still (0 once retention is over)."""
    assert job.completed_at is not None
    due = job.completed_at + timedelta(seconds=services.settings.free_retention_seconds)
    return max(0, math.ceil((due - utcnow()).total_seconds()))


async def _premium(services: Services, job: Job) -> bool:
    owner = await users.get(services.db, job.user_id)
    return owner is not None and owner.premium


async def handle(services: Services, message: Message, body: dict[str, Any]) -> None:
    job = await job_in(services, body)
    if job.status != COMPLETED or job.storage in (None, "cold"):
        return  # failed jobs have no result; cold is done
    bucket, key = job.result_bucket, job.result_key
    assert bucket and key
    ctx = {"job_id": job.job_id, "user_id": job.user_id}
    if job.storage == "hot":
        if await _premium(services, job):
            return
        wait = seconds_left(services, job)
        if wait > 0:
            # A retention longer than the queue's longest delay: wait out the rest.
            await services.bus.send(QUEUE, message.body, delay_seconds=min(wait, MAX_QUEUE_DELAY_SECONDS))
            log.info("retention not over; looking again in %ss", wait, extra=ctx)
            return
        if not await move(services, job, "hot", "archiving"):
            return  # another delivery of this message is archiving it
        job = dataclasses.replace(job, storage="archiving")
    if job.storage == "archiving" and not await _premium(services, job):
        await services.cold.archive(bucket, key)
        if await move(services, job, "archiving", "cold", archived_at=utcnow()):
            log.info("result archived", extra=ctx)
            return
        job = await services.jobs.get(job.job_id) or job
        if job.storage == "cold":
            return
    await keep_hot(services, job)


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


async def give_up(services: Services, message: Message, body: dict[str, Any], exc: Exception) -> None:
    """Archiving failed every delivery. A result the cold tier does not hold yet is
    still where it was: the job goes back to "hot" and stays downloadable (the
    dead-lettered message archives it once redriven); one the tier holds is "cold".
    A job an upgrade marked "restoring" meanwhile says it is stuck."""
    job = await job_in(services, body)
    ctx = {"job_id": job.job_id, "user_id": job.user_id}
    if job.status != COMPLETED or not (job.result_bucket and job.result_key):
        return
    if job.storage == "archiving":
        if await services.cold.is_archived(job.result_bucket, job.result_key):
            await move(services, job, "archiving", "cold", archived_at=utcnow())
            log.error("archiving kept failing after the result was archived; the job is cold", extra=ctx)
        else:
            await move(services, job, "archiving", "hot")
            log.error("archiving kept failing; the result stays hot", extra=ctx)
    elif job.storage == "restoring":
        await stuck(services, job, "restoring", "Bringing this result back from the archive failed",
                    exc, message)


async def run(services: Services) -> None:
    async with asyncio.TaskGroup() as group:
        group.create_task(serve(services, QUEUE, handle, give_up))
        group.create_task(unclaimed_uploads.run(services))
