"""Sign-in with an OpenID Connect provider, beside the password login.

``/login/oidc`` sends the browser to the provider with a fresh state, nonce and PKCE
verifier kept in the (signed) session; ``/login/oidc/callback`` takes the ones its
state names out again, once, and signs the person in when everything the provider
returned checks out.
"""

from __future__ import annotations

import logging
from hmac import compare_digest
from typing import Annotated

from pydantic import AfterValidator, BaseModel
from quart import Blueprint, Quart, abort, current_app, redirect, render_template, request, session
from quart.typing import ResponseReturnValue

from app.accounts import identities, sessions
from app.accounts.oidc import OidcError, RelyingParty
from app.accounts.session_streams import end_session_streams
from app.config import Settings
from app.web import query
from app.web.auth import safe_next, start_session
from app.web.context import services

log = logging.getLogger(__name__)
bp = Blueprint("oidc", __name__)

_SESSION_KEY = "oidc"
_EXTENSION = "gas_oidc"
# Sign-ins a session may have under way at once (two tabs, a tab left at the provider).
_PENDING_MAX = 3


def init_app(app: Quart, settings: Settings) -> None:
    """Turn the OIDC sign-in on when an issuer is set; the routes answer 404 otherwise."""
    if settings.oidc_issuer:
        if not settings.oidc_client_id:
            raise ValueError("GAS_OIDC_CLIENT_ID is needed with GAS_OIDC_ISSUER.")
        app.extensions[_EXTENSION] = RelyingParty(
            issuer=settings.oidc_issuer, client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret, scopes=settings.oidc_scopes,
            redirect_uri=settings.public_url.rstrip("/") + "/login/oidc/callback",
        )
    app.register_blueprint(bp)


def _relying_party() -> RelyingParty:
    found: RelyingParty | None = current_app.extensions.get(_EXTENSION)
    if found is None:
        abort(404)
    return found


def _provider_name() -> str:
    settings: Settings = current_app.config["GAS_SETTINGS"]
    return settings.oidc_name


@bp.app_context_processor
def _login_button() -> dict[str, object]:
    on = _EXTENSION in current_app.extensions
    return {"oidc_name": _provider_name() if on else None}


async def _failed(message: str, status: int) -> ResponseReturnValue:
    return await render_template(
        "login_failed.html", message=message, provider=_provider_name()
    ), status


@bp.get("/login/oidc")
async def start() -> ResponseReturnValue:
    relying_party = _relying_party()
    try:
        authorization = await relying_party.authorization()
    except OidcError as exc:
        log.warning("oidc sign-in could not start: %s", exc.reason)
        return await _failed(exc.message, exc.status)
    earlier = [flow for flow in session.get(_SESSION_KEY, []) if isinstance(flow, dict)]
    session[_SESSION_KEY] = [*earlier[-(_PENDING_MAX - 1):], {
        "state": authorization.state,
        "nonce": authorization.nonce,
        "verifier": authorization.code_verifier,
        "next": safe_next(request.args.get("next")),
    }]
    return redirect(authorization.url)


def _take_pending(state: str) -> dict[str, str] | None:
    """The sign-in this state answers, taken out of the session: each serves one return."""
    flows = session.get(_SESSION_KEY)
    if not state or not isinstance(flows, list):
        return None
    for i, flow in enumerate(flows):
        # As bytes: compare_digest raises TypeError on a str that is not ASCII.
        if isinstance(flow, dict) and compare_digest(state.encode(), str(flow.get("state", "")).encode()):
            session[_SESSION_KEY] = flows[:i] + flows[i + 1:]
            return flow
    return None


class ProviderAnswer(BaseModel):
    """The callback's query string: the provider's code, or its error (RFC 6749, 4.1.2)."""

    state: str = ""
    code: str = ""
    error: str | None = None
    error_description: Annotated[str, AfterValidator(query.cut(200))] = ""


@bp.get("/login/oidc/callback")
async def callback() -> ResponseReturnValue:
    relying_party = _relying_party()
    answer = query.read(ProviderAnswer)
    pending = _take_pending(answer.state)
    name = _provider_name()
    try:
        if answer.error is not None:
            message = (
                f"You did not allow GAS to sign you in with {name}, so you are not signed in."
                if answer.error == "access_denied"
                else f"{name} could not sign you in. Please try again."
            )
            # repr, cut short: these come from the address bar and must not forge log lines.
            raise OidcError(
                f"provider returned error={answer.error[:100]!r}: {answer.error_description!r}", message
            )
        if pending is None:
            raise OidcError(
                "state missing or not one this session sent (forged, replayed, or signed in since)",
                "This sign-in did not start here, or has been used already. Please start again.",
            )
        if not answer.code:
            raise OidcError("callback without a code")
        identity = await relying_party.identity(answer.code, str(pending["verifier"]), str(pending["nonce"]))
        signed_in = await identities.sign_in(services().db, identity)
    except OidcError as exc:
        log.warning("oidc sign-in failed: %s", exc.reason, extra={"issuer": relying_party.issuer})
        return await _failed(exc.message, exc.status)
    except identities.EmailInUse:
        log.warning("oidc sign-in refused: email of an existing account, not verified by the provider",
                    extra={"issuer": relying_party.issuer})
        return await _failed(
            f"A GAS account with your email address exists already, and {name} does not say the "
            "address is verified, so we cannot link them. Log in with your password instead.", 409,
        )
    except identities.AccountUnverified:
        log.warning("oidc sign-in refused: email of an existing account whose address is not verified",
                    extra={"issuer": relying_party.issuer})
        return await _failed(
            "A GAS account with your email address exists already, and its address was never "
            "confirmed, so we cannot link it to your sign-in. If it is yours, log in with its "
            "password and confirm the address from the mail we sent (or from your profile); if you "
            "do not know its password, reset it from the log-in page: the link goes to your inbox.",
            409,
        )
    except identities.NoEmail:
        log.warning("oidc sign-in refused: no email in the ID token", extra={"issuer": relying_party.issuer})
        return await _failed(
            f"{name} did not share your email address with GAS, which an account needs. "
            "Allow it when asked, and try again.", 400,
        )
    session.pop(_SESSION_KEY, None)  # signed in: no other sign-in of this session may finish
    user = signed_in.user
    session_id = await start_session(user)
    if signed_in.linked:
        # A new way into the account: whoever was signed in to it before this is signed out.
        await sessions.end_all(services().db, user.user_id, keep=session_id)
        await end_session_streams(services(), user.user_id, None, keep=session_id)
    log.info("signed in with oidc", extra={"user_id": user.user_id, "issuer": relying_party.issuer,
                                           "linked": signed_in.linked})
    return redirect(str(pending["next"]))
