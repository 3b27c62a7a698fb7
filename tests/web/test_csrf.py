"""CSRF on every state-changing route in ``app.url_map``: refused without the session's
token and with another session's, as a form field and as HTMX's header."""

from __future__ import annotations

import pytest
from quart import Quart

from app.accounts import users
from app.services import Services
from tests.web.sessions import Person, person
from tests.web.test_authorization import url_map

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# Unsafe routes a browser's cookies do not authorise, so a forged request gains nothing.
EXEMPT = {
    "api.create_upload": "bearer token in the Authorization header, never sent by a browser on its own",
    "api.create_job": "bearer token",
    "subscription.api_subscribe": "bearer token",
    "api.cancel": "bearer token",
    "api.delete": "bearer token",
    "account_deletion.api_delete": "bearer token",
    "objects.upload": "the signed upload policy in the form is the permission, as on S3",
    "subscription.stripe_webhook": "Stripe's signature over the payload",
}

# What each checked route is sent, beyond the token, so that only the token is wrong.
FORMS: dict[str, dict[str, str]] = {
    "auth.signup": {"email": "new@example.org", "password": "password123", "name": "N"},
    "auth.login": {"email": "someone@example.org", "password": "password123"},
    "auth.logout": {},
    "pages.create_token": {"name": "forged"},
    "pages.revoke_token": {},
    "jobs.resubmit": {},
    "jobs.cancel": {},
    "jobs.delete": {},
    "subscription.pay": {"card_number": "4242424242424242"},
    "account.edit_profile": {"name": "forged", "institution": ""},
    "account.change_password": {"current_password": "password123", "new_password": "forged password"},
    "account.change_email": {"email": "forged@example.org", "password": "password123"},
    "account.resend_verification": {},
    "account.verify_email": {},
    "account.confirm_email_change": {},
    "password_reset.forgot": {"email": "someone@example.org"},
    "password_reset.reset": {"password": "forged password"},
    "account_deletion.delete": {"password": "password123"},
    "subscription.manage": {},
}


def unsafe_routes(app: Quart) -> dict[str, str]:
    routes: dict[str, str] = {}
    for rule in url_map(app).iter_rules():
        for method in (rule.methods or set()) & UNSAFE:
            routes[rule.endpoint] = method
    return routes


def test_every_unsafe_route_is_checked_or_exempt_with_a_reason(app: Quart) -> None:
    """A new state-changing route fails this test until it is in FORMS or EXEMPT."""
    routes = set(unsafe_routes(app))
    assert routes == set(FORMS) | set(EXEMPT), routes ^ (set(FORMS) | set(EXEMPT))
    assert all(rule.rule.startswith(("/api/", "/objects/", "/stripe/"))
               for name in EXEMPT for rule in url_map(app).iter_rules(name))


@pytest.fixture
async def pair(app: Quart, services: Services) -> tuple[Person, Person]:
    return await person(app, services), await person(app, services)


def _path(app: Quart, endpoint: str, token_id: str) -> str:
    (rule,) = [r for r in url_map(app).iter_rules(endpoint) if (r.methods or set()) & UNSAFE]
    return rule.rule.replace("<token_id>", token_id)


async def test_forged_requests_are_refused_and_change_nothing(
    app: Quart, services: Services, pair: tuple[Person, Person]
) -> None:
    """Alice's session without a token, with Bob's token as a form field, and with
    Bob's token as HTMX's X-CSRF-Token header, or a token that is not ASCII: 403 every
    time, and her tokens, role and session are as they were."""
    alice, bob = pair
    (token,) = await users.list_tokens(services.db, alice.user.user_id)
    bobs = await bob.csrf()
    for endpoint, form in FORMS.items():
        path = _path(app, endpoint, token.token_id)
        attempts = {
            "no token": {"form": form},
            "another session's token": {"form": {**form, "csrf_token": bobs}},
            "another session's token in X-CSRF-Token": {"form": form, "headers": {"X-CSRF-Token": bobs}},
            "an empty token": {"form": {**form, "csrf_token": ""}},
            # compare_digest raises on a str that is not ASCII: still a 403, not a 500.
            "a token that is not ASCII": {"form": {**form, "csrf_token": "\u00e9" * 43}},
            "a header that is not ASCII": {"form": form, "headers": {"X-CSRF-Token": "\u00ff"}},
        }
        for name, request in attempts.items():
            response = await alice.client.post(path, **request)  # type: ignore[arg-type]
            assert response.status_code == 403, (endpoint, name)
            assert "did not come from GAS" in await response.get_data(as_text=True)
    tokens = await users.list_tokens(services.db, alice.user.user_id)
    assert [(t.token_id, t.revoked_at) for t in tokens] == [(token.token_id, None)]
    assert (await users.get(services.db, alice.user.user_id)).role == "free"  # type: ignore[union-attr]
    assert (await alice.client.get("/profile")).status_code == 200
    assert await users.get_by_email(services.db, "new@example.org") is None


async def test_own_token_is_accepted(app: Quart, services: Services, pair: tuple[Person, Person]) -> None:
    """The control: the same requests with the session's own token pass the check,
    as a form field and as the HTMX header."""
    alice, _ = pair
    (token,) = await users.list_tokens(services.db, alice.user.user_id)
    own = await alice.csrf()
    made = await alice.client.post(_path(app, "pages.create_token", ""),
                                   form={"name": "x", "csrf_token": own})
    assert made.status_code == 303  # to the profile, which shows the token once
    revoked = await alice.client.post(_path(app, "pages.revoke_token", token.token_id),
                                      headers={"X-CSRF-Token": own})
    assert revoked.status_code == 302
