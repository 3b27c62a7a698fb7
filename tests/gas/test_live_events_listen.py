"""A LISTEN connection for live events only where they are read: the web app holds one, an
annotator or a daemon none (on RDS each would hold a connection for nothing)."""

from __future__ import annotations

import asyncio
import urllib.parse
from pathlib import Path

import asyncpg
import pytest

from app.config import Settings
from app.ports.bus.local import CHANNEL as BUS_CHANNEL
from app.ports.events.local import CHANNEL as EVENTS_CHANNEL
from app.web import create_app
from gas.serve import run_roles
from tests.conftest import installed_reference
from tests.consuming import eventually


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, secret_key="test-secret",
                    cookie_secure=False, reference_dir=installed_reference())


async def listening(database_url: str, channel: str) -> int:
    """Connections to this database whose last statement was LISTEN on ``channel``."""
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query = $2",
            urllib.parse.urlsplit(database_url).path.lstrip("/"), f'LISTEN "{channel}"',
        ))
    finally:
        await connection.close()


@pytest.mark.parametrize("role", ["annotator", "notify", "restore"])
async def test_an_annotator_or_a_daemon_does_not_listen_for_live_events(
    settings: Settings, database_url: str, role: str
) -> None:
    """The role runs (its bus waits on NOTIFY for its queue), with no LISTEN for live events."""
    stop = asyncio.Event()
    running = asyncio.create_task(run_roles(settings, stop, [role]))
    try:
        await eventually(lambda: listening(database_url, BUS_CHANNEL))
        assert await listening(database_url, EVENTS_CHANNEL) == 0
    finally:
        stop.set()
        await running


async def test_the_web_app_listens_for_live_events(settings: Settings, database_url: str) -> None:
    """A web process holds one LISTEN for live events while it serves, and none after."""
    app = create_app(settings)
    async with app.test_app():
        assert await listening(database_url, EVENTS_CHANNEL) == 1
    assert await eventually(lambda: _none_listening(database_url))


async def _none_listening(database_url: str) -> bool:
    return await listening(database_url, EVENTS_CHANNEL) == 0
