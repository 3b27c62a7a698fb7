"""What an operator does with the queues: see how deep each one and its
dead-letter queue are, and send dead-lettered messages back once the cause is
fixed (a daemon that gave up tells the user "the operator will retry it").

Through the bus port, so the same commands work on PostgreSQL and on SQS.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.ports.bus import Bus, QueueSpec


@dataclass(frozen=True)
class Depth:
    queue: str
    waiting: int
    dead_lettered: int


async def depths(bus: Bus, specs: list[QueueSpec]) -> list[Depth]:
    return [Depth(spec.name, await bus.count(spec.name), await bus.count(spec.dead_letter_queue))
            for spec in specs]


async def redrive(bus: Bus, spec: QueueSpec, limit: int | None = None) -> int:
    """Move up to ``limit`` messages (all, by default) from the dead-letter queue back
    to ``spec``'s queue; how many moved.

    Each is sent before it is taken off the dead-letter queue, so a crash in between
    can repeat one message but never lose it: every consumer is idempotent.
    """
    moved = 0
    while limit is None or moved < limit:
        want = 10 if limit is None else min(10, limit - moved)
        # Long polling, however short, asks every SQS server: a short poll may miss some.
        batch = await bus.receive(spec.dead_letter_queue, max_messages=want, wait_seconds=1)
        if not batch:
            break
        for message in batch:
            await bus.send(spec.name, message.body)
            await bus.ack(message)
            moved += 1
    return moved
