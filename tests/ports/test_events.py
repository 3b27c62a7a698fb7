"""Contract of the live events port: a user's events reach that user's streams only."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from databases import Database

from app.infra.db import execute
from app.ports.events.local import PostgresEvents

from .conftest import EventsPair


async def next_event(stream: Any, wait: float = 3.0) -> dict[str, Any]:
    return await asyncio.wait_for(anext(stream), wait)


async def test_subscriber_gets_only_its_users_events(events: EventsPair) -> None:
    """Events published by another process reach the user's stream, and no one else's."""
    alice = events.listener.subscribe("alice")
    bob = events.listener.subscribe("bob")
    await events.publisher.publish("bob", {"type": "job", "job_id": "b1"})
    await events.publisher.publish("alice", {"type": "job", "job_id": "a1", "progress": 40})
    assert await next_event(alice) == {"type": "job", "job_id": "a1", "progress": 40}
    assert await next_event(bob) == {"type": "job", "job_id": "b1"}
    with pytest.raises(TimeoutError):
        await next_event(alice, wait=0.3)


async def test_every_open_stream_of_a_user_gets_the_event(events: EventsPair) -> None:
    """Two tabs of one user both hear each event."""
    tabs = [events.listener.subscribe("carol"), events.listener.subscribe("carol")]
    await events.publisher.publish("carol", {"n": 1})
    for tab in tabs:
        assert await next_event(tab) == {"n": 1}


async def test_slow_subscriber_loses_old_events_not_new(events: EventsPair) -> None:
    """A reader that falls behind keeps the latest events; publishing never waits for it."""
    slow = events.listener.subscribe("dave")
    fast = events.listener.subscribe("dave")
    for n in range(12):
        await events.publisher.publish("dave", {"n": n})
        assert await next_event(fast) == {"n": n}
    received = [await next_event(slow) for _ in range(5)]
    assert received[-1] == {"n": 11}
    assert [e["n"] for e in received] == sorted(e["n"] for e in received)


async def test_oversized_event_is_dropped_without_error(events: EventsPair) -> None:
    """An event too big for NOTIFY is dropped quietly; the next one still arrives."""
    stream = events.listener.subscribe("erin")
    await events.publisher.publish("erin", {"log": "x" * 10_000})
    await events.publisher.publish("erin", {"small": True})
    assert await next_event(stream) == {"small": True}


async def test_close_ends_every_subscription(db: Database, database_url: str) -> None:
    """Closing the port ends open streams, so SSE responses finish at shutdown."""
    port = PostgresEvents(db, database_url)
    await port.start()
    stream = port.subscribe("frank")
    await port.close()
    with pytest.raises(StopAsyncIteration):
        await next_event(stream)
    with pytest.raises(StopAsyncIteration):
        await next_event(port.subscribe("frank"))


async def test_events_survive_a_dropped_listen_connection(events: EventsPair, db: Database
                                                          ) -> None:
    """When the LISTEN connection is killed, the port reconnects and delivers again."""
    if not isinstance(events.listener, PostgresEvents):
        pytest.skip("kills the Postgres adapter's LISTEN connection")
    listener = events.listener._listener
    old = listener.connection
    assert old is not None
    await execute(db, "SELECT pg_terminate_backend($1)", old.get_server_pid())
    for _ in range(50):
        if listener.connected and listener.connection is not old:
            break
        await asyncio.sleep(0.1)
    stream = events.listener.subscribe("gina")
    await events.publisher.publish("gina", {"back": True})
    assert await next_event(stream) == {"back": True}


async def test_aclose_ends_a_read_waiting_in_another_task(events: EventsPair) -> None:
    """Closing a subscription ends a read already waiting on it at once (the web closes
    a user's oldest stream from the request that opens a newer one)."""
    stream = events.listener.subscribe("hana")
    reader = asyncio.create_task(next_event(stream, wait=5))
    await asyncio.sleep(0.1)
    await stream.aclose()  # type: ignore[attr-defined]
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(reader, 1)
