"""Deleting an account: its subscription, every job with all its files, and every row of it.

The order protects against the user (or a stolen session) acting meanwhile and against a
deletion cut short. A running subscription is cancelled with the payment service first, so
nothing is charged for an account that no longer exists. Then every session and API token
ends, so no new upload or job can start while the jobs go; then each job goes through
:func:`app.jobs.control.delete_job` (cancelled if unfinished; input, results, table, log and
any cold copy). The mail confirming it is sent while the address is still known, and last
the user row, whose foreign keys take the subscriptions, identities, one-time links and
upload grants with it. A deletion that fails part-way leaves an account that can sign in
again (with its password or provider) and be deleted again.
"""

from __future__ import annotations

import logging
import uuid

from app.accounts import billing, sessions, users
from app.accounts.session_streams import end_session_streams
from app.accounts.users import User
from app.infra.db import execute
from app.infra.mail_templates import bodies
from app.jobs.control import delete_job
from app.ports.mail import send_unless_refused
from app.services import Services

log = logging.getLogger(__name__)


async def delete_account(services: Services, user: User) -> int:
    """Delete ``user`` and everything of theirs; how many jobs went with it."""
    ctx = {"user_id": user.user_id}
    await billing.cancel_with_provider(services, user.user_id)
    await sessions.end_all(services.db, user.user_id)
    await end_session_streams(services, user.user_id, None)
    await execute(services.db, "UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1"
                  " AND revoked_at IS NULL", uuid.UUID(user.user_id))
    deleted = 0
    # Read again until none is left: a job submitted just before the sessions ended lands late.
    while jobs := await services.jobs.all_for_user(user.user_id):
        for job in jobs:
            await delete_job(services, job)
            deleted += 1
    text, html = bodies("account_deleted", email=user.email, jobs=deleted)
    await send_unless_refused(services.mail, user.email, "Your GAS account has been deleted", text, html,
                              context=ctx)
    await execute(services.db, "DELETE FROM users WHERE user_id = $1", uuid.UUID(user.user_id))
    log.info("account deleted", extra={**ctx, "jobs": deleted})
    return deleted


def email_typed(user: User, typed: str) -> bool:
    """Whether ``typed`` is the account's address (in any case): what confirms the deletion of an
    account without a password (one a sign-in provider made), which has no password to ask."""
    return users.normalise_email(typed).lower() == user.email.lower()
