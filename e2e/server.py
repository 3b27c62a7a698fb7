"""Start and stop ``gas serve`` as a real subprocess on a free port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
# The shared sample VCFs sit beside the clone; GAS_SAMPLE_VCF_DIR points elsewhere (a git worktree).
SAMPLES = Path(os.environ.get("GAS_SAMPLE_VCF_DIR", REPO.parent / "shared" / "data" / "vcf"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def reference_dir() -> Path:
    """The reference data ``gas serve`` annotates with (``make test`` installs GRCh37 there)."""
    return Path(os.environ.get("GAS_REFERENCE_DIR", REPO / "var" / "reference"))


def gas_env(
    data_dir: Path, port: int | None = None, database_url: str | None = None
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GAS_DATA_DIR=str(data_dir),
        GAS_REFERENCE_DIR=str(reference_dir()),
        QUART_AUTH_COOKIE_SECURE="false",
        GAS_LOG_LEVEL="INFO",
    )
    env.pop("DATABASE_URL", None)
    env.pop("GAS_DATABASE_URL", None)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    if port is not None:
        env["GAS_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    return env


def gas(
    data_dir: Path, *args: str, input: str | None = None, database_url: str | None = None
) -> str:
    """Run the ``gas`` CLI against the same data dir (and database) as the server; its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "gas.cli", *args], env=gas_env(data_dir, database_url=database_url),
        cwd=REPO,
        capture_output=True, text=True, input=input, timeout=120,
    )
    if done.returncode != 0:
        raise AssertionError(f"gas {' '.join(args)} failed: {done.stderr}")
    return done.stdout


@dataclass
class Server:
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    # ``gas serve --roles``: None runs every worker beside the web.
    roles: str | None = None
    # Settings of this test on top of gas_env's (GAS_OIDC_* for one).
    env: dict[str, str] = field(default_factory=dict)
    database_url: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "not running"
        return self.process.pid

    def start(self, timeout: float = 60) -> None:
        log = open(self.data_dir / "serve.log", "ab")
        roles = [] if self.roles is None else ["--roles", self.roles]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gas.cli", "serve", "--port", str(self.port), *roles],
            env={**gas_env(self.data_dir, self.port, self.database_url), **self.env},
            cwd=REPO, stdout=log, stderr=log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gas serve exited: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise AssertionError(f"gas serve did not answer in {timeout}s: {self.log_tail()}")

    def stop(self, timeout: float = 30) -> int | None:
        """Ctrl-C, as a person would; the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        os.kill(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise AssertionError(f"gas serve did not stop on Ctrl-C: {self.log_tail()}") from None
        finally:
            self.process = None

    def kill(self, sig: signal.Signals, timeout: float = 30) -> int:
        """Send ``sig`` (SIGTERM: an orderly stop; SIGKILL: a crash); the exit code."""
        assert self.process is not None and self.process.poll() is None, "not running"
        os.kill(self.process.pid, sig)
        try:
            return self.process.wait(timeout)
        finally:
            self.process = None

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.data_dir / "serve.log", lines)


def _tail(path: Path, lines: int) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


@dataclass
class Worker:
    """``gas annotator`` (or ``gas daemon ROLE``) on its own, beside a web-only server.

    It leads a process group of its own, so :meth:`crash` takes its engine
    processes down with it, as a machine or container dying would.
    """

    data_dir: Path
    name: str
    args: tuple[str, ...] = ("annotator",)
    env: dict[str, str] = field(default_factory=dict)
    database_url: str | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"{self.name}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None, "not running"
        return self.process.pid

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gas.cli", *self.args],
            env={**gas_env(self.data_dir, database_url=self.database_url), **self.env},
            cwd=REPO, stdout=log, stderr=log, start_new_session=True,
        )

    def crash(self) -> None:
        """SIGKILL to the worker and every process it started."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        self.process = None

    def stop(self, timeout: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        os.kill(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise AssertionError(f"{self.name} did not stop: {_tail(self.log_path, 40)}") from None
        finally:
            self.process = None


@contextlib.contextmanager
def serving(data_dir: Path, email: str, role: str = "free") -> Iterator[tuple[Server, str]]:
    """``gas serve`` on a free port with a fresh data dir, and an API token of a user of it."""
    server = Server(data_dir, free_port())
    server.data_dir.mkdir()
    server.start()
    try:
        gas(server.data_dir, "users", "create", email, "--password", "password123", "--role", role)
        yield server, gas(server.data_dir, "users", "token", email).strip()
    finally:
        server.stop()
