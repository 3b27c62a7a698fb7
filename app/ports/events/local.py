"""Live events over PostgreSQL LISTEN/NOTIFY.

Any process publishes with ``pg_notify``; every web instance hears every event on
its one LISTEN connection and hands each to the open streams of that user. Events
are hints for a page to refresh (pages also poll), so losing one is harmless:
an event too large for NOTIFY, or one a slow reader has no room for, is dropped
rather than allowed to fail the publisher or hold up other readers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections import defaultdict
from typing import Any

from databases import Database

from app.infra.db import execute
from app.ports.events import Events
from app.ports.listen import Listener

log = logging.getLogger(__name__)

CHANNEL = "gas_events"
# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
MAX_PAYLOAD_BYTES = 7900
_CLOSED = object()

Registry = defaultdict[str, set["asyncio.Queue[object]"]]


def _offer(queue: asyncio.Queue[object], item: object) -> None:
    """Put without waiting: a full queue loses its oldest item."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)


def _unregister(registry: Registry, user_id: str, queue: asyncio.Queue[object]) -> None:
    queues = registry.get(user_id)
    if queues is not None:
        queues.discard(queue)
        if not queues:
            del registry[user_id]


class Subscription:
    """A user's events from the moment of subscribing (not of first iteration)."""

    def __init__(self, registry: Registry, user_id: str, max_pending: int) -> None:
        self.queue: asyncio.Queue[object] = asyncio.Queue(max_pending)
        registry[user_id].add(self.queue)
        # An SSE stream abandoned without aclose() must not stay registered.
        self._finalizer = weakref.finalize(self, _unregister, registry, user_id, self.queue)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if not self._finalizer.alive:
            raise StopAsyncIteration
        item = await self.queue.get()
        if item is _CLOSED:
            self._finalizer()
            raise StopAsyncIteration
        assert isinstance(item, dict)
        return item

    async def aclose(self) -> None:
        """End the subscription; a read waiting in another task ends at once."""
        if self._finalizer.alive:
            self._finalizer()
            _offer(self.queue, _CLOSED)


class PostgresEvents(Events):
    def __init__(self, db: Database, url: str, *, max_pending: int = 100) -> None:
        self.db = db
        self.max_pending = max_pending
        self._subscribers: Registry = defaultdict(set)
        self._closed = False
        self._listener = Listener(url, CHANNEL, self._deliver, lambda: None)

    async def start(self) -> None:
        await self._listener.start()

    async def close(self) -> None:
        self._closed = True
        await self._listener.close()
        for queues in list(self._subscribers.values()):
            for queue in list(queues):
                _offer(queue, _CLOSED)

    async def publish(self, user_id: str, event: dict[str, Any]) -> None:
        payload = json.dumps({"user_id": user_id, "event": event}, separators=(",", ":"))
        if len(payload.encode()) > MAX_PAYLOAD_BYTES:
            log.warning("live event too large to send; dropped", extra={"user_id": user_id})
            return
        await execute(self.db, "SELECT pg_notify($1, $2)", CHANNEL, payload)

    def subscribe(self, user_id: str) -> Subscription:
        subscription = Subscription(self._subscribers, user_id, self.max_pending)
        if self._closed:
            _offer(subscription.queue, _CLOSED)
        return subscription

    def _deliver(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            user_id, event = str(message["user_id"]), message["event"]
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed live event")
            return
        for queue in list(self._subscribers.get(user_id, ())):
            _offer(queue, event)
