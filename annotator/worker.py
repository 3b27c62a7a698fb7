"""The annotator worker: consumes both job-request lanes and turns a pending job
into a completed (or failed) one, exactly once per job however often the message comes.

Each lane (app/jobs/scheduling.py) has its own engine processes and jobs in hand, so a
small job never waits for an engine busy with a large one; a request whose user
already has their plan's most jobs running goes back to its queue for later.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import math
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from annotator import engine
from annotator.limits import LimitExceeded, Limits
from annotator.protection import Busy, NoProtection, Protection, protection_for
from annotator.reference import ReferenceMissing, installed_builds
from app.accounts import users
from app.config import Settings
from app.infra import processes
from app.infra.consumer import consume
from app.infra.disk_full import is_disk_full
from app.jobs import scheduling
from app.jobs.job import (
    CANCELLED,
    COMPLETED,
    DELETING,
    FAILED,
    PENDING,
    RUNNING,
    Job,
    Status,
    overall_progress,
    result_keys,
    safe_file_name,
    utcnow,
)
from app.jobs.lifecycle import (
    JOB_RESULTS,
    LARGE,
    SMALL,
    JobEvent,
    JobRequest,
    JobResult,
    Lane,
    Move,
    announce,
)
from app.ports.bus import SQS_MAX_HIDDEN_SECONDS, LeaseLimitReached, Message
from app.ports.objects import ObjectNotFound
from app.results import variant_table
from app.services import Services

log = logging.getLogger(__name__)


# The files a run writes in its work directory; ENGINE holds the pid of the engine
# process running it, written as it starts; STOP, written by the annotator, asks that
# process to give the job up (its owner cancelled it).
OUTPUT, LOG, SUMMARY, PROGRESS, TABLE, ENGINE, STOP = (
    "output.vcf", "log.txt", "summary.json", "progress", "variants.arrow", "engine.pid", "stop",
)
# The engine stops itself at its wall time (checked per block it reads). What it
# cannot check (the results table, a stuck read) is stopped this long after: its
# process is killed.
WALL_TIME_GRACE_SECONDS = 30.0
# How often a running job's record is read to see whether its owner cancelled it.
CANCEL_CHECK_SECONDS = 1.0
# How long a cancelled job's engine has to give the job up by itself (it looks for the stop
# file at each progress step, about every 5% of the file) before its process is killed.
STOP_GRACE_SECONDS = 3.0


def limits_for(settings: Settings, premium: bool) -> Limits:
    """What the engine may read of one input of this plan."""
    def setting(name: str) -> Any:
        return settings.plan_max(name, premium)

    return Limits(
        decompressed_bytes=setting("decompressed_bytes"),
        records=setting("records"),
        line_bytes=setting("line_bytes"),
        header_bytes=setting("header_bytes"),
        header_lines=setting("header_lines"),
        seconds=setting("job_seconds"),
    )


# Per limit: what the file did, what a plan allows, and what else would help.
_OVER_LIMIT = {
    "decompressed_bytes": (
        "This file expands to more than {value} bytes of VCF", "up to {value} bytes (uncompressed)",
        "split the file",
    ),
    "records": (
        "This file has more than {value} variants", "up to {value} variants per file", "split the file",
    ),
    "line_bytes": (
        "Line {line} is longer than {value} bytes", "lines of up to {value} bytes",
        "split its samples over several files",
    ),
    "header_bytes": (
        "The header (the lines up to #CHROM) is longer than {value} bytes at line {line}",
        "headers of up to {value} bytes", "remove the header lines it does not need",
    ),
    "header_lines": (
        "The header (the lines up to #CHROM) has more than {value} lines", "headers of up to {value} lines",
        "remove the header lines it does not need",
    ),
    "seconds": (
        "Annotating this file took longer than {value}", "for up to {value} per job", "split the file",
    ),
}


def limit_message(exc: LimitExceeded, premium: bool) -> str:
    """The reason a person reads when their file crossed a limit of their plan."""
    crossed, allowed, remedy = _OVER_LIMIT[exc.limit]
    value = _duration(exc.value) if exc.limit == "seconds" else f"{exc.value:,}"
    facts = {"value": value, "line": f"{exc.line:,}"}
    who, fix = ("Premium accounts", remedy.capitalize()) if premium else (
        "free accounts", f"Upgrade to Premium or {remedy}")
    return f"{crossed.format(**facts)}; {who} may annotate {allowed.format(**facts)}. {fix}."


def _duration(seconds: float) -> str:
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.3g} {unit}s"
    return f"{seconds:,.3g} second{'' if seconds == 1 else 's'}"


class TableFailed(Exception):
    """The results table could not be built from the annotated file: permanent."""


def engine_started(work: Path) -> None:
    """Said by the engine process as it starts a job: the wall-time backstop counts
    from here (not from when the job queued for a process), and kills this pid."""
    (work / ENGINE).write_text(str(os.getpid()))


class EngineStopped(Exception):
    """The engine process found its job's stop file and gave the job up."""


