"""What the pages say of a result that goes to the archive: when, that it is there, and the way back."""

from __future__ import annotations

from datetime import timedelta

from quart.testing import QuartClient

from annotator.worker import Annotator
from app.accounts import users
from app.services import Services
from tests.job_states import move_result
from tests.web.test_results import annotator, completed_job  # noqa: F401  (annotator: a fixture)


async def test_archived_results_page_links_to_the_upgrade(
    client: QuartClient, services: Services, annotator: Annotator  # noqa: F811
) -> None:
    """The results page of an archived result says so and links to /subscribe, where upgrading
    brings it back (it said so with no way on)."""
    job = await completed_job(client, services, annotator)
    assert await move_result(services.jobs, job.job_id, "cold")
    page = await client.get(f"/annotations/{job.job_id}/results")
    assert page.status_code == 409
    text = await page.get_data(as_text=True)
    assert "The result is archived." in text and '<a href="/subscribe">Upgrade to Premium</a>' in text


async def test_free_job_page_says_until_when_the_result_can_be_downloaded(
    client: QuartClient, services: Services, annotator: Annotator  # noqa: F811
) -> None:
    """A free user's completed job page says the result is downloadable until its completion plus
    the free retention, then archived; once the user is Premium it says nothing of the kind."""
    job = await completed_job(client, services, annotator)
    assert job.completed_at is not None
    until = job.completed_at + timedelta(seconds=services.settings.free_retention_seconds)
    page = await (await client.get(f"/annotations/{job.job_id}")).get_data(as_text=True)
    shown = f'<time datetime="{until.isoformat()}">{until:%Y-%m-%d %H:%M} UTC</time>'
    assert f"until {shown}, then archived" in page
    await users.set_role(services.db, job.user_id, "premium")
    page = await (await client.get(f"/annotations/{job.job_id}")).get_data(as_text=True)
    assert 'id="archive-at"' not in page


async def test_job_list_links_the_file_and_marks_archived_and_restoring_results(
    client: QuartClient, services: Services, annotator: Annotator  # noqa: F811
) -> None:
    """The job list's link is the file's name (not the job's id), with the variant count, and a
    marker on a result that is archived or being restored."""
    job = await completed_job(client, services, annotator)
    listing = await (await client.get("/annotations")).get_data(as_text=True)
    assert f'<a href="/annotations/{job.job_id}">sample.vcf</a>' in listing
    assert '<td class="num">5</td>' in listing and job.job_id + "</code>" not in listing
    assert "tier-archived" not in listing
    for storage, marker in (("cold", "archived"), ("restoring", "restoring")):
        assert await move_result(services.jobs, job.job_id, storage)
        listing = await (await client.get("/annotations")).get_data(as_text=True)
        assert f'<span class="tier tier-{marker}">{marker}</span>' in listing
