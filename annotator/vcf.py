"""Read a VCF as people really send it: streamed, line numbers kept for errors.

Accepted: plain, gzip or bgzip (told by magic bytes, never by file name),
CRLF or CR line ends, a UTF-8 BOM, bytes that are not UTF-8 (data lines are
bytes throughout and carried through unchanged; header lines are decoded with
``surrogateescape``), VCF v3.3 to v4.3 headers, any number of samples.
Rejected with a line number: empty files, other compressed or binary formats,
data before the ``#CHROM`` line, wrong column counts.

Reading is linear in the input: a line is searched for its end once per byte
and joined once, however long it is; the limits of a job's plan (`Limits`)
are checked as the bytes arrive, so a bomb stops as soon as it crosses one.
"""

from __future__ import annotations

import gzip
import io
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from annotator.limits import LimitExceeded, Limits

FIXED_COLUMNS = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]

_OTHER_FORMATS = [
    (b"BZh", "bzip2-compressed; upload the VCF itself or gzip it"),
    (b"PK\x03\x04", "a zip archive; upload the VCF itself or gzip it"),
    (b"\xfd7zXZ\x00", "xz-compressed; upload the VCF itself or gzip it"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed; upload the VCF itself or gzip it"),
    (b"BCF", "BCF (binary VCF); convert it with `bcftools view -Ov`"),
    (b"%PDF", "a PDF document, not a VCF"),
    (b"\x89PNG", "a PNG image, not a VCF"),
]


class VcfError(Exception):
    """The input is not a VCF the engine can read; `line` is 1-based."""

    def __init__(self, line: int, message: str):
        self.line = line
        self.reason = message
        super().__init__(f"line {line}: {message}")

    def __reduce__(self) -> tuple[type[VcfError], tuple[int, str]]:
        # Raised in a worker process: it must survive the trip back to the server.
        return (VcfError, (self.line, self.reason))


@dataclass
class Header:
    meta: list[str]  # "##..." lines, newline-free, in input order
    columns: list[str]  # the #CHROM line split on tabs
    fileformat: str  # e.g. "VCFv4.0"; "" when the file does not say
    line_count: int  # lines consumed, #CHROM included

    @property
    def samples(self) -> list[str]:
        return self.columns[9:]

    def version(self) -> tuple[int, int]:
        text = self.fileformat.removeprefix("VCFv")
        major, _, minor = text.partition(".")
        try:
            return int(major), int(minor or 0)
        except ValueError:
            return (4, 0)


class _CountingReader(io.RawIOBase):
    """Counts the raw (possibly compressed) bytes handed on, for progress."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.consumed += n
        return n


class VcfReader:
    """Read a VCF's header, then its data lines in large blocks of bytes.

    The data stay bytes from disk to output: decoding a million lines to str
    and encoding them back costs more than annotating them. Line ends are
    normalised to LF as the bytes arrive, so every later step sees one form.
    """

    def __init__(self, path: Path, limits: Limits | None = None):
        self.path = Path(path)
        self.limits = limits or Limits()
        self.decompressed = 0  # bytes the file has expanded to so far
        self._deadline = None if self.limits.seconds is None else time.monotonic() + self.limits.seconds
        self._header_bytes = 0
        self.size = self.path.stat().st_size
        self._raw = self.path.open("rb")
        self._counter = _CountingReader(self._raw)
        head = self._raw.read(4)
        self._raw.seek(0)
        self.compressed = head[:2] == b"\x1f\x8b"
        binary: io.BufferedIOBase
        if self.compressed:
            binary = gzip.GzipFile(fileobj=io.BufferedReader(self._counter, 1 << 16), mode="rb")
        else:
            binary = io.BufferedReader(self._counter, 1 << 16)
        self._binary = binary
        self._check_magic()
        self._buf = b""  # read, normalised, not yet handed out (from self._pos on)
        self._pos = 0
        self._at_start = True
        self.line_no = 0

    def _check_magic(self) -> None:
        try:
            first = self._binary.peek(8)[:8] if hasattr(self._binary, "peek") else b""
        except (OSError, EOFError, zlib.error) as exc:
            raise VcfError(1, f"the gzip data is corrupt ({exc})") from None
        for magic, what in _OTHER_FORMATS:
            if first.startswith(magic):
                raise VcfError(1, f"this file is {what}")

    @property
    def bytes_consumed(self) -> int:
        return self._counter.consumed

    def close(self) -> None:
        self._binary.close()
        self._raw.close()

    def __enter__(self) -> VcfReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, size: int) -> bytes:
        """Up to `size` more bytes with CRLF and lone CR turned into LF ("" at the end)."""
        limits = self.limits
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise LimitExceeded("seconds", limits.seconds or 0, 0)
        if limits.decompressed_bytes is not None:
            # One byte past the limit is enough to know it is crossed: never inflate more.
            size = max(1, min(size, limits.decompressed_bytes - self.decompressed + 1))
        try:
            data = self._binary.read(size)
            if data.endswith(b"\r"):
                data += self._binary.read(1)  # keep a CRLF pair in one piece
        except (OSError, EOFError, zlib.error) as exc:
            at = self.line_no + 1 + self._buf.count(b"\n", self._pos)
            raise VcfError(at, f"the gzip data is corrupt or truncated ({exc})") from None
        self.decompressed += len(data)
        if limits.decompressed_bytes is not None and self.decompressed > limits.decompressed_bytes:
            raise LimitExceeded("decompressed_bytes", limits.decompressed_bytes, 0)
        if self._at_start and data:
            self._at_start = False
            data = data.removeprefix(b"\xef\xbb\xbf")
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return data

    def _header_line(self) -> bytes | None:
        """The next line, without its LF. Each buffer is searched once and a long
        line's pieces are joined once: re-joining the buffer on every read made a
        150 MiB line take minutes."""
        limits = self.limits
        if limits.header_lines is not None and self.line_no >= limits.header_lines:
            raise LimitExceeded("header_lines", limits.header_lines, self.line_no + 1)
        pieces: list[bytes] = []
        length = 0  # of the line so far, in `pieces`
        while True:
            nl = self._buf.find(b"\n", self._pos)
            end = len(self._buf) if nl < 0 else nl
            length += end - self._pos
            self._check_header_line(length)
            if nl >= 0:
                pieces.append(self._buf[self._pos : nl])
                self._pos = nl + 1
                self._header_bytes += length + 1
                self.line_no += 1
                return pieces[0] if len(pieces) == 1 else b"".join(pieces)
            if self._pos < len(self._buf):
                pieces.append(self._buf[self._pos :])
            self._buf, self._pos = self._read(1 << 16), 0
            if not self._buf:
                if not pieces:
                    return None
                self.line_no += 1
                return b"".join(pieces)

    def _check_header_line(self, length: int) -> None:
        limits = self.limits
        if limits.line_bytes is not None and length > limits.line_bytes:
            raise LimitExceeded("line_bytes", limits.line_bytes, self.line_no + 1)
        if limits.header_bytes is not None and self._header_bytes + length > limits.header_bytes:
            raise LimitExceeded("header_bytes", limits.header_bytes, self.line_no + 1)

    def read_header(self) -> Header:
        meta: list[str] = []
        while (raw := self._header_line()) is not None:
            if b"\x00" in raw:
                raise VcfError(self.line_no, "binary data (NUL bytes): this is not a text VCF")
            line = raw.decode("utf-8", "surrogateescape")
            if line.startswith("##"):
                meta.append(line)
                continue
            if line.startswith("#"):
                return self._columns(line, meta)
            if not line.strip():
                continue
            if self.line_no == 1 or not meta:
                raise VcfError(
                    self.line_no,
                    "not a VCF: it should start with '##fileformat=VCFv4.x' and have a "
                    f"'#CHROM' header line; found {_preview(line)}",
                )
            raise VcfError(self.line_no, "data line before the '#CHROM' header line")
        if self.line_no == 0:
            raise VcfError(1, "the file is empty")
        raise VcfError(self.line_no, "no '#CHROM' header line (the file ends after the meta lines)")

    def _columns(self, line: str, meta: list[str]) -> Header:
        # Some hand-edited files separate the header with spaces; data lines
        # must still be tab-separated, as the spec says.
        columns = line.split("\t") if "\t" in line else line.split()
        columns = [c.strip() for c in columns]
        if [c.upper() for c in columns[:8]] != FIXED_COLUMNS:
            raise VcfError(
                self.line_no,
                "the '#CHROM' header line must start with the 8 columns "
                f"{' '.join(FIXED_COLUMNS)}; found {_preview(line)}",
            )
        if len(columns) > 8 and columns[8].upper() != "FORMAT":
            raise VcfError(self.line_no, f"column 9 of the header must be FORMAT, found {columns[8]!r}")
        fileformat = ""
        if meta and meta[0].startswith("##fileformat="):
            fileformat = meta[0].split("=", 1)[1].strip()
        return Header(meta, columns, fileformat, self.line_no)

    def blocks(self, size: int = 1 << 20) -> Iterator[tuple[int, bytes]]:
        """Data lines in blocks of about `size` bytes: (first line number, block).

        1 MB: the engine reads, annotates and writes three blocks at once (one a thread), so a
        block's size is paid three times over in memory, and the last block's writing is time
        nothing overlaps. Measured on 1M chr20 records: 4 MB blocks 2.36-2.47 s, 945 MB peak; 1 MB
        2.18-2.26 s, 615 MB; 0.5 MB no faster.

        A block holds whole lines, each ending in "\\n" (one is added to a
        last line that lacks it); blank lines are included (the caller decides).
        A line longer than `size` makes its block longer; its pieces are joined once.
        """
        rest = self._buf[self._pos :]  # after the last LF read: lines not yet handed out
        self._buf, self._pos = b"", 0
        pieces: list[bytes] = []  # more of rest's last line, read since (no LF in them)
        carried = 0  # bytes of that line so far
        while True:
            data = self._read(size)
            if not data:
                block = b"".join((rest, *pieces))
                if not block:
                    return
                if not block.endswith(b"\n"):
                    block += b"\n"
                rest, pieces = b"", []
            else:
                cut = data.rfind(b"\n") + 1
                if cut == 0:  # one line longer than `size`: keep reading
                    if not pieces:
                        carried = len(rest) - rest.rfind(b"\n") - 1
                    pieces.append(data)
                    carried += len(data)
                    limit = self.limits.line_bytes
                    if limit is not None and carried > limit:
                        raise LimitExceeded("line_bytes", limit, self.line_no + 1 + rest.count(b"\n"))
                    continue
                block = b"".join((rest, *pieces, data[:cut])) if rest or pieces else data[:cut]
                rest, pieces = data[cut:], []
            self._check_block(block)
            first = self.line_no + 1
            self.line_no += block.count(b"\n")
            yield first, block

    def _check_block(self, block: bytes) -> None:
        """No NUL bytes, and no line over the line limit (only a block longer than
        the limit can hold one: the usual block is not searched)."""
        if b"\x00" in block:
            at = self.line_no + 1 + block.count(b"\n", 0, block.index(b"\x00"))
            raise VcfError(at, "binary data (NUL bytes): this is not a text VCF")
        limit = self.limits.line_bytes
        if limit is not None and len(block) > limit:
            ends = np.flatnonzero(np.frombuffer(block, np.uint8) == ord("\n"))
            over = np.flatnonzero(np.diff(ends, prepend=-1) - 1 > limit)
            if len(over):
                raise LimitExceeded("line_bytes", limit, self.line_no + 1 + int(over[0]))


def _preview(line: str) -> str:
    text = line[:60].encode("unicode_escape", errors="backslashreplace").decode("ascii")
    return repr(text) + ("…" if len(line) > 60 else "")
