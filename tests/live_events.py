"""What a user's open pages hear (the live-events port) while something happens."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from app.services import Services


async def events_heard(services: Services, user_id: str, count: int,
                       during: Callable[[], Awaitable[None]]) -> list[dict[str, Any]]:
    """The first ``count`` live events of ``user_id`` once ``during`` has run."""
    await services.events.start()  # as the web app does: the one reader of live events
    heard = services.events.subscribe(user_id)
    first = asyncio.ensure_future(anext(heard))
    await asyncio.sleep(0.2)  # the subscription is listening before anything moves
    try:
        await during()
        events = [await asyncio.wait_for(first, 5)]
        while len(events) < count:
            events.append(await asyncio.wait_for(anext(heard), 5))
    finally:
        await heard.aclose()  # type: ignore[attr-defined]
    return events
