"""One fixture per port, parametrised over its adapters.

Each fixture yields the port plus whatever a test needs to look at it from the
outside (an HTTP client for the object store, the delivered mail). An adapter joins
the contract suite by adding its name to ``params`` and a branch that builds it.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from databases import Database
from quart import Quart, Response

from app.infra.db import connect
from app.ports.aws import AwsSession
from app.ports.bus import Bus
from app.ports.bus.aws import SnsSqsBus
from app.ports.bus.local import PostgresBus
from app.ports.events import Events
from app.ports.events.local import PostgresEvents
from app.ports.jobs import JobStore
from app.ports.jobs.aws import DynamoJobStore, table_definition
from app.ports.jobs.local import PostgresJobStore
from app.ports.mail import Mailer
from app.ports.mail.aws import SesMailer
from app.ports.mail.local import OutboxMailer, SmtpMailer
from app.ports.objects import ObjectStore
from app.ports.objects.aws import S3ObjectStore
from app.ports.objects.local import LocalObjectStore
from app.web import objects as objects_web

SENDER = "GAS <gas@example.org>"


def _aws_for(request: pytest.FixtureRequest) -> AwsSession | None:
    """The moto-backed session for an ``aws`` param, else None.

    Port fixtures pick their adapter in a plain (not async) fixture, so that only the
    chosen backend's fixtures are set up: moto is not started for local-only runs.
    """
    return request.getfixturevalue("aws_session") if request.param == "aws" else None


# -- object store ------------------------------------------------------------------

@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: Mapping[str, str]
    body: bytes


def multipart(fields: Mapping[str, str], file_name: str, content: bytes) -> tuple[bytes, str]:
    """A form as a browser sends it: the fields, then the file, last.

    The file name is escaped the way the HTML standard tells browsers to (only
    ``"``, CR and LF), so anything else hostile reaches the server as typed.
    """
    boundary = f"----gas{uuid.uuid4().hex}"
    body = bytearray()
    for name, value in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        body += value.encode() + b"\r\n"
    escaped = file_name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{escaped}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body += content + f"\r\n--{boundary}--\r\n".encode()
    return bytes(body), f"multipart/form-data; boundary={boundary}"


@dataclass
class ObjectsHarness:
    adapter: str
    store: ObjectStore
    bucket: str
    # (url, fields, file name, content) -> response, as a browser's form POST.
    post: Callable[[str, Mapping[str, str], str, bytes], Awaitable[HttpResult]]
    get: Callable[[str], Awaitable[HttpResult]]
    # (url, body, content type) -> response, for forms no browser would send.
    post_raw: Callable[[str, bytes, str], Awaitable[HttpResult]]


def _local_objects(root: Path) -> ObjectsHarness:
    store = LocalObjectStore(root, b"contract-test-secret", "http://gas.test/objects")
    app = Quart(__name__)
    app.register_blueprint(objects_web.bp)
    app.config["GAS"] = SimpleNamespace(objects=store)
    client = app.test_client()

    def target(url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    async def result(response: Response) -> HttpResult:
        body = await response.get_data(as_text=False)
        return HttpResult(response.status_code, dict(response.headers), body)

    async def post_raw(url: str, body: bytes, content_type: str) -> HttpResult:
        return await result(
            await client.post(target(url), data=body, headers={"Content-Type": content_type})
        )

    async def post(url: str, fields: Mapping[str, str], name: str, content: bytes) -> HttpResult:
        return await post_raw(url, *multipart(fields, name, content))

    async def get(url: str) -> HttpResult:
        return await result(await client.get(target(url)))

    return ObjectsHarness("local", store, "gas-test-bucket", post, get, post_raw)


async def _s3_objects(aws: AwsSession) -> AsyncIterator[ObjectsHarness]:
    """S3 on moto; the browser is an HTTP client talking to the presigned URLs."""
    bucket = f"gas-test-{uuid.uuid4().hex[:12]}"
    await (await aws.client("s3")).create_bucket(Bucket=bucket)
    async with httpx.AsyncClient(timeout=30) as client:

        async def result(response: httpx.Response) -> HttpResult:
            return HttpResult(response.status_code, response.headers, response.content)

        async def post_raw(url: str, body: bytes, content_type: str) -> HttpResult:
            return await result(
                await client.post(url, content=body, headers={"Content-Type": content_type})
            )

        async def post(url: str, fields: Mapping[str, str], name: str, content: bytes
                       ) -> HttpResult:
            return await post_raw(url, *multipart(fields, name, content))

        async def get(url: str) -> HttpResult:
            return await result(await client.get(url))

        yield ObjectsHarness("aws", S3ObjectStore(aws), bucket, post, get, post_raw)


@pytest.fixture(params=["local", "aws"])
def objects_backend(request: pytest.FixtureRequest) -> AwsSession | None:
    return _aws_for(request)


@pytest.fixture
async def objects(objects_backend: AwsSession | None, tmp_path: Path
                  ) -> AsyncIterator[ObjectsHarness]:
    if objects_backend is None:
        yield _local_objects(tmp_path / "objects")
        return
    async for harness in _s3_objects(objects_backend):
        yield harness


# -- bus ---------------------------------------------------------------------------

@pytest.fixture(params=["local", "aws"])
def bus_adapter(request: pytest.FixtureRequest) -> Bus:
    aws = _aws_for(request)
    if aws is not None:
        return SnsSqsBus(aws, prefix="gas-test-")
    return PostgresBus(request.getfixturevalue("db"), request.getfixturevalue("database_url"))


@pytest.fixture
async def bus(bus_adapter: Bus) -> AsyncIterator[Bus]:
    yield bus_adapter
    await bus_adapter.close()


# -- mail --------------------------------------------------------------------------

@dataclass
class MailHarness:
    mailer: Mailer
    # Every message delivered so far, oldest first, parsed back from its bytes.
    delivered: Callable[[], Awaitable[list[EmailMessage]]]


def _parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@dataclass
class FakeSmtp:
    """Just enough of an SMTP server to take messages (no TLS, no auth); a verb in
    ``replies`` (b"RCPT") gets that reply (b"550 …") instead."""

    messages: list[bytes] = field(default_factory=list)
    replies: dict[bytes, bytes] = field(default_factory=dict)

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 fake ESMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb in self.replies:
                writer.write(self.replies[verb] + b"\r\n")
            elif verb in (b"EHLO", b"HELO"):
                writer.write(b"250-fake\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                data = await reader.readuntil(b"\r\n.\r\n")
                self.messages.append(data[: -len(b".\r\n")].replace(b"\r\n..", b"\r\n."))
                writer.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


async def _ses_mail(aws: AwsSession) -> MailHarness:
    """SES on moto: what it accepted is read back from moto's record of sent mail."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    await (await aws.client("ses")).verify_email_identity(EmailAddress="gas@example.org")
    sent = ses_backends[DEFAULT_ACCOUNT_ID][aws.region].sent_messages
    seen = len(sent)

    async def from_ses() -> list[EmailMessage]:
        return [_parse(m.raw_data.encode()) for m in sent[seen:]]

    return MailHarness(SesMailer(aws, SENDER, "gas-mail"), from_ses)


@pytest.fixture(params=["outbox", "smtp", "ses"])
def mail_backend(request: pytest.FixtureRequest) -> tuple[str, AwsSession | None]:
    return request.param, (request.getfixturevalue("aws_session") if request.param == "ses" else None)


@pytest.fixture
async def mail(mail_backend: tuple[str, AwsSession | None], tmp_path: Path
               ) -> AsyncIterator[MailHarness]:
    kind, aws = mail_backend
    if aws is not None:
        yield await _ses_mail(aws)
        return
    if kind == "outbox":
        outbox = tmp_path / "outbox"

        async def from_outbox() -> list[EmailMessage]:
            return [_parse(p.read_bytes()) for p in sorted(outbox.glob("*.eml"))]

        yield MailHarness(OutboxMailer(outbox, SENDER), from_outbox)
        return
    fake = FakeSmtp()
    server = await asyncio.start_server(fake.session, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def from_server() -> list[EmailMessage]:
        return [_parse(data) for data in fake.messages]

    async with server:
        yield MailHarness(SmtpMailer(f"smtp://127.0.0.1:{port}", SENDER), from_server)


# -- live events -------------------------------------------------------------------

@dataclass
class EventsPair:
    """Two instances of the port, as in two processes: one subscribes, one publishes."""

    listener: Events
    publisher: Events


@pytest.fixture(params=["local"])
async def events(request: pytest.FixtureRequest, db: Database, database_url: str
                 ) -> AsyncIterator[EventsPair]:
    assert request.param == "local"
    other_db = await connect(database_url, max_size=2)
    listener = PostgresEvents(db, database_url, max_pending=5)
    publisher = PostgresEvents(other_db, database_url)
    await listener.start()
    try:
        yield EventsPair(listener, publisher)
    finally:
        await listener.close()
        await publisher.close()
        await other_db.disconnect()


# -- jobs --------------------------------------------------------------------------

@pytest.fixture(scope="session")
async def jobs_table(aws_session: AwsSession) -> str:
    """The jobs table with its user index, made once for the session."""
    name = f"gas-test-jobs-{uuid.uuid4().hex[:8]}"
    await (await aws_session.client("dynamodb")).create_table(**table_definition(name))
    return name


@pytest.fixture(params=["local", "aws"])
def job_store(request: pytest.FixtureRequest) -> JobStore:
    aws = _aws_for(request)
    if aws is not None:
        return DynamoJobStore(aws, request.getfixturevalue("jobs_table"))
    return PostgresJobStore(request.getfixturevalue("db"))
