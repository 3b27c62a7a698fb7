"""Signed-in test clients for the security tests: a user, their browser session and an API token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from quart import Quart
from quart.testing import QuartClient

from app.accounts import users
from app.accounts.users import User
from app.services import Services
from tests.web.conftest import csrf_from

PASSWORD = "correct horse battery"


@dataclass
class Person:
    user: User
    client: QuartClient
    token: str

    async def csrf(self) -> str:
        """This session's CSRF token, as a page of the session carries it."""
        return csrf_from(await (await self.client.get("/profile")).get_data(as_text=True))


async def log_in(client: QuartClient, email: str, password: str = PASSWORD, **headers: str):  # type: ignore[no-untyped-def]
    """Log in through the form, as a browser does (the login page's CSRF token first)."""
    token = csrf_from(await (await client.get("/login")).get_data(as_text=True))
    return await client.post("/login", form={"email": email, "password": password, "csrf_token": token},
                             headers=headers)


async def person(app: Quart, services: Services, role: users.Role = "free") -> Person:
    user = await users.create(services.db, f"{uuid.uuid4().hex[:10]}@example.org", PASSWORD,
                              name="Person", role=role)
    client = app.test_client()
    response = await log_in(client, user.email)
    assert response.status_code == 302, await response.get_data(as_text=True)
    return Person(user, client, await users.create_token(services.db, user.user_id, "laptop"))
