"""The account a person manages, in a real browser against a real ``gas serve``: the address
confirmed by mail, a forgotten password reset by mail (links read from the outbox's .eml
files), and the name and institution edited on /profile. Screenshots go to the test's
output folder."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from e2e.server import Server
from e2e.test_browser import sign_up


async def mailed_link(server: Server, to: str, kind: str, seen: int = 0) -> str:
    """The ``kind`` link (verify-email, reset-password) of the newest mail to ``to``, once more
    than ``seen`` such mails are in the outbox."""
    for _ in range(100):
        links = []
        for path in sorted((server.data_dir / "outbox").glob("*.eml")):
            parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = parsed.get_body(("plain",))
            if parsed["To"] == to and body is not None:
                links += re.findall(rf"{re.escape(server.url)}/{kind}/[A-Za-z0-9_-]+", body.get_content())
        if len(links) > seen:
            return links[-1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} mail to {to} in the outbox")


async def test_address_is_confirmed_from_the_mailed_link(
    page: Page, server: Server, output_path: str
) -> None:
    """After sign-up the profile says the address is not confirmed; the link in the mail opens a
    page that asks, its button confirms, and the profile then says so and asks no more."""
    shots = Path(output_path)
    await sign_up(page, server, "verify@example.org")
    await page.goto(f"{server.url}/profile")
    await expect(page.get_by_text("Your email address is not confirmed yet")).to_be_visible()
    await page.screenshot(path=shots / "profile-unconfirmed.png", full_page=True)
    await page.goto(await mailed_link(server, "verify@example.org", "verify-email"))
    await page.screenshot(path=shots / "confirm-email.png", full_page=True)
    await page.get_by_role("button", name="Confirm your email address").click()
    await expect(page).to_have_url(f"{server.url}/profile")
    await expect(page.get_by_text("Your email address is confirmed.")).to_be_visible()
    await expect(page.get_by_text("not confirmed yet")).to_have_count(0)
    await page.screenshot(path=shots / "profile-confirmed.png", full_page=True)


async def test_forgotten_password_is_reset_from_the_mailed_link(
    page: Page, browser: Browser, server: Server, output_path: str
) -> None:
    """"Forgot your password?" on the log-in page mails a link; its page sets a new password,
    which signs out the browser that was still signed in; the new password then logs in."""
    shots = Path(output_path)
    await sign_up(page, server, "forgetful@example.org")
    other = await browser.new_page()
    await other.goto(f"{server.url}/login")
    await other.get_by_role("link", name="Forgot your password?").click()
    await other.get_by_label("Email").fill("forgetful@example.org")
    await other.get_by_role("button", name="Mail me a link").click()
    await expect(other.get_by_text("If an account has the address forgetful@example.org")).to_be_visible()
    await other.screenshot(path=shots / "forgot-password-sent.png", full_page=True)

    await other.goto(await mailed_link(server, "forgetful@example.org", "reset-password"))
    await other.get_by_label("New password").fill("short")
    await other.get_by_role("button", name="Set the new password").click()
    await expect(other.get_by_text("Use at least 8 characters.")).to_be_visible()
    await other.get_by_label("New password").fill("a brand new passphrase")
    await other.get_by_role("button", name="Set the new password").click()
    await expect(other.get_by_text("Your password is changed")).to_be_visible()
    await other.screenshot(path=shots / "password-reset-done.png", full_page=True)

    await page.goto(f"{server.url}/profile")
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await page.get_by_label("Email").fill("forgetful@example.org")
    await page.get_by_label("Password").fill("a brand new passphrase")
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{server.url}/profile")
    await other.close()


async def test_name_and_institution_are_edited_on_the_profile(
    page: Page, server: Server, output_path: str
) -> None:
    """The profile's details form saves a name and an institution, says so, and shows them."""
    await sign_up(page, server, "details@example.org")
    await page.goto(f"{server.url}/profile")
    await page.get_by_label("Name", exact=True).fill("Barbara McClintock")
    await page.get_by_label("Institution").fill("Cold Spring Harbor Laboratory")
    await page.get_by_role("button", name="Save details").click()
    await expect(page.get_by_text("Your name and institution are saved.")).to_be_visible()
    facts = page.locator("dl.facts")
    await expect(facts).to_contain_text("Barbara McClintock")
    await expect(facts).to_contain_text("Cold Spring Harbor Laboratory")
    await page.screenshot(path=Path(output_path) / "profile-details.png", full_page=True)
