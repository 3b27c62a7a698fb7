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

from annotator.worker import Annotator, decoded
from app.jobs.job import Job
from app.ports.bus import LeaseLimitReached, Message, QueueSpec
from app.services import Services
from tests.annotator.test_worker import VCF, new_job
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
