"""How many failed log-ins an account and a client address may have: a sliding window
kept in PostgreSQL (the ``login_failures`` table), so it holds across web instances.

Failures are counted per email as typed (whether or not the account exists, so the
answer tells nothing about which emails have accounts) and per client address.
A success clears the account's failures, not the address's: one's own password must
not buy an address more guesses at other accounts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from databases import Database

from app.accounts.users import normalise_email
from app.infra.db import execute, fetchrow


@dataclass(frozen=True)
class Limits:
    per_account: int
    per_ip: int
    window_seconds: int


@dataclass(frozen=True)
class Locked:
    """Log-in refused for now: which limit, and when to try again."""

    scope: str
    retry_after: int

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
        whose = "for this account" if self.scope == "account" else "from your network"
        return (f"Too many failed log-ins {whose}. Wait {wait}, then try again; "
                "check the email address and that Caps Lock is off.")


def _subjects(email: str, ip: str) -> list[tuple[str, str]]:
    # An email longer than any real one is cut, so that a row stays small.
    return [("account", normalise_email(email).lower()[:320]), ("ip", ip)]


async def locked(db: Database, email: str, ip: str, limits: Limits) -> Locked | None:
    """Whether this attempt must be refused before the password is even checked."""
    now = datetime.now(UTC)
    window = timedelta(seconds=limits.window_seconds)
    worst: Locked | None = None
    for (scope, subject), allowed in zip(_subjects(email, ip), (limits.per_account, limits.per_ip),
                                         strict=True):
        # The allowed-th most recent failure in the window: once it ages out, one more
        # attempt is allowed again.
        row = await fetchrow(
            db, "SELECT failed_at FROM login_failures WHERE scope = $1 AND subject = $2"
            " AND failed_at > $3 ORDER BY failed_at DESC OFFSET $4 LIMIT 1",
            scope, subject, now - window, allowed - 1,
        )
        if row is not None:
            wait = math.ceil((row["failed_at"] + window - now).total_seconds())
            if worst is None or wait > worst.retry_after:
                worst = Locked(scope, max(1, wait))
    return worst


async def record_failure(db: Database, email: str, ip: str, limits: Limits) -> None:
    async with db.transaction():
        for scope, subject in _subjects(email, ip):
            await execute(
                db, "INSERT INTO login_failures (scope, subject) VALUES ($1, $2)", scope, subject
            )
        # Keep the table as small as the window: what is older no longer counts.
        await execute(
            db, "DELETE FROM login_failures WHERE failed_at < $1",
            datetime.now(UTC) - timedelta(seconds=limits.window_seconds),
        )


async def clear_account(db: Database, email: str) -> None:
    await execute(
        db, "DELETE FROM login_failures WHERE scope = 'account' AND subject = $1",
        _subjects(email, "")[0][1],
    )
