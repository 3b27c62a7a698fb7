"""A forgotten password: /forgot-password mails a one-time link, /reset-password/<token>
sets a new password from it and signs the account out everywhere."""

from __future__ import annotations

from quart import Blueprint, abort, current_app, render_template, request
from quart.typing import ResponseReturnValue

from app.accounts import email_links, users
from app.web.context import services

bp = Blueprint("password_reset", __name__)

_GONE = ("This link has been used already, has expired, or is not one we sent. "
         "Ask for a new one from the log-in page.")


@bp.route("/forgot-password", methods=["GET", "POST"])
async def forgot() -> ResponseReturnValue:
    if request.method == "GET":
        return await render_template("forgot_password.html", sent_to=None, error=None)
    email = (await request.form).get("email", "").strip()
    if problem := users.email_problem(email):
        return await render_template("forgot_password.html", sent_to=None, error=problem), 400
    # One answer whether or not an account has this address, and as fast: the mail is sent
    # after the response, so neither the page nor its timing tells who has an account.
    current_app.add_background_task(email_links.send_reset, services(), email)
    return await render_template("forgot_password.html", sent_to=email, error=None)


@bp.get("/reset-password/<token>")
async def reset_page(token: str) -> ResponseReturnValue:
    if not await email_links.link_works(services(), "reset-password", token):
        abort(404, _GONE)
    return await render_template("reset_password.html", error=None)


@bp.post("/reset-password/<token>")
async def reset(token: str) -> ResponseReturnValue:
    password = (await request.form).get("password", "")
    if problem := users.password_problem(password):
        if not await email_links.link_works(services(), "reset-password", token):
            abort(404, _GONE)
        return await render_template("reset_password.html", error=problem), 400
    try:
        await email_links.reset_password(services(), token, password)
    except email_links.LinkInvalid:
        abort(404, _GONE)
    return await render_template(
        "link_done.html", message="Your password is changed, and every browser that was signed in "
        "to your account is signed out. Log in with the new password.",
    )
