"""Accounts at OpenID Connect providers, linked to GAS users: plain SQL over ``identities``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from databases import Database

from app.accounts import users
from app.accounts.oidc import Identity
from app.accounts.users import User
from app.infra.db import fetchrow

# Two first sign-ins of one identity at once: the loser starts over and finds the winner's link.
_ATTEMPTS = 3


class EmailInUse(Exception):
    """A GAS account has this email, and the provider does not vouch for the address."""


class AccountUnverified(Exception):
    """A GAS account has this email, and its owner never showed they read mail there: it may
    be someone else's made in that person's name, so it is not linked to (pre-hijacking)."""


class NoEmail(Exception):
    """The provider shared no email address, and a GAS account needs one."""


class _Raced(Exception):
    pass


async def user_for(db: Database, issuer: str, subject: str) -> User | None:
    """The user this identity is linked to, noting the sign-in."""
    row = await fetchrow(
        db, "UPDATE identities SET last_login_at = now() WHERE issuer = $1 AND subject = $2"
        " RETURNING user_id",
        issuer, subject,
    )
    return await users.get(db, str(row["user_id"])) if row else None


@dataclass(frozen=True)
class SignIn:
    user: User
    # This sign-in linked the identity to an account that existed before it.
    linked: bool = False


async def sign_in(db: Database, identity: Identity) -> SignIn:
    """The user of this identity: the one already linked; else the account with the same
    email when both the provider and that account have verified the address; else a new
    account (verified when the provider says the address is).

    Linking on an address the provider does not vouch for would let anyone who can make
    an account at the provider with someone else's address take over their GAS account;
    linking to a GAS account whose address was never verified would hand the person's
    sign-ins to whoever made that account in their name.
    """
    for _ in range(_ATTEMPTS):
        found = await user_for(db, identity.issuer, identity.subject)
        if found is not None:
            return SignIn(found)
        if not identity.email:
            raise NoEmail(identity.subject)
        try:
            return await _link_or_create(db, identity, identity.email)
        except (_Raced, users.EmailTaken):
            continue
    raise RuntimeError(f"could not link {identity.issuer} {identity.subject} after {_ATTEMPTS} attempts")


async def _link_or_create(db: Database, identity: Identity, email: str) -> SignIn:
    async with db.transaction():
        user = await users.get_by_email(db, email)
        if user is not None and not identity.email_verified:
            raise EmailInUse(email)
        if user is not None and not user.verified:
            raise AccountUnverified(email)
        linked = user is not None
        if user is None:
            user = await users.create(db, email, None, name=identity.name, verified=identity.email_verified)
        row = await fetchrow(
            db, "INSERT INTO identities (issuer, subject, user_id, email) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (issuer, subject) DO NOTHING RETURNING user_id",
            identity.issuer, identity.subject, uuid.UUID(user.user_id), email,
        )
        if row is None:
            raise _Raced  # rolls back the account made above, if any
        return SignIn(user, linked)
