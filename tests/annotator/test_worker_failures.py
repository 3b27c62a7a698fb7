"""How the annotator worker classifies a failure, once: a file over its plan's
limits, bad input, a results table that cannot be built, a missing reference and
an engine error fail the job at once with a reason a person can act on (never
retried); inputs the engine accepts complete. A job its owner cancels stops at once,
wherever it was, and leaves nothing behind."""

from __future__ import annotations

import asyncio
import gzip
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from annotator import worker
from annotator.worker import Annotator, TableFailed, run_engine
from app.config import Settings
from app.infra import processes
from app.jobs.control import cancel_job, delete_job
from app.jobs.job import Job, result_keys, table_key
from app.jobs.lifecycle import JobRequest
from app.ports.objects import ObjectNotFound
from app.results import variant_table
from app.services import Services
from tests.consuming import eventually

from .test_worker import VCF, message, new_job, run

COLUMNS = b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


@pytest.fixture(scope="module")
async def annotator(services: Services) -> AsyncIterator[Annotator]:
    running = Annotator(services)
    yield running
    running.close()


def records_bomb(millions: int) -> bytes:
    """`millions` million short records, about 40 KB of gzip a million."""
    rows = b"1\t100\t.\tA\tC\t.\t.\t.\n" * 100_000
    return gzip.compress(b"##fileformat=VCFv4.2\n" + COLUMNS + rows * (10 * millions), 9)


def stuck_engine(source: str, work_dir: str, *args: Any) -> dict[str, Any]:
    """An engine that never returns and never checks its wall time."""
    worker.engine_started(Path(work_dir))
    time.sleep(3600)
    return {}


HOLD = b"##gas_test=hold\n"


def obliging_engine(source: str, work_dir: str, *args: Any) -> dict[str, Any]:
    """The real engine, but a file with the HOLD line is annotated for an hour, reporting its
    progress (where a cancel is heard) every 0.1 s as the real one does every 5% of a file."""
    if HOLD not in Path(source).read_bytes():
        return run_engine(source, work_dir, *args)
    worker.engine_started(Path(work_dir))
    for _ in range(36_000):
        worker.report_progress(Path(work_dir), "annotating", 0.5)
        time.sleep(0.1)
    return {}


def table_fails(source: str, work_dir: str, *args: Any) -> dict[str, Any]:
    raise TableFailed("ArrowInvalid: something in the annotated file")


def engine_bug(source: str, work_dir: str, *args: Any) -> dict[str, Any]:
    raise IndexError("index 3 is out of bounds")


def no_scratch_left(annotator: Annotator, job: Job) -> bool:
    return not list(annotator.work_dir.glob(f"{job.job_id}-*"))


async def test_free_gzip_bomb_fails_once_at_once_saying_why(
    services: Services, annotator: Annotator
) -> None:
    """3M records in a 130 KB gzip (under the free 150 KB upload) fail the job on the
    first delivery, with the limit it crosses first (the first 1 MB block holds 55,000
    records) and the way out, and leave no scratch space (the job's folder and its
    partial output are gone) and no result."""
    bomb = records_bomb(3)
    assert len(bomb) < services.settings.free_max_input_bytes
    job = await new_job(services, bomb)
    started = time.monotonic()
    failed = await run(annotator, job)  # returns: nothing is left to retry
    assert time.monotonic() - started < 60
    assert failed.status == "failed" and failed.result_key is None
    assert failed.error == (
        "This file has more than 50,000 variants; free accounts may annotate up to 50,000 variants "
        "per file. Upgrade to Premium or split the file."
    )
    assert no_scratch_left(annotator, job)


