"""The notifier: one email per finished job, with what the owner needs to act on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from annotator.worker import Annotator
from app.infra.consumer import PoisonMessage
from app.jobs import mails, notifications
from app.jobs.job import FAILED, PENDING
from app.jobs.lifecycle import JOB_REQUESTS, JOB_RESULTS, JobRequest, JobResult
from app.ports.mail import Mailer
from app.services import Services
from daemons import notify
from tests.daemons.conftest import mail_to, make_job, make_user, message

QUEUE = notify.QUEUE


async def notify_now(services: Services, body: dict[str, Any]) -> None:
    await notify.handle(services, message(QUEUE, body), JobResult.decode(body))


def text_and_html(mail: object) -> tuple[str, str]:
    text = mail.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    html = mail.get_body(("html",)).get_content()  # type: ignore[attr-defined]
    return text, html


async def test_completed_job_mail(services: Services) -> None:
    """Completed: the subject names the file (not the job's id, which the owner does not know);
    the body gives the completion time and a link to the job page, in plain text and HTML, and a
    free user how long the result stays ("1 minute", not "1 minutes")."""
    user = await make_user(services)
    job = await make_job(services, user)
    await notify_now(services, {"job_id": job.job_id})
    [mail] = mail_to(services, user)
    assert mail["Subject"] == f"{job.input_file_name}: results ready"
    text, html = text_and_html(mail)
    assert job.completed_at is not None
    assert job.completed_at.strftime("%Y-%m-%d %H:%M:%S UTC") in text
    link = f"http://gas.test/annotations/{job.job_id}"
    assert link in text and f'href="{link}"' in html
    assert "archived" in text  # a free user is told the result does not stay
    assert f"for {mails.duration(services.settings.free_retention_seconds)};" in text


def test_retention_reads_as_a_person_says_it() -> None:
    """Singular for one, the largest whole unit otherwise."""
    assert [mails.duration(s) for s in (20, 60, 90, 1800, 3600, 7200, 5400, 86400, 172800)] == [
        "1 minute", "1 minute", "2 minutes", "30 minutes", "1 hour", "2 hours", "90 minutes", "1 day",
        "2 days",
    ]


async def test_failed_job_mail_says_why(services: Services) -> None:
    """Failed: the mail says so and gives the job's reason."""
    user = await make_user(services)
    job = await make_job(services, user, status=FAILED)
    await notify_now(services, {"job_id": job.job_id})
    [mail] = mail_to(services, user)
    assert mail["Subject"] == f"{job.input_file_name}: annotation failed"
    text, _ = text_and_html(mail)
    assert "The uploaded file is no longer in storage." in text


async def test_same_message_twice_one_mail(services: Services) -> None:
    """At-least-once delivery: the same message twice, in turn or at once, sends one mail."""
    user = await make_user(services)
    job = await make_job(services, user)
    body = {"job_id": job.job_id}
    await asyncio.gather(*(notify_now(services, body) for _ in range(3)))
    await notify_now(services, body)
    assert len(mail_to(services, user)) == 1


async def test_killed_between_claim_and_send(services: Services) -> None:
    """A notifier killed after claiming the mail but before sending it: the redelivered
    message (after the visibility timeout, longer than the lease) sends it."""
    user = await make_user(services)
    job = await make_job(services, user)
    assert await notifications.claim(services.db, job.job_id, job.status, 30)
    await services.db.execute(
        "UPDATE notifications SET claimed_at = now() - interval '1 hour' WHERE job_id = :id",
        {"id": uuid.UUID(job.job_id)},
    )
    await notify_now(services, {"job_id": job.job_id})
    assert len(mail_to(services, user)) == 1


class FailingOnce(Mailer):
    def __init__(self, inner: Mailer) -> None:
        self.inner, self.failed = inner, False

    async def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("mail server down")
        await self.inner.send(to, subject, text, html)


async def test_failed_send_is_retried(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """A send that fails gives its claim back, so the retry sends the mail."""
    user = await make_user(services)
    job = await make_job(services, user)
    monkeypatch.setattr(services, "mail", FailingOnce(services.mail))
    body = {"job_id": job.job_id}
    with pytest.raises(ConnectionError):
        await notify_now(services, body)
    await notify_now(services, body)
    assert len(mail_to(services, user)) == 1


async def test_unknown_job_is_poison_and_dead_lettered(services: Services) -> None:
    """A message naming no job at all is poison: it lands in the dead-letter queue after
    the queue's receive limit instead of being retried for ever. (One naming a job that is
    gone is done with: a deleted job's messages are acknowledged, tests/daemons/test_lifecycle.py.)"""
    with pytest.raises(PoisonMessage):
        await notify_now(services, {"job_id": "nope"})
    await services.bus.send(QUEUE, json.dumps({"job_id": "nope"}))
    task = asyncio.create_task(notify.run(services))
    try:
        for _ in range(100):
            if await services.bus.count(f"{QUEUE}-dlq"):
                break
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert await services.bus.count(f"{QUEUE}-dlq") == 1
    assert await services.bus.count(QUEUE) == 0


async def test_missing_input_fails_with_reason_and_mail_says_why(services: Services) -> None:
    """A job whose input disappeared fails with a reason (not retried), and the
    owner's mail carries that reason."""
    user = await make_user(services)
    job = await make_job(services, user, status=PENDING)
    annotator = Annotator(services)
    try:
        await annotator.handle(message(JOB_REQUESTS, {"job_id": job.job_id}), JobRequest(job.job_id))
    finally:
        annotator.close()
    failed = await services.jobs.get(job.job_id)
    assert failed is not None and failed.status == FAILED and failed.error
    [delivery] = await services.bus.receive(QUEUE, wait_seconds=2)
    await notify.handle(services, delivery, JobResult.decode(json.loads(delivery.body)))
    [mail] = mail_to(services, user)
    assert failed.error in text_and_html(mail)[0]


async def test_gas_daemon_notify_runs_alone(services: Services, database_url: str, tmp_path: Path) -> None:
    """``gas daemon notify`` is a process of its own: started from the CLI it mails
    a finished job, and stops cleanly on Ctrl-C."""
    user = await make_user(services)
    job = await make_job(services, user)
    env = {**os.environ, "GAS_DATABASE_URL": database_url, "GAS_DATA_DIR": str(tmp_path),
           "GAS_PUBLIC_URL": "http://gas.test", "GAS_QUEUE_WAIT_SECONDS": "1"}
    # Started once and waited for in a thread: nothing blocks the event loop for long.
    process = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "gas.cli", "daemon", "notify"], env=env,
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        await services.bus.publish(JOB_RESULTS, JobResult(job.job_id, status="completed").encode())
        deadline = time.monotonic() + 30
        while not list((tmp_path / "outbox").glob("*.eml")):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "no mail from gas daemon notify"
            await asyncio.sleep(0.2)
    finally:
        process.send_signal(signal.SIGINT)
        code = await asyncio.to_thread(process.wait, 20)
    assert code == 0
    [path] = (tmp_path / "outbox").glob("*.eml")
    assert f"Subject: {job.input_file_name}: results ready" in path.read_text()
