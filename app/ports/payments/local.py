"""Payments without a payment service: a test mode that moves no money.

It accepts only what Stripe documents for testing — the card numbers
``4242 4242 4242 4242`` (succeeds) and ``4000 0000 0000 0002`` (declined) and the
payment methods ``pm_card_visa`` and ``pm_card_chargeDeclined`` — so nobody can
type a real card into a server that would not charge it.
"""

from __future__ import annotations

import re
import uuid

from app.accounts.users import User
from app.ports.payments import (
    Paid,
    PaymentDeclined,
    PaymentInvalid,
    Payments,
    Price,
    WebhookEvent,
    WebhookInvalid,
)

SUCCEEDS = frozenset({"4242424242424242", "pm_card_visa"})
DECLINED = frozenset({"4000000000000002", "pm_card_chargeDeclined"})


def normalise(payment_method: str) -> str:
    """A card number without the spaces and dashes people type; other values as given."""
    stripped = payment_method.strip()
    digits = re.sub(r"[\s-]", "", stripped)
    return digits if digits.isdigit() else stripped


class LocalPayments(Payments):
    """``shown_price`` is what the page says Premium would cost (a setting: nothing is charged)."""

    test_mode = True
    provider = "test"

    def __init__(self, shown_price: Price | None = None) -> None:
        self.shown_price = shown_price

    async def price(self) -> Price | None:
        return self.shown_price

    async def subscribe(self, user: User, payment_method: str) -> Paid:
        method = normalise(payment_method)
        if method in DECLINED:
            raise PaymentDeclined("Your card was declined.")
        if method not in SUCCEEDS:
            raise PaymentInvalid(
                "This server is in test mode: use the test card 4242 4242 4242 4242 "
                "(or pm_card_visa through the API)."
            )
        return Paid(user.user_id, "test", f"test_{uuid.uuid4().hex}")

    async def start_checkout(self, user: User, success_url: str, cancel_url: str) -> str:
        raise PaymentInvalid("There is no hosted checkout in test mode; pay with a test card.")

    def verify_webhook(self, payload: bytes, signature: str | None) -> WebhookEvent:
        raise WebhookInvalid("No webhooks are expected in test mode.")

    async def portal(self, customer: str, return_url: str) -> str:
        raise PaymentInvalid("There is no billing portal in test mode; cancel on your profile.")

    async def cancel(self, reference: str) -> None:
        """Nothing to tell: a test subscription exists only in GAS's own table."""
