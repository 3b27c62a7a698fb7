"""Deleting one's account: "Delete my account" on /profile, a page that asks for the password (or,
for an account without one, the email address typed out), and ``DELETE /api/v1/me``. The work
is :func:`app.accounts.deletion.delete_account`'s."""

from __future__ import annotations

import logging

import stripe
from quart import Blueprint, render_template, request
from quart.typing import ResponseReturnValue
from quart_auth import logout_user
from quart_schema import validate_response

from app.accounts import users
from app.accounts.deletion import delete_account, email_typed
from app.errors import Refused
from app.web import csrf
from app.web.account import wrong_password
from app.web.api import ErrorOut, answer_api_errors, api_user, token_required
from app.web.auth import login_required, required_user
from app.web.context import services

log = logging.getLogger(__name__)
bp = Blueprint("account_deletion", __name__)

PAYMENTS_DOWN = "The payment service is not answering, so the subscription could not be cancelled; " \
    "nothing was deleted. Try again soon."


async def _page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    user = await required_user()
    return await render_template(
        "delete_account.html", user=user, error=error,
        has_password=await users.has_password(services().db, user.user_id)), status


@bp.get("/profile/delete")
@login_required
async def confirm() -> ResponseReturnValue:
    return await _page()


@bp.post("/profile/delete")
@login_required
async def delete() -> ResponseReturnValue:
    user = await required_user()
    form = await request.form
    if await users.has_password(services().db, user.user_id):
        # Wrong ones count as failed log-ins: a browser left signed in cannot guess it here.
        problem = await wrong_password(user, form.get("password", ""))
    else:
        typed = email_typed(user, form.get("email", ""))
        problem = None if typed else "Type your email address exactly as shown."
    if problem is not None:
        return await _page(problem, 400)
    try:
        await delete_account(services(), user)
    except stripe.StripeError:
        log.exception("Stripe failed", extra={"user_id": user.user_id})
        return await _page(PAYMENTS_DOWN, 502)
    except Refused as exc:  # a job the daemons are moving right now
        return await _page(f"{exc.message} Your sign-ins have ended: log in again to retry.", exc.status)
    logout_user()
    csrf.rotate()
    # user=None: the page shows a signed-out header, not the account just deleted.
    return await render_template("link_done.html", user=None, message=f"Your account {user.email} has "
                                 "been deleted with all its jobs and files. A mail confirms it.")


@bp.delete("/api/v1/me")
@validate_response(ErrorOut, 409)
@validate_response(ErrorOut, 502)
@token_required
async def api_delete() -> tuple[str, int]:
    """204: the account is gone, with every job and its files (also archived copies), its tokens,
    sign-ins and identities; a running subscription was cancelled first (nothing more is charged),
    and a mail to the account's address confirms it. This token stops working. 502
    `payment_unavailable` if the subscription could not be cancelled (nothing deleted); 409
    `job_busy` if a job was being moved (sign-ins and tokens have ended: retry with a new token)."""
    user = api_user()
    try:
        await delete_account(services(), user)
    except stripe.StripeError as exc:
        log.exception("Stripe failed", extra={"user_id": user.user_id})
        raise Refused(502, "payment_unavailable", PAYMENTS_DOWN) from exc
    return "", 204


answer_api_errors(bp)
