"""Annotate a batch of variants against a loaded reference, numpy-vectorised.

The reference's tracks do the annotating, each through its op (`annotator.ops`,
whose modules list the INFO keys each writes). Written here for every
annotated variant, and for lifted input:

- ``GAS_BUILD``    the build the variant was annotated on
- ``GAS_ORIG``     ``build:contig:pos`` before lift-over, when it was lifted
- ``GAS_UNLIFTED`` why a variant could not be lifted (kept, not annotated)

(``GAS_ORIG`` and ``GAS_UNLIFTED`` are declared here and written by the engine.)

A variant spans ``[POS, POS + len(REF) - 1]`` (or to ``INFO/END`` for symbolic
alleles), as in bcftools and bedtools, so a deletion reaching into a coding
exon is ``CDS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from annotator import intervals as iv
from annotator.ops import OPS
from annotator.ops.base import I64, Batch, Bool, Codes, Decl, Obj, Op, Options, Query, Stats, pieces
from annotator.reference import Reference
from annotator.textjoin import SKIP, Arena, Joined, Pending, Runs, Texts

# An op's own texts: bytes (numpy "S" or object array), Texts, or Pending (written by `finish`).
Own = npt.NDArray[Any] | Texts | Pending

_LEADS = pieces([b"", b";"])


@dataclass
class Annotation:
    annotated: Bool  # the reference has the row's contig
    # Each row's text is table[code[row]] (rows share them): lead + INFO entries shared with
    # other rows + tail ...
    table: Obj
    code: I64
    own: _OwnText  # ... or, where extra_at >= 0, the tail comes after this row's own entries,
    extra_at: I64  # text extra_at[row] of `extra` (once `finish` has written them)
    rsid_rows: I64  # rows with an ID to fill an empty ID column with, and those IDs
    rsids: Obj
    extra: Joined | None = None

    def finish(self, arena: Arena) -> Annotation:
        """Writes the texts the ops left for later (`Pending`) into `arena` (theirs until its next
        use): the output's writer thread does it, while the next batch is annotated."""
        self.extra = self.own.joined(arena)
        return self

    @property
    def text(self) -> Obj:
        """Each row's shared text, as bytes."""
        return self.table[self.code]

    def retext(self, rows: I64, texts: list[bytes]) -> None:
        """New shared texts for `rows`."""
        self.code[rows] = len(self.table) + np.arange(len(rows))
        self.table = np.concatenate([self.table, pieces(texts)])

    @property
    def has_extra(self) -> Bool:
        return self.extra_at >= 0

    def extra_objects(self) -> Obj:
        """Each row's own text as bytes (b"" for rows without), for the line-by-line path."""
        assert self.extra is not None, "finish() first"
        out = np.full(len(self.extra_at), b"", dtype=object)
        has = self.has_extra
        out[has] = self.extra.texts().objects()[self.extra_at[has]]
        return out


@dataclass(frozen=True)
class _OwnText:
    """Each row's own texts, in the order given, followed by its tail: laid out as one run per row
    (a token per op's part, then the tail) for the output's render to write in place."""

    runs: Runs
    parts: tuple[Texts | Pending, ...]
    tails: Texts
    tail: I64  # the tail of each run

    def joined(self, arena: Arena) -> Joined:
        pending = [p for p in self.parts if isinstance(p, Pending)]
        written = iter(arena.write(pending) if pending else [])
        parts = [next(written) if isinstance(p, Pending) else p for p in self.parts]
        # Every part's text is used once (by its row); the tails as often as their rows.
        size = sum(int(p.off[-1] - p.off[0]) for p in parts) + int(np.diff(self.tails.off)[self.tail].sum())
        return Joined(self.runs, (*parts, self.tails), size)


