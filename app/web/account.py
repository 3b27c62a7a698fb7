"""Changes a person makes to their account from /profile: name and institution, password,
email address (confirmed by a link mailed to the new one), and sending the link that
confirms the address again; and the pages those mailed links open.

A mailed link's page only asks to confirm (a button, a POST): mail scanners open links,
and must not use them up or act on them.
"""

from __future__ import annotations

import logging

from quart import Blueprint, abort, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue
from quart_auth import current_user

from app.accounts import email_links, login_limits, users
from app.accounts.one_time_links import Purpose
from app.accounts.users import User
from app.ports.mail import MailRefused
from app.web.auth import client_ip, log_in_limits, login_required, required_user, signed_in_user
from app.web.context import services
from app.web.pages import profile_page, say_done

log = logging.getLogger(__name__)
bp = Blueprint("account", __name__)

MAX_NAME = 100
MAX_INSTITUTION = 200


def _text_problem(value: str, limit: int) -> str | None:
    if len(value) > limit:
        return f"Use at most {limit} characters (this has {len(value)})."
    if not value.isprintable():
        return "Use letters, digits, spaces and punctuation only: no line breaks or control characters."
    return None


async def wrong_password(user: User, password: str) -> str | None:
    """What to say when ``password`` is not the account's current one; None when it is.
    Wrong ones count as failed log-ins, under the same limits, so a browser left signed in
    cannot be used to guess the password."""
    db, ip, limits = services().db, client_ip(), log_in_limits()
    if (lock := await login_limits.locked(db, user.email, ip, limits)) is not None:
        return lock.message
    if not await users.check_password(db, user.user_id, password):
        await login_limits.record_failure(db, user.email, ip, limits)
        return "This is not your current password."
    return None


@bp.post("/profile")
@login_required
async def edit_profile() -> ResponseReturnValue:
    user = await required_user()
    data = await request.form
    form = {"name": data.get("name", "").strip(), "institution": data.get("institution", "").strip()}
    errors = {
        field: problem for field, limit in (("name", MAX_NAME), ("institution", MAX_INSTITUTION))
        if (problem := _text_problem(form[field], limit))
    }
    if errors:
        return await profile_page(user, errors, form)
    await users.set_profile(services().db, user.user_id, form["name"], form["institution"])
    say_done("Your name and institution are saved.")
    return redirect(url_for("pages.profile"), 303)


@bp.post("/profile/password")
@login_required
async def change_password() -> ResponseReturnValue:
    user = await required_user()
    data = await request.form
    errors: dict[str, str] = {}
    new = data.get("new_password", "")
    if wrong := await wrong_password(user, data.get("current_password", "")):
        errors["current_password"] = wrong
    elif problem := users.password_problem(new):
        errors["new_password"] = problem
    if errors:
        return await profile_page(user, errors)
    await email_links.change_password(services(), user, new, keep_session=str(current_user.auth_id))
    say_done("Your password is changed. Every other browser signed in to your account is signed out.")
    return redirect(url_for("pages.profile"), 303)


@bp.post("/profile/email")
@login_required
async def change_email() -> ResponseReturnValue:
    user = await required_user()
    data = await request.form
    new = users.normalise_email(data.get("email", ""))
    form = {"email": new}
    errors: dict[str, str] = {}
    # A borrowed browser must not be enough to move the account to another inbox.
    if wrong := await wrong_password(user, data.get("password", "")):
        errors["email_password"] = wrong
    elif problem := users.email_problem(new):
        errors["email"] = problem
    elif new.lower() == user.email.lower():
        errors["email"] = "This is your address already."
    elif await users.get_by_email(services().db, new) is not None:
        errors["email"] = "Another account has this address."
    if not errors:
        try:
            await email_links.send_email_change(services(), user, new)
        except email_links.TooMany:
            errors["email"] = "Too many confirmation mails were sent this hour. Try again later."
        except MailRefused as exc:
            errors["email"] = refused(new, exc, user)
    if errors:
        return await profile_page(user, errors, form)
    say_done(f"We mailed a link to {new}. Your address changes when you open it.")
    return redirect(url_for("pages.profile"), 303)


@bp.post("/profile/verify")
@login_required
async def resend_verification() -> ResponseReturnValue:
    user = await required_user()
    if user.verified:
        say_done("Your email address is confirmed already.")
    else:
        try:
            await email_links.send_verification(services(), user)
        except email_links.TooMany:
            return await profile_page(user, {"verify": "Too many confirmation mails were sent this "
                                             "hour. Look for the last one, or try again later."})
        except MailRefused as exc:
            return await profile_page(user, {"verify": refused(user.email, exc, user)})
        say_done(f"We mailed a confirmation link to {user.email}.")
    return redirect(url_for("pages.profile"), 303)


_GONE = ("This link has been used already, has expired, is for an address your account no longer "
         "has, or is not one we sent. Ask for a new one on your profile.")
_WHAT: dict[Purpose, str] = {"verify-email": "Confirm your email address",
                             "change-email": "Confirm your new email address"}


async def _confirm_page(purpose: Purpose, token: str) -> ResponseReturnValue:
    if not await email_links.link_works(services(), purpose, token):
        abort(404, _GONE)
    return await render_template("confirm_link.html", title=_WHAT[purpose], action=request.path)


@bp.get("/verify-email/<token>")
async def verify_email_page(token: str) -> ResponseReturnValue:
    return await _confirm_page("verify-email", token)


@bp.post("/verify-email/<token>")
async def verify_email(token: str) -> ResponseReturnValue:
    try:
        await email_links.verify(services(), token)
    except email_links.LinkInvalid:
        abort(404, _GONE)
    return await _confirmed("Your email address is confirmed.")


@bp.get("/change-email/<token>")
async def change_email_page(token: str) -> ResponseReturnValue:
    return await _confirm_page("change-email", token)


@bp.post("/change-email/<token>")
async def confirm_email_change(token: str) -> ResponseReturnValue:
    try:
        await email_links.confirm_email_change(services(), token)
    except email_links.LinkInvalid:
        abort(404, _GONE)
    except users.EmailTaken:
        abort(409, "Another account took this address meanwhile, so yours keeps its old one.")
    return await _confirmed("Your email address is changed.")


async def _confirmed(message: str) -> ResponseReturnValue:
    if await signed_in_user() is not None:
        say_done(message)
        return redirect(url_for("pages.profile"), 303)
    return await render_template("link_done.html", message=message)


def refused(address: str, exc: MailRefused, user: User) -> str:
    """What a person is told when the mail service refuses a link mail for good (an address it
    will not mail, or, on AWS, SES still in its sandbox): the service's own reason is logged for
    the operator, not shown."""
    log.error("link mail refused: %s", exc, extra={"user_id": user.user_id})
    return (f"We could not mail {address}: the mail service refused it. Check the address; if it is "
            "right, please tell the operator of this GAS.")
