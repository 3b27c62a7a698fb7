"""Upgrading to Premium: test mode (page and API) and Stripe (Checkout, webhooks)
against a local stand-in for Stripe's API."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient

from app.accounts import users
from app.accounts.users import User
from app.jobs.lifecycle import USER_UPGRADED
from app.ports.payments import Price
from app.ports.payments.stripe import StripePayments
from app.services import Services
from app.web import create_app
from tests.job_states import move_result
from tests.stripe_standin import PRICE, StripeStandIn, running_standin
from tests.web.conftest import bearer, csrf_from, make_user

WEBHOOK_SECRET = "whsec_test_secret"


async def role(services: Services, user: User) -> str:
    found = await users.get(services.db, user.user_id)
    assert found is not None
    return found.role


async def upgrades_announced(services: Services, user: User) -> int:
    """user-upgraded messages for this user waiting for the restorer (taken off the queue)."""
    found = 0
    for message in await services.bus.receive(USER_UPGRADED, max_messages=10, wait_seconds=0):
        await services.bus.ack(message)
        found += json.loads(message.body)["user_id"] == user.user_id
    return found


async def signed_in(client: QuartClient) -> str:
    """Sign up a new free user in ``client``; their email."""
    email = f"{uuid.uuid4().hex[:10]}@example.org"
    token = csrf_from(await (await client.get("/signup")).get_data(as_text=True))
    response = await client.post("/signup", form={"email": email, "password": "password123",
                                                  "name": "N", "csrf_token": token})
    assert response.status_code == 302
    return email


# -- test mode ---------------------------------------------------------------------

async def test_page_says_test_mode_and_asks_for_a_card(client: QuartClient) -> None:
    """Without Stripe keys the page says "test mode", what Premium would cost (the test-mode price
    setting: US$10.00 a month by default), and has a card field and a CSRF token."""
    await signed_in(client)
    page = await (await client.get("/subscribe")).get_data(as_text=True)
    assert "Test mode" in page and 'name="card_number"' in page and 'name="csrf_token"' in page
    assert "<strong>US$10.00 a month</strong> (what it would cost" in page


def test_prices_read_as_people_write_them() -> None:
    """Two decimals but for zero-decimal currencies, thousands grouped, a symbol where one is
    common (the code otherwise), the interval when it recurs."""
    assert str(Price(1000, "usd", "month")) == "US$10.00 a month"
    assert str(Price(9900, "eur", "year")) == "€99.00 a year"
    assert str(Price(123456, "gbp", None)) == "£1,234.56"
    assert str(Price(1500, "jpy", "month")) == "¥1,500 a month"
    assert str(Price(500, "chf", "month")) == "CHF 5.00 a month"


async def test_test_card_upgrades_and_declined_card_does_not(client: QuartClient, services: Services) -> None:
    """4000 0000 0000 0002 is declined (402, still free); 4242 4242 4242 4242 makes the
    user Premium and announces the upgrade; a made-up number is refused."""
    email = await signed_in(client)
    user = await users.get_by_email(services.db, email)
    assert user is not None
    token = csrf_from(await (await client.get("/subscribe")).get_data(as_text=True))
    declined = await client.post("/subscribe",
                                 form={"card_number": "4000 0000 0000 0002", "csrf_token": token})
    assert declined.status_code == 402 and "declined" in await declined.get_data(as_text=True)
    real = await client.post("/subscribe", form={"card_number": "5555 5555 5555 4444", "csrf_token": token})
    assert real.status_code == 400 and "test mode" in await real.get_data(as_text=True)
    assert await role(services, user) == "free"
    paid = await client.post("/subscribe", form={"card_number": "4242 4242 4242 4242", "csrf_token": token})
    assert paid.status_code == 303
    assert await role(services, user) == "premium"
    assert await upgrades_announced(services, user) == 1
    assert "You are on Premium" in await (await client.get(paid.headers["Location"])).get_data(as_text=True)


async def test_form_without_csrf_token_is_refused(client: QuartClient, services: Services) -> None:
    """The upgrade form is CSRF-protected like every other form."""
    email = await signed_in(client)
    response = await client.post("/subscribe", form={"card_number": "4242424242424242"})
    assert response.status_code == 403
    user = await users.get_by_email(services.db, email)
    assert user is not None and await role(services, user) == "free"


async def test_api_test_payment_methods(client: QuartClient, services: Services) -> None:
    """POST /api/v1/subscription: pm_card_chargeDeclined → 402 card_declined and the role
    stays free; pm_card_visa → 200 premium, recorded with the role in one go."""
    user, token = await make_user(services)
    declined = await client.post("/api/v1/subscription", json={"payment_method": "pm_card_chargeDeclined"},
                                 headers=bearer(token))
    assert declined.status_code == 402
    assert (await declined.get_json())["error"]["code"] == "card_declined"
    assert await role(services, user) == "free"
    ok = await client.post("/api/v1/subscription", json={"payment_method": "pm_card_visa"},
                           headers=bearer(token))
    assert ok.status_code == 200
    assert await ok.get_json() == {"user_id": user.user_id, "role": "premium", "test_mode": True}
    assert await role(services, user) == "premium"
    assert await upgrades_announced(services, user) == 1
    count = await services.db.fetch_val("SELECT count(*) FROM subscriptions WHERE user_id = :id",
                                        {"id": uuid.UUID(user.user_id)})
    assert count == 1


async def test_api_errors(client: QuartClient, services: Services) -> None:
    """No token → 401; no payment method → 422; an unknown one → 400; the error shape
    is the API's."""
    _, token = await make_user(services)
    assert (await client.post("/api/v1/subscription", json={"payment_method": "pm_card_visa"})
            ).status_code == 401
    missing = await client.post("/api/v1/subscription", json={}, headers=bearer(token))
    assert missing.status_code == 422 and (await missing.get_json())["error"]["code"] == "invalid_request"
    unknown = await client.post("/api/v1/subscription", json={"payment_method": "pm_made_up"},
                                headers=bearer(token))
    assert unknown.status_code == 400
    assert (await unknown.get_json())["error"]["code"] == "invalid_payment_method"


