"""The annotator worker: a pending job becomes completed (or failed with a reason a
person can act on), exactly once, with its result, log and summary stored."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import gzip
import json
import os
import signal
import uuid
from collections.abc import AsyncIterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

from annotator.worker import DISK_FULL_MESSAGE, Annotator, decoded
from app.accounts import users
from app.jobs.job import Job, input_key, utcnow
from app.jobs.lifecycle import JOB_RESULTS, LARGE, SMALL, TOPICS, JobRequest
from app.jobs.scheduling import lane_for
from app.ports.bus import Message, QueueSpec
from app.services import Services
from tests.consuming import eventually, running
from tests.job_states import advance

VCF = (
    b"##fileformat=VCFv4.2\n##reference=GRCh37\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    b"17\t41245466\t.\tG\tA\t50\tPASS\t.\n17\t7577120\t.\tC\tT\t50\tPASS\t.\n"
)


@pytest.fixture(scope="module")
async def annotator(services: Services) -> AsyncIterator[Annotator]:
    worker = Annotator(services)
    yield worker
    worker.close()


async def new_job(
    services: Services, content: bytes | None, role: users.Role = "free", *, skip_bad_lines: bool = False,
    user_id: str | None = None,
) -> Job:
    """A pending job of a new user of ``role`` (or of ``user_id``)."""
    if user_id is None:
        user = await users.create(services.db, f"{uuid.uuid4().hex[:8]}@example.org", "password123",
                                  role=role)
        user_id = user.user_id
    job_id = str(uuid.uuid4())
    key = input_key(user_id, job_id, "in.vcf")
    if content is not None:
        await services.objects.put_bytes(services.settings.inputs_bucket, key, content, "text/plain")
    job = Job(job_id=job_id, user_id=user_id, input_file_name="in.vcf",
              input_bucket=services.settings.inputs_bucket, input_key=key,
              input_size=len(content or b""), submitted_at=utcnow(), skip_bad_lines=skip_bad_lines)
    await services.jobs.create(job)
    return job


def message(job: Job) -> Message:
    body = json.dumps({"job_id": job.job_id})
    return Message(LARGE, str(uuid.uuid4()), body, str(uuid.uuid4()), 1)


async def run(annotator: Annotator, job: Job) -> Job:
    msg = message(job)
    await annotator.handle(msg, JobRequest.decode(json.loads(msg.body)))
    stored = await annotator.services.jobs.get(job.job_id)
    assert stored is not None
    return stored


async def test_pending_job_completes_with_result_log_and_summary(
    services: Services, annotator: Annotator
) -> None:
    """The engine's output, log and summary are stored and the job says completed."""
    done = await run(annotator, await new_job(services, VCF))
    assert done.status == "completed" and done.progress == 100 and done.storage == "hot"
    assert done.variant_count == 2 and done.started_at and done.completed_at
    assert done.result_key and done.log_key and done.summary_key and done.result_bucket
    result = (await services.objects.get_bytes(done.result_bucket, done.result_key)).decode()
    assert "BRCA1" in result and "TP53" in result
    summary = json.loads(await services.objects.get_bytes(done.result_bucket, done.summary_key))
    assert summary["variant_count"] == 2
    assert "in.vcf" in (await services.objects.get_bytes(done.result_bucket, done.log_key)).decode()


async def test_finished_job_is_not_run_again(services: Services, annotator: Annotator) -> None:
    """A redelivered request for a completed job changes nothing."""
    job = await new_job(services, VCF)
    first = await run(annotator, job)
    again = await run(annotator, job)
    assert again.completed_at == first.completed_at


async def test_job_left_running_completes_when_its_request_is_redriven(
    services: Services, annotator: Annotator
) -> None:
    """A job whose worker could not even fail it (the database was down for every
    delivery) stays running with its request dead-lettered; `gas queues redrive`
    sends the request back and the job is finished from the start."""
    from app.jobs.lifecycle import queue_specs
    from app.ops.queues import redrive

    job = await new_job(services, VCF)
    assert await services.jobs.transition(job.job_id, ["pending"], "running", started_at=utcnow())
    requests = next(s for s in queue_specs(services.settings) if s.name == LARGE)
    await services.bus.send(requests.dead_letter_queue, json.dumps({"job_id": job.job_id}))
    assert await redrive(services.bus, requests) == 1
    [delivery] = await services.bus.receive(requests.name, max_messages=1, wait_seconds=1)
    await annotator.handle(delivery, JobRequest.decode(json.loads(delivery.body)))
    await services.bus.ack(delivery)
    done = await services.jobs.get(job.job_id)
    assert done is not None and done.status == "completed" and done.variant_count == 2


