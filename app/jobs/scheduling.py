"""Fair scheduling: which lane a job's request goes to, and how many jobs a user may
have waiting and running.

Two lanes, each a topic and a queue of the same name (app/jobs/lifecycle.py): a small
input is asked for on the small lane, which the annotator serves with engine processes of its own,
so it never waits behind large jobs however many are queued or running. The caps
(``Settings.plan_max``) keep one user from filling either lane: unfinished jobs are capped at submission
(:mod:`app.jobs.submissions`), running ones when the annotator would start one (it puts
the request back for later, annotator/worker.py).
"""

from __future__ import annotations

from app.config import Settings
from app.jobs.job import Job
from app.jobs.lifecycle import LARGE, SMALL, JobRequest, Lane


def lane_for(settings: Settings, input_size: int) -> Lane:
    return SMALL if input_size <= settings.small_job_limit else LARGE


def request(job: Job, lane: Lane) -> tuple[Lane, JobRequest]:
    """What asks ``lane`` to annotate ``job`` (announced with the job's move or event): its
    first request, a retried submission, or a job moved to another lane. Asking twice is
    harmless: the annotator claims a job once."""
    return lane, JobRequest(job.job_id, job.user_id)


