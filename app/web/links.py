"""Absolute links to GAS, always on ``GAS_PUBLIC_URL``.

Never from the request's ``Host`` header: the client writes it, so a forged one would put
another site into the API's links, the upload's redirect and Stripe's return addresses
(and into any cache or log that keeps them). Mails and presigned URLs already use the
setting; every absolute link a request makes goes through :func:`public_url_for`.
"""

from __future__ import annotations

from typing import Any

from quart import url_for

from app.web.context import services


def public_url_for(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)`` as an absolute URL on GAS_PUBLIC_URL."""
    return services().settings.public_url.rstrip("/") + url_for(endpoint, **values)
