"""Linking provider identities to GAS users (app/accounts/identities.py), on a real database."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from databases import Database

from app.accounts import identities, users
from app.accounts.oidc import Identity
from app.infra.db import fetchrow, fetchval

ISSUER = "https://idp.example"


def someone(email_verified: bool = True, email: str | None = "") -> Identity:
    return Identity(
        issuer=ISSUER, subject=uuid.uuid4().hex,
        email=f"{uuid.uuid4().hex[:10]}@example.org" if email == "" else email,
        email_verified=email_verified, name="Someone",
    )


async def test_concurrent_first_sign_ins_make_one_user(db: Database) -> None:
    """Two first sign-ins of one identity at the same moment (two tabs, two web
    instances) end with one user and one link, and both get that user."""
    identity = someone()
    got = await asyncio.gather(*(identities.sign_in(db, identity) for _ in range(4)))
    assert len({s.user.user_id for s in got}) == 1
    assert await fetchval(db, "SELECT count(*) FROM users WHERE email = $1", identity.email) == 1
    assert await fetchval(
        db, "SELECT count(*) FROM identities WHERE subject = $1", identity.subject) == 1


async def test_same_subject_at_another_issuer_is_another_identity(db: Database) -> None:
    """Subjects are only unique per issuer: another provider's "same" subject with an
    unverified email does not reach the first one's user."""
    first = (await identities.sign_in(db, someone())).user
    stranger = Identity("https://other.example", "x", "other@example.org", False, "")
    row = await fetchrow(db, "SELECT subject FROM identities WHERE user_id = $1",
                         uuid.UUID(first.user_id))
    assert row is not None
    imposter = Identity("https://other.example", row["subject"], first.email, False, "")
    with pytest.raises(identities.EmailInUse):
        await identities.sign_in(db, imposter)
    assert (await identities.sign_in(db, stranger)).user.user_id != first.user_id


async def test_no_email_is_refused_and_nothing_is_stored(db: Database) -> None:
    """A token without an email cannot make an account (every account has one)."""
    identity = someone(email=None)
    with pytest.raises(identities.NoEmail):
        await identities.sign_in(db, identity)
    assert await identities.user_for(db, ISSUER, identity.subject) is None


async def test_unverified_email_leaves_the_local_account_alone(db: Database) -> None:
    """An unverified email matching a local account is refused, and the refused attempt
    leaves no half-made account or link behind (the transaction is rolled back)."""
    local = await users.create(db, f"{uuid.uuid4().hex[:10]}@example.org", "password123", verified=True)
    identity = Identity(ISSUER, uuid.uuid4().hex, local.email, False, "")
    with pytest.raises(identities.EmailInUse):
        await identities.sign_in(db, identity)
    assert await identities.user_for(db, ISSUER, identity.subject) is None
    verified = Identity(ISSUER, identity.subject, local.email, True, "")
    assert await identities.sign_in(db, verified) == identities.SignIn(
        await users.get(db, local.user_id), linked=True)  # type: ignore[arg-type]


async def test_account_never_verified_is_not_linked_even_on_a_verified_email(db: Database) -> None:
    """Pre-hijacking: someone made a password account with another person's address and never
    confirmed it. That person's provider sign-in, address verified there, is refused (no
    link, no new account: the address is taken) until the account's owner verifies it."""
    planted = await users.create(db, f"{uuid.uuid4().hex[:10]}@example.org", "password123")
    identity = Identity(ISSUER, uuid.uuid4().hex, planted.email, True, "Victim")
    with pytest.raises(identities.AccountUnverified):
        await identities.sign_in(db, identity)
    assert await identities.user_for(db, ISSUER, identity.subject) is None
    assert await fetchval(db, "SELECT count(*) FROM users WHERE email = $1", planted.email) == 1
    assert await users.mark_verified(db, planted.user_id, planted.email)
    assert (await identities.sign_in(db, identity)).linked


async def test_new_account_is_verified_only_when_the_provider_says_so(db: Database) -> None:
    """An account made by a first sign-in has a verified address exactly when the provider's
    token says email_verified: true."""
    vouched = (await identities.sign_in(db, someone(email_verified=True))).user
    unvouched = (await identities.sign_in(db, someone(email_verified=False))).user
    assert vouched.verified and not unvouched.verified
