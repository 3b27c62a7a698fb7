"""Logging in under attack: rate limits per account and address, per address and (slowing
only) per account, shared by every web instance and no use to a stranger against an owner;
one error text for every failure, a new session at login, cookie flags, and the security
headers on every response."""

from __future__ import annotations

import base64
import json
import re
import uuid

import pytest
from quart import Quart
from quart.testing import QuartClient

from app.accounts import login_limits, users
from app.config import Settings
from app.services import Services
from app.web import create_app
from tests.web.conftest import csrf_from
from tests.web.sessions import PASSWORD, person

GENERIC = "Email or password is incorrect."


@pytest.fixture
def limits(services: Services, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Small limits for this test; every web instance reads the same settings."""
    monkeypatch.setattr(services.settings, "login_failures_per_account_and_ip", 3)
    monkeypatch.setattr(services.settings, "login_failures_per_ip", 6)
    monkeypatch.setattr(services.settings, "login_failures_per_account", 5)
    monkeypatch.setattr(services.settings, "login_slowdown_seconds", 30)
    monkeypatch.setattr(services.settings, "login_window_seconds", 600)
    return services.settings


async def attempt(client: QuartClient, email: str, password: str, ip: str = "192.0.2.10"):  # type: ignore[no-untyped-def]
    """One log-in from the address ``ip``, with this session's CSRF token."""
    token = csrf_from(await (await client.get("/login")).get_data(as_text=True))
    return await client.post("/login", form={"email": email, "password": password, "csrf_token": token},
                             scope_base={"client": (ip, 50000)})


async def new_user(services: Services) -> users.User:
    return await users.create(services.db, f"{uuid.uuid4().hex[:10]}@example.org", PASSWORD)


def ip() -> str:
    """An address of its own per test, so tests in this module do not share a counter."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}"


async def test_an_address_is_locked_out_of_an_account_even_with_the_right_password(
    app: Quart, services: Services, limits: Settings
) -> None:
    """After 3 wrong passwords for one account from one address, the 4th attempt from there
    is refused with 429, Retry-After and a message a person can act on, even with the right
    password; the owner logs in from another address, and the address may still log in to
    other accounts."""
    user, other = await new_user(services), await new_user(services)
    client, address = app.test_client(), ip()
    for n in range(3):
        response = await attempt(client, user.email, f"wrong-{n}", address)
        assert response.status_code == 401
    locked = await attempt(client, user.email, PASSWORD, address)
    text = await locked.get_data(as_text=True)
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 600
    assert "Too many failed log-ins for this account from your network" in text and "Wait 10 minutes" in text
    assert (await attempt(app.test_client(), user.email, PASSWORD, ip())).status_code == 302
    assert (await attempt(client, other.email, PASSWORD, address)).status_code == 302


async def test_a_stranger_cannot_lock_the_owner_out(app: Quart, services: Services) -> None:
    """With the default limits, 12 wrong passwords for someone's email from one address (the
    last ones refused there) leave the owner, from their own address, logging in at once."""
    user, stranger, address = await new_user(services), app.test_client(), ip()
    statuses = [(await attempt(stranger, user.email, f"guess-{n}", address)).status_code for n in range(12)]
    assert statuses == [401] * 10 + [429] * 2
    assert (await attempt(app.test_client(), user.email, PASSWORD, ip())).status_code == 302


async def test_guessing_from_many_addresses_is_slowed_not_stopped(
    app: Quart, services: Services, limits: Settings
) -> None:
    """Past the per-account ceiling (5 failures, from 5 addresses), the account takes one
    attempt every 30 s from anywhere, with Retry-After and a message saying so; once that
    has passed, the owner logs in; a password reset (clear_account) lifts it at once."""
    user = await new_user(services)
    for _ in range(5):
        assert (await attempt(app.test_client(), user.email, "guess", ip())).status_code == 401
    slowed = await attempt(app.test_client(), user.email, PASSWORD, ip())
    assert slowed.status_code == 429 and 25 <= int(slowed.headers["Retry-After"]) <= 30
    assert "one try every few seconds" in await slowed.get_data(as_text=True)
    await services.db.execute("UPDATE login_failures SET failed_at = failed_at - interval '31 seconds'"
                              " WHERE account = :email", {"email": user.email})
    assert (await attempt(app.test_client(), user.email, PASSWORD, ip())).status_code == 302
    assert (await attempt(app.test_client(), user.email, "guess", ip())).status_code == 401
    assert (await attempt(app.test_client(), user.email, PASSWORD, ip())).status_code == 429
    await login_limits.clear_account(services.db, user.email)
    assert (await attempt(app.test_client(), user.email, PASSWORD, ip())).status_code == 302


async def test_unknown_email_is_limited_the_same(app: Quart, limits: Settings) -> None:
    """An email with no account is counted and refused like a real one, so the limit
    does not tell which emails have accounts."""
    client, email, address = app.test_client(), f"nobody-{uuid.uuid4().hex[:6]}@example.org", ip()
    statuses = [(await attempt(client, email, "guess", address)).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


async def test_address_is_limited_across_accounts(
    app: Quart, services: Services, limits: Settings
) -> None:
    """Guessing one password each at many accounts from one address stops after 6
    failures; another address still logs in."""
    client, address = app.test_client(), ip()
    for _ in range(6):
        assert (await attempt(client, f"{uuid.uuid4().hex[:8]}@example.org", "x", address)).status_code == 401
    user = await new_user(services)
    blocked = await attempt(client, user.email, PASSWORD, address)
    assert blocked.status_code == 429 and "from your network" in await blocked.get_data(as_text=True)
    assert int(blocked.headers["Retry-After"]) > 0
    assert (await attempt(app.test_client(), user.email, PASSWORD, ip())).status_code == 302


async def test_success_clears_the_failures_from_its_address(
    app: Quart, services: Services, limits: Settings
) -> None:
    """Two typos then a good log-in from one address start that address's count for the
    account again."""
    user, client, address = await new_user(services), app.test_client(), ip()
    for _ in range(2):
        await attempt(client, user.email, "typo", address)
    assert (await attempt(client, user.email, PASSWORD, address)).status_code == 302
    for _ in range(2):
        assert (await attempt(app.test_client(), user.email, "typo", address)).status_code == 401


async def test_limit_holds_across_web_instances(
    app: Quart, second_instance: Quart, services: Services, limits: Settings
) -> None:
    """Failures on one web instance count on another: spreading guesses over
    instances behind a load balancer buys nothing."""
    user, address = await new_user(services), ip()
    for n in range(3):
        instance = app if n % 2 == 0 else second_instance
        assert (await attempt(instance.test_client(), user.email, "nope", address)).status_code == 401
    assert (await attempt(second_instance.test_client(), user.email, PASSWORD, address)).status_code == 429


async def test_trusted_proxy_address_is_the_client(services: Services, limits: Settings) -> None:
    """Behind one trusted proxy the client is the address it forwarded, not the
    proxy's and not what the client wrote into X-Forwarded-For itself."""
    behind = create_app(Settings(**{**limits.model_dump(), "trusted_proxy_hops": 1}), services)
    async with behind.test_app() as app:
        await _six_failures_from_one_real_address(app)


