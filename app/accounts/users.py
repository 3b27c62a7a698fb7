"""Accounts and API tokens: plain SQL over the ``users`` and ``api_tokens`` tables."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from asyncpg.exceptions import UniqueViolationError
from databases import Database

from app.infra.db import execute, fetch, fetchrow

Role = Literal["free", "premium"]
ROLES: tuple[Role, ...] = ("free", "premium")
TOKEN_PREFIX = "gas_"

_hasher = PasswordHasher()
# Verifying against this when the email is unknown keeps login time the same
# whether or not an account exists.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class EmailTaken(Exception):
    pass


@dataclass(frozen=True)
class User:
    user_id: str
    email: str
    name: str
    role: Role
    created_at: datetime

    @property
    def premium(self) -> bool:
        return self.role == "premium"


@dataclass(frozen=True)
class ApiToken:
    token_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def user_from_row(row: Any) -> User:
    return User(str(row["user_id"]), row["email"], row["name"], row["role"], row["created_at"])


def normalise_email(email: str) -> str:
    return email.strip()


async def create(
    db: Database, email: str, password: str | None, *, name: str = "", role: Role = "free"
) -> User:
    password_hash = _hasher.hash(password) if password is not None else None
    try:
        row = await fetchrow(
            db, "INSERT INTO users (user_id, email, name, password_hash, role)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING *",
            uuid.uuid4(), normalise_email(email), name.strip(), password_hash, role,
        )
    except UniqueViolationError as exc:
        raise EmailTaken(email) from exc
    return user_from_row(row)


async def get(db: Database, user_id: str) -> User | None:
    try:
        uid = uuid.UUID(user_id)
    except ValueError:
        return None
    row = await fetchrow(db, "SELECT * FROM users WHERE user_id = $1", uid)
    return user_from_row(row) if row else None


async def _row_by_email(db: Database, email: str) -> Any:
    return await fetchrow(db, "SELECT * FROM users WHERE lower(email) = lower($1)", normalise_email(email))


async def get_by_email(db: Database, email: str) -> User | None:
    row = await _row_by_email(db, email)
    return user_from_row(row) if row else None


async def authenticate(db: Database, email: str, password: str) -> User | None:
    row = await _row_by_email(db, email)
    stored = row["password_hash"] if row else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        await execute(
            db, "UPDATE users SET password_hash = $1 WHERE user_id = $2",
            _hasher.hash(password), row["user_id"],
        )
    return user_from_row(row)


async def set_role(db: Database, user_id: str, role: Role) -> None:
    await execute(db, "UPDATE users SET role = $1 WHERE user_id = $2", role, uuid.UUID(user_id))


def _token_hash(token: str) -> bytes:
    # Tokens are 256 random bits: a fast hash is enough, and lets us look them up.
    return hashlib.sha256(token.encode()).digest()


async def create_token(db: Database, user_id: str, name: str = "") -> str:
    """A new API token; only its hash is stored, so this is the one time it is seen."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await execute(
        db, "INSERT INTO api_tokens (token_id, user_id, token_hash, name) VALUES ($1, $2, $3, $4)",
        uuid.uuid4(), uuid.UUID(user_id), _token_hash(token), name.strip()[:100],
    )
    return token


async def user_for_token(db: Database, token: str) -> User | None:
    row = await fetchrow(
        db, "UPDATE api_tokens SET last_used_at = now()"
        " FROM users WHERE api_tokens.user_id = users.user_id"
        " AND token_hash = $1 AND revoked_at IS NULL RETURNING users.*",
        _token_hash(token),
    )
    return user_from_row(row) if row else None


async def list_tokens(db: Database, user_id: str) -> list[ApiToken]:
    rows = await fetch(
        db, "SELECT token_id, name, created_at, last_used_at, revoked_at FROM api_tokens"
        " WHERE user_id = $1 ORDER BY created_at DESC",
        uuid.UUID(user_id),
    )
    return [
        ApiToken(str(r["token_id"]), r["name"], r["created_at"], r["last_used_at"], r["revoked_at"])
        for r in rows
    ]


async def revoke_token(db: Database, user_id: str, token_id: str) -> bool:
    try:
        tid = uuid.UUID(token_id)
    except ValueError:
        return False
    row = await fetchrow(
        db, "UPDATE api_tokens SET revoked_at = now() WHERE token_id = $1 AND user_id = $2"
        " AND revoked_at IS NULL RETURNING token_id",
        tid, uuid.UUID(user_id),
    )
    return row is not None
