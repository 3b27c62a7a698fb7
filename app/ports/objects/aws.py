"""Object store on S3: presigned POST with policy conditions, presigned GET, SSE on.

Browsers upload and download straight to S3; this process only signs. Every
object this adapter writes is encrypted at rest (``AES256``), and upload
policies require the same of the browser's form.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from app.ports.aws import AwsSession, error_code, http_status
from app.ports.objects import (
    MIN_UPLOAD_BYTES,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    PresignedPost,
    attachment_disposition,
    attachment_name,
    download_content_type,
    storable_content_type,
)

SSE = "AES256"
# Every upload policy tags its object so; ``claim`` removes the tag when the upload
# becomes a job, and the bucket's lifecycle rule (deploy/data-plane.yaml) deletes
# the objects still tagged a day later: uploads that never became a job.
UNCLAIMED_TAG = ("gas-upload", "unclaimed")
UNCLAIMED_TAGGING = (
    f"<Tagging><TagSet><Tag><Key>{UNCLAIMED_TAG[0]}</Key><Value>{UNCLAIMED_TAG[1]}</Value>"
    "</Tag></TagSet></Tagging>"
)
# Objects are stored as bytes; what a download is served as is set on each link.
UPLOAD_CONTENT_TYPE = "application/octet-stream"
# S3 storage classes whose objects must be restored before they can be read.
COLD_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
_CHUNK = 1 << 16
# Multipart above 16 MiB, so a 5 GB premium input is never one request (S3 caps a PUT at 5 GB).
_TRANSFER = TransferConfig(multipart_threshold=16 << 20, multipart_chunksize=16 << 20)


def is_missing(exc: ClientError) -> bool:
    # HEAD has no body, so S3 can only say 404; GET says NoSuchKey. A GLACIER object
    # not yet restored cannot be read either (InvalidObjectState): for a reader it is
    # not in the hot store, exactly as with the local cold tier.
    return error_code(exc) in ("NoSuchKey", "404", "NotFound", "InvalidObjectState") or (
        http_status(exc) == 404 and error_code(exc) != "NoSuchBucket"
    )


def restore_under_way(restore_header: str | None) -> bool:
    """``x-amz-restore: ongoing-request="true"`` while a restore is under way."""
    return bool(restore_header) and 'ongoing-request="true"' in str(restore_header)


class _ThreadedReader:
    """A file whose reads run in a worker thread (aioboto3 awaits ``read`` if it can)."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle

    async def read(self, size: int = -1) -> bytes:
        return await asyncio.to_thread(self.handle.read, size)


