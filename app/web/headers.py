"""The content security policy every page carries."""

from __future__ import annotations

# Scripts and styles come from our own origin only: no inline script anywhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self' {objects}; frame-ancestors 'none'; base-uri 'self'"
)


def csp(form_origin: str) -> str:
    """The policy for a page whose forms may post to ``form_origin`` (the object store)."""
    return CSP.format(objects=form_origin)
