"""Annotator load: submit N jobs to a running GAS through its JSON API, then watch
them drain; prints the backlog over time and the throughput as a table.

    .venv/bin/python bench/ann_load.py --url https://gas.example.org --token "$TOKEN" \\
        [--jobs 50] [--concurrency 8] [--input my.vcf] [--interval 5] [--timeout 3600]

Any backend: it only speaks the API (`POST /api/v1/uploads`, the presigned POST to
the object store the answer names, `POST /api/v1/jobs`, then `GET /api/v1/jobs`), so it
drives `make run`, `gas serve` or a stack behind its load balancer alike. The token is
`gas users token <email>` (or made on /profile); `--token` or `GAS_TOKEN`. A plan's
caps answer 429 (too many jobs waiting or running, too many uploads an hour): the
submission waits (`Retry-After`, else 2 s) and tries again, and the report counts those
waits; use a Premium account, whose caps an operator sets (`GAS_PREMIUM_MAX_*`), to
submit all at once.

The table samples the submitted jobs every `--interval` seconds (client clock):
how many are submitted, pending, running and finished. Then, from the jobs' own
`submitted_at` and `completed_at` (server clock): the time to drain (first
submission to last finish), the throughput (finished jobs a minute over that time)
and each job's time from submission to finish.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

# Six real GRCh37 variants (BRCA1, TP53, MT…); their old annotation is replaced by the new.
DEFAULT_INPUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "annotated.vcf"
FINISHED = frozenset({"completed", "failed", "cancelled"})


@dataclass
class Sample:
    seconds: float  # since the first submission began (client clock)
    submitted: int
    pending: int
    running: int
    finished: int


@dataclass
class Report:
    jobs: int
    samples: list[Sample] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    submit_seconds: float = 0.0
    waits_429: int = 0
    drain_seconds: float = 0.0  # server clock: first submitted_at to last completed_at
    latencies: list[float] = field(default_factory=list)  # completed_at - submitted_at

    @property
    def finished(self) -> int:
        return sum(n for status, n in self.statuses.items() if status in FINISHED)

    @property
    def jobs_per_minute(self) -> float:
        return 60 * self.finished / self.drain_seconds if self.drain_seconds else 0.0


def _time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _percentile(values: list[float], pct: float) -> float:
    """Nearest rank: every figure is one that was measured."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


class Load:
    def __init__(self, http: httpx.AsyncClient, vcf: Path) -> None:
        self.http, self.vcf, self.content = http, vcf, vcf.read_bytes()
        self.submitted: list[str] = []
        self.waits_429 = 0

    async def _post(self, path: str, **request: Any) -> dict[str, Any]:
        """POST to the API; a 429 (a plan's cap) is waited out and tried again."""
        while True:
            response = await self.http.post(path, **request)
            if response.status_code != 429:
                if response.status_code >= 400:
                    raise RuntimeError(f"POST {path}: HTTP {response.status_code} {response.text[:200]}")
                return dict(response.json())
            self.waits_429 += 1
            await asyncio.sleep(float(response.headers.get("Retry-After", 2)))

    async def submit_one(self, gate: asyncio.Semaphore) -> None:
        async with gate:
            policy = await self._post("/api/v1/uploads")
            stored = await self.http.post(policy["url"], data=policy["fields"],
                                          files={"file": (self.vcf.name, self.content)})
            if stored.status_code >= 400:
                raise RuntimeError(f"upload to {policy['url']}: HTTP {stored.status_code}")
            job = await self._post("/api/v1/jobs", json={"key": policy["key"], "file_name": self.vcf.name})
            self.submitted.append(str(job["job_id"]))

    async def jobs(self) -> dict[str, dict[str, Any]]:
        """The submitted jobs as the API shows them (the list has the latest 500 of the user's
        jobs; any of ours older than that are asked for one by one)."""
        listed = (await self.http.get("/api/v1/jobs")).json()["jobs"]
        ours = set(self.submitted)
        found = {j["job_id"]: j for j in listed if j["job_id"] in ours}
        for job_id in ours - set(found):
            found[job_id] = (await self.http.get(f"/api/v1/jobs/{job_id}")).json()
        return found


async def run(url: str, token: str, vcf: Path, jobs: int, concurrency: int = 8,
              interval: float = 5.0) -> Report:
    """Submit ``jobs`` jobs of ``vcf`` and follow them until none is left unfinished."""
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as http:
        load = Load(http, vcf)
        report = Report(jobs)
        start = time.monotonic()
        gate = asyncio.Semaphore(concurrency)
        submitting = asyncio.gather(*(load.submit_one(gate) for _ in range(jobs)))
        try:
            while True:
                current = await load.jobs()
                counts = [j["status"] for j in current.values()]
                report.samples.append(Sample(
                    round(time.monotonic() - start, 1), len(load.submitted), counts.count("pending"),
                    counts.count("running"), sum(s in FINISHED for s in counts)))
                if submitting.done():
                    submitting.result()  # a refused submission ends the run, saying why
                    if not report.submit_seconds:
                        report.submit_seconds = time.monotonic() - start
                    if all(s in FINISHED for s in counts):
                        break
                await asyncio.sleep(interval)
        finally:
            submitting.cancel()
    report.waits_429 = load.waits_429
    for job in current.values():
        report.statuses[job["status"]] = report.statuses.get(job["status"], 0) + 1
    done = [j for j in current.values() if j.get("completed_at")]
    if done:
        first = min(_time(j["submitted_at"]) for j in current.values())
        report.drain_seconds = max(_time(j["completed_at"]) for j in done) - first
        report.latencies = [_time(j["completed_at"]) - _time(j["submitted_at"]) for j in done]
    return report


def render(report: Report) -> str:
    lines = [f"{'t (s)':>7} {'submitted':>9} {'pending':>7} {'running':>7} {'finished':>8}"]
    lines += [f"{s.seconds:>7.1f} {s.submitted:>9} {s.pending:>7} {s.running:>7} {s.finished:>8}"
              for s in report.samples]
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(report.statuses.items()))
    lines += [
        "",
        f"jobs                {report.jobs} ({statuses})",
        f"submitted in        {report.submit_seconds:.1f} s ({report.waits_429} waits on 429)",
        f"time to drain       {report.drain_seconds:.1f} s (first submission to last finish)",
        f"throughput          {report.jobs_per_minute:.1f} jobs/min",
    ]
    if report.latencies:
        lines.append(f"job time p50 / p99  {_percentile(report.latencies, 50):.1f} s / "
                     f"{_percentile(report.latencies, 99):.1f} s (submission to finish)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:5000", help="GAS's address")
    parser.add_argument("--token", default=os.environ.get("GAS_TOKEN"),
                        help="an API token (gas users token EMAIL); default $GAS_TOKEN")
    parser.add_argument("--jobs", type=int, default=20, help="how many jobs to submit")
    parser.add_argument("--concurrency", type=int, default=8, help="submissions in flight at once")
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="the VCF every job annotates")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up after this many seconds")
    args = parser.parse_args()
    if not args.token:
        parser.error("--token or GAS_TOKEN is required (gas users token EMAIL)")
    print(f"{args.jobs} jobs of {args.input.name} ({args.input.stat().st_size:,} bytes) to {args.url}, "
          f"{args.concurrency} submissions at a time", flush=True)
    report = asyncio.run(asyncio.wait_for(
        run(args.url, args.token, args.input, args.jobs, args.concurrency, args.interval), args.timeout))
    print(render(report))


if __name__ == "__main__":
    main()
