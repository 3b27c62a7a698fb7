"""Premium subscriptions: plain SQL over the ``subscriptions`` table.

Recording a paid subscription and making its user Premium happen in one
transaction, so there is never a payment without the role or the role without
the record. Then ``user-upgraded`` is published (the restorer brings archived
results back); ``announced_at`` remembers that it was, and any upgrade not yet
announced is announced again by the next call for that user.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid

from databases import Database

from app.infra.db import execute, fetchrow, fetchval
from app.jobs.lifecycle import USER_UPGRADED, UserUpgraded
from app.ports.bus import Bus
from app.ports.payments import Paid

log = logging.getLogger(__name__)


class UnknownUser(Exception):
    """A payment that names no GAS account: not a user id, or no such user."""


async def record(db: Database, paid: Paid) -> bool:
    """Store the subscription and make the user Premium; False if it was stored before
    (the same webhook event, or the same provider reference, again)."""
    async with db.transaction():
        # Locked until commit, so the account cannot be deleted under the new row.
        if await fetchval(db, "SELECT 1 FROM users WHERE user_id = $1 FOR KEY SHARE",
                          uuid.UUID(paid.user_id)) is None:
            raise UnknownUser(paid.user_id)
        # No conflict target: a repeated event id or provider reference is a no-op,
        # also when a concurrent delivery of it commits first.
        row = await fetchrow(
            db, "INSERT INTO subscriptions (subscription_id, user_id, provider, reference, event_id)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING subscription_id",
            uuid.uuid4(), uuid.UUID(paid.user_id), paid.provider, paid.reference, paid.event_id,
        )
        if row is None:
            return False
        await execute(db, "UPDATE users SET role = 'premium' WHERE user_id = $1", uuid.UUID(paid.user_id))
    return True


async def announce(db: Database, bus: Bus, user_id: str) -> None:
    """Publish ``user-upgraded`` if any of the user's subscriptions has not been yet."""
    pending = await fetchval(
        db, "SELECT count(*) FROM subscriptions WHERE user_id = $1 AND announced_at IS NULL",
        uuid.UUID(user_id),
    )
    if not pending:
        return
    await bus.publish(USER_UPGRADED, UserUpgraded(user_id).encode())
    await execute(
        db, "UPDATE subscriptions SET announced_at = now() WHERE user_id = $1 AND announced_at IS NULL",
        uuid.UUID(user_id),
    )
    log.info("user upgraded", extra={"user_id": user_id})


async def upgrade(db: Database, bus: Bus, paid: Paid) -> bool:
    """Record ``paid`` and announce it; False if it had been recorded before.
    :class:`UnknownUser` if it names no account (a webhook's metadata can name anything)."""
    try:
        paid = dataclasses.replace(paid, user_id=str(uuid.UUID(paid.user_id)))
    except ValueError as exc:
        raise UnknownUser(paid.user_id) from exc
    fresh = await record(db, paid)
    await announce(db, bus, paid.user_id)
    return fresh
