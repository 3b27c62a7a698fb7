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

import pytest
from databases import Database
from quart import Quart, Response

from app.db import connect
from app.ports.bus import Bus
from app.ports.bus.local import PostgresBus
from app.ports.events import Events
from app.ports.events.local import PostgresEvents
from app.ports.jobs import JobStore
from app.ports.jobs.local import PostgresJobStore
from app.ports.mail import Mailer
from app.ports.mail.local import OutboxMailer, SmtpMailer
from app.ports.objects import ObjectStore
from app.ports.objects.local import LocalObjectStore
from app.web import objects as objects_web

SENDER = "GAS <gas@example.org>"


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


@pytest.fixture(params=["local"])
def objects(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectsHarness:
    assert request.param == "local"
    return _local_objects(tmp_path / "objects")


# -- bus ---------------------------------------------------------------------------

@pytest.fixture(params=["local"])
async def bus(request: pytest.FixtureRequest, db: Database, database_url: str
              ) -> AsyncIterator[Bus]:
    assert request.param == "local"
    adapter = PostgresBus(db, database_url)
    yield adapter
    await adapter.close()


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
    """Just enough of an SMTP server to take messages (no TLS, no auth)."""

    messages: list[bytes] = field(default_factory=list)

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 fake ESMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
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


@pytest.fixture(params=["outbox", "smtp"])
async def mail(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MailHarness]:
    if request.param == "outbox":
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

@pytest.fixture(params=["local"])
def job_store(request: pytest.FixtureRequest, db: Database) -> JobStore:
    assert request.param == "local"
    return PostgresJobStore(db)