async def test_webhook_is_not_found_in_test_mode(client: QuartClient) -> None:
    """Without Stripe there is no webhook to call."""
    assert (await client.post("/stripe/webhook", data=b"{}")).status_code == 404


# -- Stripe, against a local stand-in for its API ------------------------------------

@pytest.fixture(scope="module")
def stripe_api() -> Iterator[str]:
    with running_standin() as address:
        yield address


@pytest.fixture(scope="module")
async def stripe_app(services: Services, stripe_api: str) -> AsyncIterator[Quart]:
    payments = StripePayments("sk_test_standin", WEBHOOK_SECRET, PRICE, api_base=stripe_api)
    quart_app = create_app(services.settings, dataclasses.replace(services, payments=payments))
    async with quart_app.test_app() as running:
        yield running  # type: ignore[misc]


def signed(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    """A Stripe-Signature header made as Stripe makes it: HMAC-SHA256 of "t.payload"."""
    stamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={stamp},v1={mac}", "Content-Type": "application/json"}


def checkout_completed(user: User, event_id: str | None = None, subscription: str | None = None) -> bytes:
    return json.dumps({
        "id": event_id or f"evt_{uuid.uuid4().hex}", "object": "event", "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {"object": {"id": f"cs_{uuid.uuid4().hex[:8]}", "object": "checkout.session",
                            "client_reference_id": user.user_id, "customer": "cus_1",
                            "subscription": subscription or f"sub_{uuid.uuid4().hex[:8]}",
                            "payment_status": "paid", "metadata": {"user_id": user.user_id}}},
    }).encode()


