"""The filtered rows of a results table as a bgzipped VCF: GAS's own header and the
annotated records exactly as the stored result has them, in position order.

The table's ``row`` is the record's index in the annotated VCF; where each record
lies in that file is found once (``record_offsets``) and kept beside the cached
copy, so an export reads only the records it writes, in whatever order it writes
them (a VCF that came unsorted is exported sorted).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from app.results import bgzf

# Records read, joined and compressed per piece of the download: the memory one
# export holds at once is about this many records' text.
PIECE_ROWS = 4096
_SCAN = 1 << 26  # bytes read at a time while finding the records


def header_end(vcf: Path) -> int:
    """The byte offset where the records start: after the ``##`` lines and #CHROM."""
    with vcf.open("rb") as lines:
        offset = 0
        for line in lines:
            offset += len(line)
            if line.startswith(b"#CHROM"):
                return offset
            if not line.startswith(b"##"):
                break
    raise ValueError(f"{vcf}: no #CHROM header line")


def record_offsets(vcf: Path) -> np.ndarray:
    """Each record's start and end (its newline not included), in file order, as an
    (n, 2) array. Blank lines are no records, as they are no rows of the table."""
    start = header_end(vcf)
    size = vcf.stat().st_size
    breaks = [np.array([start - 1], np.int64)]
    with vcf.open("rb") as handle:
        handle.seek(start)
        at = start
        while chunk := handle.read(_SCAN):
            breaks.append(np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10).astype(np.int64) + at)
            at += len(chunk)
    ends = np.concatenate(breaks)
    if ends[-1] != size - 1:  # a last line with no newline
        ends = np.append(ends, size)
    spans = np.stack([ends[:-1] + 1, ends[1:]], axis=1)
    return spans[spans[:, 1] > spans[:, 0]]


def kept_offsets(vcf: Path, path: Path) -> np.ndarray:
    """``record_offsets`` of ``vcf``, found once and kept at ``path`` (read by memory map)."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        kept: np.ndarray = np.load(path, mmap_mode="r")
        return kept
    spans = record_offsets(vcf)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            np.save(out, spans)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return spans


def records(vcf: Path, spans: np.ndarray, rows: np.ndarray) -> Iterator[bytes]:
    """The VCF's header, then the records at ``rows`` (indices into ``spans``), in
    that order, a piece of PIECE_ROWS records at a time."""
    with vcf.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as text:
        yield text[:header_end(vcf)]
        for at in range(0, len(rows), PIECE_ROWS):
            chosen = spans[rows[at:at + PIECE_ROWS]]
            yield b"".join(text[start:end] + b"\n" for start, end in chosen.tolist())


def export(vcf: Path, spans: np.ndarray, rows: np.ndarray, level: int = 6) -> Iterator[bytes]:
    """``records`` as one BGZF file, streamed."""
    return bgzf.compress(records(vcf, spans, rows), level)
