"""The database URL's TLS parameters reach every connection: the pool's (through
``databases``, which hands asyncpg only the URL's host, port, user and database) as
well as the LISTEN connections'. On RDS deploy/boot.sh sets ``sslmode=verify-full``
with AWS's CA bundle: a server that cannot prove itself gets no password."""

from __future__ import annotations

import asyncio
import struct
import urllib.parse
from collections.abc import AsyncIterator

import certifi
import pytest

from app.infra.db import connect, fetchval

SSL_REQUEST = 80877103  # the code of PostgreSQL's SSLRequest message


def with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.urlencode([*urllib.parse.parse_qsl(parts.query), *params.items()])
    return parts._replace(query=query).geturl()


@pytest.fixture
async def server_without_tls() -> AsyncIterator[tuple[int, list[bytes]]]:
    """A server on 127.0.0.1 that answers "no TLS here" (as a PostgreSQL without TLS, or
    whatever stands in the database's place, does) and records any plain-text startup
    message sent to it after that: the one that would be followed by the password."""
    plain_startups: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            _, code = struct.unpack("!ii", await reader.readexactly(8))
            if code == SSL_REQUEST:
                writer.write(b"N")
                await writer.drain()
                plain_startups.append(await reader.readexactly(8))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1], plain_startups


async def test_the_pool_connects_as_the_url_says(database_url: str) -> None:
    """A URL with TLS parameters the server can meet still connects (the test server
    has none: sslmode=disable)."""
    db = await connect(with_query(database_url, sslmode="disable"), max_size=1)
    try:
        assert await fetchval(db, "SELECT 1") == 1
    finally:
        await db.disconnect()


async def test_verify_full_refuses_a_server_without_tls(server_without_tls: tuple[int, list[bytes]]
                                                        ) -> None:
    """sslmode=verify-full, with a root certificate that loads (a public CA bundle): the
    pool fails to connect to a server without TLS, saying so, and sends it nothing in
    plain text, where asyncpg's default ("prefer") would carry on unencrypted."""
    port, plain_startups = server_without_tls
    url = with_query(f"postgresql://gas:secret@127.0.0.1:{port}/gas",
                     sslmode="verify-full", sslrootcert=certifi.where())
    with pytest.raises(ConnectionError, match="rejected SSL upgrade"):
        await connect(url, max_size=1)
    assert plain_startups == []
