"""``?next=`` after logging in: a path on this site, whatever an attacker writes into it,
and never a 500 once the session has started. The OIDC sign-in's ``next`` is tested with
its provider in test_oidc.py, over the same values."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest

from app.accounts import users
from app.services import Services
from app.web import create_app
from app.web.auth import NEXT_MAX
from tests.web.conftest import csrf_from, hypercorn_serving
from tests.web.sessions import PASSWORD

# Each as the text the server decodes from the address bar (sent percent-encoded).
HOSTILE = [
    "/\\evil.example",  # /%5Cevil.example: a browser reads the backslash as a slash
    "/\\/evil.example",
    "//evil.example",
    "///evil.example",
    "/\t/evil.example",  # tabs and newlines a browser drops
    "/\n/evil.example",
    "/\r\nSet-Cookie: a=b",
    "/\x0b/evil.example",  # vertical tab
    "/\x00",
    "/a\x00b",
    "\x00//evil.example",
    " //evil.example",  # leading spaces and controls a browser strips
    "/ /evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "evil.example",
    "http://[",  # no URL parser reads it
    "//[x",
    "/\u2139//evil.example",  # not Latin-1: no header can carry it
    "/\u00e9",
    "/\u2028",
    "/" + "x" * NEXT_MAX,  # larger than the session cookie that carries an OIDC sign-in's next
    "",
]
# Paths GAS itself sends to /login (login_required: the path, then the query as sent).
SAME_SITE = ["/profile", "/annotations/3f1c0e4e-0000-4000-8000-000000000000?tab=log",
             "/annotations/x/results?locus=chr17%3A41196312-41277500&impact=HIGH",
             "/%5Cevil.example"]  # the text itself: a browser keeps %5C in a path as it is


def in_query(target: str) -> str:
    """``?next=<target>`` as a browser's address bar sends it: every byte but "/" encoded."""
    return "?next=" + quote(target, safe="/")


@pytest.fixture(scope="module")
async def live(services: Services) -> AsyncIterator[str]:
    """The app under hypercorn, which sends headers as a browser gets them (a header it
    cannot encode is a 500 there, not in Quart's test client)."""
    async with hypercorn_serving(create_app(services.settings, services)) as port:
        yield f"http://127.0.0.1:{port}"


async def log_in_with_next(base: str, email: str, target: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base) as browser:
        token = csrf_from((await browser.get("/login")).text)
        return await browser.post("/login" + in_query(target),
                                  data={"email": email, "password": PASSWORD, "csrf_token": token})


async def test_hostile_next_ends_on_the_job_list(live: str, services: Services) -> None:
    """Logging in with any of HOSTILE as ``next`` is a 302 to this site's job list."""
    user = await users.create(services.db, f"{uuid.uuid4().hex[:10]}@example.org", PASSWORD)
    for target in HOSTILE:
        response = await log_in_with_next(live, user.email, target)
        assert (response.status_code, response.headers.get("Location")) == (302, "/annotations"), target


async def test_same_site_next_is_followed(live: str, services: Services) -> None:
    """A path of this site, its query string as sent, is where logging in goes."""
    user = await users.create(services.db, f"{uuid.uuid4().hex[:10]}@example.org", PASSWORD)
    for target in SAME_SITE:
        response = await log_in_with_next(live, user.email, target)
        assert (response.status_code, response.headers.get("Location")) == (302, target), target
