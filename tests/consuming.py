"""Running a queue consumer for the length of a test, and waiting for what it does."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from app.infra.consumer import consume
from app.ports.bus import Bus


@contextlib.asynccontextmanager
async def running(bus: Bus, queue: str, handle: Any, *, visibility: int = 2, **kwargs: Any
                  ) -> AsyncIterator[None]:
    """``consume(queue)`` with ``handle`` in the background; cancelled on leaving."""
    task = asyncio.create_task(consume(bus, queue, handle, wait_seconds=0.5, visibility=visibility, **kwargs))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(check: Any, within: float = 30) -> Any:
    """What ``check()`` gives once it is true; it is asked every 0.1 s for ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not (found := await check()):
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)
    return found
