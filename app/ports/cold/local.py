"""The cold tier on the local disk: ``<data dir>/cold/<bucket>/<key>``.

An archived object is moved out of the object store's tree, so no presigned link
can reach it. A restore takes a set time per tier; its completion is a message
published on ``restore-complete`` with that delay, so it is kept by the bus (in
PostgreSQL) and arrives even if every process restarts in between. A pending
restore is remembered beside the cold tree (``.restores/<bucket>/<key>``, which no
bucket name can clash with) so that asking twice does not start a second one;
a lock file per object (``.locks/<bucket>/<key>``) makes that hold for requests
made at the same moment, from any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from app.jobs.lifecycle import RESTORE_COMPLETE, RestoreCompleted
from app.ports.bus import Bus
from app.ports.cold import ColdTier, Restore, RestoreRefused, Tier
from app.ports.objects import ObjectNotFound
from app.ports.objects.local import LocalObjectStore


def _move(source: Path, dest: Path) -> None:
    """A rename, or a copy then delete across filesystems (re-runnable if cut short)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, dest)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name[:50]}.", suffix=".part")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    source.unlink()


def _lock(path: Path) -> int:
    """An exclusive lock on ``path`` (created if need be), held until the fd is closed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _pending(cold: Path, marker: Path, name: str) -> Restore | None:
    """The restore under way for this object, if any."""
    if not cold.is_file():
        raise ObjectNotFound(name)
    try:
        state = json.loads(marker.read_text())
    except (FileNotFoundError, ValueError):
        return None
    # Past its due time the completion may have been lost (dead-lettered): start again.
    remaining = state["due"] - time.time()
    return Restore(state["tier"], math.ceil(remaining)) if remaining > 0 else None


def _remember(marker: Path, tier: Tier, seconds: int) -> None:
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"tier": tier, "due": time.time() + seconds}))


class LocalColdTier(ColdTier):
    def __init__(
        self,
        objects: LocalObjectStore,
        root: Path,
        bus: Bus,
        *,
        expedited_seconds: int = 60,
        standard_seconds: int = 300,
        expedited_available: bool = True,
    ) -> None:
        self.objects = objects
        self.root = root
        self.bus = bus
        self.seconds: dict[Tier, int] = {"Expedited": expedited_seconds, "Standard": standard_seconds}
        self.expedited_available = expedited_available

    def _paths(self, bucket: str, key: str) -> tuple[Path, Path, Path]:
        """(hot, cold, pending-restore marker); the object store validates the names."""
        hot = self.objects.path(bucket, key)
        return hot, self.root / bucket / key, self.root / ".restores" / bucket / key

    @staticmethod
    def _move_if_there(source: Path, dest: Path, name: str) -> None:
        """Move unless it is there already (another delivery of the same message won)."""
        try:
            _move(source, dest)
        except FileNotFoundError:
            if not dest.is_file():
                raise ObjectNotFound(name) from None

    async def archive(self, bucket: str, key: str) -> None:
        hot, cold, _ = self._paths(bucket, key)

        await asyncio.to_thread(self._move_if_there, hot, cold, f"{bucket}/{key}")

    async def is_archived(self, bucket: str, key: str) -> bool:
        _, cold, _ = self._paths(bucket, key)
        return await asyncio.to_thread(cold.is_file)

    async def restore(self, bucket: str, key: str, tier: Tier) -> Restore:
        if tier == "Expedited" and not self.expedited_available:
            raise RestoreRefused("Expedited retrievals are not available now.")
        _, cold, marker = self._paths(bucket, key)
        # One request at a time per object, across processes: two at once start one restore.
        lock = await asyncio.to_thread(_lock, self.root / ".locks" / bucket / key)
        try:
            under_way = await asyncio.to_thread(_pending, cold, marker, f"{bucket}/{key}")
            if under_way is not None:
                return under_way
            seconds = self.seconds[tier]
            # Published before the marker is written: a crash in between can only
            # lead to a second completion (harmless), never to none.
            await self.bus.publish(
                RESTORE_COMPLETE, RestoreCompleted(bucket, key, tier).encode(), delay_seconds=seconds
            )
            await asyncio.to_thread(_remember, marker, tier, seconds)
        finally:
            os.close(lock)
        return Restore(tier, seconds)

    async def thaw(self, bucket: str, key: str) -> None:
        hot, cold, marker = self._paths(bucket, key)

        await asyncio.to_thread(self._move_if_there, cold, hot, f"{bucket}/{key}")
        await asyncio.to_thread(marker.unlink, missing_ok=True)

    async def delete(self, bucket: str, key: str) -> None:
        _, cold, marker = self._paths(bucket, key)
        for path in (cold, marker):
            await asyncio.to_thread(path.unlink, missing_ok=True)

    def expected_seconds(self, tier: Tier) -> int:
        return self.seconds[tier]

    def completed(self, body: dict[str, Any]) -> RestoreCompleted:
        bucket, key = body.get("bucket"), body.get("key")
        if not isinstance(bucket, str) or not isinstance(key, str):
            raise ValueError("not a restore-complete message: no bucket and key")
        return RestoreCompleted(bucket, key)
