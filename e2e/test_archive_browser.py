"""A free user's results go to the archive and come back on upgrade, as the person sees it in a
browser: pages and mail name their files, the job page says until when a result can be had, the
list marks what is archived, /subscribe says the price, and one mail tells of all that is back."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from e2e.server import Server
from e2e.test_browser import sign_up, submit_through_api

RETENTION, RESTORE = 8, 2


@pytest.fixture(autouse=True)
def _seconds_not_days(monkeypatch: pytest.MonkeyPatch) -> None:
    """``gas serve`` (e2e/conftest.py's, started after this) with a retention and a restore of
    seconds."""
    monkeypatch.setenv("GAS_FREE_RETENTION_SECONDS", str(RETENTION))
    monkeypatch.setenv("GAS_LOCAL_RESTORE_EXPEDITED_SECONDS", str(RESTORE))


def subjects(server: Server) -> list[str]:
    return [
        str(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"])
        for p in sorted((server.data_dir / "outbox").glob("*.eml"))
    ]


async def test_archived_then_restored_as_the_person_sees_it(
    page: Page, server: Server, output_path: str
) -> None:
    shots = Path(output_path)
    await sign_up(page, server, "ada@example.org")
    for name in ("first.vcf", "second.vcf"):
        submit_through_api(server, "ada@example.org", name)
    await page.goto(f"{server.url}/annotations")
    rows = page.locator("#job-rows tr")
    await expect(rows.locator(".badge", has_text="completed")).to_have_count(2, timeout=30_000)
    row = rows.filter(has=page.get_by_role("link", name="first.vcf", exact=True))
    await expect(row.get_by_role("cell", name="3", exact=True)).to_be_visible()  # variants

    await row.get_by_role("link", name="first.vcf").click()
    await expect(page).to_have_title(re.compile(r"^first\.vcf · completed"))
    await expect(page.locator("#archive-at")).to_contain_text("then archived")
    await page.screenshot(path=shots / "job-downloadable-until.png", full_page=True)

    # Archived: the list marks both (the page learns of it from the stream).
    await page.goto(f"{server.url}/annotations")
    await expect(rows.locator(".tier-archived")).to_have_count(2, timeout=RETENTION * 1000 + 30_000)
    await page.screenshot(path=shots / "jobs-archived.png", full_page=True)

    # The results page of an archived result says so and leads to the upgrade.
    job_page = await rows.get_by_role("link", name="second.vcf").get_attribute("href")
    await page.goto(f"{server.url}{job_page}/results")
    await expect(page.locator("main").get_by_role("status")).to_contain_text("The result is archived.")
    await page.get_by_role("link", name="Upgrade to Premium").click()
    await expect(page.get_by_text("US$10.00 a month")).to_be_visible()
    await page.get_by_label("Card number").fill("4242 4242 4242 4242")
    await page.get_by_role("button", name="Upgrade to Premium").click()
    await expect(page.locator("main").get_by_role("status")).to_contain_text("You are on Premium")

    await page.goto(f"{server.url}/annotations")
    await expect(rows.locator(".tier")).to_have_count(0, timeout=RESTORE * 1000 + 30_000)
    for _ in range(40):  # the mail follows the last result back
        if any("are back" in s for s in subjects(server)):
            break
        await asyncio.sleep(0.25)
    sent = subjects(server)
    ready = sorted(s for s in sent if "results ready" in s)
    assert ready == ["first.vcf: results ready", "second.vcf: results ready"], sent
    assert [s for s in sent if "are back" in s] == ["2 results are back from the archive"], sent
