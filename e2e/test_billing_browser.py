"""Premium's end, in a real browser against a real ``gas serve`` in test mode: the user upgrades
with the test card, cancels on /profile, is free at once and told so by mail (read from the
outbox's .eml files). Screenshots go to the test's output folder."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from playwright.async_api import Page, expect

from e2e.server import Server
from e2e.test_browser import sign_up


async def test_test_mode_cancel_on_profile(page: Page, server: Server, output_path: str) -> None:
    """A Premium user's profile says "Premium" with a "Cancel subscription" button (test mode); one
    click makes the plan "Free" with the upgrade link back, and a mail says Premium has ended."""
    shots = Path(output_path)
    address = "billing@example.org"
    await sign_up(page, server, address)
    await page.goto(f"{server.url}/subscribe")
    await page.get_by_label("Card number").fill("4242 4242 4242 4242")
    await page.get_by_role("button", name="Upgrade to Premium").click()
    await page.goto(f"{server.url}/profile")
    await expect(page.locator("dd", has_text="Premium").first).to_be_visible()
    await expect(page.get_by_text("Test mode: Premium ends at once.")).to_be_visible()
    await page.screenshot(path=shots / "profile-premium.png", full_page=True)

    await page.get_by_role("button", name="Cancel subscription").click()
    await expect(page).to_have_url(f"{server.url}/profile")
    await expect(page.get_by_role("button", name="Cancel subscription")).to_have_count(0)
    await expect(page.get_by_role("link", name="Upgrade to Premium")).to_be_visible()
    await expect(page.locator("dd", has_text="Free").first).to_be_visible()
    await page.screenshot(path=shots / "profile-cancelled.png", full_page=True)

    subjects = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in (server.data_dir / "outbox").glob("*.eml")]
    assert any(m["To"] == address and m["Subject"] == "Your GAS Premium subscription has ended"
               for m in subjects)
