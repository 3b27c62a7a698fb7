"""The sliding window of failed log-ins, in PostgreSQL: per (account, address), per address,
and the per-account ceiling that only slows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from databases import Database

from app.accounts import login_limits
from app.accounts.login_limits import Limits
from app.infra.db import execute, fetchval

LIMITS = Limits(per_account_and_ip=3, per_ip=100, per_account=6, slowdown_seconds=20, window_seconds=600)


async def _fail_at(db: Database, email: str, ip: str, minutes_ago: float) -> None:
    await login_limits.record_failure(db, email, ip, LIMITS)
    await execute(
        db, "UPDATE login_failures SET failed_at = $1 WHERE failed_at = (SELECT max(failed_at)"
        " FROM login_failures WHERE account = $2)",
        datetime.now(UTC) - timedelta(minutes=minutes_ago), email.lower(),
    )


def _address() -> str:
    return f"2001:db8::{uuid.uuid4().hex[:4]}"


async def test_window_slides_and_retry_after_counts_to_the_oldest_that_matters(db: Database) -> None:
    """Three failures from one address 9, 5 and 1 minutes ago lock the account for that
    address until the one of 9 minutes ago leaves the 10-minute window (about 60 s);
    failures older than the window do not count, and the email's case does not matter.
    Another address is not locked out; clear_account lifts the lock."""
    email, ip = f"{uuid.uuid4().hex[:8]}@Example.org", _address()
    await _fail_at(db, email, ip, 30)
    await _fail_at(db, email, ip, 5)
    await _fail_at(db, email, ip, 1)
    assert await login_limits.locked(db, email, ip, LIMITS) is None
    await _fail_at(db, email, ip, 9)
    lock = await login_limits.locked(db, email.upper(), ip, LIMITS)
    assert lock is not None and lock.scope == "account"
    assert 55 <= lock.retry_after <= 61
    assert "Wait 1 minute," in lock.message
    assert await login_limits.locked(db, email, _address(), LIMITS) is None
    await login_limits.clear_account(db, email)
    assert await login_limits.locked(db, email, ip, LIMITS) is None


async def test_the_account_ceiling_spaces_attempts_out(db: Database) -> None:
    """Six failures from six addresses within the window: the account takes an attempt from
    any address only once 20 s have passed since its newest failure."""
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    for minutes_ago in (8, 7, 6, 5, 4):
        await _fail_at(db, email, _address(), minutes_ago)
    assert await login_limits.locked(db, email, _address(), LIMITS) is None
    await _fail_at(db, email, _address(), 0.1)  # 6 s ago
    lock = await login_limits.locked(db, email, _address(), LIMITS)
    assert lock is not None and lock.scope == "slowed" and 13 <= lock.retry_after <= 14
    assert f"Try again in {lock.retry_after} seconds." in lock.message
    await execute(db, "UPDATE login_failures SET failed_at = failed_at - interval '15 seconds'"
                  " WHERE account = $1", email)
    assert await login_limits.locked(db, email, _address(), LIMITS) is None


async def test_success_clears_only_its_pair(db: Database) -> None:
    """clear_pair forgets one address's failures for the account; another address's stay."""
    email, mine, theirs = f"{uuid.uuid4().hex[:8]}@example.org", _address(), _address()
    for _ in range(3):
        await login_limits.record_failure(db, email, mine, LIMITS)
        await login_limits.record_failure(db, email, theirs, LIMITS)
    await login_limits.clear_pair(db, email, mine)
    assert await login_limits.locked(db, email, mine, LIMITS) is None
    assert await login_limits.locked(db, email, theirs, LIMITS) is not None


async def test_old_rows_are_deleted(db: Database) -> None:
    """A failure past the window is removed at the next recorded failure, so the table
    stays as small as the window."""
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    await _fail_at(db, email, "192.0.2.1", 60)
    await login_limits.record_failure(db, "other@example.org", "192.0.2.2", LIMITS)
    left = await fetchval(db, "SELECT count(*) FROM login_failures WHERE account = $1", email)
    assert left == 0
