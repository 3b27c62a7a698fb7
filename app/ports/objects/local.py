"""Object store on the local disk, with S3-shaped presigned POST and GET.

Objects are files under ``<root>/<bucket>/<key>``. Presigned requests carry an
HMAC-SHA256 signature made with the app's secret, so the upload and download
endpoints (``app.web.objects``) need no session: the signature is the permission,
exactly as with S3. A form built for S3 works here unchanged and vice versa.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import errno
import hashlib
import hmac
import json
import os
import re
import shutil
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from stat import S_ISREG
from typing import Any

from app.jobs.job import safe_file_name
from app.ports.objects import (
    MIN_UPLOAD_BYTES,
    KeyConflict,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    PresignedPost,
    PresignError,
)

ALGORITHM = "GAS-HMAC-SHA256"
FILENAME_VARIABLE = "${filename}"
# S3's rules: lowercase letters, digits, dots and hyphens, 3-63 long.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_MAX_KEY_BYTES = 1024
# Fields S3 lets a form carry without a policy condition for them.
_UNCONDITIONED = frozenset({"policy", "x-amz-signature", "x-amz-algorithm", "file"})
_STATUSES = frozenset({200, 201, 204})
_CHUNK = 1 << 16
# What a form without a content-length-range may hold: S3's largest single upload.
_MAX_POST_BYTES = 5 * 1024**3


@dataclass(frozen=True)
class CheckedPost:
    """An upload form whose policy, signature, expiry, fields and key all passed,
    checked before a byte of its file is read: where the file goes and how large
    it may be."""

    bucket: str
    key: str
    min_bytes: int
    max_bytes: int
    expires_at: datetime
    policy_id: str  # one object per policy: the policy's digest marks it used
    redirect: str | None
    status: int


@dataclass(frozen=True)
class UploadAccepted:
    """An upload that is in place; answer with ``redirect`` (303) or ``status``."""

    bucket: str
    key: str
    etag: str
    redirect: str | None = None
    status: int = 204


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_bucket(bucket: str) -> None:
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise ValueError(f"invalid bucket name: {bucket!r}")


def _check_key(key: str) -> None:
    """Refuse any key that could name a path outside its bucket's directory.

    S3 keys are opaque strings; on disk ``..``, absolute paths, NUL and empty
    segments would change which file is meant, so they are refused outright.
    """
    if not key or len(key.encode()) > _MAX_KEY_BYTES or "\x00" in key or key.startswith("/"):
        raise ValueError(f"invalid object key: {key!r}")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"invalid object key: {key!r}")


def _write_atomically(dest: Path, fill: Any) -> None:
    """Write through a temporary file beside ``dest``, then rename it into place.

    A reader sees the old object or the new one, never a half-written file.
    ``fill(file)`` writes the content.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name[:50]}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            fill(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


async def _stage(staged: Path, file_data: AsyncIterator[bytes], max_bytes: int) -> str:
    """Write the file to ``staged`` as it arrives; its MD5 (the ETag). Raises
    EntityTooLarge the moment it is over ``max_bytes``, reading no further."""
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    handle = await asyncio.to_thread(staged.open, "wb")
    try:
        async for chunk in file_data:
            size += len(chunk)
            _check_size(size, 0, max_bytes)
            digest.update(chunk)
            await asyncio.to_thread(handle.write, chunk)
        await asyncio.to_thread(handle.flush)
        await asyncio.to_thread(os.fsync, handle.fileno())
    finally:
        await asyncio.to_thread(handle.close)
    return digest.hexdigest()


def _conflicts(bucket_dir: Path, dest: Path) -> bool:
    """Whether ``dest`` cannot be a file here: it is a directory (other keys go on
    past it), or a key before it on the path is a file."""
    if dest.is_dir():
        return True
    parent = dest.parent
    while parent != bucket_dir and bucket_dir in parent.parents:
        if parent.exists() and not parent.is_dir():
            return True
        parent = parent.parent
    return False


def _conflict(key: str) -> KeyConflict:
    return KeyConflict(
        f"The key {key!r} conflicts with an existing object: on this store a key cannot be "
        "both an object and the start of other keys followed by '/'."
    )


def _install(source: Path, dest: Path) -> None:
    """Move an uploaded file into place: a rename, or a copy when across filesystems."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, dest)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        with source.open("rb") as data:
            _write_atomically(dest, lambda out: shutil.copyfileobj(data, out, _CHUNK))


def _check_size(size: int, low: int, high: int) -> None:
    if size > high:
        raise PresignError(
            "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.", 400
        )
    if size < low:
        raise PresignError(
            "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.", 400
        )


def _denied(reason: str) -> PresignError:
    return PresignError("AccessDenied", f"Invalid according to Policy: {reason}", 403)


class LocalObjectStore(ObjectStore):
    def __init__(self, root: Path, secret: bytes, base_url: str) -> None:
        self.root = root
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        # Uploads are received here, on the same filesystem as the objects, so that
        # putting one in place is a rename. No bucket can be called ".staging".
        self.staging_dir = root / ".staging"
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        # One empty file per policy that stored an object (see ``check_post``).
        self.used_policies_dir = root / ".used-policies"
        self.used_policies_dir.mkdir(parents=True, exist_ok=True)

    def path(self, bucket: str, key: str) -> Path:
        _check_bucket(bucket)
        _check_key(key)
        return self.root / bucket / key

    def _sign(self, message: str) -> str:
        return hmac.new(self.secret, message.encode(), hashlib.sha256).hexdigest()

    # -- presigned POST -----------------------------------------------------------

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
        prefix = key.removesuffix(FILENAME_VARIABLE)
        templated = prefix != key
        # A file name is always put after the prefix, so check the key as if it were.
        self.path(bucket, prefix + "name" if templated else key)
        expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=expires_in)
        conditions: list[Any] = [
            {"bucket": bucket},
            ["starts-with", "$key", prefix] if templated else {"key": key},
            ["content-length-range", MIN_UPLOAD_BYTES, max_bytes],
        ]
        fields = {"key": key}
        if success_action_redirect is not None:
            conditions.append({"success_action_redirect": success_action_redirect})
            fields["success_action_redirect"] = success_action_redirect
        else:
            status = str(success_action_status or 204)
            conditions.append({"success_action_status": status})
            fields["success_action_status"] = status
        document = {"expiration": _iso(expires_at), "conditions": conditions}
        policy = base64.b64encode(json.dumps(document).encode()).decode()
        fields.update(
            {"policy": policy, "x-amz-algorithm": ALGORITHM, "x-amz-signature": self._sign(policy)}
        )
        return PresignedPost(
            url=f"{self.base_url}/{bucket}",
            fields=fields,
            key=key,
            max_bytes=max_bytes,
            expires_at=expires_at,
        )

    def _verified_policy(self, form: Mapping[str, str]) -> dict[str, Any]:
        policy, signature = form.get("policy"), form.get("x-amz-signature")
        if not policy or not signature:
            raise PresignError(
                "AccessDenied", "Bucket POST must contain a policy and its signature.", 403
            )
        if form.get("x-amz-algorithm") != ALGORITHM:
            raise PresignError("InvalidArgument", f"x-amz-algorithm must be {ALGORITHM}.", 400)
        # As bytes: compare_digest raises TypeError on a str that is not ASCII.
        if not hmac.compare_digest(self._sign(policy).encode(), signature.encode()):
            raise PresignError(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
                403,
            )
        try:
            document = json.loads(base64.b64decode(policy, validate=True))
            expiration = datetime.strptime(document["expiration"], "%Y-%m-%dT%H:%M:%SZ")
        except (binascii.Error, ValueError, KeyError, TypeError) as exc:
            raise PresignError("InvalidPolicyDocument", f"Invalid policy: {exc}", 400) from exc
        if datetime.now(UTC) >= expiration.replace(tzinfo=UTC):
            raise _denied("Policy expired.")
        if not isinstance(document.get("conditions"), list):
            raise PresignError("InvalidPolicyDocument", "Policy has no conditions.", 400)
        return dict(document)

    @staticmethod
    def _check_conditions(
        conditions: list[Any], fields: Mapping[str, str]
    ) -> tuple[set[str], int, int]:
        """Apply the policy to the form's fields; return the names it covers and the
        file's size range (its ``content-length-range``), checked once the file is read."""
        covered: set[str] = set()
        low, high = 0, _MAX_POST_BYTES
        for condition in conditions:
            if isinstance(condition, list) and len(condition) == 3 and (
                condition[0] == "content-length-range"
            ):
                try:
                    low, high = int(condition[1]), int(condition[2])
                except (TypeError, ValueError) as exc:
                    raise PresignError("InvalidPolicyDocument", f"Bad condition {condition!r}.",
                                       400) from exc
                continue
            if isinstance(condition, dict) and len(condition) == 1:
                ((name, expected),) = condition.items()
                op = "eq"
            elif isinstance(condition, list) and len(condition) == 3:
                op, name, expected = condition
                name = str(name).removeprefix("$")
            else:
                raise PresignError("InvalidPolicyDocument", f"Bad condition {condition!r}.", 400)
            value = fields.get(str(name).lower())
            matched = value is not None and (
                value == expected if op == "eq"
                else op == "starts-with" and value.startswith(str(expected))
            )
            if not matched:
                raise _denied(f"Policy Condition failed: {json.dumps(condition)}")
            covered.add(str(name).lower())
        return covered, low, high

    async def check_post(
        self, bucket: str, form: Mapping[str, str], file_name: str
    ) -> CheckedPost:
        """Check an upload form, from the fields that precede its file, before the file
        is read: policy, signature, expiry, every field, the key, and that the policy
        has not stored an object already. Raises :class:`PresignError`."""
        document = self._verified_policy(form)
        fields = {name.lower(): value for name, value in form.items()}
        fields["bucket"] = bucket
        covered, low, high = self._check_conditions(document["conditions"], fields)
        extra = sorted(
            name for name in fields
            if name not in covered and name not in _UNCONDITIONED
            and not name.startswith("x-ignore-")
        )
        if extra:
            raise _denied(f"Extra input fields: {', '.join(extra)}")
        key = fields.get("key", "").replace(FILENAME_VARIABLE, safe_file_name(file_name))
        try:
            dest = self.path(bucket, key)
        except ValueError as exc:
            raise PresignError("InvalidArgument", str(exc), 400) from exc
        policy_id = hashlib.sha256(fields["policy"].encode()).hexdigest()
        if await asyncio.to_thread(self._used_marker(policy_id).exists):
            raise _denied("Policy already used: a policy stores one object.")
        if await asyncio.to_thread(_conflicts, self.root / bucket, dest):
            raise _conflict(key)
        expires_at = datetime.strptime(document["expiration"], "%Y-%m-%dT%H:%M:%SZ")
        raw_status = fields.get("success_action_status") or "204"
        status = int(raw_status) if raw_status.isdigit() else 204
        return CheckedPost(
            bucket=bucket, key=key, min_bytes=low, max_bytes=high,
            expires_at=expires_at.replace(tzinfo=UTC), policy_id=policy_id,
            redirect=fields.get("success_action_redirect") or None,
            status=status if status in _STATUSES else 204,
        )

    def _used_marker(self, policy_id: str) -> Path:
        return self.used_policies_dir / policy_id

    def _mark_used(self, post: CheckedPost) -> Path:
        """Mark the policy used, atomically across processes (``O_EXCL``); the marker's
        mtime is the policy's expiry, after which the sweep forgets it."""
        marker = self._used_marker(post.policy_id)
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            raise _denied("Policy already used: a policy stores one object.") from None
        os.close(fd)
        expiry = post.expires_at.timestamp()
        os.utime(marker, (expiry, expiry))
        return marker

    async def receive_post(
        self, post: CheckedPost, file_data: AsyncIterator[bytes]
    ) -> UploadAccepted:
        """Store the file of a checked upload as it arrives, and put it in place.

        Stops reading as soon as the file is over the policy's size. The policy is
        used up once the object is stored; an upload that fails leaves it usable.
        """
        dest = self.path(post.bucket, post.key)
        marker = await asyncio.to_thread(self._mark_used, post)
        staged = self.staging_dir / uuid.uuid4().hex
        try:
            etag = await _stage(staged, file_data, post.max_bytes)
            _check_size((await asyncio.to_thread(staged.stat)).st_size, post.min_bytes,
                        post.max_bytes)
            try:
                await asyncio.to_thread(_install, staged, dest)
            except (NotADirectoryError, IsADirectoryError, FileExistsError):
                raise _conflict(post.key) from None
        except BaseException:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(marker.unlink)
            raise
        finally:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(staged.unlink, missing_ok=True)
        if post.redirect:
            query = urllib.parse.urlencode(
                {"bucket": post.bucket, "key": post.key, "etag": f'"{etag}"'})
            separator = "&" if urllib.parse.urlsplit(post.redirect).query else "?"
            return UploadAccepted(post.bucket, post.key, etag,
                                  redirect=f"{post.redirect}{separator}{query}")
        return UploadAccepted(post.bucket, post.key, etag, status=post.status)

    # -- presigned GET ------------------------------------------------------------

    def _get_signature(self, bucket: str, key: str, expires: int, download_name: str) -> str:
        return self._sign("\n".join(("GET", bucket, key, str(expires), download_name)))

    async def presign_get(
        self, bucket: str, key: str, *, expires_in: int, download_name: str | None = None
    ) -> str:
        self.path(bucket, key)
        expires = int(time.time()) + expires_in
        name = download_name or ""
        query = {"expires": str(expires)}
        if name:
            query["filename"] = name
        query["signature"] = self._get_signature(bucket, key, expires, name)
        return (
            f"{self.base_url}/{bucket}/{urllib.parse.quote(key)}?"
            f"{urllib.parse.urlencode(query, quote_via=urllib.parse.quote)}"
        )

    async def open_get(
        self, bucket: str, key: str, query: Mapping[str, str]
    ) -> tuple[Path, str | None]:
        """Check a presigned GET; return the object's file and its download name."""
        name = query.get("filename", "")
        try:
            expires = int(query.get("expires", ""))
            path = self.path(bucket, key)
        except ValueError as exc:
            raise PresignError("AccessDenied", "Invalid presigned URL.", 403) from exc
        signature = query.get("signature", "")
        if not hmac.compare_digest(self._get_signature(bucket, key, expires, name).encode(),
                                   signature.encode()):
            raise PresignError(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
                403,
            )
        if time.time() >= expires:
            raise PresignError("AccessDenied", "Request has expired.", 403)
        if not await asyncio.to_thread(path.is_file):
            raise ObjectNotFound(f"{bucket}/{key}")
        return path, name or None

    # -- objects ------------------------------------------------------------------

    async def put_file(self, bucket: str, key: str, path: Path, content_type: str) -> None:
        dest = self.path(bucket, key)

        def copy() -> None:
            with path.open("rb") as source:
                _write_atomically(dest, lambda out: shutil.copyfileobj(source, out, _CHUNK))

        await self._putting(key, copy)

    async def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        dest = self.path(bucket, key)
        await self._putting(key, lambda: _write_atomically(dest, lambda out: out.write(data)))

    @staticmethod
    async def _putting(key: str, write: Any) -> None:
        try:
            await asyncio.to_thread(write)
        except (NotADirectoryError, IsADirectoryError, FileExistsError):
            raise _conflict(key) from None

    def _existing(self, bucket: str, key: str) -> Path:
        path = self.path(bucket, key)
        if not path.is_file():
            raise ObjectNotFound(f"{bucket}/{key}")
        return path

    async def get_file(self, bucket: str, key: str, path: Path) -> None:
        source = await asyncio.to_thread(self._existing, bucket, key)
        await asyncio.to_thread(shutil.copyfile, source, path)

    async def get_bytes(self, bucket: str, key: str) -> bytes:
        source = await asyncio.to_thread(self._existing, bucket, key)
        return await asyncio.to_thread(source.read_bytes)

    async def stream(
        self, bucket: str, key: str, chunk_size: int = _CHUNK
    ) -> AsyncIterator[bytes]:
        source = await asyncio.to_thread(self._existing, bucket, key)
        handle = await asyncio.to_thread(source.open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def head(self, bucket: str, key: str) -> ObjectInfo:
        path = self.path(bucket, key)
        try:
            stat = await asyncio.to_thread(path.stat)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(f"{bucket}/{key}") from None
        if not S_ISREG(stat.st_mode):  # a directory is only a common prefix of keys
            raise ObjectNotFound(f"{bucket}/{key}")
        return ObjectInfo(bucket=bucket, key=key, size=stat.st_size, tier="hot")

    async def delete(self, bucket: str, key: str) -> None:
        path = self.path(bucket, key)
        with contextlib.suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
            await asyncio.to_thread(path.unlink)

    async def claim(self, bucket: str, key: str) -> None:
        # Nothing to mark: the sweep keeps the uploads whose job exists.
        await self.head(bucket, key)

    # -- housekeeping (the sweep of uploads that never became a job) --------------

    async def keys_older_than(self, bucket: str, prefix: str, cutoff: float) -> list[str]:
        """Keys under ``prefix`` whose object was last written before ``cutoff`` (epoch)."""
        _check_bucket(bucket)
        top = self.root / bucket

        def walk() -> list[str]:
            found = []
            for directory, _, files in os.walk(top):
                for name in files:
                    path = Path(directory, name)
                    key = path.relative_to(top).as_posix()
                    if name.endswith(".part") and name.startswith("."):
                        continue  # a write in progress (``_write_atomically``)
                    with contextlib.suppress(FileNotFoundError):
                        if key.startswith(prefix) and path.stat().st_mtime < cutoff:
                            found.append(key)
            return found

        return await asyncio.to_thread(walk)

    async def forget_expired(self, cutoff: float) -> int:
        """Drop used-policy markers of policies expired by now (expired policies are
        refused anyway) and staged uploads untouched since ``cutoff``; how many."""
        now = time.time()

        def prune() -> int:
            removed = 0
            for directory, limit in ((self.used_policies_dir, now), (self.staging_dir, cutoff)):
                for entry in os.scandir(directory):
                    with contextlib.suppress(FileNotFoundError):
                        if entry.stat().st_mtime < limit:
                            os.unlink(entry.path)
                            removed += 1
            return removed

        return await asyncio.to_thread(prune)
