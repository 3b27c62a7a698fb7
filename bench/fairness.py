"""Fairness benchmark: does another user's small job start within seconds while a
premium user fills the annotator, and how fast do decompression bombs fail?

    .venv/bin/python bench/fairness.py [--tries 10] [--queued 20] [--variants 5000000]
                                       [--bomb-timeout 180] [--sample PATH]
                                       [--phase all|small|bombs] [--quick]

Two phases, each on its own `gas serve` (defaults for every setting: two lanes,
per-plan caps) with an embedded PostgreSQL in a fresh temporary data dir:

1. **Small jobs under load.** A free user submits `free_1.vcf` (33 KB, the shared
   sample) through the JSON API, waits until it has completed, and does it again:
   `--tries` times with the service idle (after one untimed job that starts the
   engine process), then again while a premium user's
   `--variants`-variant job (gzipped, bench/engine.py's generator) is running (its
   engine has started) and `--queued` more of their large jobs (`--queued-variants`
   variants each: they are queued, their size only matters once they run) wait
   behind it. The figure is each small job's `completed_at - submitted_at` as the
   server wrote them: p50 and p95 idle and loaded, and the ratio of the p95s
   (goal: <= 3x).
2. **Bombs from a free account**, each a gzip under the free plan's 150 KB made
   streaming: one `##` header line of `--header-mib` MiB of one letter, and
   `--bomb-variants` identical records. The figure is the time from submission to
   `failed` (or "not failed within N s"), the reason the job gives, and the peak
   RSS of the engine processes, sampled every 0.1 s (goal: < 5 s each, < 300 MB).

The free user's jobs go to the small lane (`job-requests-small`, engine
processes of its own); the premium user's to the large one. `--quick` is a smoke
run of a few seconds per phase with small inputs.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from databases import Database

# Run as a script (`python bench/fairness.py`): the repo root holds `bench` and `e2e`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.accounts import users
from app.config import Settings
from app.infra.db import fetchrow, fetchval
from bench.engine import make_vcf, reference_root
from bench.server import (
    connected,
    descendants,
    embedded_database,
    gas_serve,
    make_user,
    percentile,
    rss_bytes,
)
from e2e.server import SAMPLES

PASSWORD = "bench-password-1"
HEADER = b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
FINISHED = ("completed", "failed")
FREE_MAX_INPUT_BYTES = Settings().free_max_input_bytes


@dataclass
class Bomb:
    name: str
    description: str
    seconds: float | None  # to failed; None: not failed in time
    status: str
    error: str
    peak_rss: int


async def submit(http: httpx.AsyncClient, token: str, name: str, content: bytes) -> str:
    """Upload through a presigned POST and create the job: its id."""
    auth = {"Authorization": f"Bearer {token}"}
    policy = (await http.post("/api/v1/uploads", headers=auth)).json()
    stored = await http.post(policy["url"], data=policy["fields"], files={"file": (name, content)})
    stored.raise_for_status()
    made = await http.post("/api/v1/jobs", headers=auth, json={"key": policy["key"], "file_name": name})
    if made.status_code != 201:
        raise RuntimeError(f"submission refused: HTTP {made.status_code} {made.text}")
    return str(made.json()["job_id"])


async def job_row(database: Database, job_id: str) -> dict[str, object]:
    row = await fetchrow(
        database, "SELECT status, progress, submitted_at, completed_at, error FROM jobs WHERE job_id = $1",
        job_id,
    )
    assert row is not None
    return dict(row)


async def until_finished(database: Database, job_id: str, within: float) -> dict[str, object] | None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        row = await job_row(database, job_id)
        if row["status"] in FINISHED:
            return row
        await asyncio.sleep(0.05)
    return None


async def small_jobs(http: httpx.AsyncClient, database: Database, token: str, name: str,
                     content: bytes, tries: int) -> list[float]:
    """Submit ``content`` ``tries`` times, one after the other: each one's seconds from
    submitted to completed."""
    seconds = []
    for _ in range(tries):
        job_id = await submit(http, token, name, content)
        row = await until_finished(database, job_id, 300)
        if row is None or row["status"] != "completed":
            raise RuntimeError(f"small job {job_id} did not complete: {row}")
        seconds.append((row["completed_at"] - row["submitted_at"]).total_seconds())  # type: ignore[operator]
    return seconds


def gzipped_vcf(variants: int, folder: Path) -> Path:
    plain = folder / f"generated_{variants}.vcf"
    make_vcf(plain, variants, reference_root())
    packed = folder / f"generated_{variants}.vcf.gz"
    with plain.open("rb") as source, gzip.open(packed, "wb", compresslevel=1) as out:
        shutil.copyfileobj(source, out, 1 << 20)
    plain.unlink()
    return packed


async def fairness(args: argparse.Namespace, folder: Path) -> tuple[list[float], list[float], str]:
    print(f"generating a {args.variants:,}-variant and a {args.queued_variants:,}-variant VCF ...",
          flush=True)
    big = gzipped_vcf(args.variants, folder)
    queued = gzipped_vcf(args.queued_variants, folder)
    with tempfile.TemporaryDirectory(prefix="gas-bench-fairness-") as tmp, \
            embedded_database(Path(tmp)) as db_url:
        async with connected(db_url) as database:
            free = await users.create_token(
                database, await make_user(database, "free@example.org", PASSWORD, role="free"), "bench")
            premium = await users.create_token(
                database, await make_user(database, "premium@example.org", PASSWORD), "bench")
            with gas_serve(Path(tmp), {"DATABASE_URL": db_url}) as server:
                async with httpx.AsyncClient(base_url=server.url, timeout=600) as http:
                    print(f"idle: {args.tries} x {args.sample.name} ...", flush=True)
                    small = await asyncio.to_thread(args.sample.read_bytes)
                    # Untimed: the small lane's engine process starts and loads the reference.
                    await small_jobs(http, database, free, args.sample.name, small, 1)
                    idle = await small_jobs(http, database, free, args.sample.name, small, args.tries)
                    print(f"loading: a {big.stat().st_size / 1e6:.0f} MB job and {args.queued} queued "
                          f"of {queued.stat().st_size / 1e6:.1f} MB, premium ...", flush=True)
                    running = await submit(http, premium, big.name, await asyncio.to_thread(big.read_bytes))
                    # The large job's engine has started (progress is read once a second).
                    while True:
                        if (await job_row(database, running))["progress"] != 0:
                            break
                        await asyncio.sleep(0.2)
                    content = await asyncio.to_thread(queued.read_bytes)
                    for _ in range(args.queued):
                        await submit(http, premium, queued.name, content)
                    print(f"loaded: {args.tries} x {args.sample.name} ...", flush=True)
                    loaded = await small_jobs(http, database, free, args.sample.name, small, args.tries)
                    state = await job_row(database, running)
                    waiting = await fetchval(
                        database, "SELECT count(*) FROM jobs WHERE status = 'pending'")
                    after = (f"after the loaded tries the large job was {state['status']} at "
                             f"{state['progress']}% and {waiting} premium jobs were pending")
    return idle, loaded, after


def header_bomb(path: Path, mib: int) -> None:
    """One ``##`` line of ``mib`` MiB of one letter: about 1,000:1 in gzip."""
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"##fileformat=VCFv4.2\n##reference=GRCh37\n##")
        chunk = b"A" * (1 << 20)
        for _ in range(mib):
            out.write(chunk)
        out.write(b"\n" + HEADER + b"1\t1000000\t.\tA\tG\t.\t.\t.\n")


