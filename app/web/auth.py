"""Accounts on the web: sign up, log in, log out, and who is asking."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from quart import Blueprint, g, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue
from quart_auth import AuthUser, current_user, login_user, logout_user

from app.accounts import email_links, login_limits, sessions, users
from app.accounts.session_streams import end_session_streams
from app.accounts.users import User
from app.web import csrf
from app.web.context import services

bp = Blueprint("auth", __name__)
P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger(__name__)


async def signed_in_user() -> User | None:
    """The user behind this request's login cookie, loaded once per request."""
    if "user" not in g:
        session_id = current_user.auth_id
        g.user = await sessions.user(services().db, session_id) if session_id else None
    user: User | None = g.user
    return user


async def required_user() -> User:
    """The signed-in user of a ``login_required`` view, which lets no one else in."""
    user = await signed_in_user()
    assert user is not None
    return user


def login_required(view: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T | Any]]:
    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T | Any:
        if await signed_in_user() is None:
            target = request.full_path.rstrip("?")
            if request.headers.get("HX-Request"):
                return "", 401, {"HX-Redirect": url_for("auth.login", next=target)}
            return redirect(url_for("auth.login", next=target))
        return await view(*args, **kwargs)

    return wrapper


# No page of GAS needs a longer ?next=; the OIDC sign-in keeps it in the session cookie,
# which a browser drops past 4 KB (and the sign-in with it).
NEXT_MAX = 1000


def safe_next(target: str | None) -> str:
    r"""Only a path on this site: never an open redirect, and never an error.

    One "/", then anything but "/": no scheme or host can follow. Browsers read a
    backslash as a slash and drop tabs, newlines and other control characters, so
    "/\evil" and "/\t/evil" would leave the site as "//evil" does: none is allowed
    anywhere. The target is checked as the text it will be sent as (parsing it as a URL
    fails on "http://[": a 500). Every path GAS sends here is ASCII (its query strings
    percent-encoded), so anything else is refused rather than thought about.
    """
    if (target and len(target) <= NEXT_MAX and target.startswith("/") and not target.startswith("//")
            and target.isascii() and target.isprintable() and " " not in target and "\\" not in target):
        return target
    return url_for("jobs.job_list")


def client_ip() -> str:
    """The client's address: the connection's, or, behind GAS_TRUSTED_PROXY_HOPS proxies,
    the one they saw (hypercorn's proxy middleware puts it in ``remote_addr``)."""
    return request.remote_addr or "unknown"


def log_in_limits() -> login_limits.Limits:
    settings = services().settings
    return login_limits.Limits(
        settings.login_failures_per_account_and_ip, settings.login_failures_per_ip,
        settings.login_failures_per_account, settings.login_slowdown_seconds, settings.login_window_seconds,
    )


async def _end_this_session() -> None:
    """This browser's session ends: its row, then its open event streams on every instance."""
    session_id, user = current_user.auth_id, await signed_in_user()
    if session_id:
        await sessions.end(services().db, session_id)
        if user is not None:
            await end_session_streams(services(), user.user_id, [session_id])


async def start_session(user: User) -> str:
    """A new server-side session in a new login cookie, and a new CSRF token; the
    session this browser had before, if any, ends. The new session's id."""
    await _end_this_session()
    lifetime = timedelta(days=services().settings.session_days)
    session_id = await sessions.start(services().db, user.user_id, lifetime)
    login_user(AuthUser(session_id), remember=True)
    csrf.rotate()
    return session_id


@bp.route("/signup", methods=["GET", "POST"])
async def signup() -> ResponseReturnValue:
    errors: dict[str, str] = {}
    form: dict[str, str] = {}
    if request.method == "POST":
        data = await request.form
        form = {"email": data.get("email", "").strip(), "name": data.get("name", "").strip()}
        password = data.get("password", "")
        if problem := users.email_problem(form["email"]):
            errors["email"] = problem
        if problem := users.password_problem(password):
            errors["password"] = problem
        if not errors:
            try:
                user = await users.create(services().db, form["email"], password, name=form["name"])
            except users.EmailTaken:
                errors["email"] = "An account with this email exists already. Log in instead."
            else:
                await start_session(user)
                try:
                    await email_links.send_verification(services(), user)
                except Exception:
                    # The account stands; /profile offers to send the link again.
                    log.exception("verification mail not sent", extra={"user_id": user.user_id})
                return redirect(url_for("jobs.annotate"))
    status = 400 if errors else 200
    return await render_template("signup.html", errors=errors, form=form), status


@bp.route("/login", methods=["GET", "POST"])
async def login() -> ResponseReturnValue:
    error = None
    email = ""
    status = 200
    headers: dict[str, str] = {}
    if request.method == "POST":
        data = await request.form
        email = data.get("email", "").strip()
        db, ip, limits = services().db, client_ip(), log_in_limits()
        lock = await login_limits.locked(db, email, ip, limits)
        if lock is not None:
            error, status = lock.message, 429
            headers["Retry-After"] = str(lock.retry_after)
        else:
            user = await users.authenticate(db, email, data.get("password", ""))
            if user is not None:
                await login_limits.clear_pair(db, email, ip)
                await start_session(user)
                return redirect(safe_next(request.args.get("next")))
            await login_limits.record_failure(db, email, ip, limits)
            error, status = "Email or password is incorrect.", 401
    return await render_template(
        "login.html", error=error, email=email, next=request.args.get("next", "")
    ), status, headers


@bp.route("/logout", methods=["GET", "POST"])
async def logout() -> ResponseReturnValue:
    if request.method == "GET":
        return await render_template("logout.html")
    await _end_this_session()
    logout_user()
    csrf.rotate()
    return redirect(url_for("pages.index"))
