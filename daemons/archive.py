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

import dataclasses
import logging

from app.accounts import users
from app.jobs.job import COMPLETED, utcnow
from app.jobs.lifecycle import JOB_RESULTS_ARCHIVE, MAX_QUEUE_DELAY_SECONDS, JobResult
from app.jobs.storage import keep_hot, move, owner_premium, retention_left, stuck
from app.ports.bus import Message
from app.services import Services
from daemons import job_in, serve

log = logging.getLogger(__name__)
QUEUE = JOB_RESULTS_ARCHIVE


async def handle(services: Services, message: Message, result: JobResult) -> None:
    job = await job_in(services, result.job_id)
    if job is None or job.status != COMPLETED or job.storage in (None, "cold"):
        return  # failed jobs have no result; cold is done
    bucket, key = job.result_bucket, job.result_key
    assert bucket and key
    ctx = {"job_id": job.job_id, "user_id": job.user_id}
    if job.storage == "hot":
        owner = await users.get(services.db, job.user_id)
        if owner is not None and owner.premium:
            return
        wait = retention_left(services, job, owner)
        if wait > 0:
            # A retention longer than the queue's longest delay: wait out the rest.
            await services.bus.send(QUEUE, message.body, delay_seconds=min(wait, MAX_QUEUE_DELAY_SECONDS))
            log.info("retention not over; looking again in %ss", wait, extra=ctx)
            return
        if not await move(services, job, "hot", "archiving"):
            return  # another delivery of this message is archiving it
        job = dataclasses.replace(job, storage="archiving")
    if job.storage == "archiving" and not await owner_premium(services, job):
        await services.cold.archive(bucket, key)
        if await move(services, job, "archiving", "cold", archived_at=utcnow()):
            log.info("result archived", extra=ctx)
            return
        fresh = await services.jobs.get(job.job_id)
        if fresh is None or fresh.status != COMPLETED or fresh.storage == "cold":
            return  # archived by another delivery, or deleted meanwhile
        job = fresh
    await keep_hot(services, job)


async def give_up(services: Services, message: Message, result: JobResult, exc: Exception) -> None:
    """Archiving failed every delivery. A result the cold tier does not hold yet is
    still where it was: the job goes back to "hot" and stays downloadable (the
    dead-lettered message archives it once redriven); one the tier holds is "cold".
    A job an upgrade marked "restoring" meanwhile says it is stuck."""
    job = await job_in(services, result.job_id)
    if job is None or job.status != COMPLETED or not (job.result_bucket and job.result_key):
        return
    ctx = {"job_id": job.job_id, "user_id": job.user_id}
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
    await serve(services, QUEUE, JobResult.decode, handle, give_up)
