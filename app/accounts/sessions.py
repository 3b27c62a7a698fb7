"""Signed-in browser sessions, kept in PostgreSQL.

The login cookie (signed by quart-auth) holds a random session id; the table
holds its hash, its user and when it expires. Every signed-in request reads
the user through its session in one query, so logging out (deleting the row)
ends that session everywhere a copy of the cookie went.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from databases import Database

from app.accounts.users import User, user_from_row
from app.infra.db import connection, execute, fetchrow


def _hash(session_id: str) -> bytes:
    # 256 random bits: a fast hash is enough, and lets us look the session up.
    return hashlib.sha256(session_id.encode()).digest()


def key(session_id: str) -> str:
    """A session's name outside its cookie: the hash the table keeps, in hex."""
    return _hash(session_id).hex()


async def start(db: Database, user_id: str, lifetime: timedelta) -> str:
    """A new session of ``user_id``; the id goes in the cookie, never in the database.
    Expired sessions (anyone's) are cleared on the way: log-ins are rare enough."""
    session_id = secrets.token_urlsafe(32)
    uid = uuid.UUID(user_id)
    async with connection(db) as raw:
        await raw.execute("DELETE FROM sessions WHERE expires_at <= now()")
        await raw.execute(
            "INSERT INTO sessions (session_hash, user_id, expires_at) VALUES ($1, $2, now() + $3)",
            _hash(session_id), uid, lifetime,
        )
    return session_id


async def user(db: Database, session_id: str) -> User | None:
    """The user of a live session; None once it was ended or has expired."""
    row = await fetchrow(
        db, "SELECT users.* FROM sessions JOIN users USING (user_id)"
        " WHERE session_hash = $1 AND expires_at > now()",
        _hash(session_id),
    )
    return user_from_row(row) if row else None


async def end(db: Database, session_id: str) -> None:
    await execute(db, "DELETE FROM sessions WHERE session_hash = $1", _hash(session_id))


async def end_all(db: Database, user_id: str, *, keep: str | None = None) -> None:
    """End every session of the account but ``keep`` (the one asking, when it stays signed in):
    after a password is reset or changed, or a sign-in provider linked, no earlier browser
    stays in."""
    await execute(
        db, "DELETE FROM sessions WHERE user_id = $1 AND session_hash IS DISTINCT FROM $2",
        uuid.UUID(user_id), _hash(keep) if keep else None,
    )
