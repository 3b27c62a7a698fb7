"""Sign-in with an OpenID Connect provider in a real browser, against a real ``gas serve``."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from e2e.server import Server, free_port
from tests.web.oidc_provider import Provider


@pytest.fixture
async def provider_and_server(tmp_path: Path) -> AsyncIterator[tuple[Provider, Server]]:
    """A provider on "localhost" (another site than GAS on 127.0.0.1, as in life) and
    ``gas serve`` configured for it through GAS_OIDC_* variables."""
    port = free_port()
    provider = Provider(host="localhost", consent_page=True,
                        redirect_uris=[f"http://127.0.0.1:{port}/login/oidc/callback"])
    await provider.start()
    server = Server(tmp_path / "var", port, env={
        "GAS_OIDC_ISSUER": provider.issuer, "GAS_OIDC_CLIENT_ID": provider.client_id,
        "GAS_OIDC_CLIENT_SECRET": provider.client_secret, "GAS_OIDC_NAME": "Test IdP",
    })
    server.data_dir.mkdir()
    try:
        # Blocking start and stop go to a thread: the provider answers on this loop.
        await asyncio.to_thread(server.start)
        yield provider, server
    finally:
        await asyncio.to_thread(server.stop)
        await provider.stop()


async def test_sign_in_with_provider_and_back_again(
    page: Page, provider_and_server: tuple[Provider, Server]
) -> None:
    """The button on /login takes the browser to the provider and back, signed in, to
    ?next (the session cookie holding state and nonce survives the cross-site return);
    after logging out, signing in again reaches the same account; a refusal at the
    provider ends on a page that says so."""
    provider, server = provider_and_server
    email = f"{uuid.uuid4().hex[:8]}@idp.example"
    provider.person = {"sub": uuid.uuid4().hex, "email": email, "email_verified": True, "name": "Ida"}

    await page.goto(f"{server.url}/login?next=/profile")
    await page.get_by_role("link", name="Sign in with Test IdP").click()
    await page.get_by_role("button", name="Allow").click()
    await expect(page).to_have_url(f"{server.url}/profile")
    await expect(page.get_by_text(email)).to_be_visible()
    assert provider.authorize_requests[-1]["code_challenge_method"] == "S256"

    await page.get_by_role("button", name="Log out").click()
    await page.goto(f"{server.url}/login")
    await page.get_by_role("link", name="Sign in with Test IdP").click()
    await page.get_by_role("button", name="Allow").click()
    await expect(page).to_have_url(re.compile(r"/annotations$"))
    await page.goto(f"{server.url}/profile")
    await expect(page.get_by_text(email)).to_be_visible()
    assert provider.token_refusals == []

    await page.get_by_role("button", name="Log out").click()
    provider.deny = "access_denied"
    await page.goto(f"{server.url}/login")
    await page.get_by_role("link", name="Sign in with Test IdP").click()
    await page.get_by_role("button", name="Allow").click()
    await expect(page.get_by_role("alert")).to_contain_text("You did not allow GAS to sign you in")
    assert "/login/oidc/callback" in page.url
