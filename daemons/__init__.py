"""The lifecycle daemons, one module each: notify, archive, restore, thaw.

Each is a handler of one typed message (app/jobs/lifecycle.py), run by :func:`serve`; every
handler is idempotent and re-entrant, moving a job only with a conditional transition (the
storage moves they share are app/jobs/storage.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.infra.consumer import consume
from app.jobs.job import DELETING, Job
from app.ports.bus import Message
from app.services import Services

T = TypeVar("T")
Decode = Callable[[dict[str, Any]], T]
Handler = Callable[[Services, Message, T], Awaitable[None]]
log = logging.getLogger(__name__)
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


async def job_in(services: Services, job_id: str) -> Job | None:
    """The job a message names; None when it is gone or going (its owner deleted it): the
    message is then done with, not poison. A job that never existed is told apart only in
    the log: both have no record, and a message naming one harms nothing."""
    job = await services.jobs.get(job_id)
    if job is None or job.status == DELETING:
        log.info("the job was deleted; nothing to do", extra={"job_id": job_id})
        return None
    return job
