"""Logging out in one tab ends the live-event stream of the session's other tabs, in Chromium
against a real ``gas serve``."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.async_api import BrowserContext, Page, Request, expect

from e2e.server import Server
from e2e.test_browser import sign_up


def is_stream(request: Request) -> bool:
    return request.url.endswith("/events")


async def test_logout_in_one_tab_ends_the_others_stream(
    page: Page, context: BrowserContext, server: Server, output_path: str
) -> None:
    """The job list's /events stream is open in one tab; logging out in another tab of the
    same browser ends it within 2 s, and the list, reloaded, is the login page."""
    await sign_up(page, server, "streams@example.org")
    async with page.expect_request(is_stream) as opened:
        await page.goto(f"{server.url}/annotations")
    stream = await opened.value
    other = await context.new_page()
    await other.goto(f"{server.url}/profile")
    async with page.expect_event("requestfinished", lambda r: r is stream, timeout=5_000) as ended:
        started = time.monotonic()
        await other.get_by_role("button", name="Log out").click()
    await ended.value
    assert time.monotonic() - started < 2
    await page.reload()
    await expect(page).to_have_url(f"{server.url}/login?next=/annotations")
    await page.screenshot(path=Path(output_path) / "logged-out-tab.png", full_page=True)
