"""One PostgreSQL LISTEN connection per process, shared, reconnecting when it drops.

The bus and live events both wait on NOTIFY. A pooled connection cannot hold a
LISTEN (it goes back to the pool), so each adapter keeps one dedicated connection
and fans notifications out in memory to however many waiters it has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

log = logging.getLogger(__name__)

Callback = Callable[[str], None]


class Listener:
    """LISTEN on ``channel``; ``on_notify(payload)`` for each notification.

    ``on_reconnect()`` runs after every (re)connection: notifications sent while
    the connection was down are lost, so waiters must look again for themselves.
    """

    def __init__(
        self,
        url: str,
        channel: str,
        on_notify: Callback,
        on_reconnect: Callable[[], None],
        *,
        health_check_seconds: float = 30.0,
        max_backoff: float = 10.0,
    ) -> None:
        self.url = url
        self.channel = channel
        self._on_notify = on_notify
        self._on_reconnect = on_reconnect
        self._health_check = health_check_seconds
        self._max_backoff = max_backoff
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.connection: asyncpg.Connection | None = None

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    async def start(self, wait: float = 10.0) -> None:
        """Start listening; wait up to ``wait`` seconds for the first connection, not
        longer: the database may be down now and back later."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"listen:{self.channel}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), wait)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self._on_notify(payload)
        except Exception:
            log.exception("notification handler failed", extra={"channel": self.channel})

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._session()
                log.warning("listen connection closed", extra={"channel": self.channel})
                backoff = 0.1
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("listen connection failed: %s", exc, extra={"channel": self.channel})
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    async def _session(self) -> None:
        """Listen on one connection until it is gone."""
        lost = asyncio.Event()
        connection = await asyncpg.connect(self.url, timeout=self._health_check)
        try:
            connection.add_termination_listener(lambda _c: lost.set())
            await connection.add_listener(self.channel, self._notified)
            self.connection = connection
            self._ready.set()
            self._on_reconnect()
            # A dropped socket is reported at once; a silent network failure is not,
            # hence the periodic query.
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self._health_check)
                    return
                await asyncio.wait_for(connection.execute("SELECT 1"), self._health_check)
        finally:
            self._ready.clear()
            self.connection = None
            connection.terminate()
