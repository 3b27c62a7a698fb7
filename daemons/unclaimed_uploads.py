"""Uploads that never became a job are deleted once their policy has expired.

On the local store this sweep does it, run in the archiver's role (gas/serve.py: the role
that already looks after stored objects over time), every few minutes: an input older than the
upload policy's lifetime plus ``upload_sweep_margin_seconds`` whose key is not the
input of an existing job is deleted. The margin keeps it clear of a job being
created from an upload just then. It also forgets expired used-policy markers and
staged files a crash left behind. On S3 a lifecycle rule does the same
(``deploy/data-plane.yaml``), for the uploads ``claim`` did not untag.
"""

from __future__ import annotations

import asyncio
import logging
import time

from app.jobs.job import INPUTS_PREFIX, parse_input_key
from app.ports.objects.local import LocalObjectStore
from app.services import Services

log = logging.getLogger(__name__)
SWEEP_EVERY_SECONDS = 600


async def became_a_job(services: Services, key: str) -> bool:
    """Whether ``key`` is the input of an existing job (the job id is in the key)."""
    parts = key.split("/")
    parsed = parse_input_key(parts[1], key) if len(parts) == 3 else None
    if parsed is None:
        return False
    job = await services.jobs.get(parsed[0])
    return job is not None and job.input_key == key


async def sweep(services: Services, store: LocalObjectStore) -> list[str]:
    """Delete the expired uploads that never became a job; their keys."""
    settings = services.settings
    cutoff = time.time() - settings.upload_expiry_seconds - settings.upload_sweep_margin_seconds
    deleted = []
    for key in await store.keys_older_than(settings.inputs_bucket, INPUTS_PREFIX, cutoff):
        if await became_a_job(services, key):
            continue
        await store.delete(settings.inputs_bucket, key)
        deleted.append(key)
        log.info("upload that never became a job deleted", extra={"key": key})
    await store.forget_expired(cutoff)
    return deleted


async def run(services: Services) -> None:
    """Sweep every few minutes until cancelled (only the local store needs it)."""
    store = services.objects
    if not isinstance(store, LocalObjectStore):
        return
    while True:
        try:
            await sweep(services, store)
        except Exception:  # the database or the disk; the next round tries again
            log.warning("sweep of unclaimed uploads failed", exc_info=True)
        await asyncio.sleep(SWEEP_EVERY_SECONDS)
