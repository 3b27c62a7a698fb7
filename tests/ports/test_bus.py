"""Contract of the bus port: topics fan out to queues with SQS's delivery semantics."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from databases import Database

from app.infra.db import execute
from app.ports.bus import Bus, Message, QueueSpec
from app.ports.bus.local import PostgresBus


async def make_queues(bus: Bus, *specs: QueueSpec) -> list[str]:
    """Fresh queues (unique names, so tests never see each other's messages)."""
    suffix = uuid.uuid4().hex[:8]
    named = [QueueSpec(f"{s.name}-{suffix}", s.delay_seconds, s.visibility_seconds,
                       s.max_receives) for s in specs]
    await bus.ensure(named, {})
    return [s.name for s in named]


async def in_flight(bus: Bus, visibility_seconds: int) -> tuple[str, Message]:
    """A fresh queue and the one message sent to it, received (so hidden for a while)."""
    [queue] = await make_queues(bus, QueueSpec("q", visibility_seconds=visibility_seconds))
    await bus.send(queue, "work")
    [message] = await bus.receive(queue, wait_seconds=0)
    return queue, message


async def make_topic(bus: Bus, *queues: str) -> str:
    topic = f"topic-{uuid.uuid4().hex[:8]}"
    await bus.ensure([], {topic: list(queues)})
    return topic


async def test_publish_fans_out_to_every_subscribed_queue(bus: Bus) -> None:
    """One publish puts one copy in each queue subscribed to the topic, and no other."""
    notify, archive, other = await make_queues(
        bus, QueueSpec("notify"), QueueSpec("archive"), QueueSpec("other")
    )
    await make_topic(bus, other)
    await bus.publish(await make_topic(bus, notify, archive), '{"job_id": "1"}')
    for queue in (notify, archive):
        [message] = await bus.receive(queue, max_messages=10, wait_seconds=0)
        assert message.body == '{"job_id": "1"}'
        assert message.queue == queue and message.receive_count == 1
    assert await bus.count(other) == 0


async def test_ack_removes_the_message(bus: Bus) -> None:
    """An acknowledged message is gone for good."""
    queue, message = await in_flight(bus, 1)
    await bus.ack(message)
    assert await bus.count(queue) == 0
    assert await bus.receive(queue, wait_seconds=1.2) == []


async def test_queue_delay(bus: Bus) -> None:
    """A queue's delay hides each new message that long; a long poll wakes when it is due."""
    [queue] = await make_queues(bus, QueueSpec("delayed", delay_seconds=1))
    await bus.publish(await make_topic(bus, queue), "later")
    start = time.monotonic()
    assert await bus.receive(queue, wait_seconds=0) == []
    [message] = await bus.receive(queue, wait_seconds=5)
    assert 0.8 < time.monotonic() - start < 2.5
    assert message.body == "later"


async def test_message_delay(bus: Bus) -> None:
    """A per-message delay hides only that message."""
    [queue] = await make_queues(bus, QueueSpec("q"))
    await bus.send(queue, "later", delay_seconds=1)
    await bus.send(queue, "now")
    [first] = await bus.receive(queue, max_messages=10, wait_seconds=0)
    assert first.body == "now"
    start = time.monotonic()
    [second] = await bus.receive(queue, max_messages=10, wait_seconds=5)
    assert second.body == "later"
    assert time.monotonic() - start < 2.5


async def test_visibility_timeout_redelivers(bus: Bus) -> None:
    """A received message not acknowledged in time comes back with a new receipt."""
    queue, first = await in_flight(bus, 1)
    assert await bus.receive(queue, wait_seconds=0) == []
    [again] = await bus.receive(queue, wait_seconds=5)
    assert again.message_id == first.message_id
    assert again.receipt != first.receipt
    assert again.receive_count == 2


async def test_extend_keeps_a_message_hidden(bus: Bus) -> None:
    """Extending visibility (a busy worker's heartbeat) delays re-delivery."""
    queue, message = await in_flight(bus, 1)
    await bus.extend(message, 4)
    assert await bus.receive(queue, wait_seconds=1.5) == []
    await bus.ack(message)
    assert await bus.count(queue) == 0


async def test_stale_receipt_cannot_touch_the_new_delivery(bus: Bus) -> None:
    """After re-delivery, the first worker's late ack/extend/release do nothing."""
    if not isinstance(bus, PostgresBus):
        pytest.skip("SQS acts on a message through any receipt it gave for it (AWS: a stale "
                    "delete 'succeeds, but the message might not be deleted'; moto deletes it); "
                    "consumers are idempotent so a second delivery is harmless")
    queue, stale = await in_flight(bus, 1)
    [current] = await bus.receive(queue, wait_seconds=5)
    await bus.ack(stale)
    await bus.extend(stale, 60)
    await bus.release(stale, 0)
    assert await bus.count(queue) == 1
    assert await bus.receive(queue, wait_seconds=0) == []  # release(stale) made nothing visible
    [third] = await bus.receive(queue, wait_seconds=5)  # extend(stale) did not hold it
    assert third.receive_count == 3
    await bus.ack(current)
    assert await bus.count(queue) == 1
    await bus.ack(third)
    assert await bus.count(queue) == 0


async def test_release_with_delay(bus: Bus) -> None:
    """A released message comes back after the delay asked for, not before."""
    queue, message = await in_flight(bus, 30)
    await bus.release(message, 1)
    assert await bus.receive(queue, wait_seconds=0) == []
    start = time.monotonic()
    [again] = await bus.receive(queue, wait_seconds=5)
    assert again.message_id == message.message_id
    assert 0.5 < time.monotonic() - start < 2.5


async def test_max_receives_moves_to_dead_letter_queue(bus: Bus) -> None:
    """A message received max_receives times without success goes to the queue's DLQ."""
    [queue] = await make_queues(bus, QueueSpec("poison", max_receives=2))
    await bus.send(queue, "poison")
    for attempt in (1, 2):
        [message] = await bus.receive(queue, wait_seconds=2)
        assert message.receive_count == attempt
        await bus.release(message, 0)
    assert await bus.receive(queue, wait_seconds=0) == []
    assert await bus.count(queue) == 0
    [dead] = await bus.receive(f"{queue}-dlq", wait_seconds=2)
    assert dead.body == "poison"


async def test_concurrent_receivers_split_the_messages_and_lose_none(bus: Bus) -> None:
    """Racing receivers split the messages and none is lost. On PostgreSQL (SKIP LOCKED) each is
    delivered exactly once; SQS promises at least once (a standard queue may deliver a message
    twice, and moto's server does under load: its receive takes no lock), which every consumer
    of GAS's is written for (they are idempotent)."""
    [queue] = await make_queues(bus, QueueSpec("q"))
    for i in range(40):
        await bus.send(queue, str(i))

    async def drain() -> list[str]:
        got: list[str] = []
        while batch := await bus.receive(queue, max_messages=3, wait_seconds=0):
            got += [m.body for m in batch]
        return got

    batches = await asyncio.gather(*(drain() for _ in range(6)))
    bodies = [body for batch in batches for body in batch]
    if isinstance(bus, PostgresBus):
        assert sorted(bodies, key=int) == [str(i) for i in range(40)]
    else:
        assert sorted(set(bodies), key=int) == [str(i) for i in range(40)]


async def woken_by(bus: Bus, queue: str, body: str, pause: float) -> float:
    """How long a receiver long-polling ``queue`` for ``pause`` seconds already takes to
    get ``body`` once it is sent."""
    waiting = asyncio.create_task(bus.receive(queue, wait_seconds=10))
    await asyncio.sleep(pause)
    sent = time.monotonic()
    await bus.send(queue, body)
    [message] = await asyncio.wait_for(waiting, 5)
    assert message.body == body
    return time.monotonic() - sent


async def test_long_poll_returns_as_soon_as_a_message_arrives(bus: Bus) -> None:
    """A waiting receiver is woken by a send well before its wait ends."""
    [queue] = await make_queues(bus, QueueSpec("q"))
    assert await woken_by(bus, queue, "wake up", 0.3) < 1.0


async def test_long_poll_returns_empty_after_the_wait(bus: Bus) -> None:
    """With nothing to receive, a long poll ends empty when its wait is over."""
    [queue] = await make_queues(bus, QueueSpec("q"))
    start = time.monotonic()
    assert await bus.receive(queue, wait_seconds=0.6) == []
    assert 0.55 < time.monotonic() - start < 2.0


async def test_many_waiters_each_get_one_message(bus: Bus) -> None:
    """Several consumers long-polling one queue are all woken; none gets a duplicate."""
    [queue] = await make_queues(bus, QueueSpec("q"))
    waiters = [asyncio.create_task(bus.receive(queue, wait_seconds=5)) for _ in range(3)]
    await asyncio.sleep(0.2)
    for i in range(3):
        await bus.send(queue, str(i))
    results = await asyncio.wait_for(asyncio.gather(*waiters), 6)
    assert sorted(m.body for r in results for m in r) == ["0", "1", "2"]


async def test_idle_long_poll_does_not_poll(bus: Bus, monkeypatch: pytest.MonkeyPatch) -> None:
    """An idle receiver sleeps on LISTEN: it queries once, not in a loop."""
    if not isinstance(bus, PostgresBus):
        pytest.skip("counts the Postgres adapter's queries")
    claims = 0
    claim = bus._claim

    async def counted(queue: str, limit: int) -> tuple[list[Message], float | None]:
        nonlocal claims
        claims += 1
        return await claim(queue, limit)

    monkeypatch.setattr(bus, "_claim", counted)
    [queue] = await make_queues(bus, QueueSpec("q"))
    await bus.receive(queue, wait_seconds=0.1)  # listener up before counting
    claims = 0
    assert await bus.receive(queue, wait_seconds=1.5) == []
    assert claims == 1


async def test_long_poll_survives_a_dropped_listen_connection(bus: Bus, db: Database) -> None:
    """When the LISTEN connection is killed, the bus reconnects and wakes waiters again."""
    if not isinstance(bus, PostgresBus):
        pytest.skip("kills the Postgres adapter's LISTEN connection")
    [queue] = await make_queues(bus, QueueSpec("q"))
    await bus.receive(queue, wait_seconds=0.1)
    connection = bus._listener.connection
    assert connection is not None
    await execute(db, "SELECT pg_terminate_backend($1)", connection.get_server_pid())
    for _ in range(50):
        if bus._listener.connected and bus._listener.connection is not connection:
            break
        await asyncio.sleep(0.1)
    assert bus._listener.connection is not connection
    assert await woken_by(bus, queue, "after reconnect", 0.2) < 0.9
