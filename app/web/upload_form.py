"""An upload form read as a stream: the fields that precede the file, then the file's
bytes as they arrive, so the store can check the form before it reads the file.

As on S3 the file must be the form's last field (fields after it are ignored), the
fields before it may take at most ``PRE_DATA_LIMIT`` bytes, and only a small
allowance may follow it. Nothing is spooled: the caller decides where each piece
of the file goes, and stops reading when it wants.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import (
    Data,
    Epilogue,
    Event,
    Field,
    File,
    MultipartDecoder,
    NeedData,
)

# S3 refuses a form whose fields before the file exceed 20 KB (MaxPostPreDataLengthExceeded).
PRE_DATA_LIMIT = 20 * 1024
# After the file: its closing boundary, and fields S3 would ignore.
AFTER_FILE_LIMIT = 20 * 1024
FILE_FIELD = "file"


class FormError(Exception):
    """A form the store refuses, with S3's code for it."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _malformed() -> FormError:
    return FormError("MalformedPOSTRequest",
                     "The body of your POST request is not well-formed multipart/form-data.")


def _pre_data_too_large() -> FormError:
    return FormError("MaxPostPreDataLengthExceeded",
                     "Your POST request fields preceding the upload file were too large.")


class UploadForm:
    """One multipart upload body, read chunk by chunk from ``body``."""

    def __init__(self, content_type: str, body: AsyncIterator[bytes]) -> None:
        kind, options = parse_options_header(content_type)
        boundary = options.get("boundary", "")
        if kind != "multipart/form-data" or not boundary:
            raise FormError("PreconditionFailed", "Bucket POST must be of the enclosure-type "
                            "multipart/form-data.", 412)
        self._decoder = MultipartDecoder(boundary.encode("latin-1"))
        self._body = body
        self._ended = False
        self.consumed = 0  # bytes of the body read so far
        self.file_name = ""

    async def _next(self, pre_data: bool = False) -> Event:
        """The next event, reading on as needed. ``pre_data``: still before the file,
        where everything read so far counts towards ``PRE_DATA_LIMIT``."""
        while True:
            try:
                event = self._decoder.next_event()
            except ValueError:
                raise _malformed() from None
            if not isinstance(event, NeedData):
                return event
            if self._ended:
                raise _malformed()
            if pre_data and self.consumed > PRE_DATA_LIMIT:
                raise _pre_data_too_large()
            chunk = await anext(self._body, None)
            if chunk is None:
                self._ended = True
            else:
                self.consumed += len(chunk)
            self._decoder.receive_data(chunk)

    async def fields(self) -> dict[str, str]:
        """The fields before the file (the first value of each name); the file's name is
        then in ``file_name``. Reads at most ``PRE_DATA_LIMIT`` bytes of them."""
        fields: dict[str, str] = {}
        name: str | None = None
        value = bytearray()
        while True:
            event = await self._next(pre_data=True)
            if self.consumed - len(self._decoder.buffer) > PRE_DATA_LIMIT:
                raise _pre_data_too_large()
            if isinstance(event, (Field, File)) and event.name == FILE_FIELD:
                self.file_name = event.filename if isinstance(event, File) else ""
                return fields
            if isinstance(event, (Field, File)):
                name, value = event.name, bytearray()
            elif isinstance(event, Data):
                value += event.data
                if not event.more_data and name is not None:
                    fields.setdefault(name, value.decode("utf-8", "replace"))
                    name = None
            elif isinstance(event, Epilogue):
                raise FormError("InvalidArgument", "POST requires exactly one file upload per request.")

    def file_bytes_declared(self, content_length: int | None) -> int | None:
        """Once ``fields()`` has returned: the most the file can be, by the request's
        Content-Length (the bytes from here to the end), or None without one."""
        if content_length is None:
            return None
        return content_length - (self.consumed - len(self._decoder.buffer))

    async def file(self) -> AsyncIterator[bytes]:
        """The file's bytes as they arrive, ending where its part ends."""
        while True:
            event = await self._next()
            if not isinstance(event, Data):
                raise _malformed()
            if event.data:
                yield event.data
            if not event.more_data:
                return

    async def finish(self) -> None:
        """Read what follows the file, at most ``AFTER_FILE_LIMIT`` bytes. It is ignored
        (the file ended at its boundary, whole), so nothing found there is an error."""
        start = self.consumed
        with contextlib.suppress(FormError):
            while self.consumed - start <= AFTER_FILE_LIMIT:
                if isinstance(await self._next(), Epilogue):
                    return
