"""Mail: send a message with a plain-text and an HTML part."""

from __future__ import annotations

import abc


class MailRefused(Exception):
    """The mail service refused this message for good (an unverified sender or recipient,
    sending paused, a missing configuration): sending it again cannot help, so a caller
    logs the reason and goes on. Every other error may be transient and is retried."""


class Mailer(abc.ABC):
    @abc.abstractmethod
    async def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        """Send one message; :class:`MailRefused` when the service refuses it for good."""
