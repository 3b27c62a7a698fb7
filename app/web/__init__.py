"""The Quart application: pages, HTMX fragments, server-sent events and the JSON API."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, cast

from hypercorn.middleware import ProxyFixMiddleware
from quart import Quart, Response, ResponseReturnValue, current_app, render_template, request
from quart_auth import QuartAuth
from quart_schema import QuartSchema
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from app.config import Settings
from app.infra import db
from app.jobs.job import PHASE_NAMES
from app.services import Services, open_services
from app.web import (
    account,
    account_deletion,
    api,
    auth,
    csrf,
    events,
    jobs,
    objects,
    oidc_login,
    pages,
    password_reset,
    results,
    subscription,
)
from app.web.api import error_response
from app.web.auth import signed_in_user
from app.web.bodies import Request
from app.web.headers import csp

log = logging.getLogger(__name__)

def _inline_context_processors(app: Quart) -> None:
    """Call the sync template context processors in the loop instead of on a thread.

    Quart runs a sync processor on a worker thread for every template rendered,
    and two come with the libraries: quart-auth's (``current_user``) and, on every
    blueprint, Flask's default one (empty under Quart). Their thread hops were
    12% of a profile of the job list under load (bench/web.py); both only read
    the request's context, so calling them inline blocks nothing.
    """
    for processors in app.template_context_processors.values():
        for index, processor in enumerate(processors):
            if not inspect.iscoroutinefunction(processor):
                processors[index] = _awaitable(cast(Callable[[], dict[str, Any]], processor))


def _awaitable(processor: Callable[[], dict[str, Any]]) -> Callable[[], Awaitable[dict[str, Any]]]:
    @wraps(processor)
    async def inline() -> dict[str, Any]:
        return processor()

    return inline


def create_app(settings: Settings | None = None, services: Services | None = None) -> Quart:
    """The web app. Given ``services``, it uses them (``gas serve`` shares one set
    between web and workers); otherwise it opens its own when serving starts."""
    settings = settings or Settings()
    app = Quart(__name__, template_folder="../templates", static_folder="../static")
    app.request_class = Request
    app.secret_key = settings.secret.decode()
    app.config.update(
        QUART_AUTH_COOKIE_SECURE=settings.cookie_secure,
        QUART_AUTH_COOKIE_SAMESITE="Lax",
        QUART_AUTH_COOKIE_HTTP_ONLY=True,
        QUART_AUTH_DURATION=settings.session_days * 86400,
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        # Uploads to the local object store come through this app.
        MAX_CONTENT_LENGTH=settings.max_input_bytes + (1 << 20),
        BODY_TIMEOUT=3600,
        GAS_SETTINGS=settings,
    )
    if settings.trusted_proxy_hops:
        # The client's address and scheme as the load balancer saw them, so external
        # links (the API's, the upload's redirect) say https.
        app.asgi_app = ProxyFixMiddleware(  # type: ignore[method-assign]
            app.asgi_app, mode="legacy", trusted_hops=settings.trusted_proxy_hops
        )
    QuartAuth(app)
    QuartSchema(
        app, openapi_path="/openapi.json", redoc_ui_path=None, scalar_ui_path=None,
        swagger_ui_path=None,
        info={"title": "GAS, the Genomics Annotation Service", "version": "1"},
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
    )
    csrf.init_app(app)
    app.jinja_env.globals["phase_names"] = PHASE_NAMES

    for blueprint in (pages.bp, auth.bp, jobs.bp, results.bp, events.bp, api.bp, objects.bp,
                      subscription.bp, account.bp, password_reset.bp, account_deletion.bp):
        app.register_blueprint(blueprint)
    oidc_login.init_app(app, settings)

    owned = services is None

    @app.before_serving
    async def _open() -> None:
        opened = services if services is not None else await open_services(settings)
        app.config["GAS"] = opened
        # Live events are read here only (the /events streams): the one process role
        # that holds a LISTEN connection for them.
        await opened.events.start()

    @app.after_serving
    async def _close() -> None:
        if owned and "GAS" in app.config:
            await app.config.pop("GAS").close()

    _inline_context_processors(app)

    @app.context_processor
    async def _signed_in_user() -> dict[str, object]:
        try:
            return {"user": await signed_in_user()}
        except Exception:  # the database is down: pages still render, signed out
            return {"user": None}

    @app.after_request
    async def _headers(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy", csp(settings.public_url.rstrip("/"))
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.errorhandler(HTTPException)
    async def _http_error(exc: HTTPException) -> Response | tuple[str, int]:
        if request.path.startswith("/api/"):
            code = (exc.name or "error").lower().replace(" ", "_")
            return error_response(exc.code or 500, code, exc.description or exc.name)
        if request.path.startswith("/objects/"):
            return exc.get_response()  # type: ignore[return-value]
        return await render_template("error.html", error=exc), exc.code or 500

    @app.errorhandler(Exception)
    async def _unexpected(exc: Exception) -> ResponseReturnValue:
        if db.unavailable(exc):
            # Restarting or unreachable: the request may succeed in a moment, so say
            # so (503 and Retry-After) rather than report a fault of ours.
            log.warning("database unavailable on %s %s: %s", request.method, request.path,
                        exc.__class__.__name__)
            answer = await _http_error(ServiceUnavailable(
                "The database is not answering just now (it may be restarting). "
                "Please try again in a few seconds."))
            response = await current_app.make_response(answer)
            response.headers["Retry-After"] = "5"
            return response
        log.exception("unhandled error on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return error_response(500, "internal_error", "Something went wrong on our side.")
        return await render_template("error.html", error=None), 500

    return app
