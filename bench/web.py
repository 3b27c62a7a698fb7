"""Web benchmark: the signed-in job list (`/annotations`, 50 jobs) and its HTMX
rows fragment under locust (headless, FastHttpUser, bench/locustfile.py) against
`gas serve` (one process: one web worker, with the annotator and daemons idle
beside it).

    .venv/bin/python bench/web.py [--users 200] [--seconds 30] [--user-rps 6] [--quick]

It starts an embedded PostgreSQL in a temporary data dir, makes one account
with 50 jobs through the app's own functions, starts `gas serve` on a free
port, runs `locust --headless -u 200 -r 200 -t 30s --json-file` on it, prints
requests/s and p50/p99 for the page, the fragment and both, then stops
everything. It installs nothing: it needs `pip install -e '.[bench]'` (locust).

Load: 200 users, each paced to 6 requests a second (1,200 req/s offered, half
pages, half fragments). `--user-rps 0` drops the think time: a saturation run
(200 requests always in flight, so latency = 200 / throughput).
Goal: >= 1,000 req/s and p99 < 100 ms on the 2-core machine.

Measured on the 2-core development machine (2026-11-30) while four other
engineers ran their test suites on it (load average 3-5): the server got
0.5-0.9 of a core and figures move +-30% from run to run. Server CPU per
request is the steadiest figure.

    before (the app as it was; --users 50 --seconds 15 --user-rps 0, twice)
        185 and 199 req/s, p99 870 and 710 ms; 4.56 and 4.33 ms of CPU a request
    after (same runs, interleaved with the before runs)
        202 and 275 req/s, p99 980 and 640 ms; 3.34 and 3.20 ms of CPU a request

    after, `.venv/bin/python bench/web.py` (200 users, 1,200 req/s offered)
        231 req/s (both), p50 630 ms, p99 3,700 ms, 0 failures; 3.31 ms CPU a request
        again at load ~2: 269 req/s, p50 490 ms, p99 2,900 ms; 3.26 ms a request
        goal >= 1,000 req/s: 0.23x; goal p99 < 100 ms: not met (37x)
    after, `--user-rps 0` (saturation, 200 users)
        280 req/s, p50 520 ms, p99 3,000 ms; the server at 0.94 cores, 3.34 ms a request
        again at load ~2: 257 req/s, p99 3,400 ms; 0.88 cores, 3.40 ms a request

The goal is not met: one Quart process spends about 3.2 ms of CPU on this
page, so a whole core would serve about 300 req/s, and locust needs the
other core. What the time went to and what changed (py-spy profiles of the
server under load, then in-process timings):

    - Quart ran two sync template context processors (quart-auth's and
      Flask's default on every blueprint) on a worker thread for every page:
      12% of the samples. Now called inline (app/web/__init__.py).
    - The rows fragment included status_badge.html for each row (a new
      template context per row) and built each link with url_for: render
      1.55 -> 1.09 ms. Now a macro imported once and one url_for.
    - The user and job-list reads went through `databases` (SQLAlchemy
      compiles every query, every row is wrapped): 0.71 -> 0.55 ms and
      0.21 -> 0.13 ms of CPU. Now straight to asyncpg.
    - Tried and dropped: uvloop (4.41/4.67 ms vs 4.53/4.42 ms a request with
      it, no difference), a faster Job.from_row (the dataclass constructor is
      the cost: dict(row) is 0.07 ms of its 0.27 ms for 50 rows).

What is left (3.2 ms; shares of a py-spy profile at saturation): Jinja's
async rendering 32% (~1,000 async generator steps a page; a sync
Environment renders the same rows 20% faster), the two reads with building
50 Job objects 15%, asyncpg's pool reset on release 5%, the rest Quart,
hypercorn and socket I/O. 1,000 req/s needs more web processes (DESIGN.md:
more web instances behind the load balancer), not more trimming of this one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

# Run as a script (`python bench/web.py`): the repo root holds `bench` and `e2e`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import connected, cpu_seconds, embedded_database, gas_serve, make_jobs, make_user

EMAIL, PASSWORD = "bench@example.org", "bench-password-1"
JOBS = 50


async def seed(url: str) -> None:
    async with connected(url) as database:
        user_id = await make_user(database, EMAIL, PASSWORD)
        await make_jobs(database, user_id, JOBS)


def run_locust(host: str, out: Path, users: int, seconds: int, user_rps: float) -> None:
    locust = Path(sys.executable).with_name("locust")
    if not locust.exists():
        raise SystemExit("locust is not installed: .venv/bin/pip install -e '.[bench]'")
    env = {**os.environ, "GAS_BENCH_EMAIL": EMAIL, "GAS_BENCH_PASSWORD": PASSWORD,
           "GAS_BENCH_USER_RPS": str(user_rps)}
    subprocess.run(
        [str(locust), "-f", str(Path(__file__).with_name("locustfile.py")), "--host", host,
         "--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s",
         "--json-file", str(out),  # locust adds ".json"
         "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5"],
        env=env, check=False, stdout=subprocess.DEVNULL,
    )


def _percentile(histogram: dict[str, int], count: int, pct: float) -> float:
    """From locust's histogram of response times (ms, rounded as locust rounds them)."""
    wanted, seen = pct / 100 * count, 0
    for ms, n in sorted((float(k), v) for k, v in histogram.items()):
        seen += n
        if seen >= wanted:
            return ms
    return 0.0


