"""deploy/hypercorn.toml: it outlasts the balancer, stops in time, and serves GAS."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
import tomllib
import uuid
from pathlib import Path

import httpx
from hypercorn.config import Config

from app.accounts import users
from app.infra.db import connect
from app.jobs.job import Job, input_key, utcnow
from app.ports.jobs.local import PostgresJobStore
from tests.deploy.template import DEPLOY, UNITS, seconds, unit


def test_hypercorn_outlasts_the_balancer_and_stops_in_time() -> None:
    """hypercorn keeps idle connections longer than the balancer (which then closes
    first: no 502 from a reused dead connection), and its graceful shutdown ends
    within the unit's stop timeout and the target group's deregistration delay."""
    config = Config.from_toml(DEPLOY / "hypercorn.toml")
    assert config.keep_alive_timeout > seconds("idle_timeout.timeout_seconds")
    web = unit(UNITS / "gas-web.service")
    assert config.graceful_timeout < int(web["TimeoutStopSec"][0])
    assert config.graceful_timeout <= seconds("deregistration_delay.timeout_seconds")
    assert config.workers >= 2
    assert tomllib.loads((DEPLOY / "hypercorn.toml").read_text())["bind"] == config.bind


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _user_with_a_job(database_url: str) -> tuple[str, str]:
    db = await connect(database_url, max_size=1)
    try:
        user = await users.create(db, f"{uuid.uuid4().hex[:10]}@example.org", "password123")
        token = await users.create_token(db, user.user_id, "test")
        job_id = str(uuid.uuid4())
        await PostgresJobStore(db).create(Job(
            job_id=job_id, user_id=user.user_id, input_file_name="in.vcf", input_bucket="gas-inputs",
            input_key=input_key(user.user_id, job_id, "in.vcf"), input_size=1, submitted_at=utcnow()))
    finally:
        await db.disconnect()
    return token, job_id


async def test_hypercorn_serves_gas_with_the_deploy_config(database_url: str, tmp_path: Path) -> None:
    """`hypercorn --config deploy/hypercorn.toml app.asgi:app`, as gas-web.service runs
    it (bound here to 127.0.0.1), serves /health from its workers, names itself by
    GAS_PUBLIC_URL whatever Host the request came with (tests/web/test_proxy.py has the
    proxy hop it trusts), and on SIGTERM stops cleanly within the unit's timeout."""
    port = free_port()
    env = {**os.environ, "GAS_DATABASE_URL": database_url, "GAS_DATA_DIR": str(tmp_path),
           "GAS_SECRET_KEY": "test-secret", "GAS_TRUSTED_PROXY_HOPS": "1",
           "GAS_PUBLIC_URL": "https://gas.example.org"}
    server = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "hypercorn"), "--config", str(DEPLOY / "hypercorn.toml"),
        "--bind", f"127.0.0.1:{port}", "app.asgi:app", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        # Its own process group: on failure the workers are stopped with it.
        start_new_session=True,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(300):
                try:
                    health = await client.get("/health")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            assert (health.status_code, health.json()) == (200, {"status": "ok"})
            # Behind the balancer, the API's links name the public address, never the Host sent.
            token, job_id = await _user_with_a_job(database_url)
            job = await client.get(f"/api/v1/jobs/{job_id}", headers={
                "Authorization": f"Bearer {token}", "Host": "evil.example",
                "X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.7"})
            assert job.json()["links"]["self"] == f"https://gas.example.org/api/v1/jobs/{job_id}"
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        stop_timeout = int(unit(UNITS / "gas-web.service")["TimeoutStopSec"][0])
        code = await asyncio.wait_for(server.wait(), stop_timeout)
        assert code == 0
        assert time.monotonic() - started < stop_timeout
    finally:
        if server.returncode is None:
            os.killpg(server.pid, signal.SIGKILL)
            await server.wait()
