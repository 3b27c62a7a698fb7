"""Write annotated records back out as VCF lines, as bytes.

The fast path never splits a line: it overwrites the byte where the new INFO
text goes (the TAB or LF ending INFO, or a lone "." INFO) with a NUL, as it
does for an empty ID to be filled, splits the whole block there in one call,
and joins the pieces with each row's text in between. The block's own bytes are copied through untouched, so
sample columns cost nothing however many there are.

Files that need other columns rewritten (lift-over, VCF v3.3 QUAL/FILTER)
take the slow path: one line at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from annotator.annotate import Annotation
from annotator.records import Bool, Records

_MARK = 0  # NUL: never in a block (the reader refuses binary data)
_END = re.compile(rb"(^|;)END=\d+(?=;|$)")


@dataclass
class Edits:
    """Per-row changes beyond the INFO text, for the slow path."""

    v3: bool = False  # v3.3: QUAL -1 means missing, FILTER 0 means PASS
    chrom: dict[int, bytes] = field(default_factory=dict)  # lifted rows: new CHROM and POS
    pos: dict[int, bytes] = field(default_factory=dict)
    # Lifted rows onto a target with a sequence: REF and ALT there.
    alleles: dict[int, tuple[bytes, bytes]] = field(default_factory=dict)
    info: dict[int, bytes] = field(default_factory=dict)  # more INFO entries (GAS_ORIG, GAS_UNLIFTED)
    end: dict[int, bytes] = field(default_factory=dict)  # lifted rows: the new INFO/END value

    @property
    def needed(self) -> bool:
        return self.v3 or bool(self.chrom or self.info)


def fast(rec: Records, ann: Annotation, drop_dot: Bool) -> bytes:
    """The block with each row's text inserted where INFO ends (replacing a "." INFO
    where `drop_dot`); the texts carry their own ";" before and TAB or LF after.
    An empty ID column is filled with the row's rsIDs the same way."""
    marker = rec.ends[:, 7] - drop_dot
    texts, extra, has_extra = ann.text, ann.extra, ann.has_extra
    missing = rec.id_missing[ann.rsid_rows]
    rows = ann.rsid_rows[missing]
    if len(rows):
        rsids = ann.rsids[missing]
        dot = rec.ends[rows, 2] - rec.ends[rows, 1] == 2
        # A "." ID is replaced; an empty one is the TAB that ends it, put back after the rsID.
        marker = np.concatenate([marker, np.where(dot, rec.ends[rows, 1] + 1, rec.ends[rows, 2])])
        texts = np.concatenate([texts, np.where(dot, rsids, rsids + b"\t")])
        extra = np.concatenate([extra, np.full(len(rows), b"", dtype=object)])
        has_extra = np.concatenate([has_extra, np.zeros(len(rows), bool)])
        order = np.argsort(marker, kind="stable")
        marker, texts, extra, has_extra = marker[order], texts[order], extra[order], has_extra[order]
    marked = bytearray(rec.data)
    np.frombuffer(marked, np.uint8)[marker] = _MARK
    pieces = bytes(marked).split(b"\x00")
    # Laid out as piece, text[, extra], piece, text[, extra], ..., last piece:
    # the extra text is one more item to join rather than a concatenation per row.
    width = 2 + has_extra
    start = np.cumsum(width) - width
    parts = np.empty(int(width.sum()) + 1, dtype=object)
    parts[start] = _objects(pieces[:-1])
    parts[start + 1] = texts
    parts[(start + 2)[has_extra]] = extra[has_extra]
    parts[-1] = pieces[-1]
    return b"".join(parts.tolist())


def _objects(items: list[bytes]) -> npt.NDArray[Any]:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def slow(rec: Records, ann: Annotation, edits: Edits) -> bytes:
    """The block line by line, for files whose other columns change too; `ann`
    holds bare INFO texts (no framing)."""
    rsids = dict(zip(ann.rsid_rows.tolist(), ann.rsids.tolist(), strict=True))
    texts = (ann.text + np.where(ann.has_extra, ann.extra, b"")).tolist()
    lines = []
    for i in range(len(rec)):
        f = rec.line(i).split(b"\t", 8)
        if i in edits.chrom:
            f[0], f[1] = edits.chrom[i], edits.pos[i]
        if i in edits.alleles:
            f[3], f[4] = edits.alleles[i]
        if edits.v3:
            f[5] = b"." if f[5] == b"-1" else f[5]
            f[6] = b"PASS" if f[6] == b"0" else f[6]
        if i in rsids and f[2] in (b".", b""):
            f[2] = rsids[i]
        info = f[7]
        if i in edits.end:
            info = _END.sub(b"\\1END=" + edits.end[i], info, count=1)
        text = texts[i]
        if i in edits.info:
            text = text + b";" + edits.info[i] if text else edits.info[i]
        if text:
            info = text if info in (b".", b"") else info + b";" + text
        f[7] = info
        lines.append(b"\t".join(f))
    return b"\n".join(lines) + b"\n"

