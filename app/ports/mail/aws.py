"""Mail through SES.

The message is composed here, exactly as for SMTP and the outbox (text plus an
HTML alternative, our own Message-ID, CR/LF refused in headers), and handed to
SES whole with ``SendRawEmail``: every backend sends the same bytes. It goes
through the stack's configuration set, which records bounces and complaints and
keeps SES from mailing an address that bounced or complained again.
"""

from __future__ import annotations

from email.utils import parseaddr

from botocore.exceptions import ClientError

from app.ports.aws import AwsSession, error_code
from app.ports.mail import Mailer, MailRefused
from app.ports.mail.local import compose

# After GAS_AWS_NAME_PREFIX, as deploy/data-plane.yaml names them: the configuration set, and
# the topic and queue its bounces and complaints go to (for the operator; GAS reads none).
CONFIGURATION_SET = "mail"
MAIL_EVENTS = "mail-events"

# SendRawEmail's own errors (botocore's service model), all of which no retry changes: the
# sandbox's unverified sender or recipient (MessageRejected), a MAIL FROM domain or the
# configuration set not set up, sending paused for the set or the account. Throttling,
# 5xx and the network are left to retries (botocore's first, then the message's redelivery).
PERMANENT = frozenset({
    "MessageRejected", "MailFromDomainNotVerifiedException", "ConfigurationSetDoesNotExist",
    "ConfigurationSetSendingPausedException", "AccountSendingPausedException",
})


class SesMailer(Mailer):
    def __init__(self, aws: AwsSession, sender: str, configuration_set: str) -> None:
        self.aws = aws
        self.sender = sender
        self.configuration_set = configuration_set

    async def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        message = compose(self.sender, to, subject, text, html)
        ses = await self.aws.client("ses")
        try:
            await ses.send_raw_email(
                # The verified identity is the address; the display name stays in From.
                Source=parseaddr(self.sender)[1],
                Destinations=[to],
                RawMessage={"Data": message.as_bytes()},
                ConfigurationSetName=self.configuration_set,
            )
        except ClientError as exc:
            code = error_code(exc)
            if code in PERMANENT:
                reason = exc.response.get("Error", {}).get("Message", "")
                raise MailRefused(f"SES refused the mail: {code} ({reason})") from exc
            raise
