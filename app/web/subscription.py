"""Premium: the page, the Stripe webhook, ``POST /api/v1/subscription``, and managing it
from /profile.

With Stripe keys the page sends the browser to Stripe Checkout and the webhook
confirms; without, a test mode takes Stripe's test cards only and says so. Every
way in ends in :func:`app.accounts.subscriptions.upgrade`: the record and the role in one
transaction, then ``user-upgraded`` for the restorer. On /profile a Premium user opens
Stripe's Customer Portal (in test mode: a cancel button); the subscription's later
webhooks end Premium through :mod:`app.accounts.billing`.
"""

from __future__ import annotations

import logging
import math

import stripe
from pydantic import BaseModel, Field
from quart import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue
from quart_schema import validate_request, validate_response

from app.accounts import billing, subscriptions
from app.errors import Refused
from app.jobs.job import Job
from app.ports.cold import TIERS
from app.ports.payments import (
    Paid,
    PaymentDeclined,
    PaymentFailed,
    PaymentInvalid,
    SubscriptionChanged,
    WebhookInvalid,
)
from app.web import csrf
from app.web.api import ErrorOut, answer_api_errors, api_user, token_required
from app.web.auth import login_required, required_user
from app.web.context import services
from app.web.links import public_url_for

log = logging.getLogger(__name__)
bp = Blueprint("subscription", __name__)


def within(seconds: int) -> str:
    """A restore's usual time as people read it: minutes up to two hours, then hours
    (a Standard restore from DEEP_ARCHIVE is "12 hours", not "720 minutes")."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{math.ceil(minutes / 60)} hours"


@bp.app_template_global()
def restore_wait(job: Job) -> str:
    """Roughly how long the job's restore takes, for the page that says it is under way."""
    tier = next((t for t in TIERS if t == job.restore_tier), TIERS[-1])
    return within(services().cold.expected_seconds(tier))


async def _page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    payments = services().payments
    return await render_template(
        "subscribe.html", user=await required_user(), test_mode=payments.test_mode, error=error,
        checkout=request.args.get("checkout"), price=await payments.price(),
    ), status


@bp.get("/subscribe")
@login_required
async def subscribe() -> ResponseReturnValue:
    return await _page()


@bp.post("/subscribe")
@login_required
async def pay() -> ResponseReturnValue:
    user = await required_user()
    if user.premium:
        return redirect(url_for("subscription.subscribe"), 303)
    payments = services().payments
    try:
        if not payments.test_mode:
            checkout = await payments.start_checkout(
                user,
                success_url=public_url_for("subscription.subscribe", checkout="done"),
                cancel_url=public_url_for("subscription.subscribe"),
            )
            return redirect(checkout, 303)
        paid = await payments.subscribe(user, (await request.form).get("card_number", ""))
    except PaymentDeclined as exc:
        return await _page(str(exc), 402)
    except PaymentInvalid as exc:
        return await _page(str(exc), 400)
    except stripe.StripeError:
        log.exception("Stripe failed", extra={"user_id": user.user_id})
        return await _page("The payment service is not answering; nothing was charged. Try again soon.", 502)
    await subscriptions.upgrade(services().db, services().bus, paid)
    return redirect(url_for("subscription.subscribe", checkout="done"), 303)


@bp.post("/stripe/webhook")
@csrf.exempt
async def stripe_webhook() -> ResponseReturnValue:
    """Stripe's events, authenticated by their signature (no session, no CSRF token)."""
    payments = services().payments
    if payments.test_mode:
        return jsonify({"error": "no webhooks in test mode"}), 404
    payload = await request.get_data(cache=True, as_text=False, parse_form_data=False)
    try:
        event = payments.verify_webhook(payload, request.headers.get("Stripe-Signature"))
    except WebhookInvalid as exc:
        log.warning("webhook refused: %s", exc)
        return jsonify({"error": "invalid signature"}), 400
    if isinstance(event, SubscriptionChanged):
        return await _subscription_changed(event)
    if isinstance(event, PaymentFailed):
        fresh = await subscriptions.payment_failed(services().db, event)
        # Premium stays while Stripe retries; its subscription events say if it ends.
        log.warning("a renewal payment failed; Stripe retries it",
                    extra={"reference": event.reference, "event_id": event.event_id})
        return jsonify({"received": True, "applied": fresh})
    if event is None:
        return jsonify({"received": True})
    return await _checkout_completed(event)