def report_progress(work: Path, phase: str, fraction: float) -> None:
    """Said by the engine process at each step: where it is (a small file the event loop polls),
    unless its job was cancelled (the stop file), when it stops there. Stopping by itself keeps
    the process, and with it the lane's other jobs: killing one breaks the whole pool."""
    if (work / STOP).exists():
        raise EngineStopped
    # Written whole each time: a reader sees the last value or the one before, never half.
    (work / PROGRESS).write_text(f"{phase} {fraction:.4f}")


def run_engine(
    source: str, work_dir: str, reference_root: str, build: str, skip_bad_lines: bool = False,
    limits: Limits | None = None,
) -> dict[str, Any]:
    """Runs in a worker process: annotate, then build the results viewer's table.

    Progress goes through a small file, which the event loop polls, so nothing but
    paths has to cross the process boundary.
    """
    work = Path(work_dir)
    engine_started(work)

    def progress(phase: str, fraction: float) -> None:
        report_progress(work, phase, fraction)

    summary = engine.annotate_file(
        Path(source), work / OUTPUT, reference_root=Path(reference_root), build=build,
        log_path=work / LOG, summary_path=work / SUMMARY, skip_bad_lines=skip_bad_lines, limits=limits,
        progress=lambda pct: progress("annotating", pct / 100),
    )
    try:
        rows = max(1, summary.get("variant_count") or 0)
        variant_table.build(
            work / OUTPUT, work / TABLE, summary.get("longest_line", 0), lambda n: progress("table", n / rows)
        )
    except OSError:
        raise  # the scratch disk's: a full disk is told apart by the worker
    except (pa.ArrowException, ValueError) as exc:  # ArrowInvalid is both
        raise TableFailed(f"{exc.__class__.__name__}: {exc}") from None
    return summary


def reference_problem(settings: Settings) -> str | None:
    """Why an annotator on these settings could annotate nothing, for the operator; None if it can."""
    if installed_builds(settings.reference_path):
        return None
    build = engine.DEFAULT_BUILD if settings.default_build == "auto" else settings.default_build
    return (
        f"the {build} reference is not installed: run `gas reference install` "
        f"(GAS_REFERENCE_DIR is {settings.reference_path})"
    )


# Of the 12 hours SQS keeps a job's request hidden, what a job is given besides its engine's
# wall time: fetching the input, storing the results.
JOB_IO_SECONDS = 3600


def lease_problem(settings: Settings) -> str | None:
    """Why an annotator on these settings could hold a job's request longer than SQS keeps it
    hidden, for the operator; None if it cannot. A request is held while its job waits for an
    engine process behind the other jobs in hand, and while it runs: a longer one would be
    delivered again mid-run (one that gets there anyway fails with the reason: give_up)."""
    if settings.backend != "aws":
        return None
    limits = (("FREE", settings.free_max_job_seconds), ("PREMIUM", settings.premium_max_job_seconds))
    # The small lane runs every job within the free limits (Annotator._run).
    lanes = (
        (max(limits, key=lambda p: p[1]), settings.annotator_concurrency, settings.annotator_processes, ""),
        (min(limits, key=lambda p: p[1]), settings.annotator_small_concurrency,
         settings.annotator_small_processes, "SMALL_"),
    )
    for (plan, seconds), concurrency, engines, lane in lanes:
        rounds = math.ceil(concurrency / engines)
        if rounds * seconds + JOB_IO_SECONDS > SQS_MAX_HIDDEN_SECONDS:
            return (
                f"GAS_{plan}_MAX_JOB_SECONDS={seconds:g} is too long for SQS: a job may hold its "
                f"request for {rounds} x {seconds:g} s (waiting for one of GAS_ANNOTATOR_{lane}PROCESSES="
                f"{engines} engine processes behind the GAS_ANNOTATOR_{lane}CONCURRENCY={concurrency} "
                f"jobs in hand, then running) and {JOB_IO_SECONDS} s to fetch and store, more than the "
                f"{SQS_MAX_HIDDEN_SECONDS} s SQS keeps a message hidden. Lower it to "
                f"{(SQS_MAX_HIDDEN_SECONDS - JOB_IO_SECONDS) // rounds} s or less, or the concurrency."
            )
    return None


