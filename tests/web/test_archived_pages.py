"""What a free user whose result was archived is offered on the pages about it."""

from __future__ import annotations

from quart.testing import QuartClient

from annotator.worker import Annotator
from app.jobs import COMPLETED
from app.services import Services
from tests.web.test_results import annotator, completed_job  # noqa: F401  (annotator: a fixture)


async def test_archived_results_page_links_to_the_upgrade(
    client: QuartClient, services: Services, annotator: Annotator  # noqa: F811
) -> None:
    """The results page of an archived result says so and links to /subscribe, where upgrading
    brings it back (it said so with no way on)."""
    job = await completed_job(client, services, annotator)
    assert await services.jobs.transition(job.job_id, [COMPLETED], COMPLETED, storage="cold")
    page = await client.get(f"/annotations/{job.job_id}/results")
    assert page.status_code == 409
    text = await page.get_data(as_text=True)
    assert "The result is archived." in text and '<a href="/subscribe">Upgrade to Premium</a>' in text
