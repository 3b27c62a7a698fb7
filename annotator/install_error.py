"""The one error of installing a reference, at the bottom of the install's imports.

Raised by whatever reads a packaged or operator's file (fetch, the track indexers,
the ops' ``build``) and shown to the operator as it is, so its message says why and
what to do. Kept alone so that each of them can import it without importing the
others (``reference`` and ``manifest`` among them: the ops import neither).
"""


class ReferenceInstallError(Exception):
    """The reference could not be installed; the message says why and what to do."""
