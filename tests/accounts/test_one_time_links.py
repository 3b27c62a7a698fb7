"""Mailed one-time links (app/accounts/one_time_links.py), on a real database."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import timedelta

from databases import Database

from app.accounts import one_time_links, users
from app.infra.db import fetch

DAY = timedelta(days=1)


async def someone(db: Database) -> users.User:
    return await users.create(db, f"{uuid.uuid4().hex[:10]}@example.org", "password123")


async def test_only_the_tokens_hash_is_stored(db: Database) -> None:
    """A copy of the table opens nothing: it holds the token's SHA-256, never the token."""
    user = await someone(db)
    token = await one_time_links.create(db, user.user_id, "reset-password", user.email, DAY)
    rows = await fetch(db, "SELECT * FROM one_time_links WHERE user_id = $1", uuid.UUID(user.user_id))
    assert [bytes(r["link_hash"]) for r in rows] == [hashlib.sha256(token.encode()).digest()]
    assert all(token not in str(value) for value in rows[0].values())
    assert len(token) >= 43  # 256 random bits


async def test_a_link_works_once_even_when_opened_twice_at_once(db: Database) -> None:
    """Two uses at the same moment (a double click, two tabs): exactly one gets the link."""
    user = await someone(db)
    token = await one_time_links.create(db, user.user_id, "verify-email", user.email, DAY)
    assert await one_time_links.peek(db, token, "verify-email") is not None
    got = await asyncio.gather(*(one_time_links.use(db, token, "verify-email") for _ in range(5)))
    assert [link for link in got if link is not None] == [
        one_time_links.Link(user.user_id, "verify-email", user.email)]
    assert await one_time_links.peek(db, token, "verify-email") is None


async def test_expired_or_other_purpose_or_unknown_links_do_not_work(db: Database) -> None:
    """A link past its time, a link of one purpose offered for another, and a made-up
    token are all refused alike."""
    user = await someone(db)
    expired = await one_time_links.create(db, user.user_id, "reset-password", user.email,
                                          timedelta(seconds=-1))
    verify = await one_time_links.create(db, user.user_id, "verify-email", user.email, DAY)
    assert await one_time_links.use(db, expired, "reset-password") is None
    assert await one_time_links.use(db, verify, "reset-password") is None
    assert await one_time_links.use(db, "made-up", "verify-email") is None
    assert await one_time_links.use(db, verify, "verify-email") is not None


async def test_cancel_ends_the_unused_links_of_one_purpose(db: Database) -> None:
    """A reset ends every other reset link of the account, and leaves its other links be."""
    user = await someone(db)
    resets = [await one_time_links.create(db, user.user_id, "reset-password", user.email, DAY)
              for _ in range(2)]
    verify = await one_time_links.create(db, user.user_id, "verify-email", user.email, DAY)
    assert await one_time_links.recent(db, user.user_id, "reset-password", timedelta(hours=1)) == 2
    await one_time_links.cancel(db, user.user_id, "reset-password")
    assert [await one_time_links.peek(db, t, "reset-password") for t in resets] == [None, None]
    assert await one_time_links.peek(db, verify, "verify-email") is not None
