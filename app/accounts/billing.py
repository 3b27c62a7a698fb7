"""Premium ending: cancelled with the payment service, the role made free, and the user's hot
results put on the free retention clock from the downgrade.

Every way Premium ends goes through :func:`finish_downgrade`: a Stripe webhook (after
:func:`app.accounts.subscriptions.apply_change`), the test-mode cancel on /profile and
``gas users role EMAIL free`` (both :func:`downgrade`). The role changes in one transaction;
queueing the results for the archiver and the mail follow, and ``downgrade_queued_at``
remembers that they were, so a downgrade cut short is finished by the next call.
"""

from __future__ import annotations

import logging
import uuid

from app.accounts import subscriptions, users
from app.infra.db import execute, fetchval
from app.jobs import mails
from app.jobs.job import COMPLETED
from app.jobs.storage import queue_archive
from app.ports.mail import send_unless_refused
from app.services import Services

log = logging.getLogger(__name__)


async def downgrade(services: Services, user_id: str) -> bool:
    """End the user's Premium now: their subscriptions with this server's payment service are
    cancelled there first (so no further payment is taken), then the role; False if they were
    free already."""
    await cancel_with_provider(services, user_id)
    ended = await subscriptions.end(services.db, user_id)
    await finish_downgrade(services, user_id)
    return ended


async def cancel_with_provider(services: Services, user_id: str) -> None:
    """Cancel the user's running subscriptions with this server's payment service, so that
    nothing more is charged (the operator's grants and other services' have nothing to cancel)."""
    payments = services.payments
    for running in await subscriptions.running(services.db, user_id):
        if running.provider == payments.provider:
            await payments.cancel(running.reference)


async def finish_downgrade(services: Services, user_id: str) -> None:
    """Queue a downgraded user's hot results for the archiver, due at the free retention from
    the downgrade, and tell them; nothing if that was done, or they are Premium again."""
    user = await users.get(services.db, user_id)
    if user is None or user.premium or user.downgraded_at is None:
        return
    if await fetchval(services.db, "SELECT downgrade_queued_at FROM users WHERE user_id = $1",
                      uuid.UUID(user_id)) is not None:
        return
    hot = [job for job in await services.jobs.all_for_user(user_id)
           if job.status == COMPLETED and job.storage == "hot"]
    for job in hot:
        await queue_archive(services, job, user)
    told = mails.downgraded(services.settings, hot, user.downgraded_at)
    await send_unless_refused(services.mail, user.email, *told, context={"user_id": user_id})
    await execute(services.db, "UPDATE users SET downgrade_queued_at = now() WHERE user_id = $1",
                  uuid.UUID(user_id))
    log.info("premium ended; results queued for the archiver",
             extra={"user_id": user_id, "results": len(hot)})