class S3ObjectStore(ObjectStore):
    def __init__(self, aws: AwsSession) -> None:
        self.aws = aws

    async def _s3(self) -> Any:
        return await self.aws.client("s3")

    async def _reading(self, bucket: str, key: str, call: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await call()
        except ClientError as exc:
            if is_missing(exc):
                raise ObjectNotFound(f"{bucket}/{key}") from None
            raise

    # -- presigned requests -------------------------------------------------------

    async def presign_post(
        self,
        bucket: str,
        key: str,
        *,
        max_bytes: int,
        expires_in: int,
        success_action_redirect: str | None = None,
        success_action_status: int | None = None,
    ) -> PresignedPost:
        # botocore adds the bucket condition and, for a key ending in ${filename},
        # the exact ``starts-with`` prefix; every other field needs its own condition.
        fields: dict[str, str] = {
            "x-amz-server-side-encryption": SSE,
            "tagging": UNCLAIMED_TAGGING,
            "Content-Type": UPLOAD_CONTENT_TYPE,
        }
        conditions: list[Any] = [
            ["content-length-range", MIN_UPLOAD_BYTES, max_bytes],
            {"x-amz-server-side-encryption": SSE},
            {"tagging": UNCLAIMED_TAGGING},
            {"Content-Type": UPLOAD_CONTENT_TYPE},
        ]
        if success_action_redirect is not None:
            fields["success_action_redirect"] = success_action_redirect
        else:
            fields["success_action_status"] = str(success_action_status or 204)
        for name in ("success_action_redirect", "success_action_status"):
            if name in fields:
                conditions.append({name: fields[name]})
        now = datetime.now(UTC).replace(microsecond=0)
        expires_at = now + timedelta(seconds=expires_in)
        # S3 refuses a form whose signer's credentials have expired, however long the
        # policy: a policy never promises more time than an instance role's credentials
        # have left (botocore renews them well before, so minutes at the very least).
        credentials_expire_at = await self.aws.credentials_expire_at()
        if credentials_expire_at is not None and credentials_expire_at < expires_at:
            # Whole seconds and one to spare: botocore dates the policy by its own clock.
            expires_in = max(0, int((credentials_expire_at - now).total_seconds()) - 1)
            expires_at = now + timedelta(seconds=expires_in)
        s3 = await self._s3()
        signed = await s3.generate_presigned_post(
            Bucket=bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
        )
        return PresignedPost(
            url=signed["url"],
            fields={name: str(value) for name, value in signed["fields"].items()},
            key=key,
            max_bytes=max_bytes,
            expires_at=expires_at,
        )

    async def presign_get(
        self, bucket: str, key: str, *, expires_in: int, download_name: str | None = None
    ) -> str:
        name = attachment_name(key, download_name)
        params = {
            "Bucket": bucket,
            "Key": key,
            "ResponseContentDisposition": attachment_disposition(name),
            "ResponseContentType": download_content_type(name),
        }
        s3 = await self._s3()
        return str(
            await s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
        )

    # -- objects ------------------------------------------------------------------

    async def put_file(self, bucket: str, key: str, path: Path, content_type: str) -> None:
        s3 = await self._s3()
        handle = await asyncio.to_thread(path.open, "rb")
        try:
            await s3.upload_fileobj(
                _ThreadedReader(handle), bucket, key,
                ExtraArgs={
                    "ContentType": storable_content_type(content_type),
                    "ServerSideEncryption": SSE,
                },
                Config=_TRANSFER,
            )
        finally:
            await asyncio.to_thread(handle.close)

    async def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        s3 = await self._s3()
        await s3.put_object(
            Bucket=bucket, Key=key, Body=data, ContentType=storable_content_type(content_type),
            ServerSideEncryption=SSE,
        )

    async def _get(self, bucket: str, key: str) -> Any:
        s3 = await self._s3()
        return await self._reading(bucket, key, lambda: s3.get_object(Bucket=bucket, Key=key))

    async def get_file(self, bucket: str, key: str, path: Path) -> None:
        response = await self._get(bucket, key)
        handle = await asyncio.to_thread(path.open, "wb")
        try:
            body = response["Body"]
            async with body:  # releases the connection, read to the end or not
                while chunk := await body.read(1 << 20):
                    await asyncio.to_thread(handle.write, chunk)
        finally:
            await asyncio.to_thread(handle.close)

    async def get_bytes(self, bucket: str, key: str) -> bytes:
        response = await self._get(bucket, key)
        body = response["Body"]
        async with body:
            return bytes(await body.read())

    async def stream(
        self, bucket: str, key: str, chunk_size: int = _CHUNK
    ) -> AsyncIterator[bytes]:
        response = await self._get(bucket, key)
        body = response["Body"]
        async with body:
            while chunk := await body.read(chunk_size):
                yield chunk

    async def head(self, bucket: str, key: str) -> ObjectInfo:
        s3 = await self._s3()
        response = await self._reading(bucket, key, lambda: s3.head_object(Bucket=bucket, Key=key))
        storage_class = response.get("StorageClass") or "STANDARD"
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=int(response["ContentLength"]),
            tier="cold" if storage_class in COLD_CLASSES else "hot",
            restoring=restore_under_way(response.get("Restore")),
            metadata=dict(response.get("Metadata") or {}),
        )

    async def delete(self, bucket: str, key: str) -> None:
        s3 = await self._s3()
        await s3.delete_object(Bucket=bucket, Key=key)  # absent keys are fine (204), as locally

    async def claim(self, bucket: str, key: str) -> None:
        await self.head(bucket, key)  # S3 says NoSuchKey; moto answers 500 without this
        s3 = await self._s3()
        await self._reading(
            bucket, key, lambda: s3.delete_object_tagging(Bucket=bucket, Key=key)
        )
