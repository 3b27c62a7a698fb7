"""Payments: taking a Premium subscription.

Two ways in: the browser goes through a hosted checkout and the payment service
confirms with a signed webhook; an API client pays at once with a payment method.
Either way the port says who paid and under which reference; recording the
subscription and changing the role is :mod:`app.accounts.subscriptions`' job.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from app.accounts.users import User


class PaymentDeclined(Exception):
    """The card was declined: the user can try another."""


class PaymentInvalid(Exception):
    """Not something this service can charge (e.g. a real card number in test mode)."""


class WebhookInvalid(Exception):
    """A webhook whose signature does not verify, or that is too old (a replay)."""


@dataclass(frozen=True)
class Paid:
    """A subscription that is paid for: ``reference`` is the provider's id for it."""

    user_id: str
    provider: str
    reference: str
    # The webhook event that confirmed it, when one did: processed once only.
    event_id: str | None = None


@dataclass(frozen=True)
class Price:
    """What Premium costs: ``amount`` in the currency's smallest unit (cents), per ``interval``
    (``month``, ``year``…; None for a one-off payment)."""

    amount: int
    currency: str  # ISO 4217, lower case as Stripe writes it
    interval: str | None

    def __str__(self) -> str:
        """As a person reads it: "US$10.00 a month", "€99.00 a year", "CHF 5.00"."""
        symbol = _SYMBOLS.get(self.currency.lower(), f"{self.currency.upper()} ")
        zero_decimal = self.currency.lower() in _ZERO_DECIMAL
        number = f"{self.amount:,}" if zero_decimal else f"{self.amount / 100:,.2f}"
        return f"{symbol}{number}" + (f" a {self.interval}" if self.interval else "")


_SYMBOLS = {"usd": "US$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}
# Stripe's zero-decimal currencies among the common ones: amounts are whole units.
_ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "isk", "huf"}


class Payments(abc.ABC):
    # True when no money can move: pages say "test mode".
    test_mode: bool

    @abc.abstractmethod
    async def price(self) -> Price | None:
        """What Premium costs, for the page that sells it; None when it cannot be said now."""

    @abc.abstractmethod
    async def subscribe(self, user: User, payment_method: str) -> Paid:
        """Subscribe now, paying with ``payment_method``.

        Raises :class:`PaymentDeclined` or :class:`PaymentInvalid`.
        """

    @abc.abstractmethod
    async def start_checkout(self, user: User, success_url: str, cancel_url: str) -> str:
        """The hosted checkout page to send the browser to; payment is confirmed by webhook."""

    @abc.abstractmethod
    def verify_webhook(self, payload: bytes, signature: str | None) -> Paid | None:
        """The subscription a webhook confirms, or None for an event that confirms none.

        Raises :class:`WebhookInvalid`.
        """
