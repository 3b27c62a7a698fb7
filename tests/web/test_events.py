"""/events: a signed-in user's live stream carries their job events, and only theirs."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from quart.testing import QuartClient

from app.services import Services
from app.web import events
from tests.web.test_pages import signed_up_user


async def read_until(connection, marker: bytes, within: float = 5) -> bytes:  # type: ignore[no-untyped-def]
    seen = b""
    async with asyncio.timeout(within):
        while marker not in seen:
            seen += await connection.receive()
    return seen


async def test_stream_carries_own_job_events_only(client: QuartClient, services: Services) -> None:
    """A job event for the user arrives as `job` and `job-<id>`; another user's does not."""
    user = await signed_up_user(client, services)
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


async def test_event_after_keepalive_is_not_lost(
    client: QuartClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quiet stream sends keep-alives, and an event published after one still arrives
    whole, its frames (`job`, `job-<id>`, the notice) together in one write."""
    monkeypatch.setattr(events, "KEEPALIVE_SECONDS", 0.05)
    user = await signed_up_user(client, services)
    job_id = str(uuid.uuid4())
    async with client.request("/events") as connection:
        await connection.send_complete()
        await read_until(connection, b"retry:")
        assert b": keep-alive" in await read_until(connection, b": keep-alive")
        await services.events.publish(user.user_id, {"type": "job", "job_id": job_id,
                                                     "status": "completed", "progress": 100})
        chunk = b""
        async with asyncio.timeout(5):
            while b"event: job\n" not in chunk:
                chunk = await connection.receive()
        await connection.disconnect()
    assert f"event: job-{job_id}".encode() in chunk and b"event: notice" in chunk


def test_one_event_is_formatted_once_for_every_stream() -> None:
    """The same event object reaching many tabs is turned into frames once; another
    event (even an equal one) gets its own."""
    event = {"type": "job", "job_id": "j1", "status": "running", "progress": 5}
    first = events._frames(event)
    assert events._frames(event) is first
    assert b"event: job-j1\n" in first
    again = dict(event)
    assert events._frames(again) == first and events._frames(again) is not first


async def open_stream(stack: contextlib.AsyncExitStack, client: QuartClient):  # type: ignore[no-untyped-def]
    """An /events stream, open until ``stack`` closes, subscribed by the time it returns."""
    connection = await stack.enter_async_context(client.request("/events"))
    await connection.send_complete()
    await read_until(connection, b"retry:")
    await asyncio.sleep(0.3)  # the subscription opens right after the first frame
    return connection


async def test_a_stream_over_the_cap_closes_the_users_oldest(
    client: QuartClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With GAS_MAX_EVENT_STREAMS_PER_USER=2, a user's third stream closes their first,
    which is told to wait a minute before reconnecting; their two newest streams and
    another user's stream still get every event."""
    monkeypatch.setattr(services.settings, "max_event_streams_per_user", 2)
    other = QuartClient(client.app)
    bob = await signed_up_user(other, services)
    alice = await signed_up_user(client, services)
    async with contextlib.AsyncExitStack() as stack:
        bobs = await open_stream(stack, other)
        first, second, third = [await open_stream(stack, client) for _ in range(3)]
        closing = await read_until(first, f"retry: {events.SHED_RETRY_MS}".encode())
        async with asyncio.timeout(5):
            while (chunk := await first.receive()) != b"":
                closing += chunk
        assert b"event:" not in closing
        for user in (alice, bob):
            await services.events.publish(user.user_id, {"type": "job", "job_id": user.user_id})
        for connection, user in ((second, alice), (third, alice), (bobs, bob)):
            assert f"event: job-{user.user_id}".encode() in await read_until(
                connection, f"event: job-{user.user_id}".encode())
        for connection in (second, third, bobs):
            await connection.disconnect()
