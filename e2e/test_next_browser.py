"""``/login?next=`` in Chromium: whatever an attacker writes there, logging in ends on this
site's job list, and the browser never asks another host for anything."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, Request, expect

from e2e.server import Server
from e2e.test_browser import sign_up

# As typed into the address bar or a link an attacker sends: percent-encoded, as browsers
# pass them on. Each decodes to a ?next= a browser would follow off the site.
HOSTILE = ["/%5Cevil.example", "/%5C%5Cevil.example/x", "%2F%2Fevil.example", "/%09/evil.example",
           "/%0B/evil.example", "/%0D%0A/evil.example", "/%00", "https://evil.example/",
           "/%E2%84%B9//evil.example"]


async def test_hostile_next_ends_on_the_job_list(page: Page, server: Server, output_path: str) -> None:
    """Log in with each hostile ?next=: the page is this site's job list (a screenshot of
    the first), and no request went anywhere but this server."""
    elsewhere: list[str] = []

    def watch(request: Request) -> None:
        if not request.url.startswith(server.url):
            elsewhere.append(request.url)

    page.on("request", watch)
    await sign_up(page, server, "next@example.org")
    for n, target in enumerate(HOSTILE):
        await page.get_by_role("button", name="Log out").click()
        await page.goto(f"{server.url}/login?next={target}")
        await page.get_by_label("Email").fill("next@example.org")
        await page.get_by_label("Password").fill("correct horse battery")
        await page.get_by_role("button", name="Log in").click()
        await expect(page).to_have_url(f"{server.url}/annotations")
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        if n == 0:
            await page.screenshot(path=Path(output_path) / "login-hostile-next.png", full_page=True)
    assert elsewhere == []
