"""Shared fixtures: one PostgreSQL server per test session, a fresh database per module.

``DATABASE_URL`` (or ``GAS_DATABASE_URL``) points the tests at an existing server
instead of the embedded one; the account must be allowed to create databases.
"""

from __future__ import annotations

import os
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from databases import Database

from app.config import Settings
from app.infra.db import EmbeddedPostgres, connect, migrate
from app.ports.aws import AwsSession
from app.services import Services, open_services


def with_database(url: str, name: str) -> str:
    """``url`` with its database replaced, keeping host, socket and options."""
    return urllib.parse.urlsplit(url)._replace(path=f"/{name}").geturl()


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    given = os.environ.get("GAS_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("postgres"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    """A new, migrated database for this test module, dropped afterwards."""
    name = f"gas_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(postgres_url, name)
    db = await connect(url, max_size=2)
    try:
        await migrate(db)
    finally:
        await db.disconnect()
    yield url
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="module")
async def db(database_url: str) -> AsyncIterator[Database]:
    database = await connect(database_url)
    yield database
    await database.disconnect()


@pytest.fixture(scope="module")
async def services(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Services]:
    """The real local services (this module's database, files under a temp dir)."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("gas"), database_url=database_url,
        public_url="http://localhost", cookie_secure=False, secret_key="test-secret",
        queue_wait_seconds=0.2, reference_dir=installed_reference(),
    )
    opened = await open_services(settings)
    yield opened
    await opened.close()


def installed_reference() -> Path:
    """The installed reference data (``make test`` installs GRCh37 there)."""
    default = Path(__file__).resolve().parent.parent / "var" / "reference"
    return Path(os.environ.get("GAS_REFERENCE_DIR", default))


# -- AWS, as moto's server ---------------------------------------------------------

MOTO_CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing"}


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto's server on a free local port: S3, SQS, SNS, DynamoDB, SES and CloudFormation
    over real HTTP, as the AWS adapters talk to AWS. Shared by the session, so tests
    use names of their own."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def aws_session(moto_url: str) -> AsyncIterator[AwsSession]:
    """One aioboto3 session and set of clients for the test session, as in a process."""
    session = AwsSession("us-east-1", moto_url, **MOTO_CREDENTIALS)
    yield session
    await session.close()
