"""What the job page and list say of a job's build: the one chosen, or the one GAS
read from the file, and never the one for the other; and the builds the upload form
and the API offer."""

from __future__ import annotations

import uuid

import pytest
from quart import Quart, render_template_string
from quart.testing import QuartClient

from app.jobs.builds import BUILDS
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


def test_the_upload_form_offers_auto_then_each_build() -> None:
    """The form's choices come from app/jobs/builds.py, labels and order unchanged."""
    from app.web.jobs import BUILDS as CHOICES

    assert CHOICES == {"auto": "Detect from the file", "GRCh37": "GRCh37 / hg19",
                       "GRCh38": "GRCh38 / hg38", "NCBI36": "NCBI36 / hg18 (lifted over to GRCh37)"}


async def test_the_api_documents_auto_then_each_build(app: Quart) -> None:
    """POST /api/v1/jobs's ``build`` in the OpenAPI document: the builds, after "auto"."""
    document = await (await app.test_client().get("/openapi.json")).get_json()
    body = document["paths"]["/api/v1/jobs"]["post"]["requestBody"]["content"]["application/json"]
    build = body["schema"]["properties"]["build"]
    assert build["enum"] == ["auto", *BUILDS] and build["default"] == "auto"
