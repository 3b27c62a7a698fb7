"""The notifier: a job finished (``job-results``) → email its owner, once."""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from app.accounts import users
from app.infra.consumer import PoisonMessage
from app.jobs import notifications
from app.jobs.job import COMPLETED, Job
from app.ports.bus import Message
from app.services import Services
from daemons import job_in, serve

log = logging.getLogger(__name__)
QUEUE = "job-results-notify"


SIGNATURE = "— GAS, the Genomics Annotation Service"


def job_url(services: Services, job: Job) -> str:
    return f"{services.settings.public_url.rstrip('/')}/annotations/{job.job_id}"


def bodies(lines: list[str], url: str, link: str = "See the job") -> tuple[str, str]:
    """Plain text and HTML of a mail about a job: its lines, a link to the job page (or, named
    `link`, another page), the signature."""
    text = "\n\n".join([*lines, f"{link}: {url}", SIGNATURE]) + "\n"
    html = "".join(f"<p>{escape(line)}</p>" for line in lines) + (
        f'<p><a href="{escape(url)}">{escape(link)}</a></p><p>{SIGNATURE}</p>'
    )
    return text, html


def duration(seconds: float) -> str:
    """A retention period as a person says it: "1 minute", "30 minutes", "2 hours", "1 day"."""
    minutes = max(1, round(seconds / 60))
    for size, unit in ((1440, "day"), (60, "hour")):
        if minutes >= size and minutes % size == 0:
            n = minutes // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def compose(services: Services, job: Job, premium: bool) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the mail about a finished job; the subject names the file,
    which the owner knows, not the job's id, which they do not."""
    url = job_url(services, job)
    name = job.input_file_name
    if job.status == COMPLETED:
        assert job.completed_at is not None
        when = job.completed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        subject = f"{name}: results ready"
        lines = [f"Your annotation of {name} completed at {when}."]
        if job.variant_count is not None:
            lines.append(f"{job.variant_count:,} variants were annotated.")
        if not premium:
            period = duration(services.settings.free_retention_seconds)
            lines.append(f"Free accounts can download results for {period}; "
                         "after that they are archived until you upgrade to Premium.")
    else:
        subject = f"{name}: annotation failed"
        lines = [f"Your annotation of {name} failed.", f"Why: {job.error or 'no reason was recorded.'}"]
    return (subject, *bodies(lines, url))


async def handle(services: Services, message: Message, body: dict[str, Any]) -> None:
    job = await job_in(services, body)
    if not job.finished:
        raise PoisonMessage(f"job {job.job_id} has not finished")
    ctx = {"job_id": job.job_id, "user_id": job.user_id}
    owner = await users.get(services.db, job.user_id)
    if owner is None:
        log.warning("the job's owner has no account any more; no mail", extra=ctx)
        return
    subject, text, html = compose(services, job, owner.premium)
    sent = await notifications.send_once(
        services.db, services.mail, job_id=job.job_id, kind=job.status,
        lease_seconds=services.settings.queue_visibility_seconds / 2,
        to=owner.email, subject=subject, text=text, html=html,
    )
    log.info("mailed the owner" if sent else "mail sent before; not again", extra=ctx)


async def run(services: Services) -> None:
    await serve(services, QUEUE, handle)
