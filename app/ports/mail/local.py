"""Mail without AWS: an outbox of ``.eml`` files, or any SMTP server."""

from __future__ import annotations

import asyncio
import os
import smtplib
import ssl
import tempfile
import time
import urllib.parse
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from app.ports.mail import Mailer, MailRefused


def compose(sender: str, to: str, subject: str, text: str, html: str | None) -> EmailMessage:
    """An RFC 5322 message: plain text, plus an HTML alternative when given.

    The default policy refuses CR/LF in header values, so a subject built from
    user input cannot inject headers.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


class OutboxMailer(Mailer):
    """Each message becomes ``<outbox>/<ns since epoch>-<random>.eml``.

    Names sort by sending time; a message appears whole or not at all (written
    beside its final name, then renamed), so a reader of the outbox never sees
    half of one.
    """

    def __init__(self, outbox: Path, sender: str) -> None:
        self.outbox = outbox
        self.sender = sender

    async def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        data = compose(self.sender, to, subject, text, html).as_bytes()
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.eml"
        await asyncio.to_thread(self._write, name, data)

    def _write(self, name: str, data: bytes) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.outbox, prefix=".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, self.outbox / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class SmtpMailer(Mailer):
    """``smtp://[user:pass@]host[:port]`` (STARTTLS when offered) or ``smtps://`` (TLS)."""

    def __init__(self, url: str, sender: str, *, timeout: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP URL must look like smtp://user:pass@host:port or smtps://…")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.user = urllib.parse.unquote(parts.username) if parts.username else None
        self.password = urllib.parse.unquote(parts.password or "")
        self.sender = sender
        self.timeout = timeout

    async def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        message = compose(self.sender, to, subject, text, html)
        try:
            await asyncio.to_thread(self._send, message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise MailRefused(f"the SMTP server refused the recipient: {exc.recipients}") from exc
            raise
        except smtplib.SMTPResponseException as exc:
            # 5xx is SMTP's permanent failure (a sender, a message or a log-in refused); 4xx
            # asks to try again later.
            if exc.smtp_code >= 500:
                reason = f"{exc.smtp_code} {exc.smtp_error!r}"
                raise MailRefused(f"the SMTP server refused the mail: {reason}") from exc
            raise

    def _send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        server = (
            smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            if self.tls
            else smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        )
        with server:
            server.ehlo()
            if not self.tls and server.has_extn("starttls"):
                server.starttls(context=context)
                server.ehlo()
            if self.user:
                server.login(self.user, self.password)
            server.send_message(message)
