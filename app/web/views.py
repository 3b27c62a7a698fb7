"""What job pages and the API share: finding a user's job, and links to its files."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from quart import abort

from app.accounts.users import User
from app.jobs.job import COMPLETED, Job, file_stem
from app.services import Services


async def owned_job(services: Services, user: User, job_id: str) -> Job:
    """The user's job, or 404 — never 403, which would say that it exists."""
    try:
        job = await services.jobs.get(str(uuid.UUID(job_id)))
    except ValueError:
        job = None
    if job is None or job.user_id != user.user_id:
        abort(404, "No such job.")
    return job


def archive_at(services: Services, user: User, job: Job) -> datetime | None:
    """When a free user's result goes to the archive (the archiver moves it once the retention
    after completion has passed), for the job page to say how long it can be downloaded; None
    for a Premium user's result or one not downloadable now."""
    if user.premium or job.status != COMPLETED or job.storage != "hot" or job.completed_at is None:
        return None
    return job.completed_at + timedelta(seconds=services.settings.free_retention_seconds)


def result_unavailable(job: Job) -> tuple[str, str] | None:
    """Why the result cannot be downloaded now, as (code, message), or None."""
    if job.status != COMPLETED or not job.result_key:
        return "job_not_completed", "The job has not completed, so there is no result yet."
    if job.storage in ("archiving", "cold"):
        return "result_archived", "The result is archived. Upgrade to Premium to restore it."
    if job.storage == "restoring":
        return "result_restoring", "The result is being restored from the archive; try again soon."
    return None


async def result_url(services: Services, job: Job) -> str:
    assert job.result_bucket and job.result_key
    return await services.objects.presign_get(
        job.result_bucket, job.result_key,
        expires_in=services.settings.download_expiry_seconds,
        # The name the person gave the file, not the job's id nor the key's.
        download_name=f"{file_stem(job.input_file_name)}.annotated.vcf",
    )


async def input_url(services: Services, job: Job) -> str:
    return await services.objects.presign_get(
        job.input_bucket, job.input_key,
        expires_in=services.settings.download_expiry_seconds,
        download_name=job.input_file_name,
    )


async def log_text(services: Services, job: Job) -> str | None:
    if not job.log_key or not job.result_bucket:
        return None
    data = await services.objects.get_bytes(job.result_bucket, job.log_key)
    return data.decode("utf-8", "replace")