def _engine_process(server_pid: int) -> None:
    """Set up an engine process of the server ``server_pid``."""
    # Ctrl-C reaches the whole process group: the server stops the pool itself, so a
    # worker must not die of it mid-task with a traceback on the terminal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A server killed with SIGKILL cannot stop its pool, and the pool's parent is the
    # forkserver, not the server: without this the process would finish its job for
    # nobody (the job is redelivered) and keep the forkserver alive.
    threading.Thread(target=_end_with, args=(server_pid,), name="end-with-server", daemon=True).start()


def _end_with(server_pid: int) -> None:
    while processes.alive(server_pid):
        time.sleep(1)
    os._exit(1)


def make_executor(processes: int) -> ProcessPoolExecutor:
    # forkserver: children do not inherit the event loop, sockets or threads of
    # the server process.
    return ProcessPoolExecutor(
        processes, mp_context=multiprocessing.get_context("forkserver"),
        initializer=_engine_process, initargs=(os.getpid(),),
    )


def clear_abandoned_work(root: Path) -> list[Path]:
    """Remove the scratch space of annotator processes that are gone (killed, the
    machine restarted): each process works under ``<root>/<its pid>``. Their jobs
    are redelivered and start over. What was removed."""
    removed = []
    for folder in root.glob("*"):
        if folder.name.isdigit() and not processes.alive(int(folder.name)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@dataclass
class LanePool:
    """A lane's engine processes and how many of its jobs an annotator has in hand."""

    lane: Lane
    processes: int
    concurrency: int
    executor: ProcessPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.executor = make_executor(self.processes)

    def restart(self) -> None:
        """A new pool after an engine process died (killed, out of memory)."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = make_executor(self.processes)

    def stop(self) -> None:
        """End the engine processes now. Their jobs' messages are handed back by the
        consumer, so another worker redoes them; left alone, a process would finish a
        job for nobody and hold up the server's exit until it had."""
        # No public way to reach a pool's processes before Python 3.14's terminate_workers().
        engines = list((self.executor._processes or {}).values())  # type: ignore[attr-defined]
        self.executor.shutdown(wait=False, cancel_futures=True)
        for engine_process in engines:
            engine_process.terminate()


class Annotator:
    def __init__(self, services: Services, protection: Protection | None = None) -> None:
        self.services = services
        # Spared by scale-in while any lane has a job in hand.
        self.busy = Busy(protection or NoProtection())
        settings = services.settings
        self.lanes: dict[str, LanePool] = {
            SMALL: LanePool(SMALL, settings.annotator_small_processes, settings.annotator_small_concurrency),
            LARGE: LanePool(LARGE, settings.annotator_processes, settings.annotator_concurrency),
        }
        # Counting a user's running jobs and claiming one are a pair: one pair at a time
        # in this process, so its own lanes cannot both start a job past the cap.
        self._claiming = asyncio.Lock()
        work_root = settings.data_path / "work"
        for folder in clear_abandoned_work(work_root):
            log.info("removed the scratch space of a stopped annotator: %s", folder)
        self.work_dir = work_root / str(os.getpid())

    @property
    def executor(self) -> ProcessPoolExecutor:
        """The large lane's engine processes."""
        return self.lanes[LARGE].executor

    def close(self) -> None:
        for pool in self.lanes.values():
            pool.stop()

    async def handle(self, message: Message, request: JobRequest, lane: LanePool | None = None) -> None:
        """Annotate the requested job on ``lane``'s engine processes (by default, the
        lane of the queue the message came from; the large lane for any other queue)."""
        if lane is None:
            lane = self.lanes.get(message.queue, self.lanes[LARGE])
        job = await self.services.jobs.get(request.job_id)
        if job is None or job.status in (CANCELLED, DELETING):
            # Its owner cancelled or deleted it: the request is done with, not poison.
            log.info("the job was cancelled or deleted; nothing to do",
                     extra={"job_id": request.job_id, "user_id": request.user_id or ""})
            return
        if job.finished:
            # A redelivery of work already done: the worker that finished it may have
            # died before announcing it, so announce it again (notify and archive are
            # idempotent; the message is acknowledged only once this returns).
            await self._finish(job, job.status, None)
            return
        ctx = {"job_id": job.job_id, "user_id": job.user_id}
        owner = await users.get(self.services.db, job.user_id)
        premium = owner is not None and owner.premium
        if job.status == PENDING:
            async with self._claiming:
                running, cap = await self._running_jobs(job, premium)
                if running >= cap:
                    await self._defer(message, request, running, cap, ctx)
                    return
                claimed = await announce(self.services, job, move=Move(
                    [PENDING], RUNNING, fields={"started_at": utcnow(), "progress": 0}
                ))
            if not claimed:
                return  # someone else has it
        else:
            log.info("resuming a job whose worker stopped", extra=ctx)
        async with self.busy.job():
            await self._work(job, lane, premium, ctx)

    async def _work(self, job: Job, lane: LanePool, premium: bool, ctx: dict[str, str]) -> None:
        """Run a job this annotator holds as running, to its end."""
        await announce(self.services, job, event=self._job_event(job, RUNNING, 0))
        try:
            await self._run(job, lane, premium)
        except JobCancelled:
            await self._cancelled(job)
        except JobFailed as exc:
            await self._fail(job, str(exc))
        except MoveToLargeLane as exc:
            await self._move_to_large_lane(job, str(exc), ctx)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            log.error("out of disk space: %s", exc, extra=ctx)
            await self._fail(job, DISK_FULL_MESSAGE)

    def _over_limit(self, exc: LimitExceeded, plan_limits: Limits, premium: bool) -> Exception:
        """What crossing a limit means: the job failed, or, where its plan allows more
        than the lane it ran on, a move to the large lane."""
        allowed = getattr(plan_limits, exc.limit)
        if allowed is None or allowed > exc.value:
            return MoveToLargeLane(exc.limit)
        return JobFailed(limit_message(exc, premium))

    async def _move_to_large_lane(self, job: Job, why: str, ctx: dict[str, str]) -> None:
        """Start the job over on the large lane, pending again, with its request sent
        there (the caller's message is then acknowledged)."""
        if await announce(
            self.services, job,
            move=Move([RUNNING], PENDING, fields={"started_at": None, "progress": 0, "phase": None}),
            publish=scheduling.request(job, LARGE), event=self._job_event(job, PENDING, 0),
        ):
            log.info("moved to the large lane: the file crossed the small lane's %s limit", why, extra=ctx)

    async def _running_jobs(self, job: Job, premium: bool) -> tuple[int, int]:
        """The owner's running jobs, and how many their plan allows."""
        cap = self.services.settings.plan_max("running_jobs", premium)
        counts = await self.services.jobs.count_by_status(job.user_id, [RUNNING])
        return counts[RUNNING], cap

    async def _defer(
        self, message: Message, request: JobRequest, running: int, cap: int, ctx: dict[str, str]
    ) -> None:
        """Ask again later, as a new message: the original is acknowledged when this
        returns, so waiting for a free slot never counts toward the dead-letter queue."""
        again = dataclasses.replace(request, deferrals=request.deferrals + 1)
        delay = self.services.settings.annotator_defer_seconds
        await self.services.bus.send(message.queue, again.encode(), delay_seconds=delay)
        log.info("deferred: the user has %d of %d jobs running; asking again in %d s (deferral %d)",
                 running, cap, delay, again.deferrals, extra=ctx)

    async def give_up(self, message: Message, request: JobRequest, exc: Exception) -> None:
        """The request failed its last delivery, or its job ran past the bus's limit: say so
        on the job, rather than leave it running for ever or have it redone."""
        job = await self.services.jobs.get(request.job_id)
        if job is None or job.finished:
            return
        if isinstance(exc, LeaseLimitReached):
            # Still running: its engine is stopped once the job is seen failed (_stop_cancelled).
            await self._fail(job, (
                f"GAS stopped this job: it ran for longer than a job can ({_duration(exc.seconds)}, "
                "the queue's limit). Split the file and submit the parts; the operator has been told."
            ))
            return
        await self._fail(job, (
            f"GAS could not finish this job: storage or messaging kept failing "
            f"({exc.__class__.__name__}) after {message.receive_count} attempts. "
            "Please submit the file again; the operator has been told."
        ))

    async def _run(self, job: Job, lane: LanePool, premium: bool) -> None:
        settings = self.services.settings
        ctx = {"job_id": job.job_id, "user_id": job.user_id}
        plan_limits = limits_for(settings, premium)
        # The small lane keeps its promise (a small job starts within seconds) only if
        # nothing in it runs long: a small upload runs there within a free account's
        # limits, and one that turns out bigger (a premium gzip that expands) moves on.
        limits = plan_limits.tightened(limits_for(settings, False)) if lane.lane == SMALL else plan_limits
        try:
            info = await self.services.objects.head(job.input_bucket, job.input_key)
        except ObjectNotFound:
            raise JobFailed("The uploaded file is no longer in storage. Please upload it again.") from None
        if not premium and info.size > settings.free_max_input_bytes:
            raise JobFailed(
                f"The file is {info.size:,} bytes; free accounts can annotate files up to "
                f"{settings.free_max_input_bytes:,} bytes. Upgrade to Premium for larger files."
            )
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f"{job.job_id}-", dir=self.work_dir) as tmp:
            work = Path(tmp)
            # The engine names the file in its log: give it the name the user knows.
            source = work / safe_file_name(job.input_file_name)
            if not await self._progress(job, "reading", 0.0):
                raise JobCancelled
            await self.services.objects.get_file(job.input_bucket, job.input_key, source)
            log.info("annotating %s bytes", info.size, extra=ctx)
            watcher = asyncio.create_task(self._watch_progress(job, work / PROGRESS))
            pool = lane.executor
            running: asyncio.Future[dict[str, Any]] | None = None
            backstop: asyncio.Task[bool] | None = None
            stopper: asyncio.Task[bool] | None = None
            try:
                # Inside the try: a pool already known to be broken refuses the job here.
                running = asyncio.get_running_loop().run_in_executor(
                    pool, run_engine, str(source), str(work), str(settings.reference_path),
                    job.build or settings.default_build, job.skip_bad_lines, limits,
                )
                backstop = asyncio.create_task(self._stop_overdue(running, work, limits.seconds, ctx))
                stopper = asyncio.create_task(self._stop_cancelled(job, running, work, ctx))
                summary = await running
            except BrokenProcessPool:
                # An engine process died (killed, out of memory, or past its wall time):
                # start a new pool (once, however many jobs it had in hand).
                log.error("annotation process died; restarting the pool", extra=ctx)
                if lane.executor is pool:
                    lane.restart()
                if stopper is not None and stopper.done() and stopper.result():
                    raise JobCancelled from None
                if backstop is not None and backstop.done() and backstop.result():
                    overdue = LimitExceeded("seconds", limits.seconds or 0)
                    raise self._over_limit(overdue, plan_limits, premium) from None
                raise  # retried: the job is picked up again as running
            except EngineStopped:
                log.info("the job was cancelled: its engine gave it up", extra=ctx)
                raise JobCancelled from None
            except LimitExceeded as exc:
                raise self._over_limit(exc, plan_limits, premium) from exc
            except engine.VcfError as exc:
                raise JobFailed(f"This file is not a VCF GAS can read: {exc}") from exc
            except ReferenceMissing as exc:
                log.error("the %s reference %s: run `gas reference install --build %s` (under %s)",
                          exc.build, exc.why, exc.build, exc.reference_root, extra=ctx)
                raise JobFailed(
                    f"The {exc.build} reference {exc.why} on this server; the operator has been told."
                ) from exc
            except TableFailed as exc:
                log.error("results table failed: %s", exc, extra=ctx)
                raise JobFailed(
                    "GAS annotated this file but could not build its results table "
                    f"({str(exc)[:300]}); the operator has been told."
                ) from exc
            except (OSError, MemoryError):
                raise  # the machine's, not the file's: retried
            except Exception as exc:
                if running is None:
                    raise  # the pool refused the job (shutting down): not the file's doing
                # Anything else is the engine failing on this file, and would fail again.
                log.exception("the engine failed", extra=ctx)
                raise JobFailed(
                    f"GAS failed on this file with an internal error ({exc.__class__.__name__}); "
                    "the operator has been told."
                ) from exc
            finally:
                for task in (watcher, backstop, stopper):
                    if task is None:
                        continue
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            bucket = settings.results_bucket
            result_key, log_key, summary_key, table = result_keys(job)
            stored = [
                (result_key, work / OUTPUT, "text/x-vcf"),
                (log_key, work / LOG, "text/plain; charset=utf-8"),
                (summary_key, work / SUMMARY, "application/json"),
                (table, work / TABLE, "application/vnd.apache.arrow.file"),
            ]
            sizes = [path.stat().st_size for _, path, _ in stored]
            done_bytes = 0
            for (key, path, content_type), size in zip(stored, sizes, strict=True):
                if not await self._progress(job, "storing", done_bytes / max(1, sum(sizes))):
                    raise JobCancelled
                await self.services.objects.put_file(bucket, key, path, content_type)
                done_bytes += size
        done = await self._finish(job, COMPLETED, Move([RUNNING], COMPLETED, fields=dict(
            completed_at=utcnow(),
            progress=100,
            phase=None,
            variant_count=summary.get("variant_count"),
            build_used=summary.get("build", {}).get("used"),
            lines_skipped=sum(n["count"] for n in summary.get("skipped", {}).values()),
            result_bucket=bucket,
            result_key=result_key,
            log_key=log_key,
            summary_key=summary_key,
            storage="hot",
            error=None,
        )))
        if done:
            log.info("job completed", extra=ctx)
            return
        raise JobCancelled  # or finished by another delivery: _cancelled tells them apart

    def _kill_engine(self, running: asyncio.Future[Any], work: Path) -> int | None:
        """Kill the engine process running this job (its pid file) unless the job is done:
        the process may have moved on to another job. The pid killed, if one was."""
        if running.done():
            return None
        pid = int((work / ENGINE).read_text())
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return pid

    async def _stop_cancelled(
        self, job: Job, running: asyncio.Future[Any], work: Path, ctx: dict[str, str]
    ) -> bool:
        """Look every second whether the job is still running, and once not (its owner
        cancelled or deleted it) ask its engine to stop (the stop file); one that has not
        within STOP_GRACE_SECONDS (busy where it does not look) is killed, and the pool is
        then replaced, as for a crash. Whether it killed one."""
        while True:
            await asyncio.sleep(CANCEL_CHECK_SECONDS)
            if running.done():
                return False
            try:
                now = await self.services.jobs.get(job.job_id)
            except Exception as exc:  # the job store's, whichever backend
                # Only a look: the job's own writes from running notice a cancel as well.
                log.warning("could not read the job to see whether it was cancelled: %s", exc, extra=ctx)
                continue
            if (now is None or now.status != RUNNING) and (work / ENGINE).exists():
                break
        (work / STOP).touch()
        await asyncio.wait({running}, timeout=STOP_GRACE_SECONDS)
        pid = self._kill_engine(running, work)
        if pid is not None:
            log.info("the job was cancelled: killed its engine (pid %s)", pid, extra=ctx)
        return pid is not None

    async def _cancelled(self, job: Job) -> None:
        """A job cancelled (or deleted) while it ran: what it stored goes, and its request is
        acknowledged. Nothing is published: there is no result to mail about or archive. A job
        that another delivery of its request finished (or moved) keeps what it stored."""
        now = await self.services.jobs.get(job.job_id)
        if now is not None and now.status not in (CANCELLED, DELETING):
            return
        for key in result_keys(job):
            await self.services.objects.delete(self.services.settings.results_bucket, key)
        log.info("stopped: the job was cancelled", extra={"job_id": job.job_id, "user_id": job.user_id})

    async def _stop_overdue(
        self, running: asyncio.Future[Any], work: Path, seconds: float | None, ctx: dict[str, str]
    ) -> bool:
        """Kill the engine process of a job still running `seconds` (plus a grace)
        after it started; whether it did. The job cannot stop itself there."""
        if seconds is None:
            return False
        loop = asyncio.get_running_loop()
        began: float | None = None  # None while the job waits for a process of the pool
        while True:
            await asyncio.sleep(0.2)
            if began is None:
                began = loop.time() if (work / ENGINE).exists() else None
            elif loop.time() - began > seconds + WALL_TIME_GRACE_SECONDS:
                break
        pid = self._kill_engine(running, work)
        if pid is not None:
            log.error("the engine (pid %s) was past the job's wall time of %s s: killed it", pid, seconds,
                      extra=ctx)
        return pid is not None

    async def _fail(self, job: Job, reason: str) -> None:
        log.warning("job failed: %s", reason, extra={"job_id": job.job_id, "user_id": job.user_id})
        await self._finish(job, FAILED, Move([PENDING, RUNNING], FAILED,
                                             fields={"completed_at": utcnow(), "error": reason}))

    async def _finish(self, job: Job, status: Status, move: Move | None) -> bool:
        """The job finished (with ``move``, if it still could: False if not): the notifier and
        the archiver are asked, and the owner's pages told."""
        return await announce(
            self.services, job, move=move, publish=(JOB_RESULTS, JobResult(job.job_id, job.user_id, status)),
            event=self._job_event(job, status, 100 if status == COMPLETED else job.progress),
        )

    @staticmethod
    def _job_event(job: Job, status: Status, progress: int, phase: str | None = None) -> JobEvent:
        return JobEvent(job.job_id, status, progress, phase, job.input_file_name)

    async def _progress(self, job: Job, phase: str, fraction: float) -> bool:
        """The job is `fraction` through `phase`: its record and its open pages say so.
        False when it is no longer running (cancelled or deleted): nothing is told."""
        value = overall_progress(phase, fraction)
        if not await self.services.jobs.transition(job.job_id, [RUNNING], RUNNING,
                                                   progress=value, phase=phase):
            return False
        await announce(self.services, job, event=self._job_event(job, RUNNING, value, phase))
        return True

    async def _watch_progress(self, job: Job, progress_file: Path) -> None:
        """The engine process's progress (its file: "phase fraction"), told on as it moves."""
        last: tuple[str | None, int] = (None, -1)
        while True:
            await asyncio.sleep(1)
            try:
                phase, fraction = (await asyncio.to_thread(progress_file.read_text)).split()
                now = (phase, overall_progress(phase, float(fraction)))
            except (FileNotFoundError, ValueError, KeyError):
                continue
            if now != last:
                last = now
                await self._progress(job, phase, float(fraction))