def records_bomb(path: Path, variants: int) -> None:
    """``variants`` identical records, as short as a record can be (3M fit in 100 KB)."""
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"##fileformat=VCFv4.2\n##reference=GRCh37\n" + HEADER)
        block = 100_000
        line = b"1\t9\t.\tA\tG\t.\t.\t.\n"
        for start in range(0, variants, block):
            out.write(line * min(block, variants - start))


async def peak_rss_until(pid: int, done: asyncio.Event) -> int:
    """The largest RSS of any process under ``pid`` (the engine processes) until ``done``."""
    peak = 0
    while not done.is_set():
        for child in descendants(pid):
            try:
                peak = max(peak, rss_bytes(child))
            except (OSError, RuntimeError):
                continue
        await asyncio.sleep(0.1)
    return peak


async def bomb(args: argparse.Namespace, name: str, description: str, path: Path) -> Bomb:
    """Submit one bomb on a `gas serve` of its own (a bomb that is not stopped keeps
    its engine busy, and would hold up the next)."""
    content = await asyncio.to_thread(path.read_bytes)
    print(f"{name} bomb: {description}, {len(content):,} bytes gzipped ...", flush=True)
    if len(content) > FREE_MAX_INPUT_BYTES:
        raise SystemExit(f"the {name} bomb is over the free plan's {FREE_MAX_INPUT_BYTES:,} bytes: "
                         "its upload would be refused; make it smaller")
    with tempfile.TemporaryDirectory(prefix="gas-bench-bombs-") as tmp, \
            embedded_database(Path(tmp)) as db_url:
        async with connected(db_url) as database:
            token = await users.create_token(
                database, await make_user(database, "bombs@example.org", PASSWORD, role="free"), "bench")
            with gas_serve(Path(tmp), {"DATABASE_URL": db_url}) as server:
                async with httpx.AsyncClient(base_url=server.url, timeout=600) as http:
                    done = asyncio.Event()
                    sampler = asyncio.create_task(peak_rss_until(server.pid, done))
                    job_id = await submit(http, token, path.name, content)
                    row = await until_finished(database, job_id, args.bomb_timeout)
                    done.set()
                    peak = await sampler
    if row is None:
        return Bomb(name, description, None, "running", "", peak)
    seconds = (row["completed_at"] - row["submitted_at"]).total_seconds()  # type: ignore[operator]
    return Bomb(name, description, seconds, str(row["status"]), str(row["error"] or ""), peak)