def _merge(entries: list[dict[str, Any]]) -> dict[str, Any]:
    histogram: Counter[str] = Counter()
    for entry in entries:
        histogram.update(entry["response_times"])
    return {"name": "both", "num_requests": sum(e["num_requests"] for e in entries),
            "num_failures": sum(e["num_failures"] for e in entries), "response_times": histogram,
            "start_time": min(e["start_time"] for e in entries),
            "last_request_timestamp": max(e["last_request_timestamp"] for e in entries),
            "max_response_time": max(e["max_response_time"] for e in entries)}


def report(stats_json: Path, cpu: float, seconds: int) -> None:
    entries = json.loads(stats_json.read_text())
    if not entries:
        raise SystemExit("locust made no request: see its output above")
    print(f"{'':38} {'requests':>9} {'fails':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    figures = {}
    for entry in [*entries, _merge(entries)]:
        count = entry["num_requests"]
        rps = count / max(1e-9, entry["last_request_timestamp"] - entry["start_time"])
        p50, p99 = (_percentile(entry["response_times"], count, p) for p in (50, 99))
        figures[entry["name"]] = (rps, p99, count)
        print(f"{entry['name'][:38]:38} {count:>9,} {entry['num_failures']:>6} {rps:>7.0f} "
              f"{p50:>7.0f} {p99:>7.0f} {entry['max_response_time']:>7.0f}")
    rps, p99, count = figures["both"]
    print(f"server CPU: {cpu:.1f} s in {seconds} s ({cpu / seconds:.2f} cores; "
          f"{1000 * cpu / max(1, count):.2f} ms a request)")
    print(f"goal >= 1,000 req/s: {rps:,.0f} req/s ({rps / 1000:.2f}x)   "
          f"goal p99 < 100 ms: {p99:.0f} ms ({p99 / 100:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--user-rps", type=float, default=6.0, help="each user's pace; 0: no think time")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 users for 3 s")
    args = parser.parse_args()
    if args.quick:
        args.users, args.seconds = 20, 3
    with tempfile.TemporaryDirectory(prefix="gas-bench-web-") as tmp:
        data = Path(tmp)
        with embedded_database(data) as url:
            asyncio.run(seed(url))
            with gas_serve(data, {"DATABASE_URL": url}) as server:
                print(f"gas serve pid {server.pid} on {server.url}: {args.users} users, "
                      f"{args.user_rps:g} req/s each, {args.seconds} s, {JOBS} jobs in the list")
                before = cpu_seconds(server.pid)
                run_locust(server.url, data / "locust", args.users, args.seconds, args.user_rps)
                cpu = cpu_seconds(server.pid) - before
        report(data / "locust.json", cpu, args.seconds)


if __name__ == "__main__":
    main()
