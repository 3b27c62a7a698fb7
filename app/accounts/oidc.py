"""The OpenID Connect relying party: discovery, the authorization URL, the code exchange
and the ID token's verification. Nothing here knows about Quart or the database.

authlib's httpx client speaks OAuth 2.0 (PKCE, client authentication, token errors);
joserfc, which authlib itself builds on, checks the ID token's signature and claims.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

log = logging.getLogger(__name__)

# Clock skew allowed between the provider and us when checking exp and iat.
LEEWAY_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10.0
_UNAVAILABLE = "The sign-in provider could not be reached. Please try again in a moment."


class OidcError(Exception):
    """A sign-in that cannot go on. ``reason`` is for the log, ``message`` for the person."""

    status = 400

    def __init__(self, reason: str, message: str = "Sign-in did not work. Please try again.") -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


class ProviderUnavailable(OidcError):
    """The provider did not answer, or answered nonsense: not the person's doing."""

    status = 502


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and what to keep (in the session) to check its return."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in, from a verified ID token."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str


@dataclass
class RelyingParty:
    issuer: str
    client_id: str
    client_secret: str | None
    scopes: str
    redirect_uri: str
    # Both are public documents; caching them saves two round trips per sign-in.
    # The key set is fetched again when a token names a key it lacks (rotation).
    _metadata: dict[str, Any] | None = field(default=None, repr=False)
    _jwks: dict[str, Any] | None = field(default=None, repr=False)

    def _client(self, metadata: dict[str, Any] | None = None) -> AsyncOAuth2Client:
        methods = (metadata or {}).get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth_method = (
            "none" if not self.client_secret
            else "client_secret_basic" if "client_secret_basic" in methods
            else "client_secret_post"
        )
        return AsyncOAuth2Client(
            client_id=self.client_id, client_secret=self.client_secret, scope=self.scopes,
            redirect_uri=self.redirect_uri, code_challenge_method="S256",
            token_endpoint_auth_method=auth_method, timeout=HTTP_TIMEOUT_SECONDS,
        )

    async def _get_json(self, client: AsyncOAuth2Client, url: str) -> dict[str, Any]:
        try:
            response = await client.request("GET", url, withhold_token=True)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(f"GET {url}: {exc}", _UNAVAILABLE) from exc
        if not isinstance(body, dict):
            raise ProviderUnavailable(f"GET {url}: not a JSON object", _UNAVAILABLE)
        return body

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            async with self._client() as client:
                found = await self._get_json(client, url)
            # OpenID Connect Discovery 1.0 §4.3: the document must name the issuer we asked.
            if found.get("issuer") != self.issuer:
                raise ProviderUnavailable(
                    f"discovery names issuer {found.get('issuer')!r}, expected {self.issuer!r}", _UNAVAILABLE
                )
            missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if k not in found]
            if missing:
                raise ProviderUnavailable(f"discovery lacks {', '.join(missing)}", _UNAVAILABLE)
            self._metadata = found
        return self._metadata

    async def authorization(self) -> Authorization:
        """A new authorization request: code flow, PKCE (S256), fresh state and nonce."""
        metadata = await self.metadata()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 characters: within RFC 7636's 43-128
        async with self._client(metadata) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
            )
        return Authorization(url, state, nonce, verifier)

    async def identity(self, code: str, code_verifier: str, nonce: str) -> Identity:
        """Exchange the code for tokens, and verify the ID token among them."""
        metadata = await self.metadata()
        async with self._client(metadata) as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"], grant_type="authorization_code", code=code,
                    code_verifier=code_verifier,
                )
            except OAuthError as exc:
                # invalid_grant: a code used twice, expired, or not ours.
                raise OidcError(f"token endpoint refused the code: {exc.error}: {exc.description}") from exc
            except (httpx.HTTPError, ValueError) as exc:
                raise ProviderUnavailable(f"token endpoint: {exc}", _UNAVAILABLE) from exc
            id_token = token.get("id_token")
            if not isinstance(id_token, str):
                raise OidcError("token response has no id_token (is 'openid' among the scopes?)")
            claims = await self._verify(client, metadata, id_token, nonce)
        return Identity(
            issuer=self.issuer,
            subject=claims["sub"],
            email=claims.get("email") if isinstance(claims.get("email"), str) else None,
            # Only a JSON true counts: some providers send "true", which proves nothing.
            email_verified=claims.get("email_verified") is True,
            name=str(claims.get("name") or claims.get("preferred_username") or "")[:200],
        )

    async def _key_set(self, client: AsyncOAuth2Client, metadata: dict[str, Any], fresh: bool) -> KeySet:
        if self._jwks is None or fresh:
            self._jwks = await self._get_json(client, metadata["jwks_uri"])
        try:
            return KeySet.import_key_set(self._jwks)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise ProviderUnavailable(f"unreadable JWKS: {exc}", _UNAVAILABLE) from exc

    async def _verify(
        self, client: AsyncOAuth2Client, metadata: dict[str, Any], id_token: str, nonce: str
    ) -> dict[str, Any]:
        # "none" would accept an unsigned token; HS* would take the client secret as key.
        algorithms = [
            alg for alg in metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
            if alg != "none" and not alg.startswith("HS")
        ]
        try:
            try:
                decoded = jwt.decode(id_token, await self._key_set(client, metadata, False), algorithms)
            except InvalidKeyIdError:
                decoded = jwt.decode(id_token, await self._key_set(client, metadata, True), algorithms)
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": self.issuer},
                sub={"essential": True},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(decoded.claims)
        except JoseError as exc:
            raise OidcError(f"ID token rejected: {type(exc).__name__}: {exc}") from exc
        claims = decoded.claims
        # Core 1.0 §3.1.3.7: with several audiences, the token must have been issued to us.
        azp = claims.get("azp")
        several = isinstance(claims["aud"], list) and len(claims["aud"]) > 1
        if (several or azp is not None) and azp != self.client_id:
            raise OidcError(f"ID token rejected: azp {azp!r} is not this client")
        return claims

