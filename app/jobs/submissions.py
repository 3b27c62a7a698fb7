"""Submitting a job: the upload policy a user gets, and the job an upload becomes.

Shared by the upload form's redirect and the JSON API, so both enforce the same
rules: a user is given their plan's number of upload policies an hour; the key
must be under the caller's prefix, the object must exist, and its size must fit
the caller's plan (S3 enforces the policy; the local store and moto may not, so it
is checked again here and once more by the annotator), and the caller must have
fewer unfinished jobs than their plan's cap. The request goes to the lane the
input's size calls for (app/jobs/scheduling.py).
"""

from __future__ import annotations

import logging
import math
import uuid

from app.accounts import upload_grants
from app.accounts.users import User
from app.errors import Refused
from app.jobs import scheduling
from app.jobs.job import FAILED, PENDING, RUNNING, Job, display_file_name, input_key, parse_input_key, utcnow
from app.jobs.lifecycle import JobEvent, JobRequest, Lane, announce
from app.ports.objects import ObjectNotFound, PresignedPost
from app.services import Services

log = logging.getLogger(__name__)


def max_input_bytes(services: Services, user: User) -> int:
    settings = services.settings
    return settings.max_input_bytes if user.premium else settings.free_max_input_bytes


async def new_upload(
    services: Services, user: User, *, redirect: str | None = None, with_file_name: bool = True
) -> PresignedPost:
    """A presigned POST for one new input under the user's prefix.

    The browser form keeps the chosen file's name in the key (``${filename}``, as
    on S3); API clients get an exact key and name the file when they create the job.
    """
    per_hour = services.settings.plan_max("uploads_per_hour", user.premium)
    wait = await upload_grants.grant(services.db, user.user_id, per_hour)
    if wait is not None:
        minutes = max(1, math.ceil(wait / 60))
        raise Refused(
            429, "too_many_uploads",
            f"You have asked for {per_hour:,} uploads in the last hour, as many as your plan allows. "
            f"Wait {minutes} minute{'s' if minutes != 1 else ''}, then try again."
            + ("" if user.premium else " Premium accounts may upload more."),
        )
    job_id = str(uuid.uuid4())
    key = input_key(user.user_id, job_id, "${filename}") if with_file_name else (
        input_key(user.user_id, job_id, "").removesuffix("~")
    )
    return await services.objects.presign_post(
        services.settings.inputs_bucket,
        key,
        max_bytes=max_input_bytes(services, user),
        expires_in=services.settings.upload_expiry_seconds,
        success_action_redirect=redirect,
        success_action_status=None if redirect else 201,
    )


async def submit(
    services: Services, user: User, key: str, file_name: str | None = None,
    *, build: str | None = None, skip_bad_lines: bool = False,
) -> Job:
    """Create the pending job for an uploaded object and ask for it to be annotated.

    Idempotent: the job id comes from the key, so a replayed redirect or a retried
    API call returns the same job.
    """
    parsed = parse_input_key(user.user_id, key)
    if parsed is None:
        raise Refused(403, "forbidden_key", "This upload key does not belong to you.")
    job_id, name_in_key = parsed
    existing = await services.jobs.get(job_id)
    if existing is not None:
        if existing.user_id != user.user_id:
            raise Refused(403, "forbidden_key", "This upload key does not belong to you.")
        if existing.status == PENDING:
            # The first try may have stored the job and then lost the database before
            # asking for it; asking twice is harmless (the annotator claims it once).
            await announce(services, existing, publish=_request(services, existing))
        return existing
    await _check_queued_jobs(services, user)
    bucket = services.settings.inputs_bucket
    try:
        info = await services.objects.head(bucket, key)
    except ObjectNotFound:
        raise Refused(
            404, "upload_not_found", "No uploaded file under this key: upload the file first."
        ) from None
    limit = max_input_bytes(services, user)
    if info.size > limit:
        await services.objects.delete(bucket, key)
        raise Refused(
            413, "input_too_large",
            f"The file is {info.size:,} bytes; your plan allows {limit:,} bytes. "
            "Upgrade to Premium to annotate larger files.",
        )
    job = Job(
        job_id=job_id,
        user_id=user.user_id,
        input_file_name=display_file_name(file_name or name_in_key or "input.vcf"),
        input_bucket=bucket,
        input_key=key,
        input_size=info.size,
        submitted_at=utcnow(),
        status=PENDING,
        build=build if build and build != "auto" else None,
        skip_bad_lines=skip_bad_lines,
    )
    await services.objects.claim(bucket, key)  # kept: unclaimed uploads expire
    if not await services.jobs.create(job):
        again = await services.jobs.get(job_id)
        assert again is not None
        return again
    await announce(services, job, publish=_request(services, job), event=JobEvent(job_id, PENDING, 0))
    log.info("job submitted", extra={"job_id": job_id, "user_id": user.user_id})
    return job


