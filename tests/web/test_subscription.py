"""Upgrading to Premium: test mode (page and API) and Stripe (Checkout, webhooks)
against a local stand-in for Stripe's API."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
from tests.web.conftest import bearer, csrf_from, make_user

WEBHOOK_SECRET = "whsec_test_secret"
PRICE = "price_premium"


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

class StripeStandIn(BaseHTTPRequestHandler):
    """Just enough of api.stripe.com for Checkout and paying by payment method."""

    requests: list[tuple[str, dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        StripeStandIn.requests.append((self.path, {}))
        if self.path == f"/v1/prices/{PRICE}":
            self._send(200, {"id": PRICE, "object": "price", "unit_amount": 1500, "currency": "eur",
                             "recurring": {"interval": "month", "interval_count": 1}})
        else:
            self._send(404, {"error": {"type": "invalid_request_error", "message": f"no {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        StripeStandIn.requests.append((self.path, form))
        self._send(*self._answer(self.path, form))

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", "req_standin")
        self.end_headers()
        self.wfile.write(data)

    @staticmethod
    def _answer(path: str, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        if path == "/v1/checkout/sessions":
            return 200, {"id": "cs_test_1", "object": "checkout.session",
                         "url": "https://checkout.stripe.com/c/pay/cs_test_1"}
        if path == "/v1/customers":
            return 200, {"id": "cus_1", "object": "customer"}
        if path.startswith("/v1/payment_methods/"):
            if "chargeDeclined" in path:
                return 402, {"error": {"type": "card_error", "code": "card_declined",
                                       "decline_code": "generic_decline",
                                       "message": "Your card was declined."}}
            return 200, {"id": "pm_1", "object": "payment_method"}
        if path == "/v1/subscriptions":
            return 200, {"id": f"sub_{uuid.uuid4().hex[:8]}", "object": "subscription", "status": "active"}
        return 404, {"error": {"type": "invalid_request_error", "message": f"no {path}"}}

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def stripe_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StripeStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


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


def checkout_completed(user: User, event_id: str | None = None) -> bytes:
    return json.dumps({
        "id": event_id or f"evt_{uuid.uuid4().hex}", "object": "event", "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {"object": {"id": f"cs_{uuid.uuid4().hex[:8]}", "object": "checkout.session",
                            "client_reference_id": user.user_id,
                            "subscription": f"sub_{uuid.uuid4().hex[:8]}",
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
