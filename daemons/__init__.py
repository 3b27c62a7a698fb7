"""The lifecycle daemons, one module each: notify, archive, restore, thaw.

Each is a handler of one typed message (app/jobs/lifecycle.py), run by :func:`serve`; every
handler is idempotent and re-entrant, moving a job only with a conditional transition (the
storage moves they share are app/jobs/storage.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.infra.consumer import PoisonMessage, consume
from app.jobs.job import Job
from app.ports.bus import Message
from app.services import Services

T = TypeVar("T")
Decode = Callable[[dict[str, Any]], T]
Handler = Callable[[Services, Message, T], Awaitable[None]]
GiveUp = Callable[[Services, Message, T, Exception], Awaitable[None]]


async def serve(services: Services, queue: str, decode: Decode[T], handle: Handler[T],
                give_up: GiveUp[T] | None = None) -> None:
    """Run one daemon: consume ``queue``, each message decoded (a bad one is poison) and
    handled, until cancelled; ``give_up`` records on the jobs why a message failed its last
    delivery (then the DLQ has it)."""

    async def on_message(message: Message, body: dict[str, Any]) -> None:
        await handle(services, message, decode(body))

    async def on_give_up(message: Message, body: dict[str, Any], exc: Exception) -> None:
        if give_up is not None:
            await give_up(services, message, decode(body), exc)

    await consume(
        services.bus, queue, on_message,
        visibility=services.settings.queue_visibility_seconds,
        wait_seconds=services.settings.queue_wait_seconds,
        max_receives=services.settings.queue_max_receives, give_up=on_give_up,
    )


async def job_in(services: Services, job_id: str) -> Job:
    """The job a message names; a message naming none can never succeed."""
    job = await services.jobs.get(job_id)
    if job is None:
        raise PoisonMessage(f"no such job: {job_id}")
    return job
