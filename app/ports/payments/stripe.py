"""Stripe: Checkout for a subscription, signed webhooks, paying by payment method, the
Customer Portal and cancelling.

The browser is sent to a Checkout Session (mode ``subscription``); Stripe then
calls the webhook with ``checkout.session.completed``, which is verified with
Stripe's signature scheme (HMAC-SHA256 over ``timestamp.payload``, five minutes'
tolerance, so an old event replayed is refused). The event id goes with the
confirmation so that it is applied once only. ``customer.subscription.updated`` and
``deleted`` say the subscription's state (with the event's ``created`` time, so that
a late older event is ignored); ``invoice.payment_failed`` says a renewal failed.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import stripe

from app.accounts.users import User
from app.ports.payments import (
    Paid,
    PaymentDeclined,
    PaymentFailed,
    PaymentInvalid,
    Payments,
    Price,
    SubscriptionChanged,
    WebhookEvent,
    WebhookInvalid,
)

log = logging.getLogger(__name__)
# How long Stripe's answer about the price is reused: a page view is not worth an API call, and
# a price changed in Stripe's dashboard shows within minutes.
PRICE_TTL_SECONDS = 600

# The only event that grants Premium; Stripe sends it when a Checkout is paid.
COMPLETED = "checkout.session.completed"
# A subscription's new state: renewed, set to cancel at the period's end, past due, ended…
SUBSCRIPTION_EVENTS = frozenset({"customer.subscription.updated", "customer.subscription.deleted"})
PAYMENT_FAILED = "invoice.payment_failed"


def _when(stamp: object) -> datetime | None:
    return datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int) else None


def _period_end(subscription: dict[str, Any]) -> datetime | None:
    """The subscription's ``current_period_end``; in API versions since 2025-03 it is on its items."""
    if (end := _when(subscription.get("current_period_end"))) is not None:
        return end
    items = (subscription.get("items") or {}).get("data") or []
    ends = [e for item in items if isinstance(item, dict) and (e := _when(item.get("current_period_end")))]
    return max(ends, default=None)


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    """The subscription an invoice bills: a field of its own before API version 2025-03, since
    then under ``parent.subscription_details``."""
    found = invoice.get("subscription") or (
        ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription"))
    if isinstance(found, dict):
        found = found.get("id")
    return found if isinstance(found, str) else None


class StripePayments(Payments):
    test_mode = False
    provider = "stripe"

    def __init__(
        self, secret_key: str, webhook_secret: str | None, price_id: str, *, api_base: str | None = None
    ) -> None:
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.HTTPXClient(),
            max_network_retries=2,
        )
        self.webhook_secret = webhook_secret
        self.price_id = price_id
        self._price: tuple[float, Price] | None = None

    async def price(self) -> Price | None:
        """The Premium price as Stripe has it (cached); None, and the page says no price, while
        Stripe cannot be asked."""
        now = time.monotonic()
        if self._price is not None and now - self._price[0] < PRICE_TTL_SECONDS:
            return self._price[1]
        try:
            found = await self.client.v1.prices.retrieve_async(self.price_id)
        except stripe.StripeError as exc:
            log.warning("could not read the Premium price from Stripe: %s", exc)
            return self._price[1] if self._price is not None else None
        if found.unit_amount is None:
            return None  # a tiered or metered price: no one amount to show
        recurring = found.recurring
        price = Price(found.unit_amount, found.currency, recurring.interval if recurring else None)
        self._price = (now, price)
        return price

    async def start_checkout(self, user: User, success_url: str, cancel_url: str) -> str:
        session = await self.client.v1.checkout.sessions.create_async(params={
            "mode": "subscription",
            "line_items": [{"price": self.price_id, "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            # How the webhook knows whom the payment was for.
            "client_reference_id": user.user_id,
            "customer_email": user.email,
            "metadata": {"user_id": user.user_id},
        })
        if not session.url:
            raise PaymentInvalid("Stripe did not return a checkout page.")
        return session.url

    async def subscribe(self, user: User, payment_method: str) -> Paid:
        v1 = self.client.v1
        try:
            customer = await v1.customers.create_async(
                params={"email": user.email, "metadata": {"user_id": user.user_id}}
            )
            method = await v1.payment_methods.attach_async(
                payment_method, params={"customer": customer.id}
            )
            subscription = await v1.subscriptions.create_async(params={
                "customer": customer.id,
                "items": [{"price": self.price_id}],
                "default_payment_method": method.id,
                # Fail now rather than leave an unpaid subscription behind.
                "payment_behavior": "error_if_incomplete",
                "metadata": {"user_id": user.user_id},
            })
        except stripe.CardError as exc:
            raise PaymentDeclined(exc.user_message or "Your card was declined.") from exc
        except stripe.InvalidRequestError as exc:
            raise PaymentInvalid(exc.user_message or "Stripe cannot charge this payment method.") from exc
        if subscription.status not in ("active", "trialing"):
            raise PaymentDeclined("The first payment did not go through.")
        return Paid(user.user_id, "stripe", subscription.id, customer=customer.id)

    async def portal(self, customer: str, return_url: str) -> str:
        session = await self.client.v1.billing_portal.sessions.create_async(
            params={"customer": customer, "return_url": return_url})
        return session.url

    async def cancel(self, reference: str) -> None:
        try:
            await self.client.v1.subscriptions.cancel_async(reference)
        except stripe.InvalidRequestError as exc:
            # Cancelled already (in the portal, or by Stripe after failed payments): nothing to do.
            if exc.code != "resource_missing" and "canceled subscription" not in str(exc):
                raise

    def verify_webhook(self, payload: bytes, signature: str | None) -> WebhookEvent:
        if not self.webhook_secret:
            raise WebhookInvalid("No webhook secret is configured.")
        if not (signature or "").isascii():
            # Stripe's own compare raises TypeError on a str that is not ASCII.
            raise WebhookInvalid("The Stripe-Signature header is not ASCII.")
        try:
            event = stripe.Webhook.construct_event(payload, signature or "", self.webhook_secret)
        except (stripe.SignatureVerificationError, ValueError, RecursionError) as exc:
            raise WebhookInvalid(str(exc)[:200]) from exc
        found = event.data.object.to_dict()
        if event.type in SUBSCRIPTION_EVENTS:
            created = _when(event.to_dict().get("created"))
            if created is None or not isinstance(found.get("id"), str):
                raise WebhookInvalid("A subscription event without its creation time or subscription.")
            return SubscriptionChanged(
                "stripe", found["id"], event.id, created, str(found.get("status")),
                bool(found.get("cancel_at_period_end")), _period_end(found))
        if event.type == PAYMENT_FAILED:
            reference = _invoice_subscription(found)
            return PaymentFailed(reference, event.id) if reference else None
        if event.type != COMPLETED:
            return None
        user_id = found.get("client_reference_id") or (found.get("metadata") or {}).get("user_id")
        if not user_id or found.get("payment_status") == "unpaid":
            return None
        customer = found.get("customer")
        return Paid(str(user_id), "stripe", str(found.get("subscription") or found["id"]),
                    event_id=event.id, customer=customer if isinstance(customer, str) else None)