class Annotator:
    """Annotates batches against one reference; keeps the run's counts.

    Every op gives each row a small integer per track (gene segment, region
    class, band, flag bits, nearest gene). Rows sharing all of them share one
    INFO text, so a batch is reduced to its distinct combinations with
    np.unique, a text is joined once per combination from per-code pieces,
    and rows take theirs by index. Only what differs per row (the distance to
    the nearest gene, rsIDs) is formatted per row.
    """

    def __init__(self, ref: Reference, upstream_window: int = 5000):
        self.ref = ref
        self.window = int(upstream_window)
        self.variants = 0
        options, stats = Options(upstream_window=self.window), Stats()
        self.ops: dict[str, Op] = {
            name: cls(ref, [t for t in ref.tracks if t["op"] == name], options, stats)
            for name, cls in OPS.items()
        }
        # Applied in the order of their first track: their own texts come in track order.
        first = {t["op"]: i for i, t in reversed(list(enumerate(ref.tracks)))}
        self.applied = [self.ops[name] for name in sorted(first, key=first.__getitem__)]
        self.build_text = f"GAS_BUILD={ref.build}".encode()

    # -- header ---------------------------------------------------------------
    def info_headers(self, lifted: bool) -> list[str]:
        decl: list[Decl] = []
        for t in self.ref.tracks:
            decl += self.ops[t["op"]].declare(t)
        decl.append(("GAS_BUILD", "1", "String", "Genome build the variant was annotated on"))
        if lifted:
            decl += [
                ("GAS_ORIG", "1", "String", "build:contig:position before lift-over"),
                (
                    "GAS_UNLIFTED",
                    "1",
                    "String",
                    "Why the variant could not be lifted over (kept at its original position, not annotated)",
                ),
            ]
        return [f'##INFO=<ID={i},Number={n},Type={t},Description="{d}">' for i, n, t, d in decl]

    # -- batch ----------------------------------------------------------------
    def annotate(self, b: Batch) -> Annotation:
        known = b.contig >= 0
        c = np.maximum(b.contig, 0)
        q = Query(known, np.where(known, iv.keys(c, b.start), -1), np.where(known, iv.keys(c, b.end), -1))
        self.variants += int(known.sum())
        shared: list[Codes] = []
        own: list[tuple[I64, Own]] = []
        ids: tuple[I64, Obj] | None = None
        for op in self.applied:
            got = op.apply(b, q)
            shared += got.shared
            own += got.own
            ids = ids or got.ids
        shared.sort(key=lambda f: f.place)
        # One code per row and piece (0: nothing), with the text of each code.
        fields: list[tuple[I64, Obj]] = [(b.lead, _LEADS), *((f.codes, f.table) for f in shared)]
        own_text, extra_at = self._own_text(own, b)
        tails = pieces(b.tails)
        fields.append((np.where(extra_at >= 0, 0, b.tail), tails))

        # Rows not annotated have their tail alone (codes 0..); the others, their combination's text.
        code = b.tail.copy()
        table = tails
        rows = np.flatnonzero(known)
        if len(rows):
            uniq, inverse = _combinations([f[rows] for f, _ in fields])
            joined = [table[codes].tolist() for (_, table), codes in zip(fields, uniq, strict=True)]
            # GAS_BUILD right after the lead: every annotated row has it, so
            # every other piece can start with its own ";".
            joined.insert(1, [self.build_text] * len(uniq[0]))
            table = np.concatenate([tails, pieces([b"".join(p) for p in zip(*joined, strict=True)])])
            code[rows] = len(tails) + inverse
        id_rows, id_values = ids or (np.empty(0, np.int64), pieces([]))
        return Annotation(known, table, code, own_text, extra_at, id_rows, id_values)

    def _own_text(self, own: list[tuple[I64, Own]], b: Batch) -> tuple[_OwnText, I64]:
        """Each row's own texts, in the order given, followed by its tail (after the shared text), as
        runs the output's render writes in place; and where each row's is (-1: a row without)."""
        n = len(b.contig)
        parts = [(rows, _texts(part)) for rows, part in own if len(rows)]
        extra_at = np.full(n, -1, np.int64)
        if not parts:
            return _NOTHING, extra_at
        has = np.zeros(n, bool)
        for rows, _ in parts:
            has[rows] = True
        with_extra = np.flatnonzero(has)
        extra_at[with_extra] = np.arange(len(with_extra))
        # A run per row with an own text: one token per part (SKIP where it has none), then the tail.
        width = len(parts) + 1
        kind = np.full((len(with_extra), width), SKIP, np.int8)
        value = np.zeros((len(with_extra), width), np.int64)
        for k, (rows, _) in enumerate(parts):
            at = extra_at[rows]
            kind[at, k], value[at, k] = k, np.arange(len(rows))
        tail = b.tail[with_extra]
        kind[:, -1], value[:, -1] = len(parts), tail
        runs = Runs(kind.ravel(), value.ravel(), np.arange(0, kind.size + 1, width, dtype=np.int64))
        return _OwnText(runs, tuple(part for _, part in parts), Texts.of(b.tails), tail), extra_at

    def summary(self, records: int) -> dict[str, Any]:
        """Every op's summary entries, in registry order; once, after the last batch."""
        out: dict[str, Any] = {}
        for op in self.ops.values():
            out.update(op.summary(records))
        return out


def _texts(part: Own) -> Texts | Pending:
    return part if isinstance(part, Texts | Pending) else Texts.of(part.tolist())


_NOTHING = _OwnText(
    Runs(np.empty(0, np.int8), np.empty(0, np.int64), np.zeros(1, np.int64)), (), Texts.of([]),
    np.empty(0, np.int64),
)


def _combinations(codes: list[I64]) -> tuple[list[I64], I64]:
    """The distinct rows of the code columns (one array per column), and each row's index among them."""
    dims = [int(c.max()) + 1 if len(c) else 1 for c in codes]
    if float(np.prod(np.array(dims, dtype=np.float64))) < 2.0**62:
        flat = np.ravel_multi_index(codes, dims)
        uniq, inverse = np.unique(flat, return_inverse=True)
        return [np.asarray(u, np.int64) for u in np.unravel_index(uniq, dims)], inverse.ravel()
    stacked = np.stack(codes, axis=1)
    rows, inverse = np.unique(stacked, axis=0, return_inverse=True)
    return [rows[:, k] for k in range(rows.shape[1])], inverse.ravel()
