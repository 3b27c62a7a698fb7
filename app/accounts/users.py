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

from app.infra.db import execute, fetch, fetchrow, fetchval

Role = Literal["free", "premium"]
ROLES: tuple[Role, ...] = ("free", "premium")
TOKEN_PREFIX = "gas_"
MIN_PASSWORD = 8
MAX_PASSWORD = 1024

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
    institution: str = ""
    # None until the owner opened a link mailed to the address (or a provider vouched for it).
    email_verified_at: datetime | None = None
    # When Premium last ended: a free result's retention runs from then if it completed before.
    downgraded_at: datetime | None = None

    @property
    def premium(self) -> bool:
        return self.role == "premium"

    @property
    def verified(self) -> bool:
        return self.email_verified_at is not None


@dataclass(frozen=True)
class ApiToken:
    token_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def user_from_row(row: Any) -> User:
    return User(str(row["user_id"]), row["email"], row["name"], row["role"], row["created_at"],
                row["institution"], row["email_verified_at"], row["downgraded_at"])


def normalise_email(email: str) -> str:
    return email.strip()


async def create(
    db: Database, email: str, password: str | None, *, name: str = "", role: Role = "free",
    verified: bool = False,
) -> User:
    password_hash = _hasher.hash(password) if password is not None else None
    try:
        row = await fetchrow(
            db, "INSERT INTO users (user_id, email, name, password_hash, role, email_verified_at)"
            " VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END) RETURNING *",
            uuid.uuid4(), normalise_email(email), name.strip(), password_hash, role, verified,
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


def email_problem(email: str) -> str | None:
    if "@" not in email or len(email) > 254 or not email.isprintable():
        return "Enter a valid email address."
    return None


def password_problem(password: str) -> str | None:
    """What is wrong with a new password, in words for its owner; None when it will do."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        # Hashing is slow on purpose: a megabyte "password" would make every try cost more.
        return f"Use at most {MAX_PASSWORD} characters."
    return None


async def check_password(db: Database, user_id: str, password: str) -> bool:
    """Whether ``password`` is this account's (False for an account without one)."""
    stored = await fetchval(db, "SELECT password_hash FROM users WHERE user_id = $1", uuid.UUID(user_id))
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def set_password(db: Database, user_id: str, password: str) -> None:
    await execute(db, "UPDATE users SET password_hash = $1 WHERE user_id = $2",
                  _hasher.hash(password), uuid.UUID(user_id))


async def mark_verified(db: Database, user_id: str, email: str) -> bool:
    """The account's email is verified, if it is still ``email`` (the address the link went
    to): a link to an address the account has since left verifies nothing."""
    row = await fetchrow(
        db, "UPDATE users SET email_verified_at = coalesce(email_verified_at, now())"
        " WHERE user_id = $1 AND lower(email) = lower($2) RETURNING user_id",
        uuid.UUID(user_id), normalise_email(email),
    )
    return row is not None


async def change_email(db: Database, user_id: str, email: str) -> None:
    """The account's new address, verified (it is only changed from a link mailed there)."""
    try:
        await execute(
            db, "UPDATE users SET email = $1, email_verified_at = now() WHERE user_id = $2",
            normalise_email(email), uuid.UUID(user_id),
        )
    except UniqueViolationError as exc:
        raise EmailTaken(email) from exc


async def has_password(db: Database, user_id: str) -> bool:
    """Whether the account can sign in with a password (an OIDC-only one cannot)."""
    return bool(await fetchval(db, "SELECT password_hash IS NOT NULL FROM users WHERE user_id = $1",
                               uuid.UUID(user_id)))


async def set_profile(db: Database, user_id: str, name: str, institution: str) -> None:
    await execute(db, "UPDATE users SET name = $1, institution = $2 WHERE user_id = $3",
                  name, institution, uuid.UUID(user_id))


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
