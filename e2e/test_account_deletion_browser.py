"""Deleting one's account in a real browser against a real ``gas serve``: from /profile, a page
that asks for the password, then the account is gone and the browser signed out; the mail
confirming it is read from the outbox's .eml files. Screenshots go to the test's output folder."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from playwright.async_api import Page, expect

from e2e.server import Server
from e2e.test_browser import sign_up


async def test_delete_my_account(page: Page, server: Server, output_path: str) -> None:
    """"Delete my account" on /profile opens a confirmation page; a wrong password is refused on
    it; the right one deletes the account, says so, and the browser is signed out: logging in
    again with the same password fails."""
    shots = Path(output_path)
    address = "leaving@example.org"
    await sign_up(page, server, address)
    await page.goto(f"{server.url}/profile")
    await page.get_by_role("link", name="Delete my account").click()
    await expect(page).to_have_url(f"{server.url}/profile/delete")
    await page.get_by_label("Your password").fill("not my password")
    await page.get_by_role("button", name="Delete my account and everything in it").click()
    await expect(page.get_by_role("alert")).to_have_text("This is not your current password.")
    await page.screenshot(path=shots / "delete-account-confirm.png", full_page=True)

    await page.get_by_label("Your password").fill("correct horse battery")
    await page.get_by_role("button", name="Delete my account and everything in it").click()
    await expect(page.get_by_text(f"Your account {address} has been deleted")).to_be_visible()
    await expect(page.get_by_role("link", name="Profile")).to_have_count(0)  # signed out
    await page.screenshot(path=shots / "delete-account-done.png", full_page=True)

    await page.goto(f"{server.url}/profile")
    await expect(page).to_have_url(re.compile(r"/login"))
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in (server.data_dir / "outbox").glob("*.eml")]
    assert any(m["To"] == address and m["Subject"] == "Your GAS account has been deleted" for m in mails)
    await page.get_by_label("Email").fill(address)
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(re.compile(r"/login"))
