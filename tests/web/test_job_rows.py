"""The job list's rows: rendered from job summaries, kept while what they show is unchanged."""

from __future__ import annotations

import uuid
from datetime import timedelta

from quart import render_template
from quart.testing import QuartClient

from app.jobs.job import COMPLETED, FAILED, PENDING, RUNNING, Job, input_key, utcnow
from app.services import Services
from app.web import job_rows
from tests.web.test_pages import signed_up_with_job


def _full_job(status: str, n: int) -> Job:
    """A job with every field set, so a template reaching past the summary shows it."""
    user_id, job_id = str(uuid.uuid4()), str(uuid.uuid4())
    at = utcnow() - timedelta(minutes=n)
    return Job(
        job_id=job_id, user_id=user_id, input_file_name=f"<b>sample {n}</b>.vcf", input_bucket="bucket-in",
        input_key=input_key(user_id, job_id, "x.vcf"), input_size=4321 + n, submitted_at=at,
        status=status,  # type: ignore[arg-type]
        started_at=at, completed_at=at, progress=37 + n, variant_count=999, build="GRCh38",
        skip_bad_lines=True, result_bucket="bucket-out", result_key="result-key", log_key="log-key",
        summary_key="summary-key", storage="cold", archived_at=at, restore_requested_at=at,
        restore_tier="Bulk", error="Line 7: bad POS",
    )


async def test_rows_show_nothing_beyond_the_summary(client: QuartClient) -> None:
    """Rendered from whole jobs or from their summaries, the rows are the same HTML: the
    template shows only summary fields, so the summaries are a complete cache key."""
    jobs = [_full_job(status, n) for n, status in enumerate((RUNNING, COMPLETED, FAILED, PENDING))]
    async with client.app.test_request_context("/annotations"):
        whole = await render_template("fragments/job_rows.html", jobs=jobs, more=True)
        summaries = [job.summary() for job in jobs]
        assert await render_template("fragments/job_rows.html", jobs=summaries, more=True) == whole
        assert str(await job_rows.render(summaries, True)) == whole
    assert "&lt;b&gt;sample 0&lt;/b&gt;.vcf" in whole and "37%" in whole


async def test_rows_follow_a_job_that_moves_on(client: QuartClient, services: Services) -> None:
    """Rows served again while unchanged still show a job's new status and progress at
    once, in the fragment and in the page: the kept HTML is keyed by them."""
    job = await signed_up_with_job(client, services, "moving.vcf")
    fragment = {"HX-Request": "true"}
    for _ in range(2):  # the second is served from the kept rows
        rows = await (await client.get("/annotations", headers=fragment)).get_data(as_text=True)
        assert "badge-pending" in rows and "<html" not in rows
    await services.jobs.transition(job.job_id, [PENDING], RUNNING, started_at=utcnow(), progress=40)
    rows = await (await client.get("/annotations", headers=fragment)).get_data(as_text=True)
    assert "badge-running" in rows and 'value="40"' in rows
    await services.jobs.transition(job.job_id, [RUNNING], RUNNING, progress=80)
    page = await (await client.get("/annotations")).get_data(as_text=True)
    assert 'value="80"' in page and "My annotation jobs" in page
    await services.jobs.transition(job.job_id, [RUNNING], COMPLETED, progress=100)
    rows = await (await client.get("/annotations", headers=fragment)).get_data(as_text=True)
    assert "badge-completed" in rows and "badge-running" not in rows
