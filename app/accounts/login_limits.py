"""How many failed log-ins may be made, counted so that nobody can lock an owner out: a
sliding window kept in PostgreSQL (the ``login_failures`` table), so it holds across web
instances.

Each failure names the account (the email as typed, whether or not an account has it, so
the answers tell nothing about which emails have accounts) and the client's address.
Three limits, each over the window:

- per (account, address) pair: guessing one account's password from one place stops;
  the account's owner, elsewhere, is not affected;
- per address: guessing many accounts' passwords from one place stops;
- per account, much higher: guessing from many places is slowed, never stopped: past it
  the account takes one attempt every few seconds, from anywhere, so that its owner gets
  in after a short wait however many addresses an attacker has.

A success clears its pair's failures only: one's own password must not buy an address
more guesses at other accounts, nor reset what a spread-out attack has counted against
the account. A password reset clears all of the account's (:func:`clear_account`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from databases import Database

from app.accounts.users import normalise_email
from app.infra.db import execute, fetchrow

Scope = Literal["account", "ip", "slowed"]


@dataclass(frozen=True)
class Limits:
    per_account_and_ip: int
    per_ip: int
    per_account: int
    slowdown_seconds: int
    window_seconds: int


@dataclass(frozen=True)
class Locked:
    """Log-in refused for now: which limit, and when to try again."""

    scope: Scope
    retry_after: int

    @property
    def message(self) -> str:
        if self.scope == "slowed":
            wait = f"{self.retry_after} second{'s' if self.retry_after != 1 else ''}"
            return (f"Many log-ins for this account have failed lately, so it takes one try every "
                    f"few seconds. Try again in {wait}.")
        minutes = max(1, math.ceil(self.retry_after / 60))
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
        whose = "for this account from your network" if self.scope == "account" else "from your network"
        return (f"Too many failed log-ins {whose}. Wait {wait}, then try again; "
                "check the email address and that Caps Lock is off.")


def _account(email: str) -> str:
    # An email longer than any real one is cut, so that a row stays small.
    return normalise_email(email).lower()[:320]


async def _nth_newest(db: Database, where: str, args: tuple[object, ...], n: int,
                      since: datetime) -> datetime | None:
    """When the n-th newest failure matching ``where`` (since ``since``) was; None if fewer."""
    row = await fetchrow(
        db, f"SELECT failed_at FROM login_failures WHERE {where} AND failed_at > ${len(args) + 1}"
        f" ORDER BY failed_at DESC OFFSET ${len(args) + 2} LIMIT 1", *args, since, n - 1,
    )
    return None if row is None else row["failed_at"]  # type: ignore[no-any-return]


async def locked(db: Database, email: str, ip: str, limits: Limits) -> Locked | None:
    """Whether this attempt must be refused before the password is even checked."""
    now = datetime.now(UTC)
    window = timedelta(seconds=limits.window_seconds)
    account = _account(email)
    checks: list[tuple[Scope, str, tuple[object, ...], int]] = [
        ("account", "account = $1 AND client = $2", (account, ip), limits.per_account_and_ip),
        ("ip", "client = $1", (ip,), limits.per_ip),
    ]
    worst: Locked | None = None
    for scope, where, args, allowed in checks:
        # The allowed-th most recent failure in the window: once it ages out, one more
        # attempt is allowed again.
        oldest_that_counts = await _nth_newest(db, where, args, allowed, now - window)
        if oldest_that_counts is not None:
            wait = max(1, math.ceil((oldest_that_counts + window - now).total_seconds()))
            if worst is None or wait > worst.retry_after:
                worst = Locked(scope, wait)
    if worst is None and await _nth_newest(db, "account = $1", (account,), limits.per_account,
                                           now - window) is not None:
        newest = await _nth_newest(db, "account = $1", (account,), 1, now - window)
        assert newest is not None
        wait = math.ceil((newest + timedelta(seconds=limits.slowdown_seconds) - now).total_seconds())
        if wait > 0:
            worst = Locked("slowed", wait)
    return worst


async def record_failure(db: Database, email: str, ip: str, limits: Limits) -> None:
    async with db.transaction():
        await execute(db, "INSERT INTO login_failures (account, client) VALUES ($1, $2)", _account(email), ip)
        # Keep the table as small as the window: what is older no longer counts.
        await execute(
            db, "DELETE FROM login_failures WHERE failed_at < $1",
            datetime.now(UTC) - timedelta(seconds=limits.window_seconds),
        )


async def clear_pair(db: Database, email: str, ip: str) -> None:
    """After a successful log-in: that address's failures for that account are forgiven."""
    await execute(db, "DELETE FROM login_failures WHERE account = $1 AND client = $2", _account(email), ip)


async def clear_account(db: Database, email: str) -> None:
    """Every failure counted against the account, from anywhere: for a password reset, whose
    emailed link proves the owner and lets them log in at once."""
    await execute(db, "DELETE FROM login_failures WHERE account = $1", _account(email))
