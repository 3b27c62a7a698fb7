"""Live events: what a user's open pages need to hear about, from any process."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from typing import Any


class Events(abc.ABC):
    @abc.abstractmethod
    async def publish(self, user_id: str, event: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def subscribe(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        """Every event published for ``user_id`` from now on, until the iterator closes.

        The iterator's ``aclose()``, called from any task, ends it at once (a read
        waiting on it stops), so a web process can close a stream it must shed."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open what the adapter listens with, once: only a process that reads events (the
        web app) does; any process may publish without it."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Stop listening; end every open subscription."""