async def test_stripe_checkout_then_webhook(stripe_app: Quart, services: Services) -> None:
    """With keys the page sends the browser to a Checkout Session for the Premium
    price, naming the user; the signed checkout.session.completed webhook makes
    them Premium and announces it."""
    client: Any = stripe_app.test_client()
    email = await signed_in(client)
    user = await users.get_by_email(services.db, email)
    assert user is not None
    page = await (await client.get("/subscribe")).get_data(as_text=True)
    assert "Test mode" not in page and 'name="card_number"' not in page
    StripeStandIn.requests.clear()
    response = await client.post("/subscribe", form={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    assert response.headers["Location"] == "https://checkout.stripe.com/c/pay/cs_test_1"
    [(path, form)] = StripeStandIn.requests
    assert path == "/v1/checkout/sessions"
    assert form["mode"] == ["subscription"] and form["line_items[0][price]"] == [PRICE]
    assert form["client_reference_id"] == [user.user_id]
    assert await role(services, user) == "free"  # only the webhook says it is paid

    payload = checkout_completed(user)
    hook = await client.post("/stripe/webhook", data=payload, headers=signed(payload))
    assert hook.status_code == 200 and (await hook.get_json())["applied"] is True
    assert await role(services, user) == "premium"
    assert await upgrades_announced(services, user) == 1


async def test_stripe_return_addresses_ignore_the_host_header(stripe_app: Quart) -> None:
    """Checkout's success and cancel URLs are on GAS_PUBLIC_URL even when the request that
    started it had a forged Host header: Stripe must not send the payer to another site."""
    client: Any = stripe_app.test_client()
    await signed_in(client)
    page = await (await client.get("/subscribe")).get_data(as_text=True)
    StripeStandIn.requests.clear()
    response = await client.post("/subscribe", form={"csrf_token": csrf_from(page)},
                                 headers={"Host": "evil.example"})
    assert response.status_code == 303
    [(_, form)] = StripeStandIn.requests
    assert form["success_url"] == ["http://localhost/subscribe?checkout=done"]
    assert form["cancel_url"] == ["http://localhost/subscribe"]


async def test_stripe_page_shows_the_price_stripe_has(stripe_app: Quart) -> None:
    """With Stripe the page says what the Premium Price costs as Stripe has it (€15.00 a month in
    the stand-in), asking Stripe at most once for several page views (the app is shared by this
    module's tests: an earlier one may have asked)."""
    client: Any = stripe_app.test_client()
    await signed_in(client)
    StripeStandIn.requests.clear()
    for _ in range(3):
        page = await (await client.get("/subscribe")).get_data(as_text=True)
        assert "<strong>€15.00 a month</strong>" in page and "would cost" not in page
    assert [path for path, _ in StripeStandIn.requests] in ([], [f"/v1/prices/{PRICE}"])


async def test_forged_and_replayed_webhooks_are_refused(stripe_app: Quart, services: Services) -> None:
    """A webhook signed with another secret, unsigned, tampered with, or older than
    Stripe's five-minute tolerance is refused and changes nothing; the same event
    delivered twice is applied once."""
    client = stripe_app.test_client()
    user, _ = await make_user(services)
    payload = checkout_completed(user, "evt_once")
    tampered = payload.replace(b'"paid"', b'"paid" ')
    for body, headers in [
        (payload, signed(payload, secret="whsec_forged")),
        (payload, {"Content-Type": "application/json"}),
        (tampered, signed(payload)),
        (payload, signed(payload, at=int(time.time()) - 3600)),
    ]:
        refused = await client.post("/stripe/webhook", data=body, headers=headers)
        assert refused.status_code == 400
    assert await role(services, user) == "free"
    first = await client.post("/stripe/webhook", data=payload, headers=signed(payload))
    again = await client.post("/stripe/webhook", data=payload, headers=signed(payload))
    assert (await first.get_json())["applied"] is True and (await again.get_json())["applied"] is False
    assert await upgrades_announced(services, user) == 1
    count = await services.db.fetch_val("SELECT count(*) FROM subscriptions WHERE event_id = 'evt_once'")
    assert count == 1


@pytest.mark.parametrize("named", ["not-a-uuid", str(uuid.uuid4()), "{" + "9" * 40])
async def test_signed_webhook_for_no_account_is_acknowledged(
    stripe_app: Quart, services: Services, named: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A genuine (signed) checkout that names no GAS account, by a user id that is not
    a UUID or one of no user, is acknowledged with 200 so that Stripe does not retry it
    for days, applies nothing, and leaves a warning for the operator to refund it."""
    client = stripe_app.test_client()
    nobody = User(user_id=named, email="nobody@example.org", name="", role="free",
                  created_at=datetime.now(UTC))
    payload = checkout_completed(nobody)
    with caplog.at_level("WARNING", logger="app.web.subscription"):
        response = await client.post("/stripe/webhook", data=payload, headers=signed(payload))
    assert response.status_code == 200
    assert await response.get_json() == {"received": True, "applied": False}
    event_id = json.loads(payload)["id"]
    assert await services.db.fetch_val(
        "SELECT count(*) FROM subscriptions WHERE event_id = :e", {"e": event_id}) == 0
    [warning] = [r for r in caplog.records if "no GAS account" in r.getMessage()]
    assert warning.event_id == event_id  # type: ignore[attr-defined]


async def test_hostile_webhook_bodies_and_signatures_are_400(stripe_app: Quart) -> None:
    """A Stripe-Signature header that is not ASCII (Stripe's compare would raise), and a
    correctly signed body of 100,000 nested arrays (too deep to parse), are refused with
    400 rather than a 500."""
    client = stripe_app.test_client()
    payload = b'{"id": "evt_x"}'
    header = signed(payload)
    header["Stripe-Signature"] = header["Stripe-Signature"][:-2] + "\u00e9\u00e9"
    response = await client.post("/stripe/webhook", data=payload, headers=header)
    assert response.status_code == 400
    deep = b"[" * 100_000 + b"]" * 100_000
    response = await client.post("/stripe/webhook", data=deep, headers=signed(deep))
    assert response.status_code == 400


async def test_other_stripe_events_are_acknowledged_and_ignored(
    stripe_app: Quart, services: Services
) -> None:
    """Events other than a completed checkout get 200 (so Stripe stops sending) and do nothing."""
    client = stripe_app.test_client()
    user, _ = await make_user(services)
    payload = json.dumps({"id": "evt_other", "object": "event", "type": "invoice.paid",
                          "data": {"object": {"id": "in_1", "object": "invoice"}}}).encode()
    response = await client.post("/stripe/webhook", data=payload, headers=signed(payload))
    assert response.status_code == 200 and await role(services, user) == "free"


async def test_stripe_api_subscription(stripe_app: Quart, services: Services) -> None:
    """Through the API with Stripe: a declined card is 402 card_declined (still free);
    pm_card_visa creates a customer, attaches the method and subscribes to the price."""
    client = stripe_app.test_client()
    user, token = await make_user(services)
    declined = await client.post("/api/v1/subscription", json={"payment_method": "pm_card_chargeDeclined"},
                                 headers=bearer(token))
    assert declined.status_code == 402 and (await declined.get_json())["error"]["code"] == "card_declined"
    assert await role(services, user) == "free"
    StripeStandIn.requests.clear()
    ok = await client.post("/api/v1/subscription", json={"payment_method": "pm_card_visa"},
                           headers=bearer(token))
    assert ok.status_code == 200 and (await ok.get_json())["test_mode"] is False
    paths = [path for path, _ in StripeStandIn.requests]
    assert paths == ["/v1/customers", "/v1/payment_methods/pm_card_visa/attach", "/v1/subscriptions"]
    assert StripeStandIn.requests[-1][1]["items[0][price]"] == [PRICE]
    assert await role(services, user) == "premium"


async def test_job_page_says_how_long_a_restore_takes(client: QuartClient, services: Services) -> None:
    """A result being restored: the job page gives the restore tier's time in minutes."""
    from tests.daemons.conftest import make_job

    email = await signed_in(client)
    user = await users.get_by_email(services.db, email)
    assert user is not None
    job = await make_job(services, user)
    assert await move_result(services.jobs, job.job_id, "restoring", restore_tier="Standard")
    page = await (await client.get(f"/annotations/{job.job_id}")).get_data(as_text=True)
    assert "Being restored — usually within 5 minutes." in page
    # The section is kept fresh: its wrapper listens for the job's events, and it is
    # polled while the stream is down.
    wrapper, section = page.split('id="job-status"', 1)
    assert f"sse:job-{job.job_id}" in wrapper.rsplit("<div", 1)[1]
    assert "data-poll" in section.split(">", 1)[0]


# -- the subscription's life after checkout ----------------------------------------------

def subscription_event(kind: str, reference: str, created: int, status: str,
                       cancel_at_period_end: bool = False) -> bytes:
    """A customer.subscription.<kind> event as Stripe sends it (API 2025-03 and later: the period's
    end on the subscription's items)."""
    return json.dumps({
        "id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": f"customer.subscription.{kind}",
        "created": created,
        "data": {"object": {"id": reference, "object": "subscription", "status": status,
                            "cancel_at_period_end": cancel_at_period_end,
                            "items": {"object": "list", "data": [
                                {"id": "si_1", "object": "subscription_item",
                                 "current_period_end": created + 30 * 86400}]}}},
    }).encode()


async def deliver(client: Any, payload: bytes) -> dict[str, Any]:
    """Post a signed event twice, as Stripe may (at least once); the first answer."""
    first = await client.post("/stripe/webhook", data=payload, headers=signed(payload))
    again = await client.post("/stripe/webhook", data=payload, headers=signed(payload))
    assert first.status_code == again.status_code == 200
    assert (await again.get_json()).get("applied", False) is False
    assert (await again.get_json()).get("ended", False) is False
    answer: dict[str, Any] = await first.get_json()
    return answer


async def premium_by_checkout(client: Any, services: Services) -> tuple[User, str]:
    """A user made Premium by a Stripe Checkout; the subscription's reference."""
    user, _ = await make_user(services)
    reference = f"sub_{uuid.uuid4().hex[:8]}"
    assert (await deliver(client, checkout_completed(user, subscription=reference)))["applied"] is True
    assert await role(services, user) == "premium"
    await upgrades_announced(services, user)
    return user, reference


def mails_to(services: Services, user: User) -> list[str]:
    return [m.read_text(errors="replace") for m in (services.settings.data_path / "outbox").glob("*.eml")
            if f"To: {user.email}" in m.read_text(errors="replace")]


async def test_subscription_events_replayed_out_of_order_end_premium_once(
    stripe_app: Quart, services: Services
) -> None:
    """Set to cancel at the period's end: still Premium. Deleted: free, with the downgrade's time
    kept for the retention clock and one mail. Each event delivered twice acts once; an older
    "active" event delivered after the deletion changes nothing."""
    client = stripe_app.test_client()
    user, reference = await premium_by_checkout(client, services)
    now = int(time.time())
    late_active = subscription_event("updated", reference, now - 60, "active")
    answer = await deliver(client, subscription_event("updated", reference, now - 30, "active", True))
    assert answer == {"received": True, "ended": False} and await role(services, user) == "premium"
    assert await deliver(client, subscription_event("deleted", reference, now, "canceled")) == {
        "received": True, "ended": True}
    found = await users.get(services.db, user.user_id)
    assert found is not None and found.role == "free" and found.downgraded_at is not None
    assert await deliver(client, late_active) == {"received": True, "ended": False}
    assert await role(services, user) == "free"
    assert await services.db.fetch_val(
        "SELECT status FROM subscription_states WHERE reference = :r", {"r": reference}) == "canceled"
    [mail] = mails_to(services, user)
    assert "Your GAS Premium subscription has ended" in mail


async def test_deletion_delivered_before_its_checkout_grants_nothing(
    stripe_app: Quart, services: Services
) -> None:
    """Stripe does not promise order: a subscription deleted before its checkout's event arrives
    is recorded ended, and the late checkout makes nobody Premium nor restores anything."""
    client = stripe_app.test_client()
    user, _ = await make_user(services)
    reference = f"sub_{uuid.uuid4().hex[:8]}"
    assert (await deliver(client, subscription_event("deleted", reference, int(time.time()), "canceled"))
            )["ended"] is False
    assert (await deliver(client, checkout_completed(user, subscription=reference)))["applied"] is True
    assert await role(services, user) == "free"
    assert await upgrades_announced(services, user) == 0


@pytest.mark.parametrize("status", ["unpaid", "incomplete_expired"])
async def test_failed_payments_keep_premium_until_stripe_gives_up(
    stripe_app: Quart, services: Services, status: str
) -> None:
    """invoice.payment_failed and "past_due" keep Premium while Stripe retries the payment;
    "unpaid" or "incomplete_expired" end it."""
    client = stripe_app.test_client()
    user, reference = await premium_by_checkout(client, services)
    failed = json.dumps({
        "id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "invoice.payment_failed",
        "created": int(time.time()),
        "data": {"object": {"id": "in_1", "object": "invoice", "parent": {
            "type": "subscription_details", "subscription_details": {"subscription": reference}}}},
    }).encode()
    assert (await deliver(client, failed))["applied"] is True
    now = int(time.time())
    assert (await deliver(client, subscription_event("updated", reference, now - 1, "past_due"))
            )["ended"] is False
    assert await role(services, user) == "premium"
    assert (await deliver(client, subscription_event("updated", reference, now, status)))["ended"] is True
    assert await role(services, user) == "free"


async def test_profile_opens_the_customer_portal(stripe_app: Quart, services: Services) -> None:
    """A Premium user's /profile has "Manage subscription": a CSRF-checked POST that opens a
    Stripe billing-portal session for their customer, returning to GAS_PUBLIC_URL's /profile
    whatever Host the request named."""
    client: Any = stripe_app.test_client()
    email = await signed_in(client)
    user = await users.get_by_email(services.db, email)
    assert user is not None
    await deliver(client, checkout_completed(user))
    page = await (await client.get("/profile")).get_data(as_text=True)
    assert "Manage subscription" in page and "Cancel subscription" not in page
    assert (await client.post("/subscription/manage")).status_code == 403
    StripeStandIn.requests.clear()
    response = await client.post("/subscription/manage", form={"csrf_token": csrf_from(page)},
                                 headers={"Host": "evil.example"})
    assert response.status_code == 303
    assert response.headers["Location"] == "https://billing.stripe.com/p/session/test_1"
    [(path, form)] = StripeStandIn.requests
    assert path == "/v1/billing_portal/sessions"
    assert form == {"customer": ["cus_1"], "return_url": ["http://localhost/profile"]}


async def test_test_mode_cancel_on_profile(client: QuartClient, services: Services) -> None:
    """In test mode /profile has "Cancel subscription" instead: without the CSRF token refused;
    with it the user is free at once, told by mail, and back on /profile."""
    email = await signed_in(client)
    user = await users.get_by_email(services.db, email)
    assert user is not None
    token = csrf_from(await (await client.get("/subscribe")).get_data(as_text=True))
    await client.post("/subscribe", form={"card_number": "4242 4242 4242 4242", "csrf_token": token})
    page = await (await client.get("/profile")).get_data(as_text=True)
    assert "Cancel subscription" in page
    assert (await client.post("/subscription/manage")).status_code == 403
    assert await role(services, user) == "premium"
    response = await client.post("/subscription/manage", form={"csrf_token": csrf_from(page)})
    assert response.status_code == 303 and response.headers["Location"] == "/profile"
    assert await role(services, user) == "free"
    assert any("Your GAS Premium subscription has ended" in m for m in mails_to(services, user))
    assert "Cancel subscription" not in await (await client.get("/profile")).get_data(as_text=True)


async def test_downgrade_cut_short_is_finished_by_stripes_retry(
    stripe_app: Quart, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The role changed but the mail (and queueing) failed, so the webhook answered 500: Stripe's
    retry of the same event, applied already, still finishes the downgrade, once."""
    client = stripe_app.test_client()
    user, reference = await premium_by_checkout(client, services)
    payload = subscription_event("deleted", reference, int(time.time()), "canceled")
    send = services.mail.send

    async def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("mail server down")

    monkeypatch.setattr(services.mail, "send", down)
    failed = await client.post("/stripe/webhook", data=payload, headers=signed(payload))
    assert failed.status_code == 500 and await role(services, user) == "free"
    assert mails_to(services, user) == []
    monkeypatch.setattr(services.mail, "send", send)
    assert await deliver(client, payload) == {"received": True, "ended": False}
    [mail] = mails_to(services, user)
    assert "Your GAS Premium subscription has ended" in mail


async def test_account_deletion_cancels_the_stripe_subscription_first(
    stripe_app: Quart, services: Services
) -> None:
    """DELETE /api/v1/me of a user paying through Stripe cancels the subscription in Stripe, so
    nothing more is charged, before the account goes."""
    client = stripe_app.test_client()
    user, reference = await premium_by_checkout(client, services)
    token = await users.create_token(services.db, user.user_id, "cli")
    StripeStandIn.requests.clear()
    assert (await client.delete("/api/v1/me", headers=bearer(token))).status_code == 204
    assert [path for path, _ in StripeStandIn.requests] == [f"/v1/subscriptions/{reference}"]
    assert await users.get(services.db, user.user_id) is None