def print_small_jobs(name: str, idle: list[float], loaded: list[float], after: str) -> None:
    print()
    print(f"{name + ', submit -> completed':<34} {'n':>3} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for label, values in (("idle", idle), ("premium job running + queued", loaded)):
        print(f"{label:<34} {len(values):>3} {percentile(values, 50):>7.2f} "
              f"{percentile(values, 95):>7.2f} {max(values):>7.2f}")
    ratio = percentile(loaded, 95) / percentile(idle, 95)
    print(f"p95 loaded / idle: {ratio:.2f}x (goal <= 3x): {'met' if ratio <= 3 else 'NOT met'}")
    print(after)
    print(flush=True)


def print_bomb(bomb: Bomb, timeout: float) -> None:
    rss = f"engine peak RSS {bomb.peak_rss / 1e6:.0f} MB"
    if bomb.seconds is None:
        print(f"{bomb.name} bomb ({bomb.description}): not failed within {timeout:.0f} s; {rss}")
    else:
        met = bomb.status == "failed" and bomb.seconds < 5 and bomb.peak_rss < 300e6
        print(f"{bomb.name} bomb ({bomb.description}): {bomb.status} after {bomb.seconds:.2f} s; "
              f"{rss} (goal < 5 s, < 300 MB: {'met' if met else 'NOT met'})")
    if bomb.error:
        print(f"    {bomb.error[:200]}")
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tries", type=int, default=10)
    parser.add_argument("--queued", type=int, default=20)
    parser.add_argument("--variants", type=int, default=5_000_000,
                        help="variants of the premium job that runs")
    parser.add_argument("--queued-variants", type=int, default=300_000,
                        help="variants of each queued premium job")
    parser.add_argument("--header-mib", type=int, default=150)
    parser.add_argument("--bomb-variants", type=int, default=3_000_000)
    parser.add_argument("--bomb-timeout", type=float, default=180)
    parser.add_argument("--sample", type=Path, default=SAMPLES / "free_1.vcf",
                        help="the small job (default: the shared free_1.vcf)")
    parser.add_argument("--phase", choices=["all", "small", "bombs"], default="all",
                        help="run only the small jobs' phase or only the bombs")
    parser.add_argument("--quick", action="store_true", help="a smoke run with small inputs")
    args = parser.parse_args()
    if args.quick:
        args.tries, args.queued, args.variants, args.queued_variants = 2, 3, 300_000, 20_000
        args.header_mib, args.bomb_variants, args.bomb_timeout = 8, 200_000, 60
    if not args.sample.exists():
        print(f"skipped: the small job's input {args.sample} is not there (give one with --sample)")
        return
    with tempfile.TemporaryDirectory(prefix="gas-bench-fairness-inputs-") as tmp:
        folder = Path(tmp)
        if args.phase in ("all", "small"):
            print_small_jobs(args.sample.name, *asyncio.run(fairness(args, folder)))
        if args.phase == "small":
            return
        header, records = folder / "header-bomb.vcf.gz", folder / "records-bomb.vcf.gz"
        header_bomb(header, args.header_mib)
        records_bomb(records, args.bomb_variants)
        for name, description, path in (
            ("header", f"one ## line of {args.header_mib} MiB", header),
            ("records", f"{args.bomb_variants:,} records", records),
        ):
            print_bomb(asyncio.run(bomb(args, name, description, path)), args.bomb_timeout)


if __name__ == "__main__":
    main()
