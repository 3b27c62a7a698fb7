"""Topics and queues in PostgreSQL (tables ``queues``, ``topic_subscriptions``,
``queue_messages``), with SQS's semantics: delay, visibility timeout, receipts,
max receives → dead-letter queue, and long polling.

Receivers claim messages with ``FOR UPDATE SKIP LOCKED``, so any number of them,
in any number of processes, never get the same delivery. A receiver with nothing
to do sleeps on a NOTIFY (sent with every message that may become ready) or until
the queue's next delayed message is due, never polling in a loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from databases import Database

from app.infra.db import connection, execute, fetch, fetchval
from app.ports.bus import Bus, Message, QueueSpec
from app.ports.listen import Listener

log = logging.getLogger(__name__)

CHANNEL = "gas_bus"
# While the LISTEN connection is down a notification can be missed: look again
# this often until it is back.
_DEGRADED_WAIT = 1.0

_UPSERT_QUEUE = """
INSERT INTO queues (name, delay_seconds, visibility_seconds, max_receives, dead_letter_queue)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (name) DO UPDATE SET
    delay_seconds = EXCLUDED.delay_seconds,
    visibility_seconds = EXCLUDED.visibility_seconds,
    max_receives = EXCLUDED.max_receives,
    dead_letter_queue = EXCLUDED.dead_letter_queue
"""

# Each statement inserts and notifies at once: listeners hear of a message only
# when it is committed.
_PUBLISH = """
WITH sent AS (
    INSERT INTO queue_messages (message_id, queue, body, visible_at)
    SELECT gen_random_uuid(), q.name, $2,
           now() + make_interval(secs => q.delay_seconds + $3)
    FROM topic_subscriptions s JOIN queues q ON q.name = s.queue
    WHERE s.topic = $1
    RETURNING queue
)
SELECT queue, pg_notify($4, queue) FROM sent
"""

_SEND = """
WITH sent AS (
    INSERT INTO queue_messages (message_id, queue, body, visible_at)
    SELECT gen_random_uuid(), q.name, $2,
           now() + make_interval(secs => CASE WHEN $3 > 0 THEN $3 ELSE q.delay_seconds END)
    FROM queues q WHERE q.name = $1
    RETURNING queue
)
SELECT queue, pg_notify($4, queue) FROM sent
"""

_CANDIDATES = """
SELECT m.message_id, m.receive_count >= q.max_receives AS spent, q.dead_letter_queue,
       q.visibility_seconds
FROM queue_messages m JOIN queues q ON q.name = m.queue
WHERE m.queue = $1 AND m.visible_at <= now()
ORDER BY m.visible_at, m.sent_at
LIMIT $2
FOR UPDATE OF m SKIP LOCKED
"""

_TO_DEAD_LETTERS = """
UPDATE queue_messages
SET queue = $2, receive_count = 0, receipt = NULL, visible_at = now()
WHERE message_id = ANY($1::uuid[])
"""

_CLAIM = """
UPDATE queue_messages
SET receipt = gen_random_uuid(), receive_count = receive_count + 1,
    visible_at = now() + make_interval(secs => $2)
