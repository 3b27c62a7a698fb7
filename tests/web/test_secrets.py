"""Secrets stay secret: API tokens are stored hashed, and no password, token, cookie,
CSRF token, presigned signature or Stripe key appears in any log line, the access
log included, across a whole signup → login → token → upload → job → download flow."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.accounts import users
from app.config import Settings
from app.infra.logs import JsonFormatter, TextFormatter
from app.services import Services, open_services
from app.web import create_app
from tests.conftest import installed_reference
from tests.run_annotator import annotate
from tests.web.conftest import hypercorn_serving
from tests.web.test_results import VCF


@pytest.fixture(scope="module")
async def stripe_services(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Services]:
    """Services with Stripe keys set (never called here) and a known app secret."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("secrets"), database_url=database_url,
        cookie_secure=False, secret_key="app-secret-" + secrets.token_hex(16),
        stripe_secret_key="sk_test_" + secrets.token_hex(24),
        stripe_webhook_secret="whsec_" + secrets.token_hex(24), stripe_price_id="price_123",
        queue_wait_seconds=0.2, reference_dir=installed_reference(),
    )
    opened = await open_services(settings)
    yield opened
    await opened.close()


@pytest.fixture
async def live(stripe_services: Services) -> AsyncIterator[str]:
    """The web app under hypercorn with its access log on, in hypercorn's own format."""
    app = create_app(stripe_services.settings, stripe_services)
    async with hypercorn_serving(app, logging.getLogger("hypercorn.access")) as port:
        yield f"http://127.0.0.1:{port}"


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]  # type: ignore[index]


async def test_no_secret_in_any_log_line(
    live: str, stripe_services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """Every record logged at DEBUG and up, formatted as text and as JSON with its
    extras and traceback, and every access-log line, is free of every secret the
    flow handled; the flow did log (the access log has a line per request)."""
    caplog.set_level(logging.DEBUG)
    settings = stripe_services.settings
    password, wrong_password = "pw-" + secrets.token_hex(12), "wrong-" + secrets.token_hex(12)
    wrong_token = "gas_" + secrets.token_urlsafe(32)
    email = f"{secrets.token_hex(5)}@example.org"
    seen: list[str] = [password, wrong_password, wrong_token, settings.secret_key or "",
                       settings.stripe_secret_key or "", settings.stripe_webhook_secret or ""]
    async with httpx.AsyncClient(base_url=live, follow_redirects=False) as web:
        page = (await web.get("/signup")).text
        seen.append(csrf(page))
        made = await web.post("/signup", data={"email": email, "password": password, "name": "S",
                                               "csrf_token": csrf(page)})
        assert made.status_code == 302
        page = (await web.get("/profile")).text
        assert (await web.post("/logout", data={"csrf_token": csrf(page)})).status_code == 302
        page = (await web.get("/login")).text
        bad = await web.post("/login", data={"email": email, "password": wrong_password,
                                             "csrf_token": csrf(page)})
        assert bad.status_code == 401
        good = await web.post("/login", data={"email": email, "password": password, "csrf_token": csrf(page)})
        assert good.status_code == 302
        seen += [cookie.value for cookie in web.cookies.jar if cookie.value]
        page = (await web.get("/profile")).text
        seen.append(csrf(page))
        made = await web.post("/profile/tokens", data={"name": "ci", "csrf_token": csrf(page)})
        assert made.status_code == 303
        shown = (await web.get("/profile")).text
        token = re.search(r'id="new-token" readonly value="([^"]+)"', shown)[1]  # type: ignore[index]
        seen.append(token)
        api = {"Authorization": f"Bearer {token}"}

        policy = (await web.post("/api/v1/uploads", headers=api)).json()
        seen += [policy["fields"]["policy"], policy["fields"]["x-amz-signature"]]
        stored = await web.post(urlsplit(policy["url"]).path, data=policy["fields"],
                                files={"file": ("in.vcf", VCF.encode(), "text/plain")})
        assert stored.status_code == 201
        job = (await web.post("/api/v1/jobs", headers=api,
                              json={"key": policy["key"], "file_name": "in.vcf"})).json()
        await annotate(stripe_services, job["job_id"])
        for link in (await web.get(f"/api/v1/jobs/{job['job_id']}/result", headers=api),
                     await web.get(f"/annotations/{job['job_id']}/input")):
            assert link.status_code in (302, 303), link.text
            # Links name the public address; this server is on a free port of its own.
            url = urlsplit(link.headers["Location"])
            seen += parse_qs(url.query)["signature"]
            assert (await web.get(f"{url.path}?{url.query}")).status_code == 200
        refused = await web.get("/api/v1/me", headers={"Authorization": f"Bearer {wrong_token}"})
        assert refused.status_code == 401
        stripe_signature = f"t=1,v1={secrets.token_hex(32)}"
        seen.append(stripe_signature.split("=")[-1])
        hook = await web.post("/stripe/webhook", content=b'{"id": "evt_1"}',
                              headers={"Stripe-Signature": stripe_signature})
        assert hook.status_code == 400

    secrets_seen = [s for s in seen if s]
    assert len(secrets_seen) >= 14
    lines = []
    # httpx and httpcore are this test's own client (GAS makes no outbound call in this flow).
    for record in caplog.records:
        if record.name.startswith(("httpx", "httpcore")):
            continue
        lines += [record.getMessage(), TextFormatter().format(record), JsonFormatter().format(record)]
    access = [r for r in caplog.records if r.name == "hypercorn.access"]
    assert len(access) >= 15, "the access log did not record the flow"
    assert any("/objects/" in r.getMessage() for r in access)
    leaks = [(secret[:12] + "…", line[:160]) for line in lines for secret in secrets_seen if secret in line]
    assert not leaks, leaks


async def test_api_tokens_are_stored_hashed(services: Services) -> None:
    """The api_tokens row holds the token's SHA-256 and nothing else that is the token;
    the password is an argon2 hash."""
    user = await users.create(services.db, f"{secrets.token_hex(5)}@example.org", "pw-is-long-enough")
    token = await users.create_token(services.db, user.user_id, "laptop")
    row = await services.db.fetch_one("SELECT * FROM api_tokens WHERE user_id = :u", {"u": user.user_id})
    assert row is not None
    assert bytes(row["token_hash"]) == hashlib.sha256(token.encode()).digest()
    for value in dict(row._mapping).values():
        assert token not in str(value) and token.encode() != value
    stored = await services.db.fetch_val("SELECT password_hash FROM users WHERE user_id = :u",
                                         {"u": user.user_id})
    assert stored.startswith("$argon2id$") and "pw-is-long-enough" not in stored
    assert await users.user_for_token(services.db, token) is not None
