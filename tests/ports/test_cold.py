"""Contract of the cold tier: archived objects are out of reach until a restore
completes (announced by a message, never polled) and they are thawed.

Run on the local tier and on S3 storage classes (moto). moto completes a restore the
moment it is asked, so the S3 run cannot see a restore "under way"; where a test
needs that window it says so and is skipped there.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from databases import Database

from app.infra.db import execute
from app.jobs.lifecycle import RESTORE_COMPLETE, TOPICS, RestoreCompleted
from app.ops.provision import RESTORE_EVENT
from app.ports.aws import AwsSession
from app.ports.bus import Bus, QueueSpec
from app.ports.bus.aws import SnsSqsBus
from app.ports.bus.local import PostgresBus
from app.ports.cold import ColdTier, RestoreRefused
from app.ports.cold.aws import S3ColdTier
from app.ports.cold.local import LocalColdTier
from app.ports.objects import ObjectNotFound, ObjectStore
from app.ports.objects.aws import S3ObjectStore
from app.ports.objects.local import LocalObjectStore

QUEUE = TOPICS[RESTORE_COMPLETE][0]


@dataclass
class ColdHarness:
    name: str
    cold: ColdTier
    objects: ObjectStore
    bus: Bus
    bucket: str
    # A tier with no Expedited capacity over the same store (S3: DEEP_ARCHIVE has none).
    no_expedited: ColdTier
    # A new bus, as a process started later would have.
    new_bus: Callable[[], Bus]


async def _local(db: Database, url: str, tmp_path: Path) -> AsyncIterator[ColdHarness]:
    bus = PostgresBus(db, url)
    await bus.ensure([QueueSpec(QUEUE, 0, 30, 5)], {RESTORE_COMPLETE: [QUEUE]})
    await execute(db, "DELETE FROM queue_messages WHERE queue = $1", QUEUE)
    objects = LocalObjectStore(tmp_path / "objects", b"secret", "http://gas.test/objects")
    tier = LocalColdTier(objects, tmp_path / "cold", bus, expedited_seconds=1, standard_seconds=2)
    busy = LocalColdTier(objects, tmp_path / "cold", bus, expedited_available=False, standard_seconds=1)
    yield ColdHarness("local", tier, objects, bus, "gas-test-results", busy, lambda: PostgresBus(db, url))
    await bus.close()


async def _s3(aws: AwsSession) -> AsyncIterator[ColdHarness]:
    tag = uuid.uuid4().hex[:8]
    prefix, bucket = f"gas-cold-{tag}-", f"gas-cold-{tag}"
    bus = SnsSqsBus(aws, prefix)
    await bus.ensure([QueueSpec(QUEUE, 0, 30, 5)], {RESTORE_COMPLETE: [QUEUE]})
    s3 = await aws.client("s3")
    await s3.create_bucket(Bucket=bucket)
    # S3 itself announces completed restores on the topic (deploy/data-plane.yaml).
    await s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"TopicConfigurations": [
            {"TopicArn": await bus.topic_arn(RESTORE_COMPLETE), "Events": [RESTORE_EVENT]}]},
    )
    await completions(bus, 0.5)  # S3's s3:TestEvent for the new configuration
    objects = S3ObjectStore(aws)
    yield ColdHarness("aws", S3ColdTier(aws, bus, "GLACIER"), objects, bus, bucket,
                      S3ColdTier(aws, bus, "DEEP_ARCHIVE"), lambda: SnsSqsBus(aws, prefix))


@pytest.fixture(params=["local", "aws"])
def cold_backend(request: pytest.FixtureRequest) -> AwsSession | tuple[Database, str]:
    # A plain fixture picks the backend, so only its fixtures are set up (moto or Postgres).
    if request.param == "aws":
        return request.getfixturevalue("aws_session")  # type: ignore[no-any-return]
    return request.getfixturevalue("db"), request.getfixturevalue("database_url")


@pytest.fixture
async def cold(cold_backend: AwsSession | tuple[Database, str], tmp_path: Path
               ) -> AsyncIterator[ColdHarness]:
    harnesses = _s3(cold_backend) if isinstance(cold_backend, AwsSession) else _local(*cold_backend, tmp_path)
    async for harness in harnesses:
        yield harness


async def completions(bus: Bus, wait: float) -> list[dict[str, object]]:
    messages = await bus.receive(QUEUE, max_messages=10, wait_seconds=wait)
    for message in messages:
        await bus.ack(message)
    return [json.loads(m.body) for m in messages]


async def put(harness: ColdHarness, key: str = "results/u/j~a.vcf", data: bytes = b"result") -> str:
    await harness.objects.put_bytes(harness.bucket, key, data, "text/plain")
    return key


async def archived(harness: ColdHarness, tier: ColdTier | None = None) -> str:
    """The key of an object put and then archived (by ``tier``, else the harness's)."""
    key = await put(harness)
    await (tier or harness.cold).archive(harness.bucket, key)
    return key


def restores_stay_under_way(harness: ColdHarness) -> None:
    if harness.name == "aws":
        pytest.skip("moto completes a restore when asked: there is no 'under way' to look at")


async def test_archived_object_is_out_of_reach(cold: ColdHarness) -> None:
    """Archiving takes the object out of the hot tier: it cannot be read or downloaded."""
    key = await archived(cold)
    assert await cold.cold.is_archived(cold.bucket, key)
    with pytest.raises(ObjectNotFound):
        await cold.objects.get_bytes(cold.bucket, key)
    try:  # S3 still answers HEAD for an archived object: it must say it is cold
        assert (await cold.objects.head(cold.bucket, key)).tier == "cold"
    except ObjectNotFound:
        pass
    await cold.cold.archive(cold.bucket, key)  # again: already done is fine
    assert await cold.cold.is_archived(cold.bucket, key)


async def test_archiving_a_missing_object_fails(cold: ColdHarness) -> None:
    """An object in neither tier cannot be archived (and is not reported archived)."""
    with pytest.raises(ObjectNotFound):
        await cold.cold.archive(cold.bucket, "results/u/missing~x.vcf")
    assert not await cold.cold.is_archived(cold.bucket, "results/u/missing~x.vcf")


async def test_restore_completes_by_message_then_thaw_brings_it_back(cold: ColdHarness) -> None:
    """A restore is announced on restore-complete; thawing then makes the object hot
    again, and thawing twice is harmless."""
    key = await archived(cold)
    restore = await cold.cold.restore(cold.bucket, key, "Expedited")
    assert restore.tier == "Expedited"
    [body] = await completions(cold.bus, 5)
    assert cold.cold.completed(body) == RestoreCompleted(cold.bucket, key)
    await cold.cold.thaw(cold.bucket, key)
    await cold.cold.thaw(cold.bucket, key)
    assert not await cold.cold.is_archived(cold.bucket, key)
    assert await cold.objects.get_bytes(cold.bucket, key) == b"result"


async def test_a_restore_is_not_announced_before_its_delay(cold: ColdHarness) -> None:
    """A restore under way says how long its tier takes, and nothing is announced yet."""
    restores_stay_under_way(cold)
    key = await archived(cold)
    restore = await cold.cold.restore(cold.bucket, key, "Expedited")
    assert restore.expected_seconds == cold.cold.expected_seconds("Expedited") > 0
    assert await completions(cold.bus, 0) == []
    assert len(await completions(cold.bus, 5)) == 1


async def test_asking_twice_starts_one_restore(cold: ColdHarness) -> None:
    """A second request while a restore is under way is accepted without a second one."""
    restores_stay_under_way(cold)
    key = await archived(cold)
    first = await cold.cold.restore(cold.bucket, key, "Standard")
    again = await cold.cold.restore(cold.bucket, key, "Standard")
    assert first.tier == again.tier == "Standard"
    assert len(await completions(cold.bus, 4)) == 1
    assert await completions(cold.bus, 0.5) == []


async def test_expedited_refused_when_unavailable(cold: ColdHarness) -> None:
    """Without Expedited capacity the tier refuses it and still takes Standard."""
    busy = cold.no_expedited
    key = await archived(cold, busy)
    with pytest.raises(RestoreRefused):
        await busy.restore(cold.bucket, key, "Expedited")
    assert (await busy.restore(cold.bucket, key, "Standard")).tier == "Standard"
    assert len(await completions(cold.bus, 4)) == 1


async def test_restoring_what_is_not_archived_fails(cold: ColdHarness) -> None:
    """Only an archived object can be restored."""
    key = await put(cold)
    with pytest.raises(ObjectNotFound):
        await cold.cold.restore(cold.bucket, key, "Expedited")


async def test_completion_survives_a_restart(cold: ColdHarness) -> None:
    """The completion is kept by the bus: a process started after the request
    (a new bus connection) still receives it."""
    key = await archived(cold)
    await cold.cold.restore(cold.bucket, key, "Expedited")
    await cold.bus.close()
    fresh = cold.new_bus()
    try:
        [body] = await completions(fresh, 5)
    finally:
        await fresh.close()
    assert cold.cold.completed(body) == RestoreCompleted(cold.bucket, key)


async def test_other_messages_are_not_completions(cold: ColdHarness) -> None:
    """A message that names no object is refused, not guessed at."""
    with pytest.raises(ValueError):
        cold.cold.completed({"job_id": "x"})


async def test_concurrent_archives_of_one_object(cold: ColdHarness) -> None:
    """Two deliveries archiving the same object at once both succeed; it is archived once."""
    key = await put(cold)
    await asyncio.gather(cold.cold.archive(cold.bucket, key), cold.cold.archive(cold.bucket, key))
    assert await cold.cold.is_archived(cold.bucket, key)


async def test_delete_removes_the_cold_copy(cold: ColdHarness) -> None:
    """Deleting an archived object removes it from the cold tier (S3: whatever its storage
    class) and from the hot one: it can be neither restored nor read; again is fine."""
    key = await archived(cold)
    await cold.cold.delete(cold.bucket, key)
    assert not await cold.cold.is_archived(cold.bucket, key)
    with pytest.raises(ObjectNotFound):
        await cold.cold.restore(cold.bucket, key, "Standard")
    with pytest.raises(ObjectNotFound):
        await cold.objects.get_bytes(cold.bucket, key)
    await cold.cold.delete(cold.bucket, key)
