"""GAS_DB_POOL_SIZE bounds the connections a process's pool opens: what the table of
connections per role in README (and deploy/systemd's units) counts on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.config import Settings
from app.infra.db import connection
from app.services import open_services


async def test_the_pool_opens_no_more_than_its_setting(database_url: str, tmp_path: Path) -> None:
    """With a pool of 2, two tasks holding a connection each leave a third waiting until
    one lets go."""
    services = await open_services(Settings(data_dir=tmp_path, database_url=database_url, db_pool_size=2))
    release = asyncio.Event()

    async def hold(acquired: asyncio.Event) -> None:
        async with connection(services.db):
            acquired.set()
            await release.wait()

    try:
        first, second, third = asyncio.Event(), asyncio.Event(), asyncio.Event()
        holders = [asyncio.create_task(hold(e)) for e in (first, second)]
        await asyncio.wait_for(asyncio.gather(first.wait(), second.wait()), 10)
        waiting = asyncio.create_task(hold(third))
        await asyncio.sleep(0.5)
        assert not third.is_set()
        release.set()
        await asyncio.wait_for(asyncio.gather(*holders, waiting), 10)
        assert third.is_set()
    finally:
        release.set()
        await services.close()
