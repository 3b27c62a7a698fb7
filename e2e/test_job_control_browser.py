"""Cancelling a running job and deleting a finished one, as the person does it in a real browser
against a real ``gas serve``: the annotator stops the job within seconds, another open page
shows it cancelled without a reload, and a deletion asks first and leaves no file behind."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page, expect

from e2e.jobs import api_client, big_vcf, finished, job, result_files, submit, until
from e2e.server import Server
from e2e.test_browser import VCF


async def log_in(page: Page, server: Server, address: str) -> None:
    await page.goto(f"{server.url}/login")
    await page.get_by_label("Email").fill(address)
    await page.get_by_label("Password").fill("correct horse")
    await page.get_by_role("button", name="Log in").click()


def inputs(server: Server, job_id: str) -> list[Path]:
    return sorted((server.data_dir / "objects").glob(f"*/inputs/*/{job_id}*"))


async def test_cancel_a_running_job_from_its_page(page: Page, server: Server, output_path: str) -> None:
    """A large job, running: "Cancel this job" on its page makes it cancelled (the job list open
    in another tab says so without a reload), the annotator stops it within seconds, and no
    result is stored."""
    shots = Path(output_path)
    with api_client(server.url, server.data_dir, "cancel@example.org") as client:
        job_id = submit(client, big_vcf(600_000), "big.vcf.gz")
        await log_in(page, server, "cancel@example.org")
        listing = await page.context.new_page()
        await listing.goto(f"{server.url}/annotations")
        await page.goto(f"{server.url}/annotations/{job_id}")
        await expect(page.locator("#status .badge")).to_have_text("running", timeout=60_000)
        # In the engine's hands: stopping it is the engine's to do, at its next progress step.
        await expect(page.locator("#status .phase")).to_have_text("annotating", timeout=60_000)
        await page.screenshot(path=shots / "job-running-cancel.png", full_page=True)
        await page.get_by_role("button", name="Cancel this job").click()
        await expect(page.locator("#status .badge")).to_have_text("cancelled", timeout=10_000)
        await expect(page.get_by_role("button", name="Cancel this job")).to_have_count(0)
        await expect(page).to_have_title(re.compile(r"^big\.vcf\.gz · cancelled"))
        await page.screenshot(path=shots / "job-cancelled.png", full_page=True)
        row = listing.locator("#job-rows tr", has=listing.get_by_role("link", name="big.vcf.gz"))
        await expect(row.locator(".badge")).to_have_text("cancelled", timeout=10_000)
        await expect(row.get_by_role("button", name=re.compile("^Cancel"))).to_have_count(0)
        await listing.screenshot(path=shots / "jobs-cancelled.png", full_page=True)
        until(lambda: "stopped: the job was cancelled" in server.log_tail(400), "the annotator stopped it",
              timeout=15)
        # Given up by the engine itself: its process (and the lane's other jobs) kept.
        log = server.log_tail(400)
        assert "its engine gave it up" in log and "killed its engine" not in log
        assert job(client, job_id)["status"] == "cancelled"
        assert result_files(server.data_dir, job_id) == []


async def test_delete_a_finished_job_through_its_confirmation(
    page: Page, server: Server, output_path: str
) -> None:
    """"Delete this job…" on a completed job's page opens a confirmation (a page, reached and
    answered from the keyboard); confirming lands on the job list without the job, and its input
    and results are gone from storage."""
    shots = Path(output_path)
    with api_client(server.url, server.data_dir, "delete@example.org", role="free") as client:
        job_id = submit(client, VCF.encode(), "keep-or-not.vcf")
        assert finished(client, job_id)["status"] == "completed"
    assert inputs(server, job_id) and result_files(server.data_dir, job_id)
    await log_in(page, server, "delete@example.org")
    await page.goto(f"{server.url}/annotations/{job_id}")
    await page.get_by_role("link", name="Delete this job…").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name=re.compile("^Delete the job for keep-or-not.vcf"))
                 ).to_be_visible()
    await expect(page.get_by_text("It cannot be undone.")).to_be_visible()
    await page.screenshot(path=shots / "job-delete-confirm.png", full_page=True)
    await page.get_by_role("button", name="Delete the job and its files").focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{server.url}/annotations")
    await expect(page.get_by_role("link", name="keep-or-not.vcf")).to_have_count(0)
    await page.screenshot(path=shots / "jobs-after-delete.png", full_page=True)
    assert inputs(server, job_id) == [] and result_files(server.data_dir, job_id) == []
    assert (await page.goto(f"{server.url}/annotations/{job_id}")).status == 404  # type: ignore[union-attr]
