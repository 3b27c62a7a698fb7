"""Deleting an account (app/accounts/deletion.py, app/web/account_deletion.py): from /profile
after the password (or the typed email for an account without one), and DELETE /api/v1/me.
Every job goes with its files, hot and cold; tokens, sessions, subscriptions and the user row
go; a mail confirms it."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from quart import Quart
from quart.testing import QuartClient

from app.accounts import users
from app.accounts.deletion import email_typed
from app.accounts.users import User
from app.jobs.job import Job, utcnow
from app.services import Services
from app.web import events
from tests.daemons.conftest import make_job
from tests.job_states import move_result
from tests.web.conftest import bearer, csrf_from, make_user
from tests.web.sessions import person
from tests.web.test_events import open_stream
from tests.web.test_job_control import stored
from tests.web.test_pages import signed_up_user
from tests.web.test_session_streams import ends_within


def deletion_mails(services: Services, address: str) -> list[str]:
    found = []
    for path in (services.settings.data_path / "outbox").glob("*.eml"):
        text = path.read_text(errors="replace")
        if f"To: {address}" in text and "Subject: Your GAS account has been deleted" in text:
            found.append(text)
    return found


async def jobs_hot_cold_pending(services: Services, user: User) -> list[Job]:
    """A completed job with a hot result, one with its result archived, and a pending one."""
    hot = await make_job(services, user)
    cold = await make_job(services, user)
    assert cold.result_bucket and cold.result_key
    await services.cold.archive(cold.result_bucket, cold.result_key)
    assert await move_result(services.jobs, cold.job_id, "cold")
    pending = await make_job(services, user, status="pending")
    return [hot, cold, pending]


async def gone(services: Services, user: User, jobs: list[Job]) -> None:
    """Nothing of the user is left: the row (and with it subscriptions, sessions, tokens), the
    jobs, their inputs and results, and the archived copy."""
    assert await users.get(services.db, user.user_id) is None
    for table in ("subscriptions", "sessions", "api_tokens"):
        assert await services.db.fetch_val(f"SELECT count(*) FROM {table} WHERE user_id = :u",
                                           {"u": uuid.UUID(user.user_id)}) == 0
    assert await services.jobs.all_for_user(user.user_id) == []
    for job in jobs:
        assert not await stored(services, job.input_bucket, job.input_key)
        if job.result_bucket and job.result_key:
            assert not await stored(services, job.result_bucket, job.result_key)
            assert not await services.cold.is_archived(job.result_bucket, job.result_key)


async def test_profile_deletion_asks_for_the_password_then_removes_everything(
    client: QuartClient, services: Services
) -> None:
    """/profile links to a page that asks for the password; a wrong one (400) or no CSRF token
    (403) deletes nothing; the right one deletes the Premium (test-mode) account with its jobs,
    hot and cold files and token, mails the address, and signs the browser out."""
    user = await signed_up_user(client, services)
    page = await (await client.get("/subscribe")).get_data(as_text=True)
    await client.post("/subscribe",
                      form={"card_number": "4242 4242 4242 4242", "csrf_token": csrf_from(page)})
    token = await users.create_token(services.db, user.user_id, "cli")
    jobs = await jobs_hot_cold_pending(services, user)
    assert 'href="/profile/delete"' in await (await client.get("/profile")).get_data(as_text=True)
    page = await (await client.get("/profile/delete")).get_data(as_text=True)
    assert 'name="password"' in page and "Premium subscription is cancelled first" in page
    wrong = await client.post("/profile/delete", form={"password": "not-it", "csrf_token": csrf_from(page)})
    assert wrong.status_code == 400 and "not your current password" in await wrong.get_data(as_text=True)
    failures = await services.db.fetch_val("SELECT count(*) FROM login_failures WHERE account = :a",
                                           {"a": user.email})
    assert failures == 1  # counted as a failed log-in, under the same limits
    assert (await client.post("/profile/delete", form={"password": "password123"})).status_code == 403
    assert await users.get(services.db, user.user_id) is not None

    done = await client.post("/profile/delete",
                             form={"password": "password123", "csrf_token": csrf_from(page)})
    assert done.status_code == 200 and "has been deleted" in await done.get_data(as_text=True)
    await gone(services, user, jobs)
    [mail] = deletion_mails(services, user.email)
    assert "3 jobs went with it" in mail
    assert (await client.get("/profile")).status_code == 302  # signed out
    assert (await client.get("/api/v1/jobs", headers=bearer(token))).status_code == 401


async def test_api_delete_me(client: QuartClient, services: Services) -> None:
    """DELETE /api/v1/me with the account's token: 204, everything gone, a mail; the token then
    401; without a token 401 and nothing deleted."""
    user, token = await make_user(services)
    jobs = await jobs_hot_cold_pending(services, user)
    assert (await client.delete("/api/v1/me")).status_code == 401
    assert (await client.delete("/api/v1/me", headers=bearer(token))).status_code == 204
    await gone(services, user, jobs)
    assert len(deletion_mails(services, user.email)) == 1
    assert (await client.delete("/api/v1/me", headers=bearer(token))).status_code == 401


def test_account_without_password_confirms_with_its_email() -> None:
    """An account made by a sign-in provider has no password to ask: its email address typed out
    confirms the deletion (in any case, spaces around it ignored); another address does not."""
    user = User(str(uuid.uuid4()), "Ada@Example.org", "Ada", "free", utcnow())
    assert email_typed(user, " ada@example.org ")
    assert not email_typed(user, "")
    assert not email_typed(user, "someone@example.org")


async def test_deletion_closes_the_accounts_open_event_streams(
    app: Quart, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An /events stream open in the user's browser ends within a second of the account's
    deletion through the API, delivering nothing after."""
    monkeypatch.setattr(events, "KEEPALIVE_SECONDS", 0.2)  # a failing test ends quickly
    alice = await person(app, services)
    token = await users.create_token(services.db, alice.user.user_id, "cli")
    async with contextlib.AsyncExitStack() as stack:
        stream = await open_stream(stack, alice.client)
        assert (await alice.client.delete("/api/v1/me", headers=bearer(token))).status_code == 204
        assert b"event:" not in await ends_within(stream, 1.0)