DISK_FULL_MESSAGE = (
    "The server ran out of disk space while annotating this file, so no result was "
    "stored. Please try again later; the operator has been told."
)


class MoveToLargeLane(Exception):
    """The job crossed a small-lane limit (named in the message) that its plan allows."""


class JobCancelled(Exception):
    """The job is no longer running: its owner cancelled or deleted it."""


class JobFailed(Exception):
    """The job cannot succeed; the message says why, for the person who submitted it."""


async def decoded(take: Callable[..., Awaitable[None]], message: Message, body: dict[str, Any],
                   *args: Any, **kwargs: Any) -> None:
    """Hand ``take`` the request a message's body is (a bad one is poison)."""
    await take(message, JobRequest.decode(body), *args, **kwargs)


async def run(services: Services) -> None:
    """The annotator role: until cancelled."""
    settings = services.settings
    protection, aws = protection_for(settings)
    annotator = Annotator(services, protection)
    try:
        async with asyncio.TaskGroup() as lanes:
            for pool in annotator.lanes.values():
                lanes.create_task(consume(
                    services.bus,
                    pool.lane,
                    functools.partial(decoded, annotator.handle, lane=pool),
                    concurrency=pool.concurrency,
                    visibility=settings.queue_visibility_seconds,
                    wait_seconds=settings.queue_wait_seconds,
                    max_receives=settings.queue_max_receives,
                    give_up=functools.partial(decoded, annotator.give_up),
                ), name=f"annotator {pool.lane}")
    finally:
        annotator.close()
        if aws is not None:
            await aws.close()