async def _six_failures_from_one_real_address(app: Quart) -> None:
    client, real = app.test_client(), ip()
    token = csrf_from(await (await client.get("/login")).get_data(as_text=True))
    for n in range(6):
        # The client claims a new address each time; the proxy appends the real one.
        response = await client.post(
            "/login", form={"email": f"{n}@example.org", "password": "x", "csrf_token": token},
            headers={"X-Forwarded-For": f"203.0.113.{n}, {real}"}, scope_base={"client": ("10.0.0.1", 1)})
        assert response.status_code == 401
    blocked = await client.post(
        "/login", form={"email": "z@example.org", "password": "x", "csrf_token": token},
        headers={"X-Forwarded-For": f"203.0.113.99, {real}"}, scope_base={"client": ("10.0.0.1", 1)})
    assert blocked.status_code == 429


async def test_one_error_text_for_unknown_email_and_wrong_password(app: Quart, services: Services) -> None:
    """Wrong password and unknown account get the same status and the same page."""
    user = await new_user(services)
    wrong = await attempt(app.test_client(), user.email, "not-it-at-all", ip())
    unknown = await attempt(app.test_client(), "x" + user.email, "not-it-at-all", ip())
    assert wrong.status_code == unknown.status_code == 401
    pages = [(await r.get_data(as_text=True)) for r in (wrong, unknown)]
    assert all(GENERIC in page for page in pages)
    # Each page has its own session's CSRF token and echoes the email typed; the rest is the same.
    strip = [re.sub(r'value="[^"]*"|[A-Za-z0-9_-]{43}', "", page) for page in pages]
    assert strip[0] == strip[1]


