"""A job read by its key is the job as last written, on every backend: the restorer and the
thawer decide on that read, the user's list (DynamoDB's eventually consistent user index)
being possibly behind."""

from __future__ import annotations

import uuid
from typing import Any

from app.jobs.job import COMPLETED, PENDING, RUNNING
from app.ports.aws import AwsSession
from app.ports.jobs import JobStore
from app.ports.jobs.aws import DynamoJobStore
from tests.ports.test_jobs import new_job


async def test_get_sees_every_write_before_it(job_store: JobStore) -> None:
    """Each read right after a write shows that write (progress, then the final move)."""
    job = new_job(str(uuid.uuid4()))
    assert await job_store.create(job)
    assert await job_store.transition(job.job_id, [PENDING], RUNNING, progress=0)
    for progress in range(1, 6):
        assert await job_store.transition(job.job_id, [RUNNING], RUNNING, progress=progress)
        read = await job_store.get(job.job_id)
        assert read is not None and read.progress == progress
    assert await job_store.transition(job.job_id, [RUNNING], COMPLETED, progress=100, storage="hot")
    read = await job_store.get(job.job_id)
    assert read is not None and (read.status, read.storage) == (COMPLETED, "hot")


async def test_dynamodb_get_asks_for_a_strongly_consistent_read(
    aws_session: AwsSession, jobs_table: str
) -> None:
    """DynamoDB answers a plain GetItem from any replica, possibly one a write has not reached
    (moto never does, so the request itself is looked at): the store asks for ConsistentRead."""
    store = DynamoJobStore(aws_session, jobs_table)
    job = new_job(str(uuid.uuid4()))
    assert await store.create(job)
    asked: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        asked.append(dict(params))

    events = (await aws_session.client("dynamodb")).meta.events
    events.register("provide-client-params.dynamodb.GetItem", record)
    try:
        assert await store.get(job.job_id) is not None
    finally:
        events.unregister("provide-client-params.dynamodb.GetItem", record)
    assert [params.get("ConsistentRead") for params in asked] == [True]
