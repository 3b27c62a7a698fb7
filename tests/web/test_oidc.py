"""Sign-in with OpenID Connect, against a real provider the tests start (oidc_provider.py)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from quart import Quart
from quart.typing import TestClientProtocol

from app.accounts import identities, users
from app.services import Services
from app.web import create_app
from tests.web.conftest import csrf_from
from tests.web.oidc_provider import Provider
from tests.web.sessions import log_in
from tests.web.test_next import HOSTILE, SAME_SITE, in_query

PUBLIC = "http://localhost"


@pytest.fixture(scope="module")
async def provider() -> AsyncIterator[Provider]:
    running = Provider(redirect_uris=[f"{PUBLIC}/login/oidc/callback"])
    await running.start()
    yield running
    await running.stop()


@pytest.fixture(scope="module")
async def oidc_app(services: Services, provider: Provider) -> AsyncIterator[Quart]:
    settings = services.settings.model_copy(update={
        "public_url": PUBLIC, "oidc_issuer": provider.issuer, "oidc_client_id": provider.client_id,
        "oidc_client_secret": provider.client_secret, "oidc_name": "Test IdP",
    })
    quart_app = create_app(settings, services)
    async with quart_app.test_app() as running:
        yield running  # type: ignore[misc]


@pytest.fixture
def person(provider: Provider) -> dict[str, Any]:
    """A new person at the provider, signed in there."""
    provider.person = {
        "sub": f"sub-{uuid.uuid4().hex}", "email": f"{uuid.uuid4().hex[:10]}@idp.example",
        "email_verified": True, "name": "Ida Provider",
    }
    return provider.person


async def to_provider(client: TestClientProtocol, path: str = "/login/oidc") -> str:
    """Start signing in; the provider's answer: the callback URL it sends the browser to."""
    start = await client.get(path)
    assert start.status_code == 302, await start.get_data(as_text=True)
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(start.headers["Location"])
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


