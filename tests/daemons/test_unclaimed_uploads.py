"""The sweep of uploads that never became a job (local store), run by the archiver."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

from app.jobs.job import PENDING, input_key
from app.ports.objects.local import LocalObjectStore
from app.services import Services
from daemons import unclaimed_uploads
from gas.serve import role_runs
from tests.daemons.conftest import make_job, make_user


def _store(services: Services) -> LocalObjectStore:
    assert isinstance(services.objects, LocalObjectStore)
    return services.objects


async def _upload(services: Services, key: str, age: float) -> None:
    """An input stored ``age`` seconds ago."""
    bucket = services.settings.inputs_bucket
    await services.objects.put_bytes(bucket, key, b"##fileformat=VCFv4.2\n", "text/plain")
    then = time.time() - age
    os.utime(_store(services).path(bucket, key), (then, then))


async def _exists(services: Services, key: str) -> bool:
    return await asyncio.to_thread(_store(services).path(services.settings.inputs_bucket, key).exists)


async def test_expired_uploads_without_their_job_are_deleted(services: Services) -> None:
    """Past the policy's lifetime plus the margin, an upload is deleted unless it is the
    input of an existing job: no job, another name under a job's id (a ``${filename}``
    policy used twice), or a key no job can have. Recent uploads and job inputs stay;
    expired used-policy markers go."""
    settings = services.settings
    old = settings.upload_expiry_seconds + settings.upload_sweep_margin_seconds + 60
    user = await make_user(services)
    job = await make_job(services, user, status=PENDING)
    orphan = input_key(user.user_id, str(uuid.uuid4()), "orphan.vcf")
    twin = input_key(user.user_id, job.job_id, "other.vcf")
    nested = input_key(user.user_id, str(uuid.uuid4()), "zz/inner")
    recent = input_key(user.user_id, str(uuid.uuid4()), "recent.vcf")
    for key in (job.input_key, orphan, twin, nested):
        await _upload(services, key, old)
    await _upload(services, recent, 60)
    store = _store(services)
    expired, live = store.used_policies_dir / "expired", store.used_policies_dir / "live"
    for marker, expiry in ((expired, time.time() - 1), (live, time.time() + 600)):
        marker.touch()
        os.utime(marker, (expiry, expiry))

    deleted = await unclaimed_uploads.sweep(services, store)

    assert sorted(deleted) == sorted([orphan, twin, nested])
    assert [await _exists(services, k) for k in (orphan, twin, nested)] == [False] * 3
    assert await _exists(services, job.input_key) and await _exists(services, recent)
    assert not expired.exists() and live.exists()


async def test_the_archiver_sweeps(services: Services) -> None:
    """The archive role (gas/serve.py) runs the sweep (at start, then every few minutes)."""
    settings = services.settings
    user = await make_user(services)
    orphan = input_key(user.user_id, str(uuid.uuid4()), "orphan.vcf")
    await _upload(services, orphan, settings.upload_expiry_seconds
                  + settings.upload_sweep_margin_seconds + 60)
    tasks = [asyncio.create_task(run(services)) for _, run in role_runs("archive")]
    try:
        for _ in range(100):
            if not await _exists(services, orphan):
                break
            await asyncio.sleep(0.05)
        assert not await _exists(services, orphan)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
