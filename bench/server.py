"""What every benchmark here shares: a PostgreSQL of its own, accounts and jobs
made through the app's own functions, a `gas serve` child on a free port, and
that child's CPU time and memory read from /proc.

The benchmark owns the database (embedded PostgreSQL under its temporary data
dir, handed to `gas serve` as DATABASE_URL) so it can seed accounts before the
server starts and publish events beside it; the server's RSS is then its own,
without PostgreSQL's.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
from databases import Database

from app.accounts import users
from app.infra import db as dbmod
from app.jobs.job import COMPLETED, FAILED, PENDING, RUNNING, Job, Status, input_key, utcnow
from app.ports.jobs.local import PostgresJobStore
from e2e.server import Server, Worker, free_port

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def embedded_database(data_dir: Path) -> Iterator[str]:
    """An embedded PostgreSQL under ``data_dir`` for the length of the block; its URL."""
    server = dbmod.EmbeddedPostgres(data_dir)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def connected(url: str, max_size: int = 4) -> AsyncIterator[Database]:
    database = await dbmod.connect(url, max_size=max_size)
    try:
        await dbmod.migrate(database)
        yield database
    finally:
        await database.disconnect()


async def make_user(database: Database, email: str, password: str, role: users.Role = "premium") -> str:
    user = await users.create(database, email, password, role=role)
    return user.user_id


async def make_jobs(database: Database, user_id: str, count: int) -> None:
    """``count`` finished and unfinished jobs, a minute apart, as the job list shows them.

    They go straight into the job store (no queue message), so no annotator works
    on them while the list is being measured.
    """
    store = PostgresJobStore(database)
    now = utcnow()
    statuses: tuple[Status, ...] = (COMPLETED, COMPLETED, COMPLETED, FAILED, RUNNING, PENDING)
    for i in range(count):
        job_id = str(uuid.uuid4())
        status = statuses[i % len(statuses)]
        submitted = now - timedelta(minutes=count - i)
        name = f"sample_{i:03d}.vcf.gz"
        await store.create(Job(
            job_id=job_id, user_id=user_id, input_file_name=name, input_bucket="gas-inputs",
            input_key=input_key(user_id, job_id, name), input_size=40_000 + i, submitted_at=submitted,
            status=status, progress=100 if status == COMPLETED else 40 if status == RUNNING else 0,
            started_at=submitted if status != PENDING else None,
            completed_at=submitted + timedelta(seconds=20) if status in (COMPLETED, FAILED) else None,
            variant_count=1_000 + i if status == COMPLETED else None,
            storage="hot" if status == COMPLETED else None,
            error="Line 12: POS is not a number." if status == FAILED else None,
        ))


def login_cookie(base_url: str, email: str, password: str) -> str:
    """The Cookie header of a session signed in through the login form, as a browser does it."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        page = http.get("/login")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if found is None:
            raise RuntimeError("the login page has no csrf_token field")
        done = http.post("/login", data={"email": email, "password": password, "csrf_token": found[1]})
        if done.status_code not in (302, 303):
            raise RuntimeError(f"login as {email} failed: HTTP {done.status_code}")
        return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    # The command name in parentheses may hold spaces: split after its closing one.
    return text[text.rindex(")") + 2:].split()


def descendants(pid: int) -> list[int]:
    """Every live process under ``pid`` (PostgreSQL's backends, the engine's pool)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                children.setdefault(int(_stat_fields(int(entry.name))[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of ``pid``, its reaped children and its live descendants."""
    fields = _stat_fields(pid)
    # Fields 14-17 of /proc/<pid>/stat (here from index 11): utime stime cutime cstime.
    ticks = sum(int(v) for v in fields[11:15])
    for child in descendants(pid):
        with contextlib.suppress(OSError):
            ticks += sum(int(v) for v in _stat_fields(child)[11:13])
    return ticks / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@contextlib.contextmanager
def gas_serve(data_dir: Path, env: dict[str, str] | None = None, *, roles: str | None = None
              ) -> Iterator[Server]:
    """``gas serve`` (the e2e tests' :class:`Server`) on a free port with quieter logs,
    stopped with Ctrl-C (SIGINT) at the end."""
    server = Server(data_dir, free_port(), roles=roles, env={"GAS_LOG_LEVEL": "WARNING", **(env or {})})
    server.start(timeout=90)
    try:
        yield server
    finally:
        server.stop()


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: every figure is one that was measured)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@contextlib.contextmanager
def annotators(server: Server, count: int) -> Iterator[list[Worker]]:
    """``count`` ``gas annotator`` processes beside ``server`` (its settings and data dir),
    stopped with Ctrl-C (SIGINT) at the end."""
    env = {**server.env, "GAS_PUBLIC_URL": server.url}
    workers = [Worker(server.data_dir, f"annotator-{n}", env=env) for n in range(count)]
    try:
        for worker in workers:
            worker.start()
        yield workers
    finally:
        for worker in workers:
            worker.stop()
