"""Mail the service refuses for good: SES's permanent answers are one error of the mail port,
the notifier takes such a message instead of retrying it into the dead-letter queue, and no
failing mail keeps a result that came back from the archive from being hot again, a downgrade
from being recorded or an account from being deleted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from app.accounts import billing, users
from app.accounts.deletion import delete_account
from app.infra.consumer import handle_one
from app.jobs.lifecycle import JobResult
from app.ports.mail import Mailer, MailRefused
from app.ports.mail.aws import SesMailer
from app.services import Services
from daemons import archive, notify
from tests.daemons.conftest import mail_to, make_job, make_user
from tests.daemons.test_lifecycle import archive_now, downloadable, storage, thaw_now, upgrade


class _Ses:
    """An SES client that answers every send with one error code."""

    def __init__(self, code: str) -> None:
        self.code = code

    async def send_raw_email(self, **request: Any) -> None:
        raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "SendRawEmail")


class _Aws:
    def __init__(self, code: str) -> None:
        self.ses = _Ses(code)

    async def client(self, service: str) -> _Ses:
        return self.ses


@pytest.mark.parametrize("code", [
    "MessageRejected", "MailFromDomainNotVerifiedException", "ConfigurationSetDoesNotExist",
    "ConfigurationSetSendingPausedException", "AccountSendingPausedException",
])
async def test_ses_permanent_answers_are_mail_refused(code: str) -> None:
    """SendRawEmail's own errors, which no retry changes, are MailRefused, with the code."""
    mailer = SesMailer(_Aws(code), "GAS <gas@example.org>", "gas-mail")  # type: ignore[arg-type]
    with pytest.raises(MailRefused, match=code):
        await mailer.send("ana@example.org", "s", "t")


@pytest.mark.parametrize("code", ["Throttling", "ServiceUnavailable", "InternalFailure"])
async def test_ses_transient_answers_stay_retried(code: str) -> None:
    """Throttling and SES's own failures are not MailRefused: the message is retried."""
    mailer = SesMailer(_Aws(code), "GAS <gas@example.org>", "gas-mail")  # type: ignore[arg-type]
    with pytest.raises(ClientError) as raised:
        await mailer.send("ana@example.org", "s", "t")
    assert not isinstance(raised.value, MailRefused)


async def test_ses_on_moto_refuses_an_unverified_sender(aws_session: Any) -> None:
    """moto's SES, as SES in its sandbox, refuses a sender nobody verified: MailRefused."""
    mailer = SesMailer(aws_session, "GAS <nobody-verified-this@example.net>", "gas-mail")
    with pytest.raises(MailRefused, match="MessageRejected"):
        await mailer.send("ana@example.org", "s", "t")


class Refusing(Mailer):
    def __init__(self, error: Exception) -> None:
        self.error, self.calls = error, 0

    async def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        self.calls += 1
        raise self.error


async def test_refused_mail_is_taken_not_retried_or_dead_lettered(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The notifier's first delivery meets MailRefused: it logs the reason and the message
    is acknowledged, so it is neither delivered again nor left to the dead-letter queue."""
    job = await make_job(services, await make_user(services))
    refusing = Refusing(MailRefused("SES refused the mail: MessageRejected (Email address not verified)"))
    monkeypatch.setattr(services, "mail", refusing)
    await services.bus.send(notify.QUEUE, json.dumps({"job_id": job.job_id}))
    [delivery] = await services.bus.receive(notify.QUEUE, max_messages=1, wait_seconds=1)
    await handle_one(
        services.bus, delivery, lambda m, b: notify.handle(services, m, JobResult.decode(b)), 30,
        max_receives=services.settings.queue_max_receives,
    )
    assert refusing.calls == 1
    assert await services.bus.count(notify.QUEUE) == 0
    assert await services.bus.count(f"{notify.QUEUE}-dlq") == 0
    assert "Email address not verified" in caplog.text


@pytest.mark.parametrize("error", [MailRefused("MessageRejected"), ConnectionError("mail server down")],
                         ids=["refused", "down"])
async def test_thaw_completes_its_move_when_the_mail_fails(
    services: Services, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """The results-back mail fails, for good or not: the thaw still succeeds (no retry, no
    dead letter), the result is hot and downloadable; the owner is told once mail works."""
    user = await make_user(services)
    job = await make_job(services, user)
    await archive_now(services, job)
    await upgrade(services, user)
    real = services.mail
    monkeypatch.setattr(services, "mail", Refusing(error))
    completion = {"bucket": job.result_bucket, "key": job.result_key}
    await thaw_now(services, completion)
    assert await storage(services, job) == "hot" and await downloadable(services, job)
    assert not [m for m in mail_to(services, user) if "are back" in m["Subject"]]

    monkeypatch.setattr(services, "mail", real)
    await thaw_now(services, completion)  # a redelivery, or the next result back
    assert len([m for m in mail_to(services, user) if "are back" in m["Subject"]]) == 1


async def test_downgrade_is_recorded_when_its_mail_is_refused(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Premium ends and the mail saying so is refused for good: the hot result is still queued
    for the archiver, once, and the downgrade recorded (the Stripe webhook is not failed and
    retried for days, queueing the result again each time)."""
    user = await make_user(services, "premium")
    job = await make_job(services, user, age=100)
    monkeypatch.setattr(services, "mail", Refusing(MailRefused("MessageRejected")))
    assert await billing.downgrade(services, user.user_id)
    await billing.finish_downgrade(services, user.user_id)  # Stripe's retry of the event
    rows = await services.db.fetch_all("SELECT body FROM queue_messages WHERE queue = :q",
                                       {"q": archive.QUEUE})
    assert [json.loads(r["body"])["job_id"] for r in rows] == [job.job_id]


async def test_account_is_deleted_when_its_goodbye_mail_is_refused(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The "account deleted" mail is refused for good (an address outside SES's sandbox): the
    account and its jobs are gone all the same."""
    user = await make_user(services)
    job = await make_job(services, user)
    monkeypatch.setattr(services, "mail", Refusing(MailRefused("MessageRejected")))
    assert await delete_account(services, user) == 1
    assert await users.get(services.db, user.user_id) is None
    assert await services.jobs.get(job.job_id) is None
