"""Mail: send a message with a plain-text and an HTML part."""

from __future__ import annotations

import abc
import logging
from typing import Any

log = logging.getLogger(__name__)


class MailRefused(Exception):
    """The mail service refused this message for good (an unverified sender or recipient,
    sending paused, a missing configuration): sending it again cannot help, so a caller
    logs the reason and goes on. Every other error may be transient and is retried."""


class Mailer(abc.ABC):
    @abc.abstractmethod
    async def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        """Send one message; :class:`MailRefused` when the service refuses it for good."""


async def send_unless_refused(mail: Mailer, to: str, subject: str, text: str, html: str | None = None,
                              *, context: dict[str, Any] | None = None) -> bool:
    """Send, for a caller whose work stands without the mail (an account deleted, a downgrade
    recorded): a mail refused for good is logged with the reason instead of failing that work
    for ever. False if it was refused; any other error is raised, to be retried."""
    try:
        await mail.send(to, subject, text, html)
    except MailRefused as exc:
        log.error("mail refused, not retried: %s", exc, extra=context or {})
        return False
    return True
