"""Pages and files are named after the file a person uploaded, which they know, not after the
job's id, which they do not (the id stays visible on the job page)."""

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


async def test_job_and_log_pages_are_titled_with_the_file_name(
    client: QuartClient, services: Services, annotator: Annotator  # noqa: F811
) -> None:
    """The job page's title and heading, and the log page's, name sample.vcf; the job page still
    shows the job's id."""
    job = await completed_job(client, services, annotator)
    page = await (await client.get(f"/annotations/{job.job_id}")).get_data(as_text=True)
    assert "<title>sample.vcf · completed · Genomics Annotation Service</title>" in page
    assert "<h1>Annotation of sample.vcf</h1>" in page and job.job_id in page
    log = await (await client.get(f"/annotations/{job.job_id}/log")).get_data(as_text=True)
    assert "<title>Log of sample.vcf · Genomics Annotation Service</title>" in log
