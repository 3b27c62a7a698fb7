"""Premium subscriptions: plain SQL over the ``subscriptions`` table.

Recording a paid subscription and making its user Premium happen in one
transaction, so there is never a payment without the role or the role without
the record. Then ``user-upgraded`` is published (the restorer brings archived
results back); ``announced_at`` remembers that it was, and any upgrade not yet
announced is announced again by the next call for that user.

A subscription ends (``ended_at``) when the provider says so — its latest state is kept
in ``subscription_states`` with the time of the event that said it, so that events
delivered out of order leave the newest — or when the user or the operator cancels it.
Its user becomes free, with ``downgraded_at`` set, in the same transaction, unless
another subscription of theirs is still running; :mod:`app.accounts.billing` then
queues their results for the archiver.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid

from databases import Database

from app.infra.db import execute, fetch, fetchrow, fetchval
from app.jobs.lifecycle import USER_UPGRADED, UserUpgraded
from app.ports.bus import Bus
from app.ports.payments import ENDED, Paid, PaymentFailed, SubscriptionChanged

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
        # The provider may have said it ended before the checkout's own event arrived.
        status = await fetchval(db, "SELECT status FROM subscription_states WHERE provider = $1"
                                " AND reference = $2", paid.provider, paid.reference)
        ended = status in ENDED
        row = await fetchrow(
            db, "INSERT INTO subscriptions"
            " (subscription_id, user_id, provider, reference, event_id, customer, ended_at, announced_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN now() END, CASE WHEN $7 THEN now() END)"
            " ON CONFLICT DO NOTHING RETURNING subscription_id",
            uuid.uuid4(), uuid.UUID(paid.user_id), paid.provider, paid.reference, paid.event_id,
            paid.customer, ended,
        )
        if row is None:
            return False
        if ended:
            log.warning("checkout completed for a subscription that has ended since; not applied",
                        extra={"user_id": paid.user_id, "reference": paid.reference})
        else:
            await execute(db, "UPDATE users SET role = 'premium' WHERE user_id = $1", uuid.UUID(paid.user_id))
    return True


# The user becomes free if no subscription of theirs is running still (an operator's grant has
# none: it ends too).
_END_PREMIUM = (
    "UPDATE users SET role = 'free', downgraded_at = now(), downgrade_queued_at = NULL"
    " WHERE user_id = $1 AND role = 'premium'"
    " AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = $1 AND ended_at IS NULL)"
    " RETURNING user_id"
)


async def _first_delivery(db: Database, event_id: str) -> bool:
    """Remember the webhook event; False if it was seen before (Stripe delivers at least once)."""
    return await fetchval(db, "INSERT INTO webhook_events (event_id) VALUES ($1)"
                          " ON CONFLICT DO NOTHING RETURNING true", event_id) is not None


async def apply_change(db: Database, change: SubscriptionChanged) -> str | None:
    """Keep the provider's newer state of a subscription; the user id whose Premium it ended, or
    None (an event seen before, older than the state kept, not an end, or for no user here)."""
    async with db.transaction():
        if not await _first_delivery(db, change.event_id):
            return None
        # An older event than the one kept changes nothing; at the same second, an end wins.
        newer = await fetchval(
            db, "INSERT INTO subscription_states"
            " (provider, reference, status, cancel_at_period_end, current_period_end, event_created)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (provider, reference) DO UPDATE SET"
            " status = excluded.status, cancel_at_period_end = excluded.cancel_at_period_end,"
            " current_period_end = excluded.current_period_end, event_created = excluded.event_created"
            " WHERE subscription_states.event_created < excluded.event_created"
            " OR (subscription_states.event_created = excluded.event_created AND $7)"
            " RETURNING true",
            change.provider, change.reference, change.status, change.cancel_at_period_end,
            change.current_period_end, change.created, change.ended,
        )
        if newer is None or not change.ended:
            return None
        user_id = await fetchval(
            db, "UPDATE subscriptions SET ended_at = now() WHERE provider = $1 AND reference = $2"
            " AND ended_at IS NULL RETURNING user_id", change.provider, change.reference)
        if user_id is None:
            return None
        ended = await fetchval(db, _END_PREMIUM, user_id)
    return str(ended) if ended is not None else None


async def owner(db: Database, provider: str, reference: str) -> str | None:
    """The user whose subscription ``reference`` is, if it is one of this server's."""
    found = await fetchval(db, "SELECT user_id FROM subscriptions WHERE provider = $1 AND reference = $2",
                           provider, reference)
    return str(found) if found is not None else None


async def payment_failed(db: Database, failed: PaymentFailed) -> bool:
    """Remember that a renewal failed; False if this event was seen before. Premium stays while the
    provider retries: the subscription's own events say when it ends."""
    async with db.transaction():
        return await _first_delivery(db, failed.event_id)


@dataclasses.dataclass(frozen=True)
class Running:
    """A subscription not ended: by whom (``provider``) and under which ``reference``."""

    provider: str
    reference: str
    customer: str | None


async def running(db: Database, user_id: str) -> list[Running]:
    """The user's subscriptions that have not ended, newest first."""
    rows = await fetch(db, "SELECT provider, reference, customer FROM subscriptions WHERE user_id = $1"
                       " AND ended_at IS NULL ORDER BY created_at DESC", uuid.UUID(user_id))
    return [Running(r["provider"], r["reference"], r["customer"]) for r in rows]


async def end(db: Database, user_id: str) -> bool:
    """End every subscription of the user and make them free; False if they were free already."""
    async with db.transaction():
        await execute(db, "UPDATE subscriptions SET ended_at = now() WHERE user_id = $1"
                      " AND ended_at IS NULL", uuid.UUID(user_id))
        return await fetchval(db, _END_PREMIUM, uuid.UUID(user_id)) is not None


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
