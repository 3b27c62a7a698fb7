"""The thawer: a restore completed (``restore-complete``) → the result is hot again
for good, the job says so, and its owner gets one email that the results are back: one
for all the results an upgrade brought back, sent when the last of them is back (nine
results restored at once were nine mails).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from app.accounts import users
from app.infra.consumer import PoisonMessage
from app.jobs import notifications
from app.jobs.job import Job
from app.ports.bus import Message
from app.services import Services
from daemons import move, serve, stuck
from daemons.notify import bodies, job_url

log = logging.getLogger(__name__)
QUEUE = "restore-complete"


class NotRestoringYet(Exception):
    """The completion came before the restorer marked the job restoring: retry soon."""


def job_id_of(key: str) -> str | None:
    """The job a result key belongs to (``results/<user_id>/<job_id>~<name>``)."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "results":
        return None
    try:
        return str(uuid.UUID(parts[2].partition("~")[0]))
    except ValueError:
        return None


async def bring_back(services: Services, job: Job) -> None:
    """Restoring → hot (object first, then the record), then tell the owner, once.

    Re-entrant: each step is skipped when done, so a redelivery finishes the work.
    """
    ctx = {"job_id": job.job_id, "user_id": job.user_id}
    if job.storage == "restoring":
        assert job.result_bucket and job.result_key
        await services.cold.thaw(job.result_bucket, job.result_key)
        if await move(services, job, "restoring", "hot"):
            log.info("result restored to the hot tier", extra=ctx)
        job = await services.jobs.get(job.job_id) or job
    if job.storage == "hot" and job.restore_requested_at is not None:
        await _tell_owner(services, job)


async def _tell_owner(services: Services, job: Job) -> None:
    """One mail about every result of the owner back from the archive and not told of yet, once
    none is still on its way (a restore that gave up, with its storage error, is not on its way).
    Each job is claimed as it is for any mail, so a result is told of once: two last results
    back at the same moment may make two mails, never none and never a result twice."""
    owner = await users.get(services.db, job.user_id)
    if owner is None:
        return
    jobs = await services.jobs.all_for_user(job.user_id)
    if any(j.storage == "restoring" and not j.storage_error for j in jobs):
        return  # the last one back tells about all
    back = [j for j in jobs if j.storage == "hot" and j.restore_requested_at is not None]
    by_id = {j.job_id: j for j in back}
    told = await notifications.send_once_about(
        services.db, services.mail, job_ids=list(by_id), kind="restored",
        lease_seconds=services.settings.queue_visibility_seconds / 2, to=owner.email,
        compose=lambda ids: _compose(services, [by_id[i] for i in ids]),
    )
    if told:
        log.info("told the owner %d result(s) are back", len(told),
                 extra={"job_id": job.job_id, "user_id": job.user_id})


def _compose(services: Services, jobs: list[Job]) -> tuple[str, str, str]:
    if len(jobs) == 1:
        [job] = jobs
        lines = [f"The results of your annotation of {job.input_file_name} are back from the archive "
                 "and can be downloaded again, for as long as you are on Premium."]
        return (f"{job.input_file_name}: results are back", *bodies(lines, job_url(services, job)))
    listed = sorted(jobs, key=lambda j: j.submitted_at)
    lines = [f"The results of {len(jobs)} of your annotations are back from the archive and can be "
             "downloaded again, for as long as you are on Premium:"]
    lines += [f"{j.input_file_name}: {job_url(services, j)}" for j in listed]
    text, html = bodies(lines, f"{services.settings.public_url.rstrip('/')}/annotations", "See your jobs")
    return f"{len(jobs)} results are back from the archive", text, html


async def _restored_job(services: Services, body: dict[str, Any]) -> Job:
    try:
        ref = services.cold.completed(body)
    except ValueError as exc:
        raise PoisonMessage(str(exc)) from exc
    job_id = job_id_of(ref.key)
    job = await services.jobs.get(job_id) if job_id else None
    if job is None or (job.result_bucket, job.result_key) != (ref.bucket, ref.key):
        raise PoisonMessage(f"no job's result is {ref.bucket}/{ref.key}")
    return job


async def handle(services: Services, message: Message, body: dict[str, Any]) -> None:
    if body.get("Event") == "s3:TestEvent":
        # S3 sends one when the bucket's notification is configured: not a restore.
        log.info("S3 test event for bucket %s", body.get("Bucket"))
        return
    job = await _restored_job(services, body)
    if job.storage in ("archiving", "cold"):
        raise NotRestoringYet(f"job {job.job_id} is {job.storage}, not restoring yet")
    await bring_back(services, job)


async def give_up(services: Services, message: Message, body: dict[str, Any], exc: Exception) -> None:
    """Bringing the restored copy back kept failing: the job says so rather than
    "being restored" for ever."""
    job = await _restored_job(services, body)
    if job.storage == "restoring":
        await stuck(services, job, "restoring", "The result came back from the archive but could "
                    "not be made downloadable again", exc, message)
        # The others of its batch may have waited for it to be told of.
        await _tell_owner(services, job)


async def run(services: Services) -> None:
    await serve(services, QUEUE, handle, give_up)