def cookies(client: QuartClient) -> dict[str, str]:
    return {cookie.name: cookie.value or "" for cookie in client.cookie_jar}  # type: ignore[union-attr]


async def test_session_is_new_at_login(app: Quart, services: Services) -> None:
    """The cookies a browser had before logging in change at login, and the old ones
    are not logged in; the CSRF token changes too."""
    user = await new_user(services)
    client = app.test_client()
    before_page = await (await client.get("/login")).get_data(as_text=True)
    before = cookies(client)
    assert (await attempt(client, user.email, PASSWORD, ip())).status_code == 302
    after = cookies(client)
    assert after != before and all(after.get(name) != value for name, value in before.items())
    assert csrf_from(await (await client.get("/profile")).get_data(as_text=True)) != csrf_from(before_page)
    assert (await client.get("/profile")).status_code == 200
    replay = app.test_client()
    for name, value in before.items():
        replay.set_cookie("localhost", name, value)
    assert (await replay.get("/profile")).status_code == 302


def copy_of(app: Quart, client: QuartClient) -> QuartClient:
    """Another browser holding a copy of ``client``'s cookies."""
    copy = app.test_client()
    for name, value in cookies(client).items():
        copy.set_cookie("localhost", name, value)
    return copy


async def test_logout_ends_the_session_on_the_server(app: Quart, services: Services) -> None:
    """A copy of the cookies taken before logging out is signed out too (the session
    row is gone), while the same user's other browser stays signed in."""
    user = await new_user(services)
    browser, other = app.test_client(), app.test_client()
    for client in (browser, other):
        assert (await attempt(client, user.email, PASSWORD, ip())).status_code == 302
    stolen = copy_of(app, browser)
    assert (await stolen.get("/profile")).status_code == 200
    token = csrf_from(await (await browser.get("/profile")).get_data(as_text=True))
    assert (await browser.post("/logout", form={"csrf_token": token})).status_code == 302
    for signed_out in (browser, stolen):
        response = await signed_out.get("/profile")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert (await other.get("/profile")).status_code == 200


async def test_logging_in_again_ends_the_previous_session(app: Quart, services: Services) -> None:
    """A browser that logs in again gets a new session, and the one it had ends."""
    user = await new_user(services)
    browser = app.test_client()
    assert (await attempt(browser, user.email, PASSWORD, ip())).status_code == 302
    earlier = copy_of(app, browser)
    assert (await attempt(browser, user.email, PASSWORD, ip())).status_code == 302
    assert (await browser.get("/profile")).status_code == 200
    assert (await earlier.get("/profile")).status_code == 302


async def test_session_cookie_is_a_random_id_stored_hashed(app: Quart, services: Services) -> None:
    """The login cookie names a random session, not the user, and the database keeps
    only the session id's hash: a database reader cannot sign anyone in."""
    user = await new_user(services)
    client = app.test_client()
    assert (await attempt(client, user.email, PASSWORD, ip())).status_code == 302
    payload = cookies(client)["QUART_AUTH"].split(".", 1)[0]
    session_id = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert session_id != user.user_id and len(session_id) == 43  # 256 bits, url-safe base64
    rows = await services.db.fetch_all("SELECT session_hash FROM sessions WHERE user_id = :id",
                                       {"id": uuid.UUID(user.user_id)})
    assert len(rows) == 1 and len(rows[0]["session_hash"]) == 32


