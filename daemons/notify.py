"""The notifier: a job finished (``job-results``) → email its owner, once.

A mail the service refuses for good (:class:`MailRefused`: an unverified sender, a
recipient outside SES's sandbox) is logged with the reason and the message taken:
retrying it five times and dead-lettering it would only hide the reason. Other send
errors may pass, so the message is retried.
"""

from __future__ import annotations

import logging

from app.accounts import users
from app.infra.poison import PoisonMessage
from app.jobs import mails, notifications
from app.jobs.lifecycle import JOB_RESULTS_NOTIFY, JobResult
from app.ports.bus import Message
from app.ports.mail import MailRefused
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
    try:
        sent = await notifications.send_once(
            services.db, services.mail, job_id=job.job_id, kind=job.status,
            lease_seconds=services.settings.queue_visibility_seconds / 2,
            to=owner.email, subject=subject, text=text, html=html,
        )
    except MailRefused as exc:
        log.error("mail refused, not retried: %s", exc, extra=ctx)
        return
    log.info("mailed the owner" if sent else "mail sent before; not again", extra=ctx)


async def run(services: Services) -> None:
    await serve(services, QUEUE, JobResult.decode, handle)
