"""Object store: inputs, results and logs, with presigned upload and download."""

from __future__ import annotations

import abc
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from app.jobs import safe_file_name


class ObjectNotFound(Exception):
    pass


class PresignError(Exception):
    """A presigned request that must be refused: tampered, expired or out of policy."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


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
    ) -> str: ...

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