async def test_redelivered_finished_job_is_announced_again(
    services: Services, annotator: Annotator
) -> None:
    """A worker that died after marking the job completed but before publishing
    job-results: the redelivered request publishes it, so the email and the archive
    still happen (their consumers are idempotent)."""
    job = await new_job(services, VCF)
    assert await advance(services.jobs, job.job_id, "completed", storage="hot")
    queues = TOPICS[JOB_RESULTS]
    before = [await services.bus.count(q) for q in queues]
    await run(annotator, job)
    assert [await services.bus.count(q) for q in queues] == [n + 1 for n in before]


async def test_free_user_oversize_input_fails_with_reason(
    services: Services, annotator: Annotator
) -> None:
    """The annotator re-checks the free limit: the job fails and says how to fix it."""
    big = VCF + b"##" + b"x" * services.settings.free_max_input_bytes + b"\n"
    failed = await run(annotator, await new_job(services, big))
    assert failed.status == "failed" and failed.error and "Upgrade to Premium" in failed.error


async def test_premium_user_large_input_is_fine(services: Services, annotator: Annotator) -> None:
    """Premium users have no 150 KB limit."""
    header = VCF.split(b"#CHROM")[0]
    big = header + b"##" + b"x" * 200_000 + b"\n#CHROM" + VCF.split(b"#CHROM")[1]
    done = await run(annotator, await new_job(services, big, role="premium"))
    assert done.status == "completed"


async def test_missing_input_fails_not_retried(services: Services, annotator: Annotator) -> None:
    """A job whose input vanished fails with a reason instead of retrying forever."""
    failed = await run(annotator, await new_job(services, None))
    assert failed.status == "failed" and failed.error and "upload it again" in failed.error


async def test_bad_vcf_fails_with_line_number(services: Services, annotator: Annotator) -> None:
    """A broken VCF fails the job with the line that is wrong; the worker carries on."""
    bad = VCF + b"17\tnot-a-number\t.\tG\tA\t50\tPASS\t.\n"
    failed = await run(annotator, await new_job(services, bad))
    assert failed.status == "failed" and failed.error and "line 6" in failed.error
    assert (await run(annotator, await new_job(services, VCF))).status == "completed"


async def test_bad_lines_skipped_when_the_user_asked(services: Services, annotator: Annotator) -> None:
    """With skip_bad_lines the same broken file completes; the log counts what was left out."""
    bad = VCF + b"17\tnot-a-number\t.\tG\tA\t50\tPASS\t.\n"
    done = await run(annotator, await new_job(services, bad, skip_bad_lines=True))
    assert done.status == "completed" and done.variant_count == 2
    assert done.log_key and done.result_bucket
    log_text = (await services.objects.get_bytes(done.result_bucket, done.log_key)).decode()
    assert "skipped 1 x POS is not a number (first at line 6)" in log_text


async def test_engine_process_killed_restarts_the_pool(
    services: Services, annotator: Annotator
) -> None:
    """If an engine process dies, the message is retried on a fresh pool and the
    job still completes on the next delivery."""
    job = await new_job(services, VCF)
    pids = list(annotator.executor._processes or {})  # type: ignore[attr-defined]
    if not pids:  # start the pool's process
        await run(annotator, await new_job(services, VCF))
        pids = list(annotator.executor._processes or {})  # type: ignore[attr-defined]
    broken = annotator.executor
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(BrokenProcessPool):
        await run(annotator, job)
    assert annotator.executor is not broken
    assert (await run(annotator, job)).status == "completed"


async def test_a_request_for_a_job_that_is_gone_is_done_with(annotator: Annotator) -> None:
    """A request for a job that is not there (its owner deleted it) is acknowledged, not
    dead-lettered: a deleted job's messages are no operator's concern."""
    msg = Message(LARGE, "m", json.dumps({"job_id": str(uuid.uuid4())}), "r", 1)
    await annotator.handle(msg, JobRequest.decode(json.loads(msg.body)))


