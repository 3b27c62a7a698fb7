"""The thawer: a restore completed (``restore-complete``) → the result is hot again
for good, the job says so, and its owner gets one email that the results are back: one
for all the results an upgrade brought back, sent when the last of them is back (nine
results restored at once were nine mails).
"""

from __future__ import annotations

import logging
from typing import Any

from app.infra.poison import PoisonMessage
from app.jobs.job import Job, result_job_id
from app.jobs.lifecycle import RESTORE_COMPLETE, RestoreCompleted
from app.jobs.storage import bring_back, stuck, tell_owner
from app.ports.bus import Message
from app.services import Services
from daemons import job_in, serve

log = logging.getLogger(__name__)
QUEUE = RESTORE_COMPLETE


class NotRestoringYet(Exception):
    """The completion came before the restorer marked the job restoring: retry soon."""


def decode(services: Services, body: dict[str, Any]) -> RestoreCompleted | None:
    """The completion the cold tier sends; None for the test event S3 sends when the bucket's
    notification is configured (not a restore, and not poison either: taken and logged)."""
    if body.get("Event") == "s3:TestEvent":
        log.info("S3 test event for bucket %s", body.get("Bucket"))
        return None
    try:
        return services.cold.completed(body)
    except ValueError as exc:
        raise PoisonMessage(str(exc)) from exc


async def _restored_job(services: Services, done: RestoreCompleted) -> Job | None:
    """The job whose result came back; None if it was deleted (or is being): nothing to thaw."""
    job_id = result_job_id(done.key)
    if job_id is None:
        raise PoisonMessage(f"no job's result is {done.bucket}/{done.key}")
    job = await job_in(services, job_id)
    if job is not None and (job.result_bucket, job.result_key) != (done.bucket, done.key):
        raise PoisonMessage(f"no job's result is {done.bucket}/{done.key}")
    return job


async def handle(services: Services, message: Message, done: RestoreCompleted | None) -> None:
    if done is None:
        return
    job = await _restored_job(services, done)
    if job is None:
        return
    if job.storage in ("archiving", "cold"):
        raise NotRestoringYet(f"job {job.job_id} is {job.storage}, not restoring yet")
    await bring_back(services, job)


async def give_up(
    services: Services, message: Message, done: RestoreCompleted | None, exc: Exception
) -> None:
    """Bringing the restored copy back kept failing: the job says so rather than
    "being restored" for ever."""
    if done is None:
        return
    job = await _restored_job(services, done)
    if job is not None and job.storage == "restoring":
        await stuck(services, job, "restoring", "The result came back from the archive but could "
                    "not be made downloadable again", exc, message)
        # The others of its batch may have waited for it to be told of.
        await tell_owner(services, job)


async def run(services: Services) -> None:
    await serve(services, QUEUE, lambda body: decode(services, body), handle, give_up)
