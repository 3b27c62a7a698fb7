"""Contract of the cold tier: archived objects are out of reach until a restore
completes (announced by a message, never polled) and they are thawed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from databases import Database

from app.ports.bus import TOPICS, Bus, QueueSpec
from app.ports.bus.local import PostgresBus
from app.ports.cold import TOPIC, ColdTier, ObjectRef, RestoreRefused
from app.ports.cold.local import LocalColdTier
from app.ports.objects import ObjectNotFound, ObjectStore
from app.ports.objects.local import LocalObjectStore

BUCKET = "gas-test-results"
QUEUE = TOPICS[TOPIC][0]


@dataclass
class ColdHarness:
    cold: ColdTier
    objects: ObjectStore
    bus: Bus


@pytest.fixture(params=["local"])
async def cold(request: pytest.FixtureRequest, db: Database, database_url: str, tmp_path: Path
               ) -> AsyncIterator[ColdHarness]:
    assert request.param == "local"
    bus = PostgresBus(db, database_url)
    await bus.ensure([QueueSpec(QUEUE, 0, 30, 5)], {TOPIC: [QUEUE]})
    await db.execute("DELETE FROM queue_messages WHERE queue = :q", {"q": QUEUE})
    objects = LocalObjectStore(tmp_path / "objects", b"secret", "http://gas.test/objects")
    tier = LocalColdTier(objects, tmp_path / "cold", bus, expedited_seconds=1, standard_seconds=2)
    yield ColdHarness(tier, objects, bus)
    await bus.close()


async def completions(bus: Bus, wait: float) -> list[dict[str, object]]:
    messages = await bus.receive(QUEUE, max_messages=10, wait_seconds=wait)
    for message in messages:
        await bus.ack(message)
    return [json.loads(m.body) for m in messages]


async def put(harness: ColdHarness, key: str = "results/u/j~a.vcf", data: bytes = b"result") -> str:
    await harness.objects.put_bytes(BUCKET, key, data, "text/plain")
    return key


async def test_archived_object_is_out_of_reach(cold: ColdHarness) -> None:
    """Archiving takes the object out of the hot tier: it cannot be read or downloaded."""
    key = await put(cold)
    await cold.cold.archive(BUCKET, key)
    assert await cold.cold.is_archived(BUCKET, key)
    with pytest.raises(ObjectNotFound):
        await cold.objects.get_bytes(BUCKET, key)
    with pytest.raises(ObjectNotFound):
        await cold.objects.head(BUCKET, key)
    await cold.cold.archive(BUCKET, key)  # again: already done is fine
    assert await cold.cold.is_archived(BUCKET, key)


async def test_archiving_a_missing_object_fails(cold: ColdHarness) -> None:
    """An object in neither tier cannot be archived (and is not reported archived)."""
    with pytest.raises(ObjectNotFound):
        await cold.cold.archive(BUCKET, "results/u/missing~x.vcf")
    assert not await cold.cold.is_archived(BUCKET, "results/u/missing~x.vcf")


async def test_restore_completes_by_message_then_thaw_brings_it_back(cold: ColdHarness) -> None:
    """A restore is announced on restore-complete after the tier's delay, not before;
    thawing then makes the object hot again, and thawing twice is harmless."""
    key = await put(cold)
    await cold.cold.archive(BUCKET, key)
    restore = await cold.cold.restore(BUCKET, key, "Expedited")
    assert (restore.tier, restore.expected_seconds) == ("Expedited", 1)
    assert await completions(cold.bus, 0) == []
    [body] = await completions(cold.bus, 5)
    assert cold.cold.completed(body) == ObjectRef(BUCKET, key)
    await cold.cold.thaw(BUCKET, key)
    await cold.cold.thaw(BUCKET, key)
    assert not await cold.cold.is_archived(BUCKET, key)
    assert await cold.objects.get_bytes(BUCKET, key) == b"result"


async def test_asking_twice_starts_one_restore(cold: ColdHarness) -> None:
    """A second request while a restore is under way is accepted without a second one."""
    key = await put(cold)
    await cold.cold.archive(BUCKET, key)
    first = await cold.cold.restore(BUCKET, key, "Standard")
    again = await cold.cold.restore(BUCKET, key, "Standard")
    assert first.tier == again.tier == "Standard"
    assert len(await completions(cold.bus, 4)) == 1
    assert await completions(cold.bus, 0.5) == []


async def test_expedited_refused_when_unavailable(cold: ColdHarness) -> None:
    """Without Expedited capacity the tier refuses it and still takes Standard."""
    assert isinstance(cold.cold, LocalColdTier)
    busy = LocalColdTier(cold.cold.objects, cold.cold.root, cold.bus, expedited_available=False,
                         standard_seconds=1)
    key = await put(cold)
    await busy.archive(BUCKET, key)
    with pytest.raises(RestoreRefused):
        await busy.restore(BUCKET, key, "Expedited")
    assert (await busy.restore(BUCKET, key, "Standard")).tier == "Standard"
    assert len(await completions(cold.bus, 4)) == 1


async def test_restoring_what_is_not_archived_fails(cold: ColdHarness) -> None:
    """Only an archived object can be restored."""
    key = await put(cold)
    with pytest.raises(ObjectNotFound):
        await cold.cold.restore(BUCKET, key, "Expedited")


async def test_completion_survives_a_restart(cold: ColdHarness, db: Database, database_url: str) -> None:
    """The completion is kept by the bus: a process started after the request
    (a new bus connection) still receives it."""
    key = await put(cold)
    await cold.cold.archive(BUCKET, key)
    await cold.cold.restore(BUCKET, key, "Expedited")
    await cold.bus.close()
    fresh = PostgresBus(db, database_url)
    try:
        [body] = await completions(fresh, 5)
    finally:
        await fresh.close()
    assert cold.cold.completed(body) == ObjectRef(BUCKET, key)


async def test_other_messages_are_not_completions(cold: ColdHarness) -> None:
    """A message that names no object is refused, not guessed at."""
    with pytest.raises(ValueError):
        cold.cold.completed({"job_id": "x"})


async def test_concurrent_archives_of_one_object(cold: ColdHarness) -> None:
    """Two deliveries archiving the same object at once both succeed; it is archived once."""
    key = await put(cold)
    await asyncio.gather(cold.cold.archive(BUCKET, key), cold.cold.archive(BUCKET, key))
    assert await cold.cold.is_archived(BUCKET, key)
