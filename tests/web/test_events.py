"""/events: a signed-in user's live stream carries their job events, and only theirs."""

from __future__ import annotations

import asyncio
import uuid

from quart.testing import QuartClient

from app import users
from app.services import Services
from tests.web.test_pages import signup


async def read_until(connection, marker: bytes, within: float = 5) -> bytes:  # type: ignore[no-untyped-def]
    seen = b""
    async with asyncio.timeout(within):
        while marker not in seen:
            seen += await connection.receive()
    return seen


async def test_stream_carries_own_job_events_only(client: QuartClient, services: Services) -> None:
    """A job event for the user arrives as `job` and `job-<id>`; another user's does not."""
    email, _ = await signup(client)
    user = await users.get_by_email(services.db, email)
    assert user is not None
    job_id = str(uuid.uuid4())
    async with client.request("/events") as connection:
        await connection.send_complete()
        assert b"retry:" in await read_until(connection, b"retry:")
        await asyncio.sleep(0.3)  # the subscription opens right after the first frame
        await services.events.publish(str(uuid.uuid4()), {"type": "job", "job_id": "not-mine"})
        await services.events.publish(user.user_id, {"type": "job", "job_id": job_id,
                                                     "status": "running", "progress": 40})
        data = await read_until(connection, f"event: job-{job_id}".encode())
        await connection.disconnect()
    assert b"event: job\n" in data and b'"progress": 40' in data
    assert b"not-mine" not in data


async def test_stream_needs_login(client: QuartClient) -> None:
    """Signed out, /events is a redirect to the login page, not a stream."""
    response = await client.get("/events")
    assert response.status_code == 302
