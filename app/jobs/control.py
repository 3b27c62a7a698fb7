"""What an owner may do to a job once submitted: cancel it, or delete it with all its files.

Cancelling is one conditional move (pending or running → cancelled). A pending job's
request is then acknowledged by the annotator when it comes (the job is no longer pending);
a running one is stopped by the annotator within seconds, whose engine gives the job up at
its next progress step, and what it had stored is removed (annotator/worker.py). Nothing is mailed: the owner
asked for it.

Deleting races the lifecycle daemons, which may be archiving, restoring or thawing the same
result at that moment. The order that keeps a deleted job from coming back:

1. A pending or running job is cancelled first, so no annotator writes its result after.
2. The job is marked ``deleting``. Every move the annotator and the daemons make is
   conditional on another status (``completed``, ``running``), so from here none of them
   changes the record; each treats a ``deleting`` job, or one gone, as done, and its message
   is acknowledged rather than dead-lettered (daemons/__init__.py).
3. The objects go: the hot copies, then the cold copy, then the hot result again. A daemon
   that read the job before the mark may still move the result between tiers; each move is
   one step of an object that exists (a rename locally, a copy in place on S3, where both
   tiers are the same key): one that lands before a delete is undone by it, and one after
   finds nothing to move (it fails, and its retry finds the job gone). The last hot delete
   catches a thaw (cold → hot) that landed between the first two.
4. The record goes last (the store deletes only a ``deleting`` job): a deletion cut short
   leaves a job that says "deleting" and can be deleted again, never files without a record
   to find them by.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from app.config import Settings
from app.errors import Refused
from app.jobs.job import (
    CANCELLED,
    DELETING,
    ENDED,
    PENDING,
    RUNNING,
    Job,
    parse_input_key,
    result_keys,
    utcnow,
)
from app.jobs.lifecycle import JobEvent, Move, announce
from app.jobs.submissions import resubmitted_id
from app.services import Services

log = logging.getLogger(__name__)


def table_cache(settings: Settings) -> Path:
    """Where a web instance keeps the results tables (and their sort orders) it has read."""
    return settings.data_path / "cache" / "tables"


async def cancel_job(services: Services, job: Job) -> Job:
    """Cancel a pending or running job (again is fine); the job as it is now.

    Raises :class:`Refused` (409) for a job that has ended otherwise."""
    for _ in range(2):  # once more if the job moved between the read and the write
        if job.status == CANCELLED:
            return job
        if job.status not in (PENDING, RUNNING):
            ended = "ended" if job.status == DELETING else job.status
            raise Refused(409, "job_ended", f"This job has {ended} already: only a pending or "
                          "running job can be cancelled.")
        if await announce(services, job, move=Move([PENDING, RUNNING], CANCELLED,
                                                   fields={"completed_at": utcnow(), "phase": None}),
                          event=JobEvent(job.job_id, CANCELLED, job.progress, None, job.input_file_name)):
            log.info("job cancelled by its owner", extra={"job_id": job.job_id, "user_id": job.user_id})
            return await services.jobs.get(job.job_id) or job
        fresh = await services.jobs.get(job.job_id)
        if fresh is None:
            raise Refused(404, "not_found", "There is no such job.")
        job = fresh
    raise Refused(409, "job_busy", "This job is changing right now: try again in a moment.")


async def _input_shared(services: Services, job: Job) -> bool:
    """Whether another job reads this job's input: a failed job and the job resubmitted from
    it skipping bad lines share one (app/jobs/submissions.py)."""
    parsed = parse_input_key(job.user_id, job.input_key)
    if parsed is None:
        return False
    other = resubmitted_id(job) if job.job_id == parsed[0] else parsed[0]
    return await services.jobs.get(other) is not None


async def delete_job(services: Services, job: Job) -> None:
    """Delete the job, its input, results, table, log, summary and any cold copy (see the
    module's docstring for the order); a pending or running job is cancelled first."""
    ctx = {"job_id": job.job_id, "user_id": job.user_id}
    if job.status in (PENDING, RUNNING):
        job = await cancel_job(services, job)
    if not await announce(services, job, move=Move(ENDED, DELETING),
                          event=JobEvent(job.job_id, DELETING, job.progress, None, job.input_file_name)):
        fresh = await services.jobs.get(job.job_id)
        if fresh is None:
            return  # deleted meanwhile
        if fresh.status != DELETING:
            raise Refused(409, "job_busy", "This job is changing right now: try again in a moment.")
        job = fresh
    bucket = job.result_bucket or services.settings.results_bucket
    result_key = job.result_key or result_keys(job)[0]
    if not await _input_shared(services, job):
        await services.objects.delete(job.input_bucket, job.input_key)
    for key in dict.fromkeys((*result_keys(job), job.result_key, job.log_key, job.summary_key)):
        if key:
            await services.objects.delete(bucket, key)
    await services.cold.delete(bucket, result_key)
    await services.objects.delete(bucket, result_key)
    cache = table_cache(services.settings)
    for cached in await asyncio.to_thread(lambda: list(cache.glob(f"{job.job_id}.*"))):
        await asyncio.to_thread(cached.unlink, missing_ok=True)
    await services.jobs.delete(job.job_id)
    log.info("job deleted with its files", extra=ctx)
