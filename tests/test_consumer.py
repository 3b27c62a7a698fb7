"""The one consumer loop: ack on success, retry with backoff, DLQ for poison,
heartbeat for long work, bounded concurrency."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from databases import Database

from app.consumer import consume
from app.ports.bus import Bus, Message, QueueSpec
from app.ports.bus.local import PostgresBus


@pytest.fixture
async def bus(db: Database, database_url: str) -> AsyncIterator[tuple[Bus, str]]:
    adapter = PostgresBus(db, database_url)
    name = f"q-{uuid.uuid4().hex[:8]}"
    await adapter.ensure([QueueSpec(name, 0, visibility_seconds=2, max_receives=2)], {name: [name]})
    yield adapter, name
    await adapter.close()


@contextlib.asynccontextmanager
async def running(bus: Bus, queue: str, handle: Any, **kwargs: Any) -> AsyncIterator[None]:
    task = asyncio.create_task(consume(bus, queue, handle, wait_seconds=0.5, visibility=2, **kwargs))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(check: Any, within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_handled_message_is_acknowledged(bus: tuple[Bus, str]) -> None:
    """A message the handler accepts is handled once and removed."""
    adapter, queue = bus
    seen: list[dict[str, Any]] = []

    async def handle(message: Message, body: dict[str, Any]) -> None:
        seen.append(body)

    await adapter.publish(queue, '{"n": 1}')
    async with running(adapter, queue, handle):
        await eventually(lambda: _true(seen))
        await eventually(lambda: _zero(adapter, queue))
    assert seen == [{"n": 1}]


async def test_failing_message_is_retried_then_dead_lettered(bus: tuple[Bus, str]) -> None:
    """A handler that keeps failing sees the message max_receives times, then the
    message sits in the dead-letter queue and the consumer is still alive."""
    adapter, queue = bus
    attempts = 0

    async def handle(message: Message, body: dict[str, Any]) -> None:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("boom")

    await adapter.publish(queue, '{"n": 2}')
    async with running(adapter, queue, handle):
        await eventually(lambda: _count(adapter, f"{queue}-dlq", 1), within=20)
    assert attempts == 2
    assert await adapter.count(queue) == 0


async def test_poison_message_goes_to_dead_letter_queue(bus: tuple[Bus, str]) -> None:
    """Invalid JSON never reaches the handler and ends in the DLQ."""
    adapter, queue = bus
    called = False

    async def handle(message: Message, body: dict[str, Any]) -> None:
        nonlocal called
        called = True

    await adapter.publish(queue, "{not json")
    await adapter.publish(queue, "[1, 2]")
    async with running(adapter, queue, handle):
        await eventually(lambda: _count(adapter, f"{queue}-dlq", 2), within=20)
    assert not called


async def test_long_work_keeps_its_message_hidden(bus: tuple[Bus, str]) -> None:
    """Work longer than the visibility timeout is not handed to a second worker."""
    adapter, queue = bus
    starts = 0

    async def slow(message: Message, body: dict[str, Any]) -> None:
        nonlocal starts
        starts += 1
        await asyncio.sleep(4.5)

    await adapter.publish(queue, '{"n": 3}')
    async with running(adapter, queue, slow), running(adapter, queue, slow):
        await eventually(lambda: _zero(adapter, queue), within=15)
    assert starts == 1


async def test_concurrency_is_bounded(bus: tuple[Bus, str]) -> None:
    """No more than ``concurrency`` messages are handled at once."""
    adapter, queue = bus
    active = peak = done = 0

    async def handle(message: Message, body: dict[str, Any]) -> None:
        nonlocal active, peak, done
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.2)
        active -= 1
        done += 1

    for n in range(6):
        await adapter.publish(queue, f'{{"n": {n}}}')
    async with running(adapter, queue, handle, concurrency=2):
        await eventually(lambda: _equals(lambda: done, 6))
    assert peak == 2


async def _true(items: list[Any]) -> bool:
    return bool(items)


async def _zero(bus: Bus, queue: str) -> bool:
    return await bus.count(queue) == 0


async def _count(bus: Bus, queue: str, n: int) -> bool:
    return await bus.count(queue) == n


async def _equals(get: Any, n: int) -> bool:
    return bool(get() == n)