async def _subscription_changed(change: SubscriptionChanged) -> ResponseReturnValue:
    ended = await subscriptions.apply_change(services().db, change)
    if ended is not None:
        log.info("subscription ended; premium ended",
                 extra={"user_id": ended, "reference": change.reference, "status": change.status})
    # Also for an event seen before: Stripe's retry of one whose downgrade was cut short finishes it.
    if (user_id := await subscriptions.owner(services().db, change.provider, change.reference)) is not None:
        await billing.finish_downgrade(services(), user_id)
    return jsonify({"received": True, "ended": ended is not None})


async def _checkout_completed(paid: Paid) -> ResponseReturnValue:
    try:
        fresh = await subscriptions.upgrade(services().db, services().bus, paid)
    except subscriptions.UnknownUser:
        # Signed by Stripe, so genuine, but for no account here (deleted since, or a
        # checkout made elsewhere on the same Stripe account). Retrying cannot change
        # that, and Stripe retries any non-2xx for days, so it is acknowledged; the
        # operator finds the payment by its event id to refund it.
        log.warning("checkout completed for no GAS account; not applied (refund it in Stripe)",
                    extra={"event_id": paid.event_id, "reference": paid.reference,
                           "named_user": repr(paid.user_id[:100])})
        return jsonify({"received": True, "applied": False})
    log.info("checkout completed" if fresh else "checkout event seen before; not applied again",
             extra={"user_id": paid.user_id, "event_id": paid.event_id})
    return jsonify({"received": True, "applied": fresh})


@bp.app_template_global()
def payments_test_mode() -> bool:
    """Whether /profile offers the test-mode cancel button rather than Stripe's portal."""
    return services().payments.test_mode


@bp.post("/subscription/manage")
@login_required
async def manage() -> ResponseReturnValue:
    """Stripe's Customer Portal for the user's subscription; in test mode, cancel it now."""
    user = await required_user()
    payments = services().payments
    if payments.test_mode:
        await billing.downgrade(services(), user.user_id)
        return redirect(url_for("pages.profile"), 303)
    customer = next((r.customer for r in await subscriptions.running(services().db, user.user_id)
                     if r.provider == payments.provider and r.customer), None)
    if customer is None:
        # Premium granted by the operator, or bought before customers were recorded.
        abort(409, "There is no Stripe subscription to manage on this account; ask the operator "
              "to change your plan.")
    try:
        # Built from GAS_PUBLIC_URL, never the request's Host header.
        url = await payments.portal(customer, services().settings.public_url.rstrip("/") + "/profile")
    except stripe.StripeError:
        log.exception("Stripe failed", extra={"user_id": user.user_id})
        abort(502, "The payment service is not answering; try again soon.")
    return redirect(url, 303)


class SubscriptionIn(BaseModel):
    payment_method: str = Field(
        max_length=100, description="a Stripe payment method; in test mode `pm_card_visa` or "
        "`pm_card_chargeDeclined` (or a Stripe test card number)"
    )


class SubscriptionOut(BaseModel):
    user_id: str
    role: str
    test_mode: bool


@bp.post("/api/v1/subscription")
@validate_request(SubscriptionIn)
@validate_response(SubscriptionOut)
@validate_response(ErrorOut, 402)
@token_required
async def api_subscribe(data: SubscriptionIn) -> SubscriptionOut:
    """Become Premium, paying with a payment method: 402 `card_declined` if it is declined.
    Archived results come back on their own (see `storage` on each job)."""
    user = api_user()
    payments = services().payments
    if not user.premium:
        try:
            paid = await payments.subscribe(user, data.payment_method)
        except PaymentDeclined as exc:
            raise Refused(402, "card_declined", str(exc)) from exc
        except PaymentInvalid as exc:
            raise Refused(400, "invalid_payment_method", str(exc)) from exc
        except stripe.StripeError as exc:
            log.exception("Stripe failed", extra={"user_id": user.user_id})
            raise Refused(502, "payment_unavailable", "The payment service is not answering; "
                           "nothing was charged.") from exc
        await subscriptions.upgrade(services().db, services().bus, paid)
    return SubscriptionOut(user_id=user.user_id, role="premium", test_mode=payments.test_mode)


answer_api_errors(bp)
