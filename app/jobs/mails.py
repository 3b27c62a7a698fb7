"""The mails about a job, in plain text and HTML, from the templates in app/templates/mail/:
a job finished (daemons/notify.py), results back from the archive (app/jobs/storage.py)."""

from __future__ import annotations

from app.config import Settings
from app.infra.mail_templates import bodies
from app.jobs.job import COMPLETED, Job


def duration(seconds: float) -> str:
    """A retention period as a person says it: "1 minute", "30 minutes", "2 hours", "1 day"."""
    minutes = max(1, round(seconds / 60))
    for size, unit in ((1440, "day"), (60, "hour")):
        if minutes >= size and minutes % size == 0:
            n = minutes // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _bodies(settings: Settings, name: str, **context: object) -> tuple[str, str]:
    def url(job: Job) -> str:
        return f"{settings.public_url.rstrip('/')}/annotations/{job.job_id}"

    return bodies(name, url=url, **context)


def finished(settings: Settings, job: Job, premium: bool) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the mail about a finished job; the subject names the file,
    which the owner knows, not the job's id, which they do not."""
    outcome = "results ready" if job.status == COMPLETED else "annotation failed"
    retention = duration(settings.free_retention_seconds)
    return (f"{job.input_file_name}: {outcome}",
            *_bodies(settings, "finished", job=job, premium=premium, retention=retention))


def restored(settings: Settings, jobs: list[Job]) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the one mail about results back from the archive."""
    listed = sorted(jobs, key=lambda j: j.submitted_at)
    subject = (f"{jobs[0].input_file_name}: results are back" if len(jobs) == 1
               else f"{len(jobs)} results are back from the archive")
    jobs_url = f"{settings.public_url.rstrip('/')}/annotations"
    return (subject, *_bodies(settings, "restored", jobs=listed, jobs_url=jobs_url))