async def test_expired_session_is_signed_out(app: Quart, services: Services) -> None:
    """A session past its lifetime signs nobody in, whatever the cookie says, and is
    deleted at the next log-in."""
    user = await new_user(services)
    client = app.test_client()
    assert (await attempt(client, user.email, PASSWORD, ip())).status_code == 302
    await services.db.execute("UPDATE sessions SET expires_at = now() WHERE user_id = :id",
                              {"id": uuid.UUID(user.user_id)})
    assert (await client.get("/profile")).status_code == 302
    # The next log-in, anyone's, clears expired sessions away.
    assert (await attempt(app.test_client(), (await new_user(services)).email, PASSWORD, ip())
            ).status_code == 302
    left = await services.db.fetch_val("SELECT count(*) FROM sessions WHERE user_id = :id",
                                       {"id": uuid.UUID(user.user_id)})
    assert left == 0


async def test_cookies_are_httponly_lax_and_secure_by_default(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no setting, the login and session cookies are Secure, HttpOnly and SameSite=Lax."""
    for name in ("QUART_AUTH_COOKIE_SECURE", "GAS_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    default = Settings(secret_key="x")
    assert default.cookie_secure is True
    app = create_app(services.settings.model_copy(update={"cookie_secure": default.cookie_secure}), services)
    async with app.test_app() as running:
        client = running.test_client()
        user = await new_user(services)
        token = csrf_from(await (await client.get("/login")).get_data(as_text=True))
        response = await client.post("/login", form={"email": user.email, "password": PASSWORD,
                                                     "csrf_token": token})
        assert response.status_code == 302
        set_cookies = response.headers.get_all("Set-Cookie")
        assert {c.split("=", 1)[0] for c in set_cookies} >= {"QUART_AUTH", "session"}
        for cookie in set_cookies:
            flags = {part.strip().lower() for part in cookie.split(";")[1:]}
            assert {"secure", "httponly", "samesite=lax"} <= flags, cookie


HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Referrer-Policy": "same-origin"}


async def test_security_headers_on_every_kind_of_response(app: Quart, services: Services) -> None:
    """Pages, fragments, redirects, API JSON and errors, static files, the object
    store's XML and server errors all carry CSP without inline scripts, nosniff,
    a Referrer-Policy and frame denial; no page has an inline script or handler."""
    alice = await person(app, services)
    anonymous = app.test_client()
    responses = {
        "page": await alice.client.get("/annotate"),
        "fragment": await alice.client.get("/annotations", headers={"HX-Request": "true"}),
        "redirect": await anonymous.get("/annotations"),
        "api": await anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {alice.token}"}),
        "api error": await anonymous.get("/api/v1/me"),
        "not found": await anonymous.get("/no-such-page"),
        "method not allowed": await anonymous.delete("/login"),
        "static": await anonymous.get("/static/app.css"),
        "object store": await anonymous.get("/objects/gas-inputs/x"),
        "openapi": await anonymous.get("/openapi.json"),
        "csrf refusal": await anonymous.post("/login", form={"email": "a", "password": "b"}),
        "health": await anonymous.get("/health"),
    }
    for kind, response in responses.items():
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, (kind, name)
        csp = response.headers["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]+)", csp)
        assert script_src and "'unsafe-inline'" not in script_src[1] and "'unsafe-eval'" not in csp, kind
        assert "frame-ancestors 'none'" in csp, kind
    for path in ("/", "/login", "/signup", "/annotate", "/annotations", "/profile", "/subscribe"):
        html = await (await alice.client.get(path)).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "javascript:" not in html.lower(), path
