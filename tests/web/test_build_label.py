"""What the job page and list say of a job's build: the one chosen, or the one GAS
read from the file, and never the one for the other."""

from __future__ import annotations

import uuid

import pytest
from quart import render_template_string
from quart.testing import QuartClient

from app.jobs.job import COMPLETED, FAILED, PENDING, RUNNING, Job, Status, utcnow

LABEL = '{% from "fragments/build_label.html" import build_label %}{{ build_label(job) }}'


def _job(status: Status, build: str | None, build_used: str | None) -> Job:
    return Job(job_id=str(uuid.uuid4()), user_id=str(uuid.uuid4()), input_file_name="in.vcf",
               input_bucket="b", input_key="k", input_size=1, submitted_at=utcnow(), status=status,
               build=build, build_used=build_used)


@pytest.mark.parametrize(("status", "build", "used", "shown"), [
    (PENDING, "GRCh38", None, "GRCh38 (chosen)"),
    (COMPLETED, "GRCh38", "GRCh38", "GRCh38 (chosen)"),
    (COMPLETED, "NCBI36", "GRCh37", "GRCh37 (chosen: NCBI36, lifted over)"),
    (COMPLETED, None, "GRCh37", "GRCh37 (detected from the file)"),
    (RUNNING, None, None, "Detected from the file when the job runs"),
    (FAILED, None, None, "Not detected: the job ended first"),
])
async def test_chosen_and_detected_builds_are_told_apart(
    client: QuartClient, status: Status, build: str | None, used: str | None, shown: str
) -> None:
    """Each case's label, from a whole job and from its summary (the job list's rows)."""
    job = _job(status, build, used)
    async with client.app.test_request_context("/annotations"):
        assert await render_template_string(LABEL, job=job) == shown
        assert await render_template_string(LABEL, job=job.summary()) == shown
