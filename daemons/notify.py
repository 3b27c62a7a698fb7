"""The notifier: a job finished (``job-results``) → email its owner, once."""

from __future__ import annotations

import logging

from app.accounts import users
from app.infra.poison import PoisonMessage
from app.jobs import mails, notifications
from app.jobs.lifecycle import JOB_RESULTS_NOTIFY, JobResult
from app.ports.bus import Message
from app.services import Services
from daemons import job_in, serve

log = logging.getLogger(__name__)
QUEUE = JOB_RESULTS_NOTIFY


async def handle(services: Services, message: Message, result: JobResult) -> None:
    job = await job_in(services, result.job_id)
    if job is None:
        return
    if not job.finished:
        raise PoisonMessage(f"job {job.job_id} has not finished")
    ctx = {"job_id": job.job_id, "user_id": job.user_id}
    owner = await users.get(services.db, job.user_id)
    if owner is None:
        log.warning("the job's owner has no account any more; no mail", extra=ctx)
        return
    subject, text, html = mails.finished(services.settings, job, owner.premium)
    sent = await notifications.send_once(
        services.db, services.mail, job_id=job.job_id, kind=job.status,
        lease_seconds=services.settings.queue_visibility_seconds / 2,
        to=owner.email, subject=subject, text=text, html=html,
    )
    log.info("mailed the owner" if sent else "mail sent before; not again", extra=ctx)


async def run(services: Services) -> None:
    await serve(services, QUEUE, JobResult.decode, handle)
