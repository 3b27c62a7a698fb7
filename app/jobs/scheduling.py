"""Fair scheduling: which lane a job's request goes to, and how many jobs a user may
have waiting and running.

Two lanes, each a topic and a queue of the same name: a small input is asked for on
``job-requests-small``, which the annotator serves with engine processes of its own,
so it never waits behind large jobs however many are queued or running. The caps
(``Settings.plan_max``) keep one user from filling either lane: unfinished jobs are capped at submission
(:mod:`app.jobs.submissions`), running ones when the annotator would start one (it puts
the request back for later, annotator/worker.py).
"""

from __future__ import annotations

import json
from typing import Literal

from app.config import Settings
from app.jobs.job import Job
from app.ports.bus import Bus

Lane = Literal["job-requests", "job-requests-small"]
LARGE: Lane = "job-requests"
SMALL: Lane = "job-requests-small"
LANES: tuple[Lane, ...] = (SMALL, LARGE)


def lane_for(settings: Settings, input_size: int) -> Lane:
    return SMALL if input_size <= settings.small_job_limit else LARGE


def request_body(job: Job) -> str:
    return json.dumps({"job_id": job.job_id, "user_id": job.user_id})


async def request_annotation(bus: Bus, job: Job, lane: Lane) -> None:
    """Ask ``lane`` to annotate ``job``: its first request, a retried submission, or a
    job moved to another lane. Asking twice is harmless: the annotator claims a job once."""
    await bus.publish(lane, request_body(job))


