"""A session's open /events streams end with it, on every web instance; the same user's
other sessions keep theirs (app/accounts/session_streams.py)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from datetime import timedelta

import pytest
from databases import Database
from quart import Quart
from quart.testing import QuartClient

from app.accounts import email_links, one_time_links, session_streams, sessions
from app.accounts.users import User
from app.services import Services
from app.web import events
from tests.web.sessions import Person, log_in, person
from tests.web.test_events import open_stream, read_until
from tests.web.test_login import copy_of


@pytest.fixture(autouse=True)
def quick_keepalive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streams notice a disconnect at their next write: a failing test ends quickly."""
    monkeypatch.setattr(events, "KEEPALIVE_SECONDS", 0.2)


async def ends_within(connection, seconds: float) -> bytes:  # type: ignore[no-untyped-def]
    """What the stream sends until it ends, which must be within ``seconds``."""
    sent = b""
    try:
        async with asyncio.timeout(seconds):
            while (chunk := await connection.receive()) != b"":
                sent += chunk
    except TimeoutError:
        await connection.disconnect()
        raise AssertionError(f"the stream is still open after {seconds} s") from None
    return sent


def session_id(client: QuartClient) -> str:
    """The session id in the client's login cookie (quart-auth's signed payload)."""
    cookie = next(c.value or "" for c in client.cookie_jar if c.name == "QUART_AUTH")  # type: ignore[union-attr]
    payload = cookie.split(".", 1)[0]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def job_event(services: Services, owner: Person, job_id: str) -> None:
    await services.events.publish(owner.user.user_id, {"type": "job", "job_id": job_id,
                                                       "status": "running", "progress": 1})


async def test_logout_ends_the_sessions_streams_at_once(
    app: Quart, second_instance: Quart, services: Services
) -> None:
    """Two streams of one browser (one on each web instance) and one of the same user's other
    browser are open; the first browser logs out on one instance. Both its streams end
    within a second and deliver nothing after; the other browser's stream still gets events."""
    alice = await person(app, services)
    other_browser = app.test_client()
    assert (await log_in(other_browser, alice.user.email)).status_code == 302
    on_second = copy_of(second_instance, alice.client)
    async with contextlib.AsyncExitStack() as stack:
        mine = [await open_stream(stack, alice.client), await open_stream(stack, on_second)]
        theirs = await open_stream(stack, other_browser)
        started = time.monotonic()
        out = await alice.client.post("/logout", form={"csrf_token": await alice.csrf()})
        assert out.status_code == 302
        for stream in mine:
            assert b"event:" not in await ends_within(stream, 1.0)
        assert time.monotonic() - started < 1.5
        await job_event(services, alice, "after-logout")
        assert b"job-after-logout" in await read_until(theirs, b"job-after-logout")
        await theirs.disconnect()


async def test_a_session_ended_while_its_stream_opens_gets_no_stream(
    app: Quart, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session ends after /events checked the login and before it subscribed (its end
    event went to no stream): the stream is not opened (204: EventSource stops retrying)."""
    alice = await person(app, services)
    real, looks = sessions.user, 0

    async def ends_after_the_login_check(db: Database, session: str) -> User | None:
        nonlocal looks
        looks += 1
        return await real(db, session) if looks == 1 else None

    monkeypatch.setattr(sessions, "user", ends_after_the_login_check)
    async with alice.client.request("/events") as connection:
        await connection.send_complete()
        assert await ends_within(connection, 1.0) == b""
    assert connection.status_code == 204 and looks == 2


async def test_every_session_but_one_can_be_ended(app: Quart, services: Services) -> None:
    """end_session_streams with no sessions named (a password reset: every session but the
    one that reset it) ends the user's other streams and keeps the named one's; another
    user's streams are untouched. Events of no kind a page knows are never forwarded."""
    alice, bob = await person(app, services), await person(app, services)
    other_browser: QuartClient = app.test_client()
    assert (await log_in(other_browser, alice.user.email)).status_code == 302
    async with contextlib.AsyncExitStack() as stack:
        kept, ended, bobs = [await open_stream(stack, c) for c in (alice.client, other_browser, bob.client)]
        await session_streams.end_session_streams(services, alice.user.user_id, None,
                                                  keep=session_id(alice.client))
        assert b"event:" not in await ends_within(ended, 1.0)
        await job_event(services, alice, "still-here")
        await job_event(services, bob, "bob-too")
        kept_saw = await read_until(kept, b"job-still-here")
        assert b"session-ended" not in kept_saw
        assert b"job-bob-too" in await read_until(bobs, b"job-bob-too")
        for stream in (kept, bobs):
            await stream.disconnect()



async def test_a_password_reset_and_a_password_change_end_the_streams_they_sign_out(
    app: Quart, services: Services
) -> None:
    """Changing the password keeps the asking session's stream and ends the other's; a reset
    by mailed link then ends every stream of the account."""
    alice = await person(app, services)
    other_browser = app.test_client()
    assert (await log_in(other_browser, alice.user.email)).status_code == 302
    async with contextlib.AsyncExitStack() as stack:
        asking, other = [await open_stream(stack, c) for c in (alice.client, other_browser)]
        await email_links.change_password(services, alice.user, "a new long password",
                                          keep_session=session_id(alice.client))
        assert b"event:" not in await ends_within(other, 1.0)
        token = await one_time_links.create(services.db, alice.user.user_id, "reset-password",
                                            alice.user.email, timedelta(hours=1))
        await job_event(services, alice, "before-reset")
        assert b"job-before-reset" in await read_until(asking, b"job-before-reset")
        await email_links.reset_password(services, token, "another long password")
        assert b"event:" not in await ends_within(asking, 1.0)
