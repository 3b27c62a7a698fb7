"""Payments: taking a Premium subscription.

Two ways in: the browser goes through a hosted checkout and the payment service
confirms with a signed webhook; an API client pays at once with a payment method.
Either way the port says who paid and under which reference; recording the
subscription and changing the role is :mod:`app.accounts.subscriptions`' job. Later
webhooks say a subscription changed, ended or failed to renew; the billing portal
and :meth:`Payments.cancel` end one.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime

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
    # The provider's customer, for its billing portal (None in test mode and for the operator).
    customer: str | None = None


# Statuses of a subscription that end Premium. "past_due" does not: the provider is still retrying
# the payment, and ends with "unpaid" or "canceled" if it never goes through.
ENDED = frozenset({"canceled", "unpaid", "incomplete_expired"})


@dataclass(frozen=True)
class SubscriptionChanged:
    """What the provider now says about subscription ``reference``, as of event ``event_id``
    created at ``created``: an older event than one applied is ignored."""

    provider: str
    reference: str
    event_id: str
    created: datetime
    status: str
    cancel_at_period_end: bool = False
    current_period_end: datetime | None = None

    @property
    def ended(self) -> bool:
        return self.status in ENDED


@dataclass(frozen=True)
class PaymentFailed:
    """A renewal payment of subscription ``reference`` failed; the provider retries it."""

    reference: str
    event_id: str


# What a verified webhook says; None for an event this service has no use for.
WebhookEvent = Paid | SubscriptionChanged | PaymentFailed | None


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
    # The ``provider`` of the subscriptions it makes (:class:`Paid`), which it can cancel.
    provider: str

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
    def verify_webhook(self, payload: bytes, signature: str | None) -> WebhookEvent:
        """What a webhook says: a subscription paid for, changed or not paid; None for an event
        of no use here.

        Raises :class:`WebhookInvalid`.
        """

    @abc.abstractmethod
    async def portal(self, customer: str, return_url: str) -> str:
        """The provider's page where ``customer`` manages (cancels) their subscription.

        Raises :class:`PaymentInvalid` where there is none (test mode).
        """

    @abc.abstractmethod
    async def cancel(self, reference: str) -> None:
        """Cancel subscription ``reference`` now (nothing more is charged)."""
