"""Operators' queue tools: depths, and dead letters sent back once the cause is fixed,
on every bus adapter (PostgreSQL, and SNS/SQS on moto)."""

from __future__ import annotations

import json
import uuid

from app.ops.queues import Depth, depths, redrive
from app.ports.bus import Bus, Message, QueueSpec
from tests.ports.conftest import bus, bus_adapter  # noqa: F401 - the adapters, as fixtures
from tests.ports.test_bus import make_queues


async def test_redrive_moves_every_dead_letter_back_once(bus: Bus) -> None:  # noqa: F811
    """Dead-lettered messages go back to their queue, bodies intact, and leave the
    dead-letter queue; the depths say so before and after."""
    [name] = await make_queues(bus, QueueSpec("notify"))
    spec = QueueSpec(name)
    bodies = [json.dumps({"job_id": str(uuid.uuid4())}) for _ in range(12)]
    for body in bodies:
        await bus.send(spec.dead_letter_queue, body)
    assert await depths(bus, [spec]) == [Depth(name, 0, 12)]
    assert await redrive(bus, spec, limit=5) == 5
    assert await redrive(bus, spec) == 7
    assert await redrive(bus, spec) == 0
    assert await depths(bus, [spec]) == [Depth(name, 12, 0)]
    back: list[Message] = []
    while len(back) < 12 and (batch := await bus.receive(name, max_messages=10, wait_seconds=1)):
        back += batch
    assert sorted(m.body for m in back) == sorted(bodies)
    assert all(m.receive_count == 1 for m in back)  # a fresh start, not the old count

