"""The one consumer loop: ack on success, retry with backoff, DLQ for poison,
heartbeat for long work, bounded concurrency."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from databases import Database

from app.infra.consumer import retry_delay
from app.ports.bus import Bus, Message, QueueSpec
from app.ports.bus.local import PostgresBus
from tests.consuming import eventually, running


@pytest.fixture
async def bus(db: Database, database_url: str) -> AsyncIterator[tuple[Bus, str]]:
    adapter = PostgresBus(db, database_url)
    name = f"q-{uuid.uuid4().hex[:8]}"
    await adapter.ensure([QueueSpec(name, 0, visibility_seconds=2, max_receives=2)], {name: [name]})
    yield adapter, name
    await adapter.close()


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


def test_retry_delay_backs_off_exponentially_with_full_jitter() -> None:
    """Each delivery may wait up to twice as long as the one before (capped), and the
    wait is spread over that whole range so failing workers do not retry in step."""
    for count, ceiling in ((1, 1), (2, 2), (3, 4), (5, 16), (12, 60)):
        samples = [retry_delay(count) for _ in range(400)]
        assert 0 <= min(samples) and max(samples) <= ceiling, (count, max(samples))
        if ceiling >= 4:
            assert len(set(samples)) > ceiling // 2, (count, sorted(set(samples)))


async def test_last_failed_delivery_is_given_up_then_dead_lettered(bus: tuple[Bus, str]) -> None:
    """With the receive limit known, the last failure calls give_up once (with the
    body and the error) before the message goes to the dead-letter queue."""
    adapter, queue = bus
    given_up: list[tuple[int, dict[str, Any], str]] = []

    async def handle(message: Message, body: dict[str, Any]) -> None:
        raise ConnectionError("the store is down")

    async def give_up(message: Message, body: dict[str, Any], exc: Exception) -> None:
        given_up.append((message.receive_count, body, str(exc)))

    await adapter.publish(queue, '{"n": 4}')
    async with running(adapter, queue, handle, max_receives=2, give_up=give_up):
        await eventually(lambda: _count(adapter, f"{queue}-dlq", 1), within=20)
    assert given_up == [(2, {"n": 4}, "the store is down")]


async def test_queue_errors_are_retried_and_the_loop_carries_on(bus: tuple[Bus, str]) -> None:
    """Receive failing (the queue is down) and an ack failing (it went down again
    mid-message) neither stops the consumer: it backs off, then handles the message,
    again after the lost ack (delivery is at least once)."""
    adapter, queue = bus
    real_receive, real_ack = adapter.receive, adapter.ack
    failures = {"receive": 2, "ack": 1}
    seen: list[int] = []

    async def receive(*args: Any, **kwargs: Any) -> list[Message]:
        if failures["receive"]:
            failures["receive"] -= 1
            raise ConnectionError("queue unreachable")
        return await real_receive(*args, **kwargs)

    async def ack(message: Message) -> None:
        if failures["ack"]:
            failures["ack"] -= 1
            raise ConnectionError("queue unreachable")
        await real_ack(message)

    async def handle(message: Message, body: dict[str, Any]) -> None:
        seen.append(message.receive_count)

    adapter.receive = receive  # type: ignore[method-assign]
    adapter.ack = ack  # type: ignore[method-assign]
    await adapter.publish(queue, '{"n": 5}')
    async with running(adapter, queue, handle):
        await eventually(lambda: _zero(adapter, queue), within=20)
    assert failures == {"receive": 0, "ack": 0}
    assert seen == [1, 2]  # the first ack was lost, so it came back once


async def _true(items: list[Any]) -> bool:
    return bool(items)


async def _zero(bus: Bus, queue: str) -> bool:
    return await bus.count(queue) == 0


async def _count(bus: Bus, queue: str, n: int) -> bool:
    return await bus.count(queue) == n


async def _equals(get: Any, n: int) -> bool:
    return bool(get() == n)