@contextlib.asynccontextmanager
async def consuming(services: Services, annotator: Annotator, **kwargs: Any) -> AsyncIterator[str]:
    """The annotator's loop on a queue of its own that allows three deliveries."""
    queue = f"jobs-{uuid.uuid4().hex[:8]}"
    await services.bus.ensure([QueueSpec(queue, 0, visibility_seconds=5, max_receives=3)],
                              {queue: [queue]})
    async with running(services.bus, queue, functools.partial(decoded, annotator.handle), visibility=5,
                       max_receives=3, give_up=functools.partial(decoded, annotator.give_up), **kwargs):
        yield queue


async def test_object_store_errors_retry_with_backoff_then_fail_the_job(
    services: Services, annotator: Annotator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Storing the result keeps failing: the request is tried three times, put back
    with growing jittered delays in between, then it is in the dead-letter queue and
    the job is failed with a reason instead of staying "running" for ever."""
    job = await new_job(services, VCF)
    attempts = 0
    delays: list[int] = []
    real_release = services.bus.release

    async def put_file(*_: Any) -> None:
        nonlocal attempts
        attempts += 1
        raise ConnectionError("object store unreachable")

    async def release(message: Message, delay_seconds: int = 0) -> None:
        delays.append(delay_seconds)
        await real_release(message, delay_seconds)

    monkeypatch.setattr(services.objects, "put_file", put_file)
    monkeypatch.setattr(services.bus, "release", release)
    async with consuming(services, annotator) as queue:
        await services.bus.publish(queue, json.dumps({"job_id": job.job_id}))
        await eventually(lambda: _in(services, f"{queue}-dlq"))
    failed = await services.jobs.get(job.job_id)
    assert failed is not None and failed.status == "failed"
    assert failed.error and "storage or messaging kept failing" in failed.error
    assert "ConnectionError" in failed.error and "3 attempts" in failed.error
    assert attempts == 3 and len(delays) == 3
    assert 0 <= delays[0] <= 1 and 0 <= delays[1] <= 2 and delays[2] == 0
    assert await services.bus.count(queue) == 0


async def test_poison_requests_are_dead_lettered_logged_and_the_worker_goes_on(
    services: Services, annotator: Annotator, caplog: pytest.LogCaptureFixture
) -> None:
    """Invalid JSON and a request without a job id end in the DLQ, each logged as
    poison; a real job sent after them still completes."""
    good = await new_job(services, VCF)
    async with consuming(services, annotator) as queue:
        await services.bus.publish(queue, "{not json")
        await services.bus.publish(queue, json.dumps({"job_id": "not a job id"}))
        await services.bus.publish(queue, json.dumps({"job_id": good.job_id}))
        await eventually(lambda: _in(services, f"{queue}-dlq", 2))
        done = await eventually(lambda: _finished(services, good.job_id))
    assert done.status == "completed"
    poison = [r.getMessage() for r in caplog.records if r.getMessage().startswith("poison message")]
    assert any("not JSON" in line for line in poison) and any("no job id" in line for line in poison)


async def test_disk_full_fails_the_job_saying_so(
    services: Services, annotator: Annotator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No space left while fetching the input: the job fails at once with a message a
    person understands (no retries that cannot help), and the worker carries on."""
    async def get_file(*_: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(services.objects, "get_file", get_file)
    failed = await run(annotator, await new_job(services, VCF))
    assert failed.status == "failed" and failed.error == DISK_FULL_MESSAGE
    monkeypatch.undo()
    assert (await run(annotator, await new_job(services, VCF))).status == "completed"


async def _in(services: Services, queue: str, n: int = 1) -> bool:
    return await services.bus.count(queue) == n


async def _finished(services: Services, job_id: str) -> Job | None:
    job = await services.jobs.get(job_id)
    return job if job is not None and job.finished else None


def test_scratch_space_of_stopped_annotators_is_removed(tmp_path: Path) -> None:
    """Each annotator works under work/<its pid>; a process that is gone (killed, the
    machine restarted) leaves its folder behind, and the next annotator removes it,
    but never a live process's."""
    import subprocess

    from annotator.worker import clear_abandoned_work

    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = tmp_path / str(gone.pid) / "job-abc"
    stale.mkdir(parents=True)
    (stale / "output.vcf").write_text("half")
    live = tmp_path / str(os.getppid()) / "job-def"
    live.mkdir(parents=True)
    assert clear_abandoned_work(tmp_path) == [tmp_path / str(gone.pid)]
    assert not (tmp_path / str(gone.pid)).exists() and live.exists()


# -- fair scheduling: running caps and lanes ------------------------------------------


async def test_a_user_at_the_running_cap_is_deferred_without_nearing_the_dead_letter_queue(
    services: Services, annotator: Annotator, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A free user with a job running (their plan's cap is 1) gets no second one
    started: its request is sent again for later, more times than the queue allows
    receives, and never reaches the dead-letter queue; once the first job is finished
    the second runs."""
    monkeypatch.setattr(services.settings, "annotator_defer_seconds", 1)
    first = await new_job(services, VCF)
    assert await services.jobs.transition(first.job_id, ["pending"], "running", started_at=utcnow())
    second = await new_job(services, VCF, user_id=first.user_id)
    caplog.set_level("INFO", logger="annotator.worker")

    def deferrals() -> int:
        return sum(r.getMessage().startswith("deferred: the user has 1 of 1 jobs running")
                   and getattr(r, "job_id", None) == second.job_id for r in caplog.records)

    async with consuming(services, annotator) as queue:  # three receives allowed
        await services.bus.publish(queue, json.dumps({"job_id": second.job_id}))
        await eventually(lambda: _true(deferrals() >= 4))
        waiting = await services.jobs.get(second.job_id)
        assert waiting is not None and waiting.status == "pending"
        assert await services.jobs.transition(first.job_id, ["running"], "completed")
        done = await eventually(lambda: _finished(services, second.job_id))
        assert await services.bus.count(f"{queue}-dlq") == 0
    assert done.status == "completed"


async def test_premium_users_may_run_two_jobs_at_once(
    services: Services, annotator: Annotator
) -> None:
    """Premium's cap is 2: with one job running a second starts; with two, a third is
    sent back to its queue (one new message) instead of starting."""
    running = await new_job(services, VCF, role="premium")
    assert await services.jobs.transition(running.job_id, ["pending"], "running", started_at=utcnow())
    second = await new_job(services, VCF, user_id=running.user_id)
    assert (await run(annotator, second)).status == "completed"
    other = await new_job(services, VCF, user_id=running.user_id)
    assert await services.jobs.transition(other.job_id, ["pending"], "running", started_at=utcnow())
    third = await new_job(services, VCF, user_id=running.user_id)
    queue = f"jobs-{uuid.uuid4().hex[:8]}"
    await services.bus.ensure([QueueSpec(queue)], {})
    msg = Message(queue, str(uuid.uuid4()), json.dumps({"job_id": third.job_id}), "r", 1)
    await annotator.handle(msg, JobRequest.decode(json.loads(msg.body)))
    stored = await services.jobs.get(third.job_id)
    assert stored is not None and stored.status == "pending"
    assert await services.bus.count(queue) == 1


async def _true(value: bool) -> bool:
    return value


async def test_a_small_job_completes_while_a_large_one_runs(services: Services, tmp_path: Path) -> None:
    """The annotator serves both lanes, each with its own engine process: another
    user's small job completes while a 1M-variant job holds the large lane's engine."""
    from annotator.worker import run as run_annotator
    from app.jobs.lifecycle import announce
    from app.jobs.scheduling import request

    big = tmp_path / "big.vcf"
    with big.open("w") as out:
        out.write(VCF.split(b"17\t")[0].decode())
        for chrom in range(1, 23):
            out.writelines(f"{chrom}\t{10_000 + 50 * i}\t.\tA\tG\t50\tPASS\t.\n" for i in range(45_455))
    large = await new_job(services, None, role="premium")
    await services.objects.put_file(services.settings.inputs_bucket, large.input_key, big, "text/plain")
    small = await new_job(services, VCF)
    worker = asyncio.create_task(run_annotator(services))
    try:
        await announce(services, large, publish=request(large, LARGE))
        await eventually(lambda: _progressed(services, large.job_id), within=120)
        await announce(services, small, publish=request(small, SMALL))
        done = await eventually(lambda: _finished(services, small.job_id), within=60)
        assert done.status == "completed"
        still = await services.jobs.get(large.job_id)
        assert still is not None and still.status == "running"
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


async def _progressed(services: Services, job_id: str) -> bool:
    """The job's engine has started (the progress file is read once a second)."""
    job = await services.jobs.get(job_id)
    return job is not None and job.status == "running" and job.progress > 0


async def test_closing_ends_a_busy_engine_process_at_once() -> None:
    """Stopping an annotator ends its engine processes rather than letting them finish
    a job whose message was handed back (and hold up the server's exit meanwhile)."""
    import time

    from annotator.worker import LanePool
    from app.infra import processes

    pool = LanePool(LARGE, processes=1, concurrency=1)
    busy = asyncio.get_running_loop().run_in_executor(pool.executor, time.sleep, 120)
    await eventually(lambda: _true(bool(pool.executor._processes)))  # type: ignore[attr-defined]
    [pid] = list(pool.executor._processes)  # type: ignore[attr-defined]
    pool.stop()
    await eventually(lambda: _true(not processes.alive(pid)), within=20)
    with contextlib.suppress(Exception):
        await busy


def _expanding_gzip(records: int) -> bytes:
    """A small upload (a few KB gzipped) that expands past a free account's limits."""
    line = b"17\t41245466\t.\tG\tA\t50\tPASS\t.\n"
    return gzip.compress(VCF.split(b"17\t", 1)[0] + line * records)


def small_lane_message(job: Job) -> Message:
    return Message(SMALL, str(uuid.uuid4()), json.dumps({"job_id": job.job_id}), str(uuid.uuid4()), 1)


async def test_a_premium_upload_that_expands_moves_from_the_small_lane_to_the_large_one(
    services: Services, annotator: Annotator
) -> None:
    """A premium user's small gzip that expands past the small lane's (free) limits does
    not hold the small lane, nor fail: it goes back to pending with its request on the
    large lane, where it completes within the plan's own limits."""
    content = _expanding_gzip(services.settings.free_max_records + 10)
    assert services.settings.premium_max_records > services.settings.free_max_records
    job = await new_job(services, content, role="premium")
    assert lane_for(services.settings, len(content)) == SMALL
    msg = small_lane_message(job)
    await annotator.handle(msg, JobRequest.decode(json.loads(msg.body)))
    moved = await services.jobs.get(job.job_id)
    assert moved is not None and moved.status == "pending" and moved.error is None
    requests = await services.bus.receive(LARGE, max_messages=10, wait_seconds=0.5)
    mine = [m for m in requests if json.loads(m.body)["job_id"] == job.job_id]
    assert len(mine) == 1
    for request in requests:
        await services.bus.ack(request)
    await annotator.handle(mine[0], JobRequest.decode(json.loads(mine[0].body)))
    done = await services.jobs.get(job.job_id)
    assert done is not None and done.status == "completed"
    assert done.variant_count == services.settings.free_max_records + 10


async def test_a_free_upload_that_expands_fails_on_the_small_lane(
    services: Services, annotator: Annotator
) -> None:
    """The same file from a free account crosses its own plan's limit: it fails at once,
    saying so, rather than moving to the large lane."""
    job = await new_job(services, _expanding_gzip(services.settings.free_max_records + 10))
    msg = small_lane_message(job)
    await annotator.handle(msg, JobRequest.decode(json.loads(msg.body)))
    failed = await services.jobs.get(job.job_id)
    assert failed is not None and failed.status == "failed"
    assert failed.error and "free accounts may annotate up to" in failed.error


async def test_progress_covers_every_phase_of_the_job_in_order(
    services: Services, annotator: Annotator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running job's progress names its phase (reading the file, annotating, building the results
    table, storing) and climbs through them all to 99, then completed at 100: it no longer sits at
    99% while the table is built and the result stored."""
    told: list[dict[str, Any]] = []
    publish = services.events.publish

    async def record(user_id: str, event: dict[str, Any]) -> None:
        told.append(event)
        await publish(user_id, event)

    monkeypatch.setattr(services.events, "publish", record)
    lines = [b"17\t%d\t.\tG\tA\t50\tPASS\t.\n" % (41_000_000 + 7 * i) for i in range(400_000)]
    job = await new_job(services, VCF + b"".join(lines), role="premium")
    done = await run(annotator, job)
    assert done.status == "completed" and done.progress == 100 and done.phase is None
    mine = [e for e in told if e["job_id"] == job.job_id]
    running = [(e["phase"], e["progress"]) for e in mine if e["status"] == "running"]
    phases = [phase for phase, _ in running if phase]
    assert [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p] == [
        "reading", "annotating", "table", "storing"
    ], running
    progress = [value for _, value in running]
    assert progress == sorted(progress), running
    assert len({v for p, v in running if p in ("annotating", "table")}) > 2, running  # moves within phases
    assert max(progress) >= 92 and told[-1]["progress"] == 100
