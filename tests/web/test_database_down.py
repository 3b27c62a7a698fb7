"""A database that stops answering mid-request: the person gets 503 and a message
(JSON on the API, a page in the browser), never a 500."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from quart.testing import QuartClient

from app.accounts.users import User
from app.services import Services
from tests.web.conftest import bearer, csrf_from


def _cut(*_: Any, **__: Any) -> Any:
    raise asyncpg.exceptions.ConnectionDoesNotExistError(
        "connection was closed in the middle of operation")


async def test_api_answers_503_with_a_json_message(
    client: QuartClient, services: Services, alice: tuple[User, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job list's query loses its connection: 503, the API's error shape, Retry-After."""
    monkeypatch.setattr(services.jobs, "list_for_user", _cut)
    response = await client.get("/api/v1/jobs", headers=bearer(alice[1]))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    error = (await response.get_json())["error"]
    assert error["code"] == "service_unavailable" and "try again" in error["message"]


async def test_page_answers_503_with_a_page(
    client: QuartClient, services: Services, alice: tuple[User, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same in the browser: the error page says the database is not answering."""
    token = csrf_from(await (await client.get("/login")).get_data(as_text=True))
    signed_in = await client.post("/login", form={"email": alice[0].email, "password": "password123",
                                                  "csrf_token": token})
    assert signed_in.status_code == 302
    monkeypatch.setattr(services.jobs, "summaries_for_user", _cut)
    response = await client.get("/annotations")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    page = await response.get_data(as_text=True)
    assert "database is not answering" in page and "<html" in page.lower()


async def test_other_errors_stay_500(
    client: QuartClient, services: Services, alice: tuple[User, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only database outages are 503: a bug of ours is still a 500 (and logged)."""
    def broken(*_: Any, **__: Any) -> Any:
        raise KeyError("a bug")

    monkeypatch.setattr(services.jobs, "list_for_user", broken)
    response = await client.get("/api/v1/jobs", headers=bearer(alice[1]))
    assert response.status_code == 500
