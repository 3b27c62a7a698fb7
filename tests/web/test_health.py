"""Liveness and readiness: the load balancer asks /health/live, which needs the process
only, so a database outage (an RDS failover) does not get every web instance replaced;
/health says whether the database answers (503 with the reason when it does not)."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator

import pytest
from quart.testing import QuartClient

from app.infra import db as dbmod
from app.services import Services
from app.web import create_app, pages


async def _client_on(services: Services, url: str) -> AsyncIterator[QuartClient]:
    """A web app whose database is at ``url`` (nothing connected at start)."""
    database = await dbmod.connect(url, min_size=0)
    app = create_app(services.settings, dataclasses.replace(services, db=database))
    async with app.test_app() as running:
        yield running.test_client()
    await database.disconnect()


@pytest.fixture
async def refused(services: Services) -> AsyncIterator[QuartClient]:
    """The app pointed at a database that refuses connections (a port nobody listens on)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async for client in _client_on(services, f"postgresql://gas@127.0.0.1:{port}/gas"):
        yield client


@pytest.fixture
async def silent(services: Services) -> AsyncIterator[QuartClient]:
    """The app pointed at a host that accepts the connection and never answers, as a
    failed-over database's old address can."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async for client in _client_on(services, f"postgresql://gas@127.0.0.1:{port}/gas"):
        yield client
    for writer in held:
        writer.close()
    server.close()


async def test_both_answer_ok_while_the_database_does(client: QuartClient) -> None:
    for path in ("/health/live", "/health"):
        response = await client.get(path)
        assert (response.status_code, await response.get_json()) == (200, {"status": "ok"}), path


async def test_a_refused_database_leaves_liveness_ok_and_readiness_503(refused: QuartClient) -> None:
    live = await refused.get("/health/live")
    assert (live.status_code, await live.get_json()) == (200, {"status": "ok"})
    ready = await refused.get("/health")
    assert ready.status_code == 503
    assert await ready.get_json() == {"status": "unavailable", "database": "not answering"}


async def test_a_database_that_never_answers_is_503_within_the_bound(
    silent: QuartClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readiness gives up after its bound instead of the driver's 60 s connect timeout."""
    monkeypatch.setattr(pages, "_READY_SECONDS", 0.5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    ready = await silent.get("/health")
    assert ready.status_code == 503 and loop.time() - started < 5
    assert (await silent.get("/health/live")).status_code == 200
