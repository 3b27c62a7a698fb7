"""The sliding window of failed log-ins, in PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from databases import Database

from app.accounts import login_limits
from app.accounts.login_limits import Limits
from app.infra.db import execute, fetchval

LIMITS = Limits(per_account=3, per_ip=100, window_seconds=600)


async def _fail_at(db: Database, email: str, ip: str, minutes_ago: float) -> None:
    await login_limits.record_failure(db, email, ip, LIMITS)
    await execute(
        db, "UPDATE login_failures SET failed_at = $1 WHERE failed_at = (SELECT max(failed_at)"
        " FROM login_failures WHERE subject = $2)",
        datetime.now(UTC) - timedelta(minutes=minutes_ago), email.lower(),
    )


async def test_window_slides_and_retry_after_counts_to_the_oldest_that_matters(db: Database) -> None:
    """Three failures 9, 5 and 1 minutes ago lock the account until the one of 9 minutes
    ago leaves the 10-minute window (about 60 s); failures older than the window
    do not count, and the email's case does not matter."""
    email, ip = f"{uuid.uuid4().hex[:8]}@Example.org", f"2001:db8::{uuid.uuid4().hex[:4]}"
    await _fail_at(db, email, ip, 30)
    await _fail_at(db, email, ip, 5)
    await _fail_at(db, email, ip, 1)
    assert await login_limits.locked(db, email, ip, LIMITS) is None
    await _fail_at(db, email, ip, 9)
    lock = await login_limits.locked(db, email.upper(), "2001:db8::ffff", LIMITS)
    assert lock is not None and lock.scope == "account"
    assert 55 <= lock.retry_after <= 61
    assert "Wait 1 minute," in lock.message
    await login_limits.clear_account(db, email)
    assert await login_limits.locked(db, email, ip, LIMITS) is None


async def test_old_rows_are_deleted(db: Database) -> None:
    """A failure past the window is removed at the next recorded failure, so the table
    stays as small as the window."""
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    await _fail_at(db, email, "192.0.2.1", 60)
    await login_limits.record_failure(db, "other@example.org", "192.0.2.2", LIMITS)
    left = await fetchval(db, "SELECT count(*) FROM login_failures WHERE subject = $1", email)
    assert left == 0
