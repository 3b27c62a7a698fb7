"""A job annotated by the real annotator, its request handled at once (no queue): for the web
tests that need a completed job made the way production makes one."""

from __future__ import annotations

from annotator.worker import Annotator
from app.jobs.job import Job
from app.jobs.lifecycle import LARGE, JobRequest
from app.ports.bus import Message
from app.services import Services


async def annotate(services: Services, job_id: str, annotator: Annotator | None = None) -> Job:
    """The job once ``annotator`` (one of its own if none is given) has handled its request."""
    worker = annotator or Annotator(services)
    try:
        await worker.handle(Message(LARGE, "m", "{}", "r", 1), JobRequest(job_id))
    finally:
        if annotator is None:
            worker.close()
    job = await services.jobs.get(job_id)
    assert job is not None
    return job
