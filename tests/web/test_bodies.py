"""How request bodies are read: form fields with NUL in them are the client's error."""

from __future__ import annotations

from quart import Quart
from quart.testing import QuartClient

from app.services import Services
from tests.web.conftest import csrf_from
from tests.web.test_pages import signed_up_user

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_form_field_with_nul_is_400(app: Quart, client: QuartClient, services: Services) -> None:
    """A NUL in a form field (which PostgreSQL's text cannot hold) is a 400 page that
    says what to fix, on the sign-up, log-in and token forms, not a 500 from the database."""
    anonymous = app.test_client()
    for path, body in [("/signup", b"email=a%00b%40example.org&password=password123&name=N"),
                       ("/login", b"email=a%00b%40example.org&password=password123")]:
        token = csrf_from(await (await anonymous.get(path)).get_data(as_text=True))
        response = await anonymous.post(path, data=body + b"&csrf_token=" + token.encode(), headers=FORM)
        assert response.status_code == 400, path
        assert "NUL character" in await response.get_data(as_text=True)
    await signed_up_user(client, services)
    token = csrf_from(await (await client.get("/profile")).get_data(as_text=True))
    response = await client.post("/profile/tokens", data=b"name=a%00&csrf_token=" + token.encode(),
                                 headers=FORM)
    assert response.status_code == 400 and "NUL character" in await response.get_data(as_text=True)
