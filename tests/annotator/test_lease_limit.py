"""A job still running when the bus will not keep its request hidden any longer (SQS: 12
hours) fails with the reason, once, rather than being handed to a second annotator while the
first still runs it."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from annotator.worker import Annotator, decoded, lease_problem
from app.config import Settings
from app.jobs.job import Job
from app.ports.bus import LeaseLimitReached, Message, QueueSpec
from app.services import Services
from gas.cli import main
from tests.annotator.test_worker import VCF, new_job
from tests.conftest import installed_reference
from tests.consuming import eventually, running

LIMIT = 43_200


@pytest.fixture
async def annotator(services: Services) -> AsyncIterator[Annotator]:
    worker = Annotator(services)
    yield worker
    worker.close()


async def _failed(services: Services, job_id: str) -> Job | None:
    job = await services.jobs.get(job_id)
    return job if job is not None and job.status == "failed" else None


async def test_a_job_past_the_lease_limit_fails_with_the_reason_and_is_not_redone(
    services: Services, annotator: Annotator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heartbeat is refused past the limit while the input is still being fetched: the
    job fails saying why (in words for its owner), its request is acknowledged, and no second
    delivery runs it."""
    job = await new_job(services, VCF, role="premium")
    queue = f"jobs-{uuid.uuid4().hex[:8]}"
    await services.bus.ensure([QueueSpec(queue, 0, visibility_seconds=3, max_receives=3)], {queue: [queue]})
    deliveries: list[int] = []
    real_get_file, real_extend = services.objects.get_file, services.bus.extend

    async def extend(message: Message, visibility_seconds: int) -> None:
        # As SQS: what the last extension granted still holds; no further one is taken.
        await real_extend(message, 30)
        raise LeaseLimitReached(LIMIT)

    async def get_file(bucket: str, key: str, path: Path) -> Any:
        await eventually(lambda: _failed(services, job.job_id))  # a long fetch, past the limit
        return await real_get_file(bucket, key, path)

    async def handle(message: Message, body: dict[str, Any]) -> None:
        deliveries.append(message.receive_count)
        await decoded(annotator.handle, message, body)

    monkeypatch.setattr(services.bus, "extend", extend)
    monkeypatch.setattr(services.objects, "get_file", get_file)
    async with running(services.bus, queue, handle, visibility=3, max_receives=3,
                       give_up=functools.partial(decoded, annotator.give_up)):
        await services.bus.publish(queue, json.dumps({"job_id": job.job_id}))
        failed = await eventually(lambda: _failed(services, job.job_id))
        await eventually(lambda: _empty(services, queue))
    assert failed.error == (
        "GAS stopped this job: it ran for longer than a job can (12 hours, the queue's limit). "
        "Split the file and submit the parts; the operator has been told."
    )
    assert deliveries == [1]
    assert await services.bus.count(f"{queue}-dlq") == 0


async def _empty(services: Services, queue: str) -> bool:
    return await services.bus.count(queue) == 0


def test_on_aws_the_job_time_limits_must_fit_in_what_sqs_keeps_hidden() -> None:
    """A wall time that, times the jobs an engine process may have queued behind it, plus an
    hour to fetch and store, would outlast SQS's 12 hours is named with the most it may be."""
    assert lease_problem(Settings(backend="aws")) is None  # the defaults fit
    problem = lease_problem(Settings(backend="aws", premium_max_job_seconds=6 * 3600))
    assert problem is not None and problem.startswith("GAS_PREMIUM_MAX_JOB_SECONDS=21600 is too long for SQS")
    assert "GAS_ANNOTATOR_CONCURRENCY=2" in problem and "Lower it to 19800 s or less" in problem
    six_hours = Settings(backend="aws", premium_max_job_seconds=6 * 3600, annotator_processes=2)
    assert lease_problem(six_hours) is None  # one engine process per job in hand
    # The small lane: three jobs in hand for one engine process, within the free limits.
    four_hours = {"free_max_job_seconds": 4 * 3600, "premium_max_job_seconds": 4 * 3600}
    small = lease_problem(Settings(backend="aws", **four_hours))
    assert small is not None and "GAS_ANNOTATOR_SMALL_CONCURRENCY=3" in small
    assert lease_problem(Settings(backend="local", premium_max_job_seconds=24 * 3600)) is None


def test_an_annotator_whose_jobs_could_outlast_sqs_refuses_to_start(tmp_path: Path) -> None:
    """`gas annotator` on AWS exits 1 at once with the reason, before taking any job."""
    env = {"GAS_DATA_DIR": str(tmp_path), "GAS_REFERENCE_DIR": str(installed_reference()),
           "GAS_BACKEND": "aws", "GAS_PREMIUM_MAX_JOB_SECONDS": str(6 * 3600)}
    result = CliRunner().invoke(main, ["annotator"], env=env)
    assert result.exit_code == 1, result.output
    assert "GAS_PREMIUM_MAX_JOB_SECONDS=21600 is too long for SQS" in result.stderr