async def test_premium_limit_says_what_to_do_without_upgrading(
    services: Services, annotator: Annotator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A premium account's limits are its own, and its reason offers no upgrade."""
    monkeypatch.setattr(services.settings, "premium_max_records", 1)
    failed = await run(annotator, await new_job(services, VCF, role="premium"))
    assert failed.status == "failed"
    assert failed.error == (
        "This file has more than 1 variants; Premium accounts may annotate up to 1 variants per file. "
        "Split the file."
    )


async def test_wall_time_backstop_kills_a_stuck_engine(
    services: Services, annotator: Annotator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engine still running past its wall time (plus a grace) is killed, the job
    fails at once saying so, and the next job runs on a new pool."""
    monkeypatch.setattr(services.settings, "free_max_job_seconds", 1)
    monkeypatch.setattr(worker, "WALL_TIME_GRACE_SECONDS", 0.5)
    monkeypatch.setattr(worker, "run_engine", stuck_engine)
    job = await new_job(services, VCF)
    before = annotator.executor
    failed = await asyncio.wait_for(run(annotator, job), 60)  # it never returned
    assert failed.status == "failed" and failed.error == (
        "Annotating this file took longer than 1 second; free accounts may annotate for up to "
        "1 second per job. Upgrade to Premium or split the file."
    )
    assert annotator.executor is not before
    assert no_scratch_left(annotator, job)
    monkeypatch.undo()
    assert (await run(annotator, await new_job(services, VCF))).status == "completed"


async def test_table_errors_are_permanent(
    services: Services, annotator: Annotator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A results table that cannot be built fails the job at once, saying so (it
    was retried 5 times as if storage had failed)."""
    monkeypatch.setattr(worker, "run_engine", table_fails)
    failed = await run(annotator, await new_job(services, VCF))
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.startswith("GAS annotated this file but could not build its results table")
    assert "ArrowInvalid" in failed.error


def test_run_engine_reports_a_table_error_as_table_failed(
    tmp_path: Path, reference_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any error of building the table leaves the engine process as TableFailed."""
    def build(*_: Any) -> int:
        raise pa.ArrowInvalid("straddling object straddles two block boundaries")

    monkeypatch.setattr(variant_table, "build", build)
    (tmp_path / "in.vcf").write_bytes(VCF)
    with pytest.raises(TableFailed, match="ArrowInvalid: straddling"):
        run_engine(str(tmp_path / "in.vcf"), str(tmp_path), str(reference_root), "auto")


async def test_an_engine_error_is_permanent(
    services: Services, annotator: Annotator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engine failing on a file would fail on every delivery: the job fails at once."""
    monkeypatch.setattr(worker, "run_engine", engine_bug)
    failed = await run(annotator, await new_job(services, VCF))
    assert failed.status == "failed"
    assert failed.error == (
        "GAS failed on this file with an internal error (IndexError); the operator has been told."
    )


async def test_missing_reference_fails_the_job_saying_so(
    services: Services, annotator: Annotator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With no reference installed the job fails at once naming the build, and the
    log tells the operator what to run (the engine process died instead: its
    exception could not be unpickled, and the job ended "storage or messaging kept failing")."""
    monkeypatch.setattr(services.settings, "reference_dir", tmp_path / "empty")
    before = annotator.executor
    with caplog.at_level(logging.ERROR):
        failed = await run(annotator, await new_job(services, VCF))
    assert failed.status == "failed"
    assert failed.error == "The GRCh37 reference is not installed on this server; the operator has been told."
    assert any("the GRCh37 reference is not installed: run `gas reference install" in r.getMessage()
               for r in caplog.records)
    assert annotator.executor is before, "the pool is not broken"


async def test_inputs_the_engine_accepts_complete_with_their_table(
    services: Services, annotator: Annotator
) -> None:
    """Each of these made the table fail (ArrowInvalid, retried 5 times): a non-UTF-8
    byte in the first 8 columns, an input's GAS_DIST=abc, a header line over 16 MB.
    They complete; the VCF keeps the input's bytes, the table shows U+FFFD."""
    head = b"##fileformat=VCFv4.2\n##reference=GRCh37\n"
    odd = (head + COLUMNS + b"17\t41245466\tid\xff\tG\tA\t50\tPASS\tNOTE=caf\xe9\n"
           b"17\t7577120\t.\tC\tT\t50\tPASS\tGAS_DIST=abc\n")
    done = await run(annotator, await new_job(services, odd))
    assert done.status == "completed" and done.result_key and done.result_bucket
    result = await services.objects.get_bytes(done.result_bucket, done.result_key)
    assert b"id\xff\t" in result and b"NOTE=caf\xe9;" in result and b"GAS_DIST=abc" not in result
    table_file = Path(services.settings.data_path) / "t.arrow"
    table_file.write_bytes(await services.objects.get_bytes(done.result_bucket, table_key(done)))
    ids = variant_table.open_table(table_file)["id"].to_pylist()
    assert "id\ufffd" in ids
    long_header = gzip.compress(head + b"##note=" + b"x" * 17_000_000 + b"\n" + VCF.split(b"\n", 2)[2])
    big = await run(annotator, await new_job(services, long_header, role="premium"))
    assert big.status == "completed" and big.variant_count == 2


def test_limits_for_each_plan_come_from_its_settings() -> None:
    """Free and Premium limits are each plan's own settings (GAS_FREE_MAX_RECORDS, ...)."""
    settings = Settings(free_max_records=7, premium_max_job_seconds=9.5)
    free, premium = worker.limits_for(settings, False), worker.limits_for(settings, True)
    assert free.records == 7 and free.decompressed_bytes == 1_536_000
    assert premium.seconds == 9.5 and premium.records == settings.premium_max_records
    assert None not in vars(free).values() and None not in vars(premium).values()


async def nothing_stored(services: Services, job: Job) -> bool:
    for key in result_keys(job):
        try:
            await services.objects.head(services.settings.results_bucket, key)
        except ObjectNotFound:
            continue
        return False
    return True


async def engine_at_work(annotator: Annotator, job: Job) -> tuple[asyncio.Task[None], int]:
    """The annotator handling the job's request, once its engine process has started it: the
    handling task and that process's pid."""
    handling = asyncio.create_task(annotator.handle(message(job), JobRequest(job.job_id)))
    pid_files = await eventually(
        lambda: asyncio.sleep(0, list(annotator.work_dir.glob(f"{job.job_id}-*/{worker.ENGINE}"))))
    return handling, int(pid_files[0].read_text())


@pytest.mark.parametrize("stop", [cancel_job, delete_job], ids=["cancelled", "deleted"])
async def test_a_running_job_stopped_by_its_owner_ends_within_seconds_and_frees_its_engine(
    services: Services, annotator: Annotator, monkeypatch: pytest.MonkeyPatch,
    stop: Callable[[Services, Job], Awaitable[object]],
) -> None:
    """The owner cancels (or deletes) a job whose engine is busy (one that would never
    return, nor look for the stop file): within seconds its engine process is killed and
    replaced, the request is done with (handle returns: the message is acknowledged), the job
    is cancelled (or gone), never completed or failed, and nothing is stored or left in
    scratch space; the next job runs."""
    monkeypatch.setattr(worker, "run_engine", stuck_engine)
    job = await new_job(services, VCF)
    before = annotator.executor
    handling, pid = await engine_at_work(annotator, job)
    running = await services.jobs.get(job.job_id)
    assert running is not None and running.status == "running"
    await stop(services, running)
    started = time.monotonic()
    await asyncio.wait_for(handling, 30)
    assert time.monotonic() - started < worker.CANCEL_CHECK_SECONDS + worker.STOP_GRACE_SECONDS + 3
    stopped = await services.jobs.get(job.job_id)
    if stop is cancel_job:
        assert stopped is not None and stopped.status == "cancelled" and stopped.error is None
        assert stopped.result_key is None
    else:
        assert stopped is None
    assert not processes.alive(pid) and annotator.executor is not before
    assert await nothing_stored(services, job) and no_scratch_left(annotator, job)
    monkeypatch.undo()
    assert (await run(annotator, await new_job(services, VCF))).status == "completed"


async def test_a_cancel_stops_its_job_alone_and_keeps_the_engine_process(
    services: Services, annotator: Annotator, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An engine busy with a cancelled job gives it up at its next progress step: its process
    stays, and so does the lane's pool, so a job of someone else's waiting for (or running
    on) the same lane's processes is not broken and retried by the cancel: it completes on
    its first delivery."""
    monkeypatch.setattr(worker, "run_engine", obliging_engine)
    held = await new_job(services, VCF.replace(b"\n", b"\n" + HOLD, 1))
    other = await new_job(services, VCF)
    before = annotator.executor
    handling, pid = await engine_at_work(annotator, held)
    beside = asyncio.create_task(annotator.handle(message(other), JobRequest(other.job_id)))
    running = await services.jobs.get(held.job_id)
    assert running is not None
    await cancel_job(services, running)
    started = time.monotonic()
    await asyncio.wait_for(handling, 30)
    assert time.monotonic() - started < worker.CANCEL_CHECK_SECONDS + worker.STOP_GRACE_SECONDS
    await asyncio.wait_for(beside, 60)  # raised BrokenProcessPool when the cancel killed the engine
    stopped, done = await services.jobs.get(held.job_id), await services.jobs.get(other.job_id)
    assert stopped is not None and stopped.status == "cancelled"
    assert done is not None and done.status == "completed"
    assert processes.alive(pid) and annotator.executor is before
    assert await nothing_stored(services, held) and no_scratch_left(annotator, held)


async def test_a_cancelled_pending_job_is_done_with_unrun(services: Services, annotator: Annotator) -> None:
    """A job cancelled before an annotator took it: its request is acknowledged when it
    comes, and the job is never claimed."""
    job = await new_job(services, VCF)
    await cancel_job(services, job)
    done = await run(annotator, job)
    assert done.status == "cancelled" and done.started_at is None
    assert await nothing_stored(services, job)


async def test_cancelled_while_storing_removes_what_was_stored(
    services: Services, annotator: Annotator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled as its results are being stored: the annotator's next write from running
    fails, so it removes what it stored, and does not mark the job completed."""
    job = await new_job(services, VCF)
    put_file = services.objects.put_file

    async def cancel_after_first(bucket: str, key: str, path: Path, content_type: str) -> None:
        await put_file(bucket, key, path, content_type)
        now = await services.jobs.get(job.job_id)
        if now is not None and now.status == "running":
            await cancel_job(services, now)

    monkeypatch.setattr(services.objects, "put_file", cancel_after_first)
    done = await run(annotator, job)
    assert done.status == "cancelled" and done.result_key is None
    assert await nothing_stored(services, job)
