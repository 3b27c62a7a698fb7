"""Ending the open ``/events`` streams of sessions that ended, on every web instance.

A stream lives in the web process that serves it (app/web/events.py), and ending a
session's row (app/accounts/sessions.py) refuses its next request, not a response already
streaming. So the end travels as a live event through the port the streams listen on
(PostgreSQL LISTEN/NOTIFY: every instance hears it), to the user's channel, naming the
sessions; each stream knows its session and ends when it is named. Logging out, logging
in again in the same browser, a password reset and an account deletion all call
:func:`end_session_streams`.

This is an accounts event, not one of app/jobs/lifecycle.py's: it is about a login, not a
job's life, and no page is told of it (app/web/events.py consumes it, never forwards it).
Sessions are named by the hash the sessions table keeps, never by their id: the id is the
login cookie's secret, and a NOTIFY payload may reach database logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from app.accounts import sessions
from app.ports.events import Events

SESSION_ENDED: Final = "session-ended"


class HasEvents(Protocol):
    """What ending streams needs of :class:`app.services.Services`."""

    events: Events


@dataclass(frozen=True)
class SessionEnded:
    """Live: these sessions of the user ended (their keys); ``None``: every session but ``keep``."""

    ended: frozenset[str] | None
    keep: str | None = None

    def ends(self, key: str) -> bool:
        return key != self.keep if self.ended is None else key in self.ended

    def payload(self) -> dict[str, Any]:
        if self.ended is None:
            return {"type": SESSION_ENDED, "every": True, "keep": self.keep}
        return {"type": SESSION_ENDED, "sessions": sorted(self.ended)}


def session_ended(event: dict[str, Any]) -> SessionEnded | None:
    """The event as a SessionEnded (the events port hands back the JSON); None if it is not one."""
    if event.get("type") != SESSION_ENDED:
        return None
    if event.get("every") is True:
        keep = event.get("keep")
        return SessionEnded(None, keep if isinstance(keep, str) else None)
    named = event.get("sessions")
    return SessionEnded(frozenset(k for k in named if isinstance(k, str)) if isinstance(named, list)
                        else frozenset())


async def end_session_streams(
    services: HasEvents, user_id: str, session_ids: Iterable[str] | None, *, keep: str | None = None
) -> None:
    """Close the open event streams of these sessions of ``user_id`` (ids as in the login
    cookie), or with ``None`` of every session of theirs but ``keep``, on every web instance,
    within moments. Call it once the sessions' rows are gone, so no new stream can open."""
    event = (SessionEnded(None, sessions.key(keep) if keep else None) if session_ids is None
             else SessionEnded(frozenset(sessions.key(s) for s in session_ids)))
    await services.events.publish(user_id, event.payload())
