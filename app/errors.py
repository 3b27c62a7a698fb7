"""The one error for a request GAS will not do, whoever is asking.

Raised below the web (submitting a job) and in it (the API's checks): the JSON API
answers it as ``{"error": {"code", "message"}}`` with its status, and a page shows its
message with that status.
"""

from __future__ import annotations


class Refused(Exception):
    """The HTTP status, a code a program can branch on, and a message a person can act on."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