WHERE message_id = ANY($1::uuid[])
RETURNING message_id, body, receipt, receive_count
"""

_SECONDS_TO_NEXT = """
SELECT extract(epoch FROM min(visible_at) - clock_timestamp())::float8
FROM queue_messages WHERE queue = $1
"""


class PostgresBus(Bus):
    def __init__(self, db: Database, url: str) -> None:
        self.db = db
        self._listener = Listener(url, CHANNEL, self._wake_queue, self._wake_all)
        self._started = False
        self._waiters: defaultdict[str, set[asyncio.Event]] = defaultdict(set)

    async def ensure(self, queues: list[QueueSpec], topics: dict[str, list[str]]) -> None:
        async with connection(self.db) as raw, raw.transaction():
            for spec in queues:
                dlq = spec.dead_letter_queue
                await raw.execute(
                    _UPSERT_QUEUE, dlq, 0, spec.visibility_seconds, spec.max_receives, None
                )
                await raw.execute(
                    _UPSERT_QUEUE, spec.name, spec.delay_seconds, spec.visibility_seconds,
                    spec.max_receives, dlq,
                )
            for topic, names in topics.items():
                # Declarative: a queue dropped from a topic stops receiving its messages.
                await raw.execute(
                    "DELETE FROM topic_subscriptions WHERE topic = $1 AND NOT queue = ANY($2)",
                    topic, names,
                )
                await raw.executemany(
                    "INSERT INTO topic_subscriptions (topic, queue) VALUES ($1, $2)"
                    " ON CONFLICT DO NOTHING",
                    [(topic, name) for name in names],
                )

    async def publish(self, topic: str, body: str, *, delay_seconds: int = 0) -> None:
        if not await fetch(self.db, _PUBLISH, topic, body, delay_seconds, CHANNEL):
            # As with SNS, a topic nobody subscribes to drops what it is sent.
            log.warning("no queue subscribes to topic %s; message dropped", topic)

    async def send(self, queue: str, body: str, *, delay_seconds: int = 0) -> None:
        if not await fetch(self.db, _SEND, queue, body, delay_seconds, CHANNEL):
            raise LookupError(f"no such queue: {queue}")

    async def _claim(self, queue: str, limit: int) -> tuple[list[Message], float | None]:
        """Claim up to ``limit`` ready messages; else, seconds until the next is due."""
        async with connection(self.db) as raw, raw.transaction():
            while True:
                rows = await raw.fetch(_CANDIDATES, queue, limit)
                spent = [r for r in rows if r["spent"] and r["dead_letter_queue"]]
                live = [r for r in rows if not (r["spent"] and r["dead_letter_queue"])]
                if spent:
                    dlq = spent[0]["dead_letter_queue"]
                    await raw.execute(_TO_DEAD_LETTERS, [r["message_id"] for r in spent], dlq)
                    await raw.execute("SELECT pg_notify($1, $2)", CHANNEL, dlq)
                    log.warning(
                        "%d message(s) moved to %s after too many receives", len(spent), dlq,
                        extra={"queue": queue},
                    )
                if live:
                    claimed = await raw.fetch(
                        _CLAIM, [r["message_id"] for r in live], live[0]["visibility_seconds"]
                    )
                    return [self._message(queue, row) for row in claimed], None
                if not spent:
                    return [], await raw.fetchval(_SECONDS_TO_NEXT, queue)

    @staticmethod
    def _message(queue: str, row: Any) -> Message:
        return Message(
            queue=queue,
            message_id=str(row["message_id"]),
            body=row["body"],
            receipt=str(row["receipt"]),
            receive_count=row["receive_count"],
        )

    async def receive(
        self, queue: str, *, max_messages: int = 1, wait_seconds: float = 20.0
    ) -> list[Message]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        if wait_seconds > 0 and not self._started:
            self._started = True
            await self._listener.start(wait=wait_seconds)
        while True:
            # Registered before looking, so a NOTIFY that lands meanwhile is not lost.
            woken = asyncio.Event()
            self._waiters[queue].add(woken)
            try:
                messages, next_due = await self._claim(queue, max_messages)
                remaining = deadline - loop.time()
                if messages or remaining <= 0:
                    return messages
                timeout = remaining
                if next_due is not None:
                    timeout = min(timeout, max(next_due, 0.01))
                if not self._listener.connected:
                    timeout = min(timeout, _DEGRADED_WAIT)
                try:
                    await asyncio.wait_for(woken.wait(), timeout)
                except TimeoutError:
                    if timeout == remaining:
                        return []
            finally:
                self._waiters[queue].discard(woken)
                if not self._waiters[queue]:
                    del self._waiters[queue]

    def _wake_queue(self, queue: str) -> None:
        for event in self._waiters.get(queue, ()):
            event.set()

    def _wake_all(self) -> None:
        for queue in list(self._waiters):
            self._wake_queue(queue)

    async def ack(self, message: Message) -> None:
        # The receipt makes a late ack from a worker whose delivery timed out
        # harmless: it no longer matches once the message was received again.
        await execute(
            self.db, "DELETE FROM queue_messages WHERE message_id = $1 AND receipt = $2",
            message.message_id, message.receipt,
        )

    async def extend(self, message: Message, visibility_seconds: int) -> None:
        await execute(
            self.db, "UPDATE queue_messages SET visible_at = now() + make_interval(secs => $3)"
            " WHERE message_id = $1 AND receipt = $2",
            message.message_id, message.receipt, visibility_seconds,
        )

    async def release(self, message: Message, delay_seconds: int = 0) -> None:
        await execute(
            self.db, "WITH released AS ("
            " UPDATE queue_messages SET visible_at = now() + make_interval(secs => $3),"
            " receipt = NULL WHERE message_id = $1 AND receipt = $2 RETURNING queue)"
            " SELECT pg_notify($4, queue) FROM released",
            message.message_id, message.receipt, delay_seconds, CHANNEL,
        )

    async def count(self, queue: str) -> int:
        return int(await fetchval(self.db, "SELECT count(*) FROM queue_messages WHERE queue = $1", queue))

    async def close(self) -> None:
        await self._listener.close()
        self._started = False
