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

import numpy as np

from annotator.annotate import Annotation
from annotator.records import Bool, Records
from annotator.textjoin import RUN, SKIP, Buffer, Runs, Texts, render

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


def fast(rec: Records, ann: Annotation, drop_dot: Bool, into: Buffer | None = None) -> memoryview:
    """The block with each row's text inserted where INFO ends (replacing a "." INFO
    where `drop_dot`); the texts carry their own ";" before and TAB or LF after.
    An empty ID column is filled with the row's rsIDs the same way. Joined by `textjoin`
    in one pass: the block's pieces between the marks, each mark's text, a row's own text
    (in `into`'s memory, if given)."""
    assert ann.extra is not None, "finish() first"
    marker = rec.ends[:, 7] - drop_dot
    table, code, extra_at = ann.table, ann.code, ann.extra_at
    missing = rec.id_missing[ann.rsid_rows]
    rows = ann.rsid_rows[missing]
    if len(rows):
        rsids = ann.rsids[missing]
        dot = rec.ends[rows, 2] - rec.ends[rows, 1] == 2
        # A "." ID is replaced; an empty one is the TAB that ends it, put back after the rsID.
        marker = np.concatenate([marker, np.where(dot, rec.ends[rows, 1] + 1, rec.ends[rows, 2])])
        code = np.concatenate([code, len(table) + np.arange(len(rows))])
        table = np.concatenate([table, np.where(dot, rsids, rsids + b"\t")])
        extra_at = np.concatenate([extra_at, np.full(len(rows), -1, np.int64)])
        order = np.argsort(marker, kind="stable")
        marker, code, extra_at = marker[order], code[order], extra_at[order]
    # The block's pieces: text 2j is the bytes before mark j (after mark j - 1), 2j + 1 the mark.
    m = len(marker)
    off = np.empty(2 * m + 2, np.int64)
    off[0], off[-1] = 0, len(rec.data)
    off[1:-1:2], off[2:-1:2] = marker, marker + 1
    block = Texts(np.frombuffer(rec.data, np.uint8), off)
    kind = np.full((m, 3), SKIP, np.int8)
    value = np.zeros((m, 3), np.int64)
    kind[:, 0], value[:, 0] = 0, 2 * np.arange(m)
    kind[:, 1], value[:, 1] = 1, code
    has = extra_at >= 0
    kind[has, 2], value[has, 2] = RUN, extra_at[has]  # the row's own text, written in place
    # One run, the whole block: the last piece after the last mark.
    ptr = np.array([0, 3 * m + 1], np.int64)
    tokens = Runs(np.append(kind.ravel(), np.int8(0)), np.append(value.ravel(), 2 * m), ptr)
    texts = Texts.of(table.tolist())
    if into is not None:
        # Its size, exactly: a one-run render cannot guess it from runs written so far.
        size = len(rec.data) - m + int(np.diff(texts.off)[code].sum()) + ann.extra.size
        into.at_least(size)
    out = render(tokens, block, texts, *ann.extra.sources, into=into, inner=ann.extra.inner(2))
    return memoryview(out.data.data)  # the array's own buffer: written out without a copy


def slow(rec: Records, ann: Annotation, edits: Edits) -> bytes:
    """The block line by line, for files whose other columns change too; `ann`
    holds bare INFO texts (no framing)."""
    rsids = dict(zip(ann.rsid_rows.tolist(), ann.rsids.tolist(), strict=True))
    texts = (ann.text + ann.extra_objects()).tolist()
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

