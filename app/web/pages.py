"""The home page, the profile (with API tokens), health: liveness and readiness."""

from __future__ import annotations

import asyncio

from quart import Blueprint, abort, jsonify, redirect, render_template, request, session, url_for
from quart.typing import ResponseReturnValue

from app.accounts import users
from app.accounts.users import User
from app.web.auth import login_required, required_user, signed_in_user
from app.web.context import services

bp = Blueprint("pages", __name__)


@bp.get("/")
async def index() -> ResponseReturnValue:
    return await render_template("index.html", user=await signed_in_user())


# Liveness: the process answers, nothing else. The load balancer checks this one, so
# a database failover (every instance's readiness fails at once) does not make the web
# group replace every instance; it would not bring the database back.
@bp.get("/health/live")
async def live() -> ResponseReturnValue:
    return jsonify({"status": "ok"})


# Readiness: this instance can serve, its database answers. A connection attempt to a
# failed-over host can hang for the driver's timeout (60 s): bounded, it is a 503.
_READY_SECONDS = 5.0


@bp.get("/health")
async def health() -> ResponseReturnValue:
    try:
        async with asyncio.timeout(_READY_SECONDS):
            await services().db.fetch_val("SELECT 1")
    except Exception:
        return jsonify({"status": "unavailable", "database": "not answering"}), 503
    return jsonify({"status": "ok"})


_NEW_TOKEN = "new_token"


_DONE = "profile_done"


def say_done(message: str) -> None:
    """What the next /profile page says was done (a change posted, then redirected to it)."""
    session[_DONE] = message


async def profile_page(user: User, errors: dict[str, str] | None = None,
                       form: dict[str, str] | None = None) -> ResponseReturnValue:
    """The profile, with what a form posted to it got wrong (400) or what was done."""
    tokens = await users.list_tokens(services().db, user.user_id)
    # A token just made is shown on the first page after it, once: popped from the session.
    new_token = session.pop(_NEW_TOKEN, None)
    response = await render_template(
        "profile.html", user=user, tokens=tokens, new_token=new_token, done=session.pop(_DONE, None),
        errors=errors or {}, form=form or {},
    )
    return response, 400 if errors else 200, {"Cache-Control": "no-store"} if new_token else {}


@bp.get("/profile")
@login_required
async def profile() -> ResponseReturnValue:
    return await profile_page(await required_user())


@bp.post("/profile/tokens")
@login_required
async def create_token() -> ResponseReturnValue:
    user = await signed_in_user()
    assert user is not None
    name = (await request.form).get("name", "")
    token = await users.create_token(services().db, user.user_id, name)
    # Stored hashed; the plain token rides in the (signed, HttpOnly) session cookie to the next page
    # only. A redirect rather than the page itself: reloading that page then makes no other token.
    session[_NEW_TOKEN] = token
    return redirect(url_for("pages.profile"), 303)


@bp.post("/profile/tokens/<token_id>/revoke")
@login_required
async def revoke_token(token_id: str) -> ResponseReturnValue:
    user = await signed_in_user()
    assert user is not None
    if not await users.revoke_token(services().db, user.user_id, token_id):
        # Someone else's token id, or one already revoked: the same answer, so ids tell nothing.
        abort(404, "No such token.")
    return redirect(url_for("pages.profile"))