def resubmitted_id(job: Job) -> str:
    """The id of ``job``'s resubmission, always the same: a second click (or a replayed
    POST) finds the job the first one made instead of annotating the file twice."""
    return str(uuid.uuid5(uuid.UUID(job.job_id), "skip_bad_lines"))


async def resubmit_skipping_bad_lines(services: Services, user: User, job: Job) -> Job:
    """A new job from a failed job's stored input (no new upload), with bad lines
    skipped and the same build. The input stays under the failed job's key, which keeps
    it: the unclaimed-upload sweep finds that job by the key."""
    if job.user_id != user.user_id:
        raise Refused(404, "not_found", "No such job.")
    if job.status != FAILED or job.skip_bad_lines:
        raise Refused(
            409, "not_resubmittable",
            "Only a failed job that did not skip bad lines can be resubmitted skipping them.",
        )
    existing = await services.jobs.get(resubmitted_id(job))
    if existing is not None:
        return existing
    await _check_queued_jobs(services, user)
    try:
        info = await services.objects.head(job.input_bucket, job.input_key)
    except ObjectNotFound:
        raise Refused(
            404, "upload_not_found", "The uploaded file is no longer in storage: upload it again."
        ) from None
    again = Job(
        job_id=resubmitted_id(job),
        user_id=user.user_id,
        input_file_name=job.input_file_name,
        input_bucket=job.input_bucket,
        input_key=job.input_key,
        input_size=info.size,
        submitted_at=utcnow(),
        status=PENDING,
        build=job.build,
        skip_bad_lines=True,
    )
    if not await services.jobs.create(again):
        made = await services.jobs.get(again.job_id)
        assert made is not None
        return made
    await announce(services, again, publish=_request(services, again),
                   event=JobEvent(again.job_id, PENDING, 0))
    log.info("job resubmitted skipping bad lines (was %s)", job.job_id,
             extra={"job_id": again.job_id, "user_id": user.user_id})
    return again


async def _check_queued_jobs(services: Services, user: User) -> None:
    """Refuse a new job while the user has their plan's most unfinished jobs.

    Two submissions at the same moment may both pass: the cap is there so that no one
    fills the queues, and one job over it does not."""
    cap = services.settings.plan_max("queued_jobs", user.premium)
    counts = await services.jobs.count_by_status(user.user_id, [PENDING, RUNNING])
    unfinished = sum(counts.values())
    if unfinished >= cap:
        log.info("submission refused: %d unfinished jobs", unfinished, extra={"user_id": user.user_id})
        upgrade = "" if user.premium else " Premium accounts may have more."
        raise Refused(
            429, "too_many_jobs",
            f"You have {unfinished} jobs waiting or running; your plan allows {cap} at a time. "
            f"Submit this file again when one of them has finished.{upgrade}",
        )


def _request(services: Services, job: Job) -> tuple[Lane, JobRequest]:
    return scheduling.request(job, scheduling.lane_for(services.settings, job.input_size))
