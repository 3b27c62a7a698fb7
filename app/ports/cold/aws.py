"""The cold tier on S3: the same object, in the ``GLACIER`` (Flexible Retrieval) or
``DEEP_ARCHIVE`` storage class.

Archiving copies the object onto itself in the cold class; S3 then refuses to
serve it. A restore is ``RestoreObject`` at a tier; when the temporary copy is
ready S3 itself publishes ``s3:ObjectRestore:Completed`` to the
``restore-complete`` topic (the bucket notification in ``deploy/data-plane.yaml``).
Thawing copies the restored object onto itself in ``STANDARD``, for good.
Retention is minutes, not days, so lifecycle rules cannot do the archiving.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from app.jobs.lifecycle import RESTORE_COMPLETE, RestoreCompleted
from app.ports.aws import AwsSession, error_code
from app.ports.bus import Bus
from app.ports.cold import ColdTier, Restore, RestoreRefused, Tier
from app.ports.objects import ObjectNotFound
from app.ports.objects.aws import COLD_CLASSES, SSE, is_missing, restore_under_way

# CopyObject takes up to 5 GiB; bigger results are copied in parts.
_COPY = TransferConfig(multipart_threshold=5 << 30, multipart_chunksize=512 << 20)
# Days the restored copy stays readable; thawing makes it permanent long before.
_RESTORED_DAYS = 2
# What AWS documents: Expedited 1-5 minutes, GLACIER only (DEEP_ARCHIVE has no
# Expedited tier); Standard 3-5 hours (GLACIER) or within 12 hours (DEEP_ARCHIVE).
_EXPEDITED_SECONDS = 5 * 60
_STANDARD_SECONDS = {"GLACIER": 5 * 3600, "DEEP_ARCHIVE": 12 * 3600}


def _expected(storage_class: str, tier: Tier) -> int:
    return _EXPEDITED_SECONDS if tier == "Expedited" else _STANDARD_SECONDS[storage_class]


class S3ColdTier(ColdTier):
    def __init__(self, aws: AwsSession, bus: Bus, storage_class: str = "GLACIER") -> None:
        if storage_class not in COLD_CLASSES:
            raise ValueError(f"not a cold storage class: {storage_class}")
        self.aws = aws
        self.bus = bus
        self.storage_class = storage_class

    async def _head(self, bucket: str, key: str) -> dict[str, Any]:
        s3 = await self.aws.client("s3")
        try:
            return dict(await s3.head_object(Bucket=bucket, Key=key))
        except ClientError as exc:
            if is_missing(exc):
                raise ObjectNotFound(f"{bucket}/{key}") from None
            raise

    async def _copy_in_place(self, bucket: str, key: str, head: dict[str, Any], storage_class: str
                             ) -> None:
        s3 = await self.aws.client("s3")
        extra = {
            "StorageClass": storage_class,
            "ServerSideEncryption": SSE,
            "ContentType": head.get("ContentType") or "application/octet-stream",
            "Metadata": head.get("Metadata") or {},
            "MetadataDirective": "REPLACE",
        }
        await s3.copy({"Bucket": bucket, "Key": key}, bucket, key, ExtraArgs=extra, Config=_COPY)

    async def archive(self, bucket: str, key: str) -> None:
        head = await self._head(bucket, key)
        if head.get("StorageClass") in COLD_CLASSES:
            return  # another delivery did it
        try:
            await self._copy_in_place(bucket, key, head, self.storage_class)
        except ClientError as exc:
            # A concurrent delivery archived it between our HEAD and our copy.
            if error_code(exc) not in ("ObjectNotInActiveTierError", "InvalidObjectState"):
                raise
            if not await self.is_archived(bucket, key):
                raise

    async def is_archived(self, bucket: str, key: str) -> bool:
        try:
            head = await self._head(bucket, key)
        except ObjectNotFound:
            return False
        return head.get("StorageClass") in COLD_CLASSES

    async def restore(self, bucket: str, key: str, tier: Tier) -> Restore:
        head = await self._head(bucket, key)
        storage_class = head.get("StorageClass")
        if storage_class not in COLD_CLASSES:
            raise ObjectNotFound(f"{bucket}/{key} is not archived")
        if tier == "Expedited" and storage_class == "DEEP_ARCHIVE":
            raise RestoreRefused("DEEP_ARCHIVE has no Expedited retrieval.")
        # The object's own class: one archived before GAS_AWS_COLD_STORAGE_CLASS changed
        # keeps the class (and the restore times) it was archived in.
        expected = _expected(storage_class, tier)
        restore_header = head.get("Restore")
        if restore_under_way(restore_header):
            return Restore(tier, expected)
        if restore_header:
            # Restored already: S3 sent its completion then and sends none now, so
            # announce it again (thawing is idempotent).
            await self.bus.publish(RESTORE_COMPLETE, RestoreCompleted(bucket, key).encode())
            return Restore(tier, 0)
        s3 = await self.aws.client("s3")
        try:
            await s3.restore_object(
                Bucket=bucket, Key=key,
                RestoreRequest={"Days": _RESTORED_DAYS, "GlacierJobParameters": {"Tier": tier}},
            )
        except ClientError as exc:
            code = error_code(exc)
            # S3's 503 when Expedited capacity is short (botocore has retried it by now):
            # the caller falls back to Standard.
            if code == "GlacierExpeditedRetrievalNotAvailable":
                raise RestoreRefused("Expedited retrievals are not available now.") from None
            if code != "RestoreAlreadyInProgress":
                raise
        # Read the state back: a tier that finished at once (moto's, whose restores
        # also advance - and send their completion event - only when read) needs no wait.
        if not restore_under_way((await self._head(bucket, key)).get("Restore")):
            return Restore(tier, 0)
        return Restore(tier, expected)

    async def thaw(self, bucket: str, key: str) -> None:
        head = await self._head(bucket, key)
        if head.get("StorageClass") not in COLD_CLASSES:
            return  # thawed already
        await self._copy_in_place(bucket, key, head, "STANDARD")

    async def delete(self, bucket: str, key: str) -> None:
        """The cold copy is the object itself, in a cold class: S3 deletes it in any class
        (an archived object's early-deletion charge is the price of not keeping it)."""
        s3 = await self.aws.client("s3")
        await s3.delete_object(Bucket=bucket, Key=key)

    def expected_seconds(self, tier: Tier) -> int:
        return _expected(self.storage_class, tier)

    def completed(self, body: dict[str, Any]) -> RestoreCompleted:
        """S3's event (``Records[].s3``, key URL-encoded) or our own ``{bucket, key}``."""
        records = body.get("Records")
        if isinstance(records, list) and records:
            record = records[0]
            if not str(record.get("eventName", "")).startswith("ObjectRestore:Completed"):
                raise ValueError(f"not a restore completion: {record.get('eventName')!r}")
            s3 = record.get("s3") or {}
            bucket = (s3.get("bucket") or {}).get("name")
            key = (s3.get("object") or {}).get("key")
            if isinstance(bucket, str) and isinstance(key, str):
                return RestoreCompleted(bucket, urllib.parse.unquote_plus(key))
        bucket, key = body.get("bucket"), body.get("key")
        if isinstance(bucket, str) and isinstance(key, str):
            return RestoreCompleted(bucket, key)
        raise ValueError("not a restore-complete message: no bucket and key")
