"""SMTP's permanent replies (5xx) are the mail port's MailRefused, as SES's permanent
answers are; 4xx (try again later) stays an error that is retried."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator

import pytest

from app.ports.mail import MailRefused
from app.ports.mail.local import SmtpMailer

from .conftest import SENDER, FakeSmtp


@pytest.fixture
async def smtp(request: pytest.FixtureRequest) -> AsyncIterator[SmtpMailer]:
    """A mailer to a server answering one verb with the test's reply."""
    verb, reply = request.param
    server = await asyncio.start_server(FakeSmtp(replies={verb: reply}).session, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield SmtpMailer(f"smtp://127.0.0.1:{port}", SENDER, timeout=5)
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("smtp", [(b"RCPT", b"550 5.1.1 no such user"),
                                  (b"MAIL", b"553 5.7.1 sender not allowed")], indirect=True)
async def test_permanent_smtp_replies_are_mail_refused(smtp: SmtpMailer) -> None:
    """A recipient or a sender refused with 5xx is MailRefused."""
    with pytest.raises(MailRefused):
        await smtp.send("ana@example.org", "s", "t")


@pytest.mark.parametrize("smtp", [(b"RCPT", b"451 4.3.0 try again later"),
                                  (b"MAIL", b"421 4.7.0 too busy")], indirect=True)
async def test_temporary_smtp_replies_stay_retried(smtp: SmtpMailer) -> None:
    """4xx is not MailRefused: the notifier's message is retried."""
    with pytest.raises(smtplib.SMTPException) as raised:
        await smtp.send("ana@example.org", "s", "t")
    assert not isinstance(raised.value, MailRefused)
