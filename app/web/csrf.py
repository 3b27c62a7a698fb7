"""CSRF protection: one random token per session, required on every unsafe request.

Forms carry it in a hidden ``csrf_token`` field; HTMX sends it as the
``X-CSRF-Token`` header (set once on ``<body hx-headers>``). The JSON API is
exempt because it authenticates with a bearer token, which a browser never
attaches on its own; so are views marked ``csrf_exempt`` (the object store's
upload endpoint, authorised by its signed policy).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from hmac import compare_digest
from typing import Any, TypeVar

from quart import Quart, abort, current_app, request, session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
F = TypeVar("F", bound=Callable[..., Any])


def exempt(view: F) -> F:
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def rotate() -> None:
    """A new token at login and logout, so one from before cannot be replayed."""
    session["csrf"] = secrets.token_urlsafe(32)


async def _check() -> None:
    if request.method in SAFE_METHODS or request.path.startswith("/api/"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "csrf_exempt", False):
        return
    sent = request.headers.get("X-CSRF-Token")
    if sent is None and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent = (await request.form).get("csrf_token")
    expected = session.get("csrf")
    # As bytes: compare_digest raises TypeError on a str that is not ASCII.
    if not sent or not expected or not compare_digest(str(sent).encode(), str(expected).encode()):
        abort(403, "This form has expired or did not come from GAS. Reload the page and try again.")


def init_app(app: Quart) -> None:
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = token