async def back(client: TestClientProtocol, callback_url: str, **replace: str) -> Any:
    """Follow the provider's redirect to GAS's callback, with some parameters replaced."""
    parts = urlsplit(callback_url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC
    query = dict(parse_qsl(parts.query)) | replace
    return await client.get(parts.path, query_string=query)


async def signed_in_email(client: TestClientProtocol) -> str | None:
    page = await client.get("/profile")
    if page.status_code != 200:
        return None
    html = await page.get_data(as_text=True)
    return html.split("<dt>Email</dt><dd>", 1)[1].split("</dd>", 1)[0]


async def user_count(services: Services, email: str) -> int:
    return int(await services.db.fetch_val(
        "SELECT count(*) FROM users WHERE lower(email) = lower(:e)", {"e": email}))


async def test_login_page_offers_the_provider_only_when_configured(oidc_app: Quart, app: Quart) -> None:
    """With an issuer set, /login has "Sign in with <name>" (keeping ?next); without one,
    neither the button nor the routes exist."""
    html = await (await oidc_app.test_client().get("/login?next=/profile")).get_data(as_text=True)
    assert "Sign in with Test IdP" in html and 'href="/login/oidc?next=/profile"' in html
    plain = app.test_client()
    assert "Sign in with" not in await (await plain.get("/login")).get_data(as_text=True)
    assert (await plain.get("/login/oidc")).status_code == 404
    assert (await plain.get("/login/oidc/callback?code=x&state=y")).status_code == 404


async def test_next_is_a_path_on_this_site(oidc_app: Quart, person: dict[str, Any]) -> None:
    """/login/oidc?next= with any of test_next.HOSTILE signs in and ends on the job list;
    a path of this site is followed."""
    for target, expected in [*((t, "/annotations") for t in HOSTILE), *((t, t) for t in SAME_SITE)]:
        client = oidc_app.test_client()
        done = await back(client, await to_provider(client, "/login/oidc" + in_query(target)))
        assert (done.status_code, done.headers["Location"]) == (302, expected), target


async def test_first_login_creates_the_user_and_the_next_finds_them(
    oidc_app: Quart, provider: Provider, services: Services, person: dict[str, Any]
) -> None:
    """The code flow with PKCE S256, state and nonce signs a new person in as a new free
    user named from the token, goes to ?next, and a later sign-in finds the same user."""
    client = oidc_app.test_client()
    callback = await to_provider(client, "/login/oidc?next=/profile")
    sent = provider.authorize_requests[-1]
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert sent["nonce"] and sent["state"] and sent["scope"] == "openid email profile"
    done = await back(client, callback)
    assert done.status_code == 302 and done.headers["Location"] == "/profile"
    assert await signed_in_email(client) == person["email"]
    user = await users.get_by_email(services.db, person["email"])
    assert user is not None and user.role == "free" and user.name == "Ida Provider"
    # No password: the account cannot be entered with the password form.
    assert await users.authenticate(services.db, person["email"], "") is None

    again = oidc_app.test_client()
    assert (await back(again, await to_provider(again))).status_code == 302
    assert await signed_in_email(again) == person["email"]
    assert await user_count(services, person["email"]) == 1
    links = await services.db.fetch_all(
        "SELECT user_id FROM identities WHERE issuer = :i AND subject = :s",
        {"i": provider.issuer, "s": person["sub"]})
    assert [str(r["user_id"]) for r in links] == [user.user_id]


async def test_the_subject_not_the_email_finds_the_user(
    oidc_app: Quart, provider: Provider, services: Services, person: dict[str, Any]
) -> None:
    """A person whose email changed at the provider is still the same GAS user."""
    client = oidc_app.test_client()
    await back(client, await to_provider(client))
    first = await users.get_by_email(services.db, person["email"])
    old_email = person["email"]
    provider.person = {**person, "email": "changed-" + old_email}
    later = oidc_app.test_client()
    await back(later, await to_provider(later))
    assert await signed_in_email(later) == old_email
    assert first is not None and await user_count(services, "changed-" + old_email) == 0


async def test_forged_state_is_refused(
    oidc_app: Quart, provider: Provider, services: Services, person: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A callback whose state is not the one this session sent gets a 400 page, signs no
    one in, and never reaches the token endpoint (the code stays unused)."""
    client = oidc_app.test_client()
    callback = await to_provider(client)
    with caplog.at_level(logging.WARNING, logger="app.web.oidc_login"):
        response = await back(client, callback, state="forged-" + uuid.uuid4().hex)
    html = await response.get_data(as_text=True)
    assert response.status_code == 400
    assert "did not start here" in html and "Traceback" not in html
    assert "state missing or not one this session sent" in caplog.text
    assert await signed_in_email(client) is None
    assert await user_count(services, person["email"]) == 0
    # A session that never started a sign-in is refused the same way.
    stranger = oidc_app.test_client()
    assert (await back(stranger, callback)).status_code == 400


async def test_two_sign_ins_under_way_in_one_session_both_work(
    oidc_app: Quart, provider: Provider, person: dict[str, Any]
) -> None:
    """A sign-in started in one tab and another started later in a second tab: the
    first one's return still works (each state is kept), and once signed in, the
    other's return no longer signs anyone in."""
    client = oidc_app.test_client()
    older = await to_provider(client)
    newer = await to_provider(client)
    assert (await back(client, older)).status_code == 302
    assert await signed_in_email(client) == person["email"]
    assert (await back(client, newer)).status_code == 400


async def test_forged_state_leaves_the_real_sign_in_working(
    oidc_app: Quart, provider: Provider, person: dict[str, Any]
) -> None:
    """A forged return (someone else's code, any state) does not spoil the sign-in the
    person has under way."""
    client = oidc_app.test_client()
    mine = await to_provider(client)
    assert (await back(client, mine, state="forged")).status_code == 400
    assert (await back(client, mine)).status_code == 302


async def test_state_that_is_not_ascii_is_refused(
    oidc_app: Quart, provider: Provider, person: dict[str, Any]
) -> None:
    """A return whose state is not ASCII gets the 400 page (not a 500 from comparing it
    with the session's states), and the sign-in under way still works."""
    client = oidc_app.test_client()
    mine = await to_provider(client)
    response = await back(client, mine, state="\u00e9t\u00e9")
    assert response.status_code == 400 and "did not start here" in await response.get_data(as_text=True)
    assert (await back(client, mine)).status_code == 302


async def test_replayed_callback_is_refused(
    oidc_app: Quart, provider: Provider, person: dict[str, Any]
) -> None:
    """The same callback URL a second time (back button, a leaked URL) is refused:
    the state it answers was used up by the first."""
    client = oidc_app.test_client()
    callback = await to_provider(client)
    assert (await back(client, callback)).status_code == 302
    again = await back(client, callback)
    assert again.status_code == 400
    assert "has been used already" in await again.get_data(as_text=True)


async def test_replayed_code_is_refused_by_the_provider_and_shown_cleanly(
    oidc_app: Quart, provider: Provider, services: Services, person: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A code already exchanged, brought back in another sign-in with a valid state: the
    provider refuses it (invalid_grant) and GAS shows a 400 page, not a traceback."""
    first = oidc_app.test_client()
    used = await to_provider(first)
    assert (await back(first, used)).status_code == 302
    other = oidc_app.test_client()
    fresh = await to_provider(other)
    with caplog.at_level(logging.WARNING, logger="app.web.oidc_login"):
        response = await back(other, fresh, code=_code_of(used))
    html = await response.get_data(as_text=True)
    assert response.status_code == 400 and "Traceback" not in html
    assert "Sign-in did not work" in html
    assert provider.token_refusals[-1] == "invalid_grant"
    assert "token endpoint refused the code: invalid_grant" in caplog.text
    assert await signed_in_email(other) is None


@pytest.mark.parametrize(
    ("tamper", "forge", "why"),
    [
        ({"nonce": "not-the-nonce-we-sent"}, False, "nonce"),
        ({"aud": "someone-else"}, False, "aud"),
        ({"aud": ["gas-test-client", "someone-else"]}, False, "azp"),
        ({"iss": "http://127.0.0.1:1"}, False, "iss"),
        ({"exp": 1_000_000}, False, "ExpiredTokenError"),
        ({}, True, "BadSignatureError"),
    ],
    ids=["wrong-nonce", "wrong-audience", "several-audiences-no-azp", "wrong-issuer", "expired",
         "bad-signature"],
)
async def test_bad_id_tokens_are_refused(
    oidc_app: Quart, provider: Provider, services: Services, person: dict[str, Any],
    caplog: pytest.LogCaptureFixture, tamper: dict[str, Any], forge: bool, why: str,
) -> None:
    """An ID token with a nonce, audience or issuer that is not ours, expired, or not signed
    by the provider's key signs no one in: a 400 page, and the log says why."""
    provider.tamper, provider.forge_signature = tamper, forge
    client = oidc_app.test_client()
    callback = await to_provider(client)
    with caplog.at_level(logging.WARNING, logger="app.web.oidc_login"):
        response = await back(client, callback)
    assert response.status_code == 400
    assert "Sign-in did not work" in await response.get_data(as_text=True)
    assert "ID token rejected" in caplog.text and why in caplog.text
    assert await signed_in_email(client) is None
    assert await user_count(services, person["email"]) == 0


async def test_provider_error_shows_a_friendly_message(
    oidc_app: Quart, provider: Provider, person: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """The person said no at the provider (?error=access_denied): a 400 page that says so
    in words and offers both ways to sign in; the log has the provider's error."""
    provider.deny = "access_denied"
    client = oidc_app.test_client()
    callback = await to_provider(client)
    assert dict(parse_qsl(urlsplit(callback).query)).keys() == {"error", "state"}
    with caplog.at_level(logging.WARNING, logger="app.web.oidc_login"):
        response = await back(client, callback)
    html = await response.get_data(as_text=True)
    assert response.status_code == 400
    assert "You did not allow GAS to sign you in with Test IdP" in html
    assert 'href="/login/oidc"' in html and 'href="/login"' in html
    assert "error='access_denied'" in caplog.text
    assert await signed_in_email(client) is None


async def test_verified_email_links_the_existing_account(
    oidc_app: Quart, provider: Provider, services: Services, person: dict[str, Any]
) -> None:
    """A local account with the same email, verified by both the provider and GAS, is the one
    signed in (no second account); its password keeps working, and linking signs out every
    other session the account had."""
    local = await users.create(services.db, person["email"].upper(), "password123", name="Local",
                               verified=True)
    earlier = oidc_app.test_client()
    assert (await log_in(earlier, local.email, "password123")).status_code == 302
    assert await signed_in_email(earlier) == local.email
    client = oidc_app.test_client()
    assert (await back(client, await to_provider(client))).status_code == 302
    assert await signed_in_email(client) == local.email
    assert await signed_in_email(earlier) is None
    assert await user_count(services, person["email"]) == 1
    assert await users.authenticate(services.db, person["email"], "password123") == local


async def test_pre_hijacked_account_is_not_linked_and_its_maker_sees_nothing(
    oidc_app: Quart, provider: Provider, services: Services, person: dict[str, Any]
) -> None:
    """Account pre-hijacking: an attacker signs up with the victim's address and a password of
    theirs, and never confirms it. The victim's provider sign-in (email_verified true) must not
    land in that account: it is refused with a way out (confirm or reset by mail), nothing is
    linked, and the attacker's still-open session sees none of the victim's (no job, no link)."""
    attacker = oidc_app.test_client()
    page = await (await attacker.get("/signup")).get_data(as_text=True)
    signup = await attacker.post("/signup", form={
        "email": person["email"], "password": "attacker-pass", "name": "Not the victim",
        "csrf_token": csrf_from(page)})
    assert signup.status_code == 302
    victim = oidc_app.test_client()
    response = await back(victim, await to_provider(victim))
    assert response.status_code == 409
    html = await response.get_data(as_text=True)
    assert "never confirmed" in html and "reset it from the log-in page" in html
    assert await signed_in_email(victim) is None
    assert await services.db.fetch_val(
        "SELECT count(*) FROM identities WHERE subject = :s", {"s": person["sub"]}) == 0
    # Still signed in, the attacker's account has no way in from the victim's provider.
    assert await signed_in_email(attacker) == person["email"]
    assert await identities.user_for(services.db, provider.issuer, person["sub"]) is None


async def test_unverified_email_of_an_existing_account_is_not_linked(
    oidc_app: Quart, provider: Provider, services: Services, person: dict[str, Any]
) -> None:
    """Without email_verified true, an existing account with that email is not taken
    over: a 409 page sends the person to the password login, and nothing is linked."""
    person["email_verified"] = False
    await users.create(services.db, person["email"], "password123")
    client = oidc_app.test_client()
    response = await back(client, await to_provider(client))
    assert response.status_code == 409
    assert "Log in with your password instead" in await response.get_data(as_text=True)
    assert await signed_in_email(client) is None
    assert await services.db.fetch_val(
        "SELECT count(*) FROM identities WHERE subject = :s", {"s": person["sub"]}) == 0


async def test_token_without_email_is_refused_with_a_reason(
    oidc_app: Quart, provider: Provider, services: Services, person: dict[str, Any]
) -> None:
    """A provider that shares no email (the scope was refused) gets a 400 page that
    says what is missing, and no account or link is made."""
    del person["email"]
    client = oidc_app.test_client()
    response = await back(client, await to_provider(client))
    assert response.status_code == 400
    assert "did not share your email address" in await response.get_data(as_text=True)
    assert await services.db.fetch_val(
        "SELECT count(*) FROM identities WHERE subject = :s", {"s": person["sub"]}) == 0


async def test_password_login_still_works_beside_oidc(oidc_app: Quart, services: Services) -> None:
    """Turning OIDC on leaves the password form as it was."""
    email = f"{uuid.uuid4().hex[:10]}@example.org"
    await users.create(services.db, email, "password123")
    client = oidc_app.test_client()
    token = csrf_from(await (await client.get("/login")).get_data(as_text=True))
    response = await client.post("/login", form={"email": email, "password": "password123",
                                                 "csrf_token": token})
    assert response.status_code == 302 and await signed_in_email(client) == email


async def test_public_client_without_a_secret(
    services: Services, person: dict[str, Any]
) -> None:
    """With no client secret GAS signs in as a public client: client_id in the body, no
    Authorization header, the PKCE verifier its only proof."""
    public = Provider(public=True, redirect_uris=[f"{PUBLIC}/login/oidc/callback"])
    await public.start()
    public.person = person
    settings = services.settings.model_copy(update={
        "public_url": PUBLIC, "oidc_issuer": public.issuer, "oidc_client_id": public.client_id,
        "oidc_name": "Public IdP",
    })
    try:
        async with create_app(settings, services).test_app() as running:
            client = running.test_client()
            assert (await back(client, await to_provider(client))).status_code == 302
            assert await signed_in_email(client) == person["email"]
    finally:
        await public.stop()
    assert public.token_refusals == []


async def test_unreachable_provider_is_a_clean_502(services: Services) -> None:
    """A provider that does not answer gives a page that says so (502), not a traceback."""
    settings = services.settings.model_copy(update={
        "oidc_issuer": "http://127.0.0.1:9", "oidc_client_id": "gas", "oidc_name": "Nowhere"})
    quart_app = create_app(settings, services)
    async with quart_app.test_app() as running:
        response = await running.test_client().get("/login/oidc")
    assert response.status_code == 502
    assert "could not be reached" in await response.get_data(as_text=True)


def _code_of(url: str) -> str:
    return dict(parse_qsl(urlsplit(url).query))["code"]
