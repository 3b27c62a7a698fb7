from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.database import Database
from e2e.server import Server, free_port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """``gas serve`` on a free port with its own data dir; stopped by the test."""
    running = Server(tmp_path / "var", free_port())
    running.data_dir.mkdir()
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """A PostgreSQL server of the test's own, outside GAS's data dir."""
    db = Database(tmp_path / "pg")
    try:
        yield db
    finally:
        db.embedded.stop()


CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's chromium: Playwright cannot download its own browser here."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": CHROMIUM_ARGS}
