"""Mail: send a message with a plain-text and an HTML part."""

from __future__ import annotations

import abc


class Mailer(abc.ABC):
    @abc.abstractmethod
    async def send(self, to: str, subject: str, text: str, html: str | None = None) -> None: ...
