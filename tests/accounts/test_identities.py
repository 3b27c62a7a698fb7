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
    assert len({u.user_id for u in got}) == 1
    assert await fetchval(db, "SELECT count(*) FROM users WHERE email = $1", identity.email) == 1
    assert await fetchval(
        db, "SELECT count(*) FROM identities WHERE subject = $1", identity.subject) == 1


async def test_same_subject_at_another_issuer_is_another_identity(db: Database) -> None:
    """Subjects are only unique per issuer: another provider's "same" subject with an
    unverified email does not reach the first one's user."""
    first = await identities.sign_in(db, someone())
    stranger = Identity("https://other.example", "x", "other@example.org", False, "")
    row = await fetchrow(db, "SELECT subject FROM identities WHERE user_id = $1",
                         uuid.UUID(first.user_id))
    assert row is not None
    imposter = Identity("https://other.example", row["subject"], first.email, False, "")
    with pytest.raises(identities.EmailInUse):
        await identities.sign_in(db, imposter)
    assert (await identities.sign_in(db, stranger)).user_id != first.user_id


async def test_no_email_is_refused_and_nothing_is_stored(db: Database) -> None:
    """A token without an email cannot make an account (every account has one)."""
    identity = someone(email=None)
    with pytest.raises(identities.NoEmail):
        await identities.sign_in(db, identity)
    assert await identities.user_for(db, ISSUER, identity.subject) is None


async def test_unverified_email_leaves_the_local_account_alone(db: Database) -> None:
    """An unverified email matching a local account is refused, and the refused attempt
    leaves no half-made account or link behind (the transaction is rolled back)."""
    local = await users.create(db, f"{uuid.uuid4().hex[:10]}@example.org", "password123")
    identity = Identity(ISSUER, uuid.uuid4().hex, local.email, False, "")
    with pytest.raises(identities.EmailInUse):
        await identities.sign_in(db, identity)
    assert await identities.user_for(db, ISSUER, identity.subject) is None
    verified = Identity(ISSUER, identity.subject, local.email, True, "")
    assert (await identities.sign_in(db, verified)).user_id == local.user_id
