"""Mail through SES.

The message is composed here, exactly as for SMTP and the outbox (text plus an
HTML alternative, our own Message-ID, CR/LF refused in headers), and handed to
SES whole with ``SendRawEmail``: every backend sends the same bytes.
"""

from __future__ import annotations

from email.utils import parseaddr

from app.ports.aws import AwsSession
from app.ports.mail import Mailer
from app.ports.mail.local import compose


class SesMailer(Mailer):
    def __init__(self, aws: AwsSession, sender: str) -> None:
        self.aws = aws
        self.sender = sender

    async def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        message = compose(self.sender, to, subject, text, html)
        ses = await self.aws.client("ses")
        await ses.send_raw_email(
            # The verified identity is the address; the display name stays in From.
            Source=parseaddr(self.sender)[1],
            Destinations=[to],
            RawMessage={"Data": message.as_bytes()},
        )
