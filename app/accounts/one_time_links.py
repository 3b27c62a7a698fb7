"""Links mailed to a person that work once and not for long: plain SQL over ``one_time_links``.

A link carries a random token; the table keeps its SHA-256 (256 random bits need no slow
hash), so reading the table gives no one a working link. Using a link is one conditional
UPDATE, so two clicks at once cannot both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from databases import Database

from app.infra.db import connection, execute, fetchrow, fetchval

Purpose = Literal["verify-email", "reset-password", "change-email"]


@dataclass(frozen=True)
class Link:
    user_id: str
    purpose: Purpose
    # Where the link was mailed: the account's address, or the new one for change-email.
    email: str


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def create(db: Database, user_id: str, purpose: Purpose, email: str, lifetime: timedelta) -> str:
    """A new link's token (the one time it is seen). Expired links (anyone's) are cleared
    on the way, as sessions are: links are made rarely."""
    token = secrets.token_urlsafe(32)
    async with connection(db) as raw:
        await raw.execute("DELETE FROM one_time_links WHERE expires_at <= now()")
        await raw.execute(
            "INSERT INTO one_time_links (link_hash, user_id, purpose, email, expires_at)"
            " VALUES ($1, $2, $3, $4, now() + $5)",
            _hash(token), uuid.UUID(user_id), purpose, email, lifetime,
        )
    return token


async def recent(db: Database, user_id: str, purpose: Purpose, within: timedelta) -> int:
    """How many links of this purpose the account was sent lately: a cap on mails to one inbox."""
    count = await fetchval(
        db, "SELECT count(*) FROM one_time_links WHERE user_id = $1 AND purpose = $2"
        " AND created_at > now() - $3::interval",
        uuid.UUID(user_id), purpose, within,
    )
    return int(count)


# A link that still works: unused, unexpired, of the purpose it is offered for.
_LIVE = "link_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()"


async def _live(db: Database, query: str, token: str, purpose: Purpose) -> Link | None:
    row = await fetchrow(db, query, _hash(token), purpose)
    return Link(str(row["user_id"]), purpose, row["email"]) if row else None


async def peek(db: Database, token: str, purpose: Purpose) -> Link | None:
    """The link, if it would still work: for the page that asks to confirm, which must not
    use it up (mail scanners open links)."""
    return await _live(db, f"SELECT user_id, email FROM one_time_links WHERE {_LIVE}", token, purpose)


async def use(db: Database, token: str, purpose: Purpose) -> Link | None:
    """The link, used up; None when unknown, of another purpose, used or expired."""
    return await _live(
        db, f"UPDATE one_time_links SET used_at = now() WHERE {_LIVE} RETURNING user_id, email",
        token, purpose,
    )


async def cancel(db: Database, user_id: str, purpose: Purpose) -> None:
    """Every unused link of this purpose stops working: one reset ends the others."""
    await execute(
        db, "UPDATE one_time_links SET used_at = now() WHERE user_id = $1 AND purpose = $2"
        " AND used_at IS NULL",
        uuid.UUID(user_id), purpose,
    )
