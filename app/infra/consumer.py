"""The one loop every queue consumer runs: the annotator and each daemon.

Receive, handle, acknowledge; keep a busy message hidden while it is handled;
on an error put it back with a growing, jittered delay, so that a message that
keeps failing reaches its queue's receive limit and the bus moves it to the
dead-letter queue. A consumer only supplies ``handle(message)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from app.infra.poison import PoisonMessage
from app.ports.bus import Bus, LeaseLimitReached, Message

log = logging.getLogger(__name__)

Handler = Callable[[Message, dict[str, Any]], Awaitable[None]]
# Called once when a message fails its last allowed delivery, before it goes to the
# dead-letter queue, or when the bus will not keep it hidden any longer while it is handled
# (LeaseLimitReached): the consumer records why (a job says "failed" and the reason).
GiveUp = Callable[[Message, dict[str, Any], Exception], Awaitable[None]]


def retry_delay(receive_count: int, base: float = 1.0, cap: float = 60.0) -> int:
    """Exponential backoff with full jitter."""
    return int(random.uniform(0, min(cap, base * 2 ** max(receive_count - 1, 0))))


async def _heartbeat(bus: Bus, message: Message, visibility: int,
                     at_limit: Callable[[LeaseLimitReached], Awaitable[None]]) -> None:
    while True:
        await asyncio.sleep(max(visibility / 3, 1))
        try:
            await bus.extend(message, visibility)
        except LeaseLimitReached as exc:
            await at_limit(exc)
            return
        except Exception:
            log.warning("could not extend visibility", exc_info=True,
                        extra={"queue": message.queue, "message_id": message.message_id})


async def _settle(action: Awaitable[None], context: dict[str, Any]) -> None:
    """Ack or release; if the bus is down, the message reappears after its timeout."""
    try:
        await action
    except Exception:
        log.warning("could not ack or release; the message comes back after its timeout",
                    exc_info=True, extra=context)


async def _record(give_up: GiveUp | None, message: Message, body: dict[str, Any], exc: Exception,
                  context: dict[str, Any]) -> None:
    """``give_up``'s record of why the message fails for good, if the consumer keeps one."""
    if give_up is None:
        return
    try:
        await give_up(message, body, exc)
    except Exception:
        log.exception("could not record the failure", extra=context)


async def handle_one(
    bus: Bus,
    message: Message,
    handle: Handler,
    visibility: int,
    *,
    max_receives: int | None = None,
    give_up: GiveUp | None = None,
) -> None:
    context = {"queue": message.queue, "message_id": message.message_id,
               "receive_count": message.receive_count}
    body: dict[str, Any] = {}

    async def at_limit(exc: LeaseLimitReached) -> None:
        """The message is about to be delivered again, its handler still at work: ``give_up``
        records why this delivery cannot finish (the annotator fails the job with the reason
        and stops its engine when it sees that), rather than a second delivery redoing it."""
        log.error("handled for longer than the bus keeps a message hidden (%s s); giving up",
                  exc.seconds, extra=context)
        await _record(give_up, message, body, exc, context)

    beat = asyncio.create_task(_heartbeat(bus, message, visibility, at_limit))
    try:
        try:
            body = json.loads(message.body)
            if not isinstance(body, dict):
                raise PoisonMessage("message body is not a JSON object")
        except json.JSONDecodeError as exc:
            raise PoisonMessage(f"message body is not JSON: {exc}") from exc
        await handle(message, body)
    except PoisonMessage as exc:
        log.error("poison message: %s", exc, extra=context)
        # Visible again at once: it reaches the receive limit and the DLQ quickly.
        await _settle(bus.release(message, 0), context)
    except asyncio.CancelledError:
        # Shutting down mid-message: hand it back now rather than after the timeout.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(bus.release(message, 0)), 2)
        raise
    except Exception as exc:
        if max_receives is not None and message.receive_count >= max_receives:
            log.exception("handler failed on the last delivery; to the dead-letter queue",
                          extra=context)
            await _record(give_up, message, body, exc, context)
            # Visible at once: the next receive moves it to the dead-letter queue.
            await _settle(bus.release(message, 0), context)
        else:
            delay = retry_delay(message.receive_count)
            log.exception("handler failed; retrying in %ss", delay, extra=context)
            await _settle(bus.release(message, delay), context)
    else:
        await _settle(bus.ack(message), context)
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat


async def consume(
    bus: Bus,
    queue: str,
    handle: Handler,
    *,
    concurrency: int = 1,
    visibility: int = 60,
    wait_seconds: float = 20.0,
    max_receives: int | None = None,
    give_up: GiveUp | None = None,
) -> None:
    """Run until cancelled; at most ``concurrency`` messages in hand at once.

    ``max_receives`` is the queue's receive limit: a message that fails its last
    delivery is handed to ``give_up`` and then left to the dead-letter queue.
    """
    slots = asyncio.Semaphore(concurrency)
    running: set[asyncio.Task[None]] = set()
    failures = 0
    try:
        while True:
            await slots.acquire()
            free = 1
            while free < concurrency and not slots.locked():
                await slots.acquire()
                free += 1
            try:
                messages = await bus.receive(queue, max_messages=free, wait_seconds=wait_seconds)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                for _ in range(free):
                    slots.release()
                delay = retry_delay(failures, cap=30)
                log.exception("receive from %s failed; retrying in %ss", queue, delay)
                await asyncio.sleep(delay)
                continue
            for _ in range(free - len(messages)):
                slots.release()
            for message in messages:
                task = asyncio.create_task(handle_one(
                    bus, message, handle, visibility, max_receives=max_receives, give_up=give_up
                ))
                running.add(task)
                task.add_done_callback(running.discard)
                task.add_done_callback(lambda _t: slots.release())
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
