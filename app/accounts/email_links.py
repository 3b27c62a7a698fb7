"""The account mails that carry a one-time link, and what opening each link does:
confirm an address (after sign-up, or from /profile), reset a forgotten password,
confirm a new address. Links are built from GAS_PUBLIC_URL, never from the request.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from app.accounts import login_limits, one_time_links, sessions, users
from app.accounts.one_time_links import Purpose
from app.accounts.session_streams import end_session_streams
from app.accounts.users import User
from app.infra.mail_templates import bodies
from app.jobs.mails import duration
from app.ports.mail import send_unless_refused
from app.services import Services

log = logging.getLogger(__name__)
_HOUR = timedelta(hours=1)
_PATHS: dict[Purpose, str] = {
    "verify-email": "/verify-email", "reset-password": "/reset-password", "change-email": "/change-email",
}


class TooMany(Exception):
    """This account was sent as many links of this kind as an hour allows."""


class LinkInvalid(Exception):
    """The link is unknown, used, expired, or for an address the account no longer has."""


def _lifetime(services: Services, purpose: Purpose) -> timedelta:
    settings = services.settings
    seconds = settings.reset_link_seconds if purpose == "reset-password" else settings.verify_link_seconds
    return timedelta(seconds=seconds)


async def _send_link(services: Services, user: User, purpose: Purpose, to: str, subject: str,
                     template: str, **context: object) -> None:
    sent = await one_time_links.recent(services.db, user.user_id, purpose, _HOUR)
    if sent >= services.settings.links_per_hour:
        raise TooMany(purpose)
    lifetime = _lifetime(services, purpose)
    token = await one_time_links.create(services.db, user.user_id, purpose, to, lifetime)
    link = f"{services.settings.public_url.rstrip('/')}{_PATHS[purpose]}/{token}"
    text, html = bodies(template, link=link, lifetime=duration(lifetime.total_seconds()), **context)
    await services.mail.send(to, subject, text, html)
    log.info("mailed a %s link", purpose, extra={"user_id": user.user_id})


async def send_verification(services: Services, user: User) -> None:
    await _send_link(services, user, "verify-email", user.email, "Confirm your email address for GAS",
                     "verify_email")


async def send_reset(services: Services, email: str) -> None:
    """A reset link to the account with this email, if there is one; nothing tells the asker
    which, so the form cannot be used to learn who has an account."""
    user = await users.get_by_email(services.db, email)
    if user is None:
        return
    try:
        await _send_link(services, user, "reset-password", user.email, "Reset your GAS password",
                         "reset_password")
    except TooMany:
        log.warning("password reset asked too often; no mail sent", extra={"user_id": user.user_id})


async def send_email_change(services: Services, user: User, new_email: str) -> None:
    """A confirmation link to the new address, and a notice to the old one."""
    await _send_link(services, user, "change-email", new_email, "Confirm your new email address for GAS",
                     "change_email", old_email=user.email)
    text, html = bodies("email_change_asked", new_email=new_email,
                        profile=f"{services.settings.public_url.rstrip('/')}/profile")
    # The link is on its way: a notice the old address cannot get does not undo that.
    await send_unless_refused(services.mail, user.email, "Your GAS email address is being changed", text,
                              html, context={"user_id": user.user_id})


async def link_works(services: Services, purpose: Purpose, token: str) -> bool:
    return await one_time_links.peek(services.db, token, purpose) is not None


async def verify(services: Services, token: str) -> str:
    """The account's email verified; its user id."""
    link = await one_time_links.use(services.db, token, "verify-email")
    if link is None or not await users.mark_verified(services.db, link.user_id, link.email):
        raise LinkInvalid(token)
    return link.user_id


async def reset_password(services: Services, token: str, password: str) -> str:
    """The new password set, every session of the account ended (and its open pages' live
    streams closed), its log-in failures and pending email change cancelled; its user id.
    Opening a link mailed to the address shows its owner reads it, so the address counts
    as verified too."""
    db = services.db
    link = await one_time_links.use(db, token, "reset-password")
    if link is None or not await users.mark_verified(db, link.user_id, link.email):
        raise LinkInvalid(token)
    await users.set_password(db, link.user_id, password)
    await sessions.end_all(db, link.user_id)
    await end_session_streams(services, link.user_id, None)
    await one_time_links.cancel(db, link.user_id, "change-email")
    # The per-account ceiling on failed log-ins is for guessers: the owner, back in by
    # mail, must not stay locked out by them.
    await login_limits.clear_account(db, link.email)
    await one_time_links.cancel(db, link.user_id, "reset-password")
    return link.user_id


async def change_password(services: Services, user: User, password: str, keep_session: str) -> None:
    """The new password set; every session but the one asking ended, and an email change under
    way cancelled (it may be a thief's who is now signed out)."""
    await users.set_password(services.db, user.user_id, password)
    await sessions.end_all(services.db, user.user_id, keep=keep_session)
    await end_session_streams(services, user.user_id, None, keep=keep_session)
    await one_time_links.cancel(services.db, user.user_id, "change-email")


async def confirm_email_change(services: Services, token: str) -> str:
    """The account's email is the address the link was mailed to; its user id.
    Raises users.EmailTaken when another account took that address meanwhile."""
    link = await one_time_links.use(services.db, token, "change-email")
    if link is None:
        raise LinkInvalid(token)
    await users.change_email(services.db, link.user_id, link.email)
    return link.user_id
