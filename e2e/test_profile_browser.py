"""The profile's API tokens and the skip link, in a real browser against a real ``gas serve``."""

from __future__ import annotations

import re

from playwright.async_api import BrowserContext, Page, expect

from e2e.server import Server
from e2e.test_browser import sign_up


async def test_new_token_is_shown_once_copied_and_not_made_again_on_reload(
    page: Page, context: BrowserContext, server: Server
) -> None:
    """Making a token shows it once with a Copy button that puts it on the clipboard; reloading the
    page after it neither shows it again nor makes a second token (the POST redirects)."""
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    await sign_up(page, server, "tokens@example.org")
    await page.goto(f"{server.url}/profile")
    await page.get_by_label("Token name").fill("laptop")
    await page.get_by_role("button", name="Create token").click()
    field = page.get_by_label("New API token")
    token = await field.input_value()
    assert re.fullmatch(r"[A-Za-z0-9_.-]{20,}", token), token
    await page.get_by_role("button", name="Copy").click()
    await expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == token

    await page.reload()
    await expect(page.get_by_label("New API token")).to_have_count(0)
    rows = page.locator("table tbody tr", has=page.get_by_role("button", name=re.compile("^Revoke")))
    await expect(rows).to_have_count(1)
    assert token not in await page.content()


async def test_skip_link_is_the_first_stop_and_moves_focus_to_the_content(page: Page, server: Server) -> None:
    """A keyboard user's first Tab lands on "Skip to content", shown while focused; Enter takes the
    focus past the navigation to the page's main content."""
    await sign_up(page, server, "keyboard@example.org")
    await page.goto(f"{server.url}/profile")
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    await expect(skip).to_be_focused()
    box = await skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0  # on screen while focused
    await page.keyboard.press("Enter")
    await expect(page.locator("main#main")).to_be_focused()
