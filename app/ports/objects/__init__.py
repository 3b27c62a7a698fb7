"""Object store: inputs, results and logs, with presigned upload and download."""

from __future__ import annotations

import abc
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from app.jobs.job import safe_file_name


class ObjectNotFound(Exception):
    pass


class KeyConflict(ValueError):
    """A key the store cannot hold beside another: on the local disk one key cannot be
    an object and also a prefix of other keys followed by ``/`` (``a`` and ``a/b``)."""


class PresignError(Exception):
    """A presigned request that must be refused: tampered, expired or out of policy."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


# Every upload policy's smallest file: an empty input can never be a job, so S3 (or the
# local store) refuses it at upload instead of the job failing later.
MIN_UPLOAD_BYTES = 1


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]
    key: str
    max_bytes: int
    expires_at: datetime


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    tier: str = "hot"  # hot | cold
    restoring: bool = False
    metadata: dict[str, str] = field(default_factory=dict)


def attachment_disposition(name: str) -> str:
    """``Content-Disposition`` for a download: an ASCII fallback plus the exact name
    (RFC 6266), so no name can break the header. Every adapter serves this value."""
    quoted = urllib.parse.quote(name, safe="")
    return f"attachment; filename=\"{safe_file_name(name)}\"; filename*=UTF-8''{quoted}"


# Downloads that are text a person reads; everything else is bytes to save.
_TEXT_SUFFIXES = frozenset({".vcf", ".txt", ".log", ".tsv"})


def download_content_type(name: str) -> str:
    """The type a download is served as: never one a browser runs or renders (script,
    HTML, SVG), whatever the object is called or was uploaded as."""
    suffix = PurePosixPath(name.strip().lower()).suffix
    return "text/plain; charset=utf-8" if suffix in _TEXT_SUFFIXES else "application/octet-stream"


def attachment_name(key: str, name: str | None) -> str:
    """The name a download is saved under: the one asked for, else the key's last part."""
    return name or PurePosixPath(key).name or "download"


def storable_content_type(content_type: str) -> str:
    """``content_type``, unless a browser would run or render it: then plain bytes."""
    active = ("html", "javascript", "ecmascript", "xml", "svg")
    return "application/octet-stream" if any(a in content_type.lower() for a in active) else (
        content_type)


# A download is data, never a document of this origin: no script, no plugin, no
# same-origin access, even if a browser were made to render it.
DOWNLOAD_CSP = "default-src 'none'; sandbox"


class ObjectStore(abc.ABC):
    @abc.abstractmethod
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
        """A form upload straight to the store.

        ``key`` may end in ``${filename}``: as on S3, the uploaded file's name is put
        there, and everything before it becomes an exact ``starts-with`` prefix.
        """

    @abc.abstractmethod
    async def presign_get(
        self, bucket: str, key: str, *, expires_in: int, download_name: str | None = None
    ) -> str:
        """A download link. It is always served as an attachment (named ``download_name``,
        else the key's last part) with the type :func:`download_content_type` gives."""

    @abc.abstractmethod
    async def put_file(self, bucket: str, key: str, path: Path, content_type: str) -> None: ...

    @abc.abstractmethod
    async def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str) -> None: ...

    @abc.abstractmethod
    async def get_file(self, bucket: str, key: str, path: Path) -> None:
        """Download to ``path`` (streamed, never whole in memory)."""

    @abc.abstractmethod
    async def get_bytes(self, bucket: str, key: str) -> bytes: ...

    @abc.abstractmethod
    def stream(self, bucket: str, key: str, chunk_size: int = 1 << 16) -> AsyncIterator[bytes]: ...

    @abc.abstractmethod
    async def head(self, bucket: str, key: str) -> ObjectInfo:
        """Raises :class:`ObjectNotFound`."""

    @abc.abstractmethod
    async def delete(self, bucket: str, key: str) -> None: ...

    @abc.abstractmethod
    async def claim(self, bucket: str, key: str) -> None:
        """An upload has become a job: keep it. Uploads never claimed are deleted once
        their policy has expired (S3: a lifecycle rule on the tag every upload policy
        sets; locally the sweep, which asks the job store). Idempotent; raises
        :class:`ObjectNotFound`."""
