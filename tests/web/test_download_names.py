"""Files a person downloads are named after the file they uploaded, not after the job's id."""

from __future__ import annotations

from quart.testing import QuartClient
from werkzeug.http import parse_options_header

from annotator.worker import Annotator
from app.services import Services
from tests.web.test_results import annotator, completed_job  # noqa: F401  (annotator: a fixture)


async def test_result_downloads_as_the_input_name_annotated(
    client: QuartClient, services: Services, annotator: Annotator  # noqa: F811
) -> None:
    """sample.vcf's result downloads as sample.annotated.vcf."""
    job = await completed_job(client, services, annotator)
    link = await client.get(f"/annotations/{job.job_id}/download")
    assert link.status_code in (302, 303)
    download = await client.get(link.headers["Location"].removeprefix("http://localhost"))
    assert download.status_code == 200
    _, params = parse_options_header(download.headers["Content-Disposition"])
    assert params["filename"] == "sample.annotated.vcf"
