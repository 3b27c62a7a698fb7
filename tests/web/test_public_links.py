"""Absolute links are on GAS_PUBLIC_URL, whatever Host header the request came with: a forged
Host must not put another site into the API's links or the upload's redirect (Stripe's return
addresses: test_subscription.py)."""

from __future__ import annotations

import re
from html import unescape

from quart import Quart

from app.services import Services
from tests.web.conftest import bearer
from tests.web.sessions import person
from tests.web.test_api import submit

FORGED = {"Host": "evil.example"}
PUBLIC = "http://localhost/"  # GAS_PUBLIC_URL in the tests' settings


async def test_api_links_ignore_the_host_header(app: Quart, services: Services) -> None:
    """A job's links, as made, read and listed with a forged Host, are all on GAS_PUBLIC_URL,
    and nothing in the answers names the forged host."""
    alice = await person(app, services)
    job = await submit(app.test_client(), alice.token)
    client = app.test_client()
    answers = [await client.get(f"/api/v1/jobs/{job['job_id']}", headers=bearer(alice.token) | FORGED),
               await client.get("/api/v1/jobs", headers=bearer(alice.token) | FORGED)]
    fetched, listed = [await answer.get_json() for answer in answers]
    for links in (fetched["links"], listed["jobs"][0]["links"]):
        assert set(links) == {"self", "result", "log", "page"}
        assert all(link.startswith(PUBLIC) for link in links.values()), links
    for answer in answers:
        assert "evil.example" not in await answer.get_data(as_text=True) + str(answer.headers)


async def test_upload_redirect_ignores_the_host_header(app: Quart, services: Services) -> None:
    """The upload form's signed success_action_redirect, asked for with a forged Host, is on
    GAS_PUBLIC_URL, and no page of the signed-in user names the forged host."""
    alice = await person(app, services)
    html = await (await alice.client.get("/annotate/fields", headers=FORGED)).get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    assert unescape(fields["success_action_redirect"]).startswith(PUBLIC + "annotate/job")
    for path in ("/", "/annotations", "/profile", "/subscribe", "/login", "/signup"):
        response = await alice.client.get(path, headers=FORGED)
        assert "evil.example" not in await response.get_data(as_text=True) + str(response.headers), path
