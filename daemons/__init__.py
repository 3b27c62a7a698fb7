"""The lifecycle daemons, one module each: notify, archive, restore, thaw.

Each runs :func:`app.infra.consumer.consume` with its own ``handle``; every handle is
idempotent and re-entrant, moving a job only with a conditional transition.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from app.infra.consumer import PoisonMessage, consume
from app.jobs.job import COMPLETED, Job, Storage
from app.ports.bus import Message
from app.services import Services

Handler = Callable[[Services, Message, dict[str, Any]], Awaitable[None]]
GiveUp = Callable[[Services, Message, dict[str, Any], Exception], Awaitable[None]]


async def serve(services: Services, queue: str, handle: Handler, give_up: GiveUp | None = None) -> None:
    """Run one daemon: consume ``queue`` with ``handle`` until cancelled; ``give_up``
    records on the jobs why a message failed its last delivery (then the DLQ has it)."""

    async def on_message(message: Message, body: dict[str, Any]) -> None:
        await handle(services, message, body)

    async def on_give_up(message: Message, body: dict[str, Any], exc: Exception) -> None:
        if give_up is not None:
            await give_up(services, message, body, exc)

    await consume(
        services.bus, queue, on_message,
        visibility=services.settings.queue_visibility_seconds,
        wait_seconds=services.settings.queue_wait_seconds,
        max_receives=services.settings.queue_max_receives, give_up=on_give_up,
    )


async def job_in(services: Services, body: dict[str, Any]) -> Job:
    """The job a message names; a message naming none can never succeed."""
    try:
        job_id = str(uuid.UUID(str(body.get("job_id"))))
    except ValueError:
        raise PoisonMessage(f"no job id in the message: {body.get('job_id')!r}") from None
    job = await services.jobs.get(job_id)
    if job is None:
        raise PoisonMessage(f"no such job: {job_id}")
    return job


async def move(services: Services, job: Job, was: Storage, to: Storage, **fields: Any) -> bool:
    """Move a completed job's result from storage ``was`` to ``to`` if it is still there.

    On success the owner's open pages hear of it (the job page shows "archived",
    "being restored" or the download without a reload).
    """
    moved = await services.jobs.transition(
        job.job_id, [COMPLETED], COMPLETED, when={"storage": was}, storage=to, storage_error=None,
        **fields,
    )
    if moved:
        await _announce(services, job, to)
    return moved


async def stuck(services: Services, job: Job, storage: Storage, why: str, exc: Exception,
                message: Message) -> None:
    """The result stays ``storage``: say why on the job (and its open pages), not leave
    it "being restored" for ever. The message goes on to the dead-letter queue, where
    the operator's alarm sees it; a redrive that moves the job clears the error."""
    text = (f"{why} ({exc.__class__.__name__}, {message.receive_count} attempts). "
            "The operator has been told and will retry it.")
    if await services.jobs.transition(
        job.job_id, [COMPLETED], COMPLETED, when={"storage": storage}, storage_error=text
    ):
        await _announce(services, job, storage)


async def _announce(services: Services, job: Job, storage: Storage) -> None:
    """The owner's open pages fetch the job again (its storage or its storage error)."""
    await services.events.publish(job.user_id, {"type": "storage", "job_id": job.job_id, "storage": storage})
