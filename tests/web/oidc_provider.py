"""A small, real OpenID Connect provider for tests, served by hypercorn on 127.0.0.1.

It does what a provider must for GAS's sign-in to work (discovery, authorization
code flow, PKCE S256 checked at the token endpoint, single-use codes, client
authentication, RS256 ID tokens and a JWKS), signs with joserfc like authlib does,
and can be told to misbehave: refuse consent, or tamper with the next ID token.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import secrets
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from hypercorn.asyncio import serve
from hypercorn.config import Config
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from quart import Quart, jsonify, redirect, request
from quart.typing import ResponseReturnValue


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    person: dict[str, Any]


@dataclass
class Provider:
    client_id: str = "gas-test-client"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    redirect_uris: list[str] = field(default_factory=list)
    # The person "signed in" at the provider: the claims their ID tokens carry.
    person: dict[str, Any] = field(default_factory=dict)
    # Answer the next authorization request with ?error=<deny> instead of a code.
    deny: str | None = None
    # Show a page with an "Allow" button (as a person sees) instead of answering at once,
    # so that the way back to GAS starts on the provider's site.
    consent_page: bool = False
    # A public client (no secret: PKCE is its only proof) instead of a confidential one.
    public: bool = False
    # Claims to overwrite in the next ID token, and whether to sign it with a stranger's key.
    tamper: dict[str, Any] = field(default_factory=dict)
    forge_signature: bool = False
    # What happened, for the tests to check.
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_refusals: list[str] = field(default_factory=list)
    # The issuer's host name; it listens on 127.0.0.1 either way. "localhost" puts it on
    # another site than a GAS at 127.0.0.1, as a real provider is, for a browser's cookie rules.
    host: str = "127.0.0.1"
    issuer: str = ""
    _key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "test-1"}))
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _used: set[str] = field(default_factory=set)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def app(self) -> Quart:
        app = Quart(__name__)

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> ResponseReturnValue:
            return jsonify({
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none" if self.public else "client_secret_basic"],
            })

        @app.get("/jwks")
        async def jwks() -> ResponseReturnValue:
            return jsonify(KeySet([self._key]).as_dict(private=False))

        @app.get("/authorize")
        async def authorize() -> ResponseReturnValue:
            if self.consent_page:
                fields = "".join(
                    f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                    for k, v in request.args.items()
                )
                return f'<form method="post">{fields}<button>Allow</button></form>'
            return self._authorize(dict(request.args))

        @app.post("/authorize")
        async def consented() -> ResponseReturnValue:
            return self._authorize(dict(await request.form))

        @app.post("/token")
        async def token() -> ResponseReturnValue:
            form = await request.form
            basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            if self.public:
                authenticated = ("Authorization" not in request.headers
                                 and form.get("client_id") == self.client_id)
            else:
                authenticated = request.headers.get("Authorization") == f"Basic {basic}"
            if not authenticated:
                return self._refuse("invalid_client", 401)
            code = form.get("code", "")
            if form.get("grant_type") != "authorization_code":
                return self._refuse("unsupported_grant_type")
            if code in self._used:
                return self._refuse("invalid_grant")
            grant = self._codes.pop(code, None)
            if grant is None:
                return self._refuse("invalid_grant")
            self._used.add(code)
            challenge = base64.urlsafe_b64encode(
                hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            ).rstrip(b"=").decode()
            if form.get("redirect_uri") != grant.redirect_uri or challenge != grant.code_challenge:
                return self._refuse("invalid_grant")
            return jsonify({
                "access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": 3600,
                "id_token": self._id_token(grant),
            })

        return app

    def _authorize(self, args: dict[str, str]) -> ResponseReturnValue:
        self.authorize_requests.append(args)
        if args.get("client_id") != self.client_id or args.get("redirect_uri") not in self.redirect_uris:
            return "unknown client or redirect_uri", 400  # never redirect to an unknown address
        back = args["redirect_uri"]
        state = {"state": args["state"]} if "state" in args else {}
        if self.deny:
            error, self.deny = self.deny, None
            return redirect(f"{back}?{urlencode({'error': error, **state})}")
        if (args.get("response_type") != "code" or "openid" not in args.get("scope", "").split()
                or args.get("code_challenge_method") != "S256" or not args.get("code_challenge")):
            return redirect(f"{back}?{urlencode({'error': 'invalid_request', **state})}")
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Grant(self.client_id, back, args["code_challenge"], args.get("nonce"),
                                   dict(self.person))
        return redirect(f"{back}?{urlencode({'code': code, **state})}")

    def _refuse(self, error: str, status: int = 400) -> ResponseReturnValue:
        self.token_refusals.append(error)
        return jsonify({"error": error}), status

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": grant.client_id, "iat": now, "exp": now + 300, **grant.person,
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        claims.update(self.tamper)
        self.tamper = {}
        key = self._key
        if self.forge_signature:
            self.forge_signature = False
            key = RSAKey.generate_key(2048, parameters={"kid": "test-1"})  # same kid, another key
        return jwt.encode({"alg": "RS256", "kid": "test-1"}, claims, key)

    async def start(self) -> None:
        port = free_port()
        self.issuer = f"http://{self.host}:{port}"
        config = Config()
        config.bind = [f"127.0.0.1:{port}"]
        config.accesslog = None
        self._task = asyncio.create_task(serve(self.app(), config, shutdown_trigger=self._stop.wait))  # type: ignore[arg-type]
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                try:
                    if (await client.get(f"{self.issuer}/jwks")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError("the test OIDC provider did not start")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
