"""The annotator worker: consumes both job-request lanes and turns a pending job
into a completed (or failed) one, exactly once per job however often the message comes.

Each lane (app/scheduling.py) has its own engine processes and jobs in hand, so a
small job never waits for an engine busy with a large one; a request whose user
already has their plan's most jobs running goes back to its queue for later.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotator import engine
from annotator.reference import ReferenceMissing
from app import processes, scheduling, users, variant_table
from app.consumer import PoisonMessage, consume
from app.disk_full import is_disk_full
from app.jobs import (
    COMPLETED,
    FAILED,
    PENDING,
    RUNNING,
    Job,
    result_prefix,
    safe_file_name,
    table_key,
    utcnow,
)
from app.ports.bus import Message
from app.ports.objects import ObjectNotFound
from app.scheduling import LARGE, SMALL, Lane
from app.services import Services

log = logging.getLogger(__name__)


# The files a run writes in its work directory.
OUTPUT, LOG, SUMMARY, PROGRESS, TABLE = (
    "output.vcf", "log.txt", "summary.json", "progress", "variants.arrow",
)


def run_engine(
    source: str, work_dir: str, reference_root: str, build: str, skip_bad_lines: bool = False
) -> dict[str, Any]:
    """Runs in a worker process: annotate, then build the results viewer's table.

    Progress goes through a small file, which the event loop polls, so nothing but
    paths has to cross the process boundary.
    """
    work = Path(work_dir)

    def progress(percent: int) -> None:
        (work / PROGRESS).write_text(str(int(percent)))

    summary = engine.annotate_file(
        Path(source), work / OUTPUT, reference_root=Path(reference_root), build=build,
        log_path=work / LOG, summary_path=work / SUMMARY, progress=progress, skip_bad_lines=skip_bad_lines,
    )
    variant_table.build(work / OUTPUT, work / TABLE)
    return summary


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
    def __init__(self, services: Services) -> None:
        self.services = services
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

    async def handle(self, message: Message, body: dict[str, Any], lane: LanePool | None = None) -> None:
        """Annotate the requested job on ``lane``'s engine processes (by default, the
        lane of the queue the message came from; the large lane for any other queue)."""
        if lane is None:
            lane = self.lanes.get(message.queue, self.lanes[LARGE])
        job_id = body.get("job_id")
        job = await self.services.jobs.get(str(job_id)) if job_id else None
        if job is None:
            raise PoisonMessage(f"no such job: {job_id!r}")
        if job.finished:
            # A redelivery of work already done: the worker that finished it may have
            # died before announcing it, so announce it again (notify and archive are
            # idempotent; the message is acknowledged only once this returns).
            await self._finished(job, job.status)
            return
        ctx = {"job_id": job.job_id, "user_id": job.user_id}
        if job.status == PENDING:
            async with self._claiming:
                running, cap = await self._running_jobs(job)
                if running >= cap:
                    await self._defer(message, body, running, cap, ctx)
                    return
                claimed = await self.services.jobs.transition(
                    job.job_id, [PENDING], RUNNING, started_at=utcnow(), progress=0
                )
            if not claimed:
                return  # someone else has it
        else:
            log.info("resuming a job whose worker stopped", extra=ctx)
        await self._event(job, RUNNING, 0)
        try:
            await self._run(job, lane)
        except JobFailed as exc:
            await self._fail(job, str(exc))
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            log.error("out of disk space: %s", exc, extra=ctx)
            await self._fail(job, DISK_FULL_MESSAGE)

    async def _running_jobs(self, job: Job) -> tuple[int, int]:
        """The owner's running jobs, and how many their plan allows."""
        owner = await users.get(self.services.db, job.user_id)
        cap = scheduling.max_running_jobs(self.services.settings, owner is not None and owner.premium)
        counts = await self.services.jobs.count_by_status(job.user_id, [RUNNING])
        return counts[RUNNING], cap

    async def _defer(
        self, message: Message, body: dict[str, Any], running: int, cap: int, ctx: dict[str, str]
    ) -> None:
        """Ask again later, as a new message: the original is acknowledged when this
        returns, so waiting for a free slot never counts toward the dead-letter queue."""
        deferrals = body.get("deferrals")
        deferrals = (deferrals if isinstance(deferrals, int) else 0) + 1
        delay = self.services.settings.annotator_defer_seconds
        await self.services.bus.send(
            message.queue, json.dumps({**body, "deferrals": deferrals}), delay_seconds=delay
        )
        log.info("deferred: the user has %d of %d jobs running; asking again in %d s (deferral %d)",
                 running, cap, delay, deferrals, extra=ctx)

    async def give_up(self, message: Message, body: dict[str, Any], exc: Exception) -> None:
        """The request failed its last delivery: say so on the job before it goes to
        the dead-letter queue, rather than leave it running for ever."""
        job = await self.services.jobs.get(str(body.get("job_id") or ""))
        if job is None or job.finished:
            return
        await self._fail(job, (
            f"GAS could not finish this job: storage or messaging kept failing "
            f"({exc.__class__.__name__}) after {message.receive_count} attempts. "
            "Please submit the file again; the operator has been told."
        ))

    async def _run(self, job: Job, lane: LanePool) -> None:
        settings = self.services.settings
        ctx = {"job_id": job.job_id, "user_id": job.user_id}
        owner = await users.get(self.services.db, job.user_id)
        try:
            info = await self.services.objects.head(job.input_bucket, job.input_key)
        except ObjectNotFound:
            raise JobFailed("The uploaded file is no longer in storage. Please upload it again.") from None
        if (owner is None or not owner.premium) and info.size > settings.free_max_input_bytes:
            raise JobFailed(
                f"The file is {info.size:,} bytes; free accounts can annotate files up to "
                f"{settings.free_max_input_bytes:,} bytes. Upgrade to Premium for larger files."
            )
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f"{job.job_id}-", dir=self.work_dir) as tmp:
            work = Path(tmp)
            # The engine names the file in its log: give it the name the user knows.
            source = work / safe_file_name(job.input_file_name)
            await self.services.objects.get_file(job.input_bucket, job.input_key, source)
            log.info("annotating %s bytes", info.size, extra=ctx)
            watcher = asyncio.create_task(self._watch_progress(job, work / PROGRESS))
            try:
                summary = await asyncio.get_running_loop().run_in_executor(
                    lane.executor, run_engine, str(source), str(work), str(settings.reference_path),
                    job.build or settings.default_build, job.skip_bad_lines,
                )
            except BrokenProcessPool:
                # An engine process died (killed, out of memory): start a new pool and
                # let the message be retried; the job is picked up again as running.
                log.error("annotation process died; restarting the pool", extra=ctx)
                lane.restart()
                raise
            except engine.VcfError as exc:
                raise JobFailed(f"This file is not a VCF GAS can read: {exc}") from exc
            except ReferenceMissing as exc:
                log.error("reference data missing: %s", exc, extra=ctx)
                raise JobFailed(
                    "The reference data for this genome build is not installed on the server; "
                    "the operator has been told."
                ) from exc
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            stem = safe_file_name(job.input_file_name)
            for suffix in (".gz", ".bgz", ".vcf"):
                stem = stem.removesuffix(suffix)
            prefix = result_prefix(job.user_id, job.job_id)
            bucket = settings.results_bucket
            result_key, log_key, summary_key = (
                f"{prefix}{stem}.annot.vcf",
                f"{prefix}{stem}.log.txt",
                f"{prefix}summary.json",
            )
            objects = self.services.objects
            await objects.put_file(bucket, result_key, work / OUTPUT, "text/x-vcf")
            await objects.put_file(bucket, log_key, work / LOG, "text/plain; charset=utf-8")
            await objects.put_file(bucket, summary_key, work / SUMMARY, "application/json")
            await objects.put_file(
                bucket, table_key(job), work / TABLE, "application/vnd.apache.arrow.file"
            )
        done = await self.services.jobs.transition(
            job.job_id,
            [RUNNING],
            COMPLETED,
            completed_at=utcnow(),
            progress=100,
            variant_count=summary.get("variant_count"),
            result_bucket=bucket,
            result_key=result_key,
            log_key=log_key,
            summary_key=summary_key,
            storage="hot",
            error=None,
        )
        if done:
            log.info("job completed", extra=ctx)
            await self._finished(job, COMPLETED)

    async def _fail(self, job: Job, reason: str) -> None:
        log.warning("job failed: %s", reason, extra={"job_id": job.job_id, "user_id": job.user_id})
        if await self.services.jobs.transition(
            job.job_id, [PENDING, RUNNING], FAILED, completed_at=utcnow(), error=reason
        ):
            await self._finished(job, FAILED)

    async def _finished(self, job: Job, status: str) -> None:
        await self.services.bus.publish(
            "job-results", json.dumps({"job_id": job.job_id, "user_id": job.user_id, "status": status})
        )
        await self._event(job, status, 100 if status == COMPLETED else job.progress)

    async def _event(self, job: Job, status: str, progress: int) -> None:
        await self.services.events.publish(
            job.user_id,
            {"type": "job", "job_id": job.job_id, "status": status, "progress": progress,
             "file": job.input_file_name},
        )

    async def _watch_progress(self, job: Job, progress_file: Path) -> None:
        last = -1
        while True:
            await asyncio.sleep(1)
            try:
                value = int(await asyncio.to_thread(progress_file.read_text) or 0)
            except (FileNotFoundError, ValueError):
                continue
            value = max(0, min(99, value))
            if value != last:
                last = value
                await self.services.jobs.transition(job.job_id, [RUNNING], RUNNING, progress=value)
                await self._event(job, RUNNING, value)


DISK_FULL_MESSAGE = (
    "The server ran out of disk space while annotating this file, so no result was "
    "stored. Please try again later; the operator has been told."
)


class JobFailed(Exception):
    """The job cannot succeed; the message says why, for the person who submitted it."""


async def run(services: Services) -> None:
    """The annotator role: until cancelled."""
    settings = services.settings
    annotator = Annotator(services)
    try:
        async with asyncio.TaskGroup() as lanes:
            for pool in annotator.lanes.values():
                lanes.create_task(consume(
                    services.bus,
                    pool.lane,
                    functools.partial(annotator.handle, lane=pool),
                    concurrency=pool.concurrency,
                    visibility=settings.queue_visibility_seconds,
                    wait_seconds=settings.queue_wait_seconds,
                    max_receives=settings.queue_max_receives,
                    give_up=annotator.give_up,
                ), name=f"annotator {pool.lane}")
    finally:
        annotator.close()
