"""PostgreSQL restarts while ``gas serve`` is under load: requests in flight fail cleanly
(503 with a message), every process reconnects, consumers resume, nothing is lost."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from e2e.database import Database
from e2e.jobs import api_client, finished, job, log_lines, submit, upload
from e2e.server import Server, free_port
from e2e.test_api_flow import VCF

OUTAGE = 4.0  # seconds the database is down


class Load:
    """Threads asking for the job list and the account over and over, recording what
    came back: a status code, or the name of a transport error."""

    def __init__(self, client: httpx.Client, threads: int = 6) -> None:
        self.client = client
        self.answers: list[tuple[float, str, int | str, dict | None]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(path,), daemon=True)
                         for n in range(threads) for path in [("/api/v1/jobs", "/api/v1/me")[n % 2]]]

    def _run(self, path: str) -> None:
        while not self._stop.is_set():
            try:
                response = self.client.get(path)
                body = response.json() if response.status_code != 200 else None
                self.answers.append((time.monotonic(), path, response.status_code, body))
            except httpx.HTTPError as exc:
                self.answers.append((time.monotonic(), path, exc.__class__.__name__, None))

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)


def test_database_restart_under_load(tmp_path: Path, database: Database) -> None:
    """While six clients hammer the API the database stops for a few seconds and starts
    again. Every answer is 200 or a 503 with a JSON message (no 500, no dropped
    connection); the API answers 200 again soon after; a job submitted during the
    outage is refused with 503 and, retried, completes; a job queued before the
    outage completes; the data written before is all still there."""
    data = tmp_path / "var"
    data.mkdir()
    server = Server(data, free_port(), database_url=database.url,
                    env={"GAS_QUEUE_WAIT_SECONDS": "5"})
    server.start()
    try:
        with api_client(server.url, data, "lee@example.org", database_url=database.url) as client:
            before = submit(client, VCF.encode(), "before.vcf")
            assert finished(client, before)["status"] == "completed"
            staged = upload(client, VCF.encode(), "during.vcf")
            assert staged.status_code == 201
            with Load(client) as load:
                time.sleep(1)
                database.stop()
                stopped = time.monotonic()
                refused = client.post("/api/v1/jobs", json={"key": staged.extensions["key"],
                                                            "file_name": "during.vcf"})
                health = httpx.get(f"{server.url}/health", timeout=10)
                time.sleep(OUTAGE)
                database.start()
                started = time.monotonic()
                recovered = _first_ok_after(load, started, timeout=30)
                time.sleep(1)
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"]["code"] == "service_unavailable"
            assert "try again" in refused.json()["error"]["message"]
            assert refused.headers["Retry-After"] == "5"
            assert health.status_code == 503
            retried = client.post("/api/v1/jobs", json={"key": staged.extensions["key"],
                                                        "file_name": "during.vcf"})
            assert retried.status_code == 201, retried.text
            during = retried.json()["job_id"]
            assert finished(client, during)["status"] == "completed"
            after = submit(client, VCF.encode(), "after.vcf")
            assert finished(client, after)["status"] == "completed"
            listed = [j["job_id"] for j in client.get("/api/v1/jobs").json()["jobs"]]
            assert sorted(listed) == sorted([before, during, after])
            assert job(client, before)["variant_count"] == 3
        outcomes = Counter(status for _, _, status, _ in load.answers)
        assert set(outcomes) <= {200, 503}, outcomes
        assert outcomes[503] > 0 and outcomes[200] > 0, outcomes
        for _, _, status, body in load.answers:
            if status == 503:
                assert body is not None and body["error"]["code"] == "service_unavailable"
        assert not log_lines(data / "serve.log", "unhandled error")
        print(f"\nFIGURE database restart: {sum(outcomes.values())} requests, "
              f"{outcomes[200]} x 200, {outcomes[503]} x 503, 0 other; database down "
              f"{started - stopped:.1f}s; API answering 200 again {recovered:.2f}s after "
              "the database was back")
    finally:
        server.stop()


def _first_ok_after(load: Load, moment: float, timeout: float) -> float:
    """Seconds from ``moment`` to the first 200 the load saw after it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        oks = [at for at, _, status, _ in list(load.answers) if at > moment and status == 200]
        if oks:
            return min(oks) - moment
        time.sleep(0.05)
    raise AssertionError(f"no 200 within {timeout}s of the database coming back")
