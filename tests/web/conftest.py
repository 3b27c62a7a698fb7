from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
from quart import Quart, Response
from quart.testing import QuartClient

from app.accounts import users
from app.accounts.users import User
from app.services import Services, open_services
from app.web import create_app
from tests.ports.conftest import multipart


@pytest.fixture(scope="module")
async def app(services: Services) -> AsyncIterator[Quart]:
    quart_app = create_app(services.settings, services)
    async with quart_app.test_app() as running:
        yield running  # type: ignore[misc]


@pytest.fixture
def client(app: Quart) -> QuartClient:
    return app.test_client()


@pytest.fixture
async def second_instance(services: Services) -> AsyncIterator[Quart]:
    """Another web instance: its own app and connection pool, the same database."""
    other = await open_services(services.settings)
    app = create_app(services.settings, other)
    async with app.test_app() as running:
        yield running  # type: ignore[misc]
    await other.close()


async def make_user(services: Services, role: users.Role = "free") -> tuple[User, str]:
    """A new user with an API token."""
    user = await users.create(services.db, f"{uuid.uuid4().hex[:10]}@example.org",
                              "password123", name="Test", role=role)
    return user, await users.create_token(services.db, user.user_id)


@pytest.fixture
async def alice(services: Services) -> tuple[User, str]:
    return await make_user(services)


@pytest.fixture
async def bob(services: Services) -> tuple[User, str]:
    return await make_user(services)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match[1]


async def post_form(client: QuartClient, path: str, fields: Mapping[str, str], content: bytes,
                    name: str = "in.vcf") -> Response:
    """POST an upload form as a browser sends it: the fields, then the file, last.
    (Quart's test client would put the file first, and the store, like S3, ignores
    fields after the file.)"""
    body, content_type = multipart(fields, name, content)
    return await client.post(path, data=body, headers={"Content-Type": content_type})


async def upload(client: QuartClient, policy: dict, content: bytes, name: str = "in.vcf") -> int:
    """POST a file to a presigned upload as a browser would (fields, then the file)."""
    path = "/" + policy["url"].split("://", 1)[1].split("/", 1)[1]
    return (await post_form(client, path, policy["fields"], content, name)).status_code


SMALL_VCF = (
    b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    b"17\t41245466\t.\tG\tA\t.\t.\t.\n"
)


def repo() -> Path:
    return Path(__file__).resolve().parents[2]


@contextlib.asynccontextmanager
async def hypercorn_serving(app: Quart, accesslog: logging.Logger | None = None) -> AsyncIterator[int]:
    """``app`` under a real hypercorn on a free 127.0.0.1 port, in this event loop; its port.
    Stopped through hypercorn's shutdown trigger when the block ends."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from e2e.server import free_port

    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = accesslog
    config.errorlog = logging.getLogger("hypercorn.error")
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    for _ in range(200):
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        await asyncio.sleep(0.05)
    try:
        yield port
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
