"""``/events``: one server-sent event stream per browser tab, the user's events only.

Events come through the live-events port (Postgres LISTEN/NOTIFY), so any web
instance can serve any user. Each job event is sent twice: as ``job`` (the job
list listens for any change) and as ``job-<job_id>`` (one job's page), and so
is each ``storage`` event (a result archived, being restored, back).

A stream ends as soon as its session does (logout, a password reset, the account deleted),
on whichever instance serves it: app/accounts/session_streams.py says how it hears.

Each open stream holds memory in this process, so a user may hold
``GAS_MAX_EVENT_STREAMS_PER_USER`` of them here; a newer one closes their oldest.
The cap is per process: counting across instances would need shared state, and
each instance's memory is what it protects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from quart import Blueprint, Response, current_app, make_response
from quart.typing import ResponseReturnValue
from quart_auth import current_user

from app.accounts import sessions
from app.accounts.session_streams import session_ended
from app.jobs.job import FINISHED
from app.jobs.lifecycle import JobEvent, live_event
from app.web import notices
from app.web.auth import login_required, signed_in_user
from app.web.context import services

log = logging.getLogger(__name__)
bp = Blueprint("events", __name__)
KEEPALIVE_SECONDS = 15.0
# A stream closed to make room asks its browser to wait this long before it
# reconnects (the page polls meanwhile), so tabs over the cap do not take turns
# pushing each other out every few seconds.
SHED_RETRY_MS = 60_000
_STREAMS = "gas_event_streams"  # in app.extensions: user id -> open streams, oldest first


@dataclass(eq=False)
class _Open:
    """One open stream: its subscription, its session's key, and whether a newer stream shed it."""

    subscription: AsyncIterator[dict[str, Any]]
    session: str
    shed: bool = False


# Weak, as the port's own registry: a stream abandoned without its finally leaves nothing.
Streams = dict[str, "weakref.WeakKeyDictionary[_Open, None]"]


def _frame(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _notice(event: JobEvent) -> bytes:
    """An HTML line for the page's notices area (swapped in by the SSE extension)."""
    html = notices.notice(event.job_id, event.file, event.status)
    return f"event: notice\ndata: {html}\n\n".encode()


# The port hands the same event object to every stream of its user: the frames of
# the latest one are kept, so a fan-out to thousands of tabs formats them once.
_latest: tuple[dict[str, Any] | None, bytes] = (None, b"")


def _frames(event: dict[str, Any]) -> bytes:
    """Every frame one event becomes, joined: one write per stream per event, not three."""
    global _latest
    if _latest[0] is event:
        return _latest[1]
    frames = [_frame(str(event.get("type", "message")), event)]
    typed = live_event(event)
    if typed is not None:
        frames.append(_frame(f"job-{typed.job_id}", event))
        if isinstance(typed, JobEvent) and typed.status in FINISHED:
            frames.append(_notice(typed))
    _latest = (event, b"".join(frames))
    return _latest[1]


async def _shed_oldest(streams: Streams, user_id: str, cap: int) -> None:
    mine = streams.get(user_id)
    while mine is not None and len(mine) > cap:
        oldest = next(iter(mine))
        del mine[oldest]
        oldest.shed = True
        log.info("closed the oldest event stream: over %d for this user", cap,
                 extra={"user_id": user_id})
        await oldest.subscription.aclose()  # type: ignore[attr-defined]


async def _stream(
    subscription: AsyncIterator[dict[str, Any]], session: str, user_id: str, streams: Streams, cap: int
) -> AsyncIterator[bytes]:
    # Tell EventSource to wait 3 s before reconnecting when the stream drops.
    yield b"retry: 3000\n\n"
    this = _Open(subscription, session)
    streams.setdefault(user_id, weakref.WeakKeyDictionary())[this] = None
    await _shed_oldest(streams, user_id, cap)
    try:
        while True:
            # A timeout rather than a task per event: every event is fanned out to
            # every open stream, so its cost is paid thousands of times over
            # (bench/events.py). Cancelling a queue read loses no event.
            try:
                async with asyncio.timeout(KEEPALIVE_SECONDS):
                    event = await anext(subscription)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            except StopAsyncIteration:
                if this.shed:
                    yield f"retry: {SHED_RETRY_MS}\n\n".encode()
                return
            ended = session_ended(event)
            if ended is None:
                yield _frames(event)
            elif ended.ends(this.session):
                # Its reconnection finds no session and gets the login page, which
                # EventSource does not retry.
                log.info("closed an event stream: its session ended", extra={"user_id": user_id})
                return
    finally:
        mine = streams.get(user_id)
        if mine is not None:
            mine.pop(this, None)
            if not mine:
                del streams[user_id]
        with contextlib.suppress(Exception):
            await subscription.aclose()  # type: ignore[attr-defined]


@bp.get("/events")
@login_required
async def events() -> ResponseReturnValue:
    user = await signed_in_user()
    assert user is not None
    streams: Streams = current_app.extensions.setdefault(_STREAMS, {})
    cap = services().settings.max_event_streams_per_user
    # Subscribed before the browser hears the stream is open: the page then fetches
    # what it shows afresh (app/static/app.js), so any event it has not seen in that
    # state is one this subscription holds.
    subscription = services().events.subscribe(user.user_id)
    # Asked again now that the subscription hears its end: a session that ended between
    # the login check and subscribing would otherwise have this stream open for good.
    session_id = current_user.auth_id or ""
    if await sessions.user(services().db, session_id) is None:
        await subscription.aclose()  # type: ignore[attr-defined]
        return "", 204
    response = await make_response(
        _stream(subscription, sessions.key(session_id), user.user_id, streams, cap),
        {"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
         "X-Accel-Buffering": "no"},
    )
    assert isinstance(response, Response)
    response.timeout = None
    return response
