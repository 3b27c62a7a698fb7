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

_LEADS = pieces([b"", b";"])


@dataclass
class Annotation:
    annotated: Bool  # the reference has the row's contig
    text: Obj  # bytes per row: lead + INFO entries shared with other rows + tail ...
    extra: Obj  # ... or, where has_extra, the tail comes after this row's own entries
    has_extra: Bool
    rsid_rows: I64  # rows with an ID to fill an empty ID column with, and those IDs
    rsids: Obj


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
        own: list[tuple[I64, npt.NDArray[Any]]] = []
        ids: tuple[I64, Obj] | None = None
        for op in self.applied:
            got = op.apply(b, q)
            shared += got.shared
            own += got.own
            ids = ids or got.ids
        shared.sort(key=lambda f: f.place)
        # One code per row and piece (0: nothing), with the text of each code.
        fields: list[tuple[I64, Obj]] = [(b.lead, _LEADS), *((f.codes, f.table) for f in shared)]
        extra, has_extra = _own_text(own, b)
        tails = pieces(b.tails)
        fields.append((np.where(has_extra, 0, b.tail), tails))

        text = tails[b.tail]
        rows = np.flatnonzero(known)
        if len(rows):
            uniq, inverse = _combinations([f[rows] for f, _ in fields])
            joined = [table[codes].tolist() for (_, table), codes in zip(fields, uniq, strict=True)]
            # GAS_BUILD right after the lead: every annotated row has it, so
            # every other piece can start with its own ";".
            joined.insert(1, [self.build_text] * len(uniq[0]))
            text[rows] = pieces([b"".join(p) for p in zip(*joined, strict=True)])[inverse]
        id_rows, id_values = ids or (np.empty(0, np.int64), pieces([]))
        return Annotation(known, text, extra, has_extra, id_rows, id_values)

    def summary(self, records: int) -> dict[str, Any]:
        """Every op's summary entries, in registry order; once, after the last batch."""
        out: dict[str, Any] = {}
        for op in self.ops.values():
            out.update(op.summary(records))
        return out


def _own_text(own: list[tuple[I64, npt.NDArray[Any]]], b: Batch) -> tuple[Obj, Bool]:
    """Each row's own texts, in the order given, followed by its tail (after
    the shared text); numpy bytes joined vectorised while every part is."""
    n = len(b.contig)
    extra = np.full(n, b"", dtype=object)
    has_extra = np.zeros(n, bool)
    own = [(rows, texts) for rows, texts in own if len(rows)]
    if not own:
        return extra, has_extra
    vectorised = all(texts.dtype.kind == "S" for _, texts in own)
    if len(own) == 1:
        rows, texts = own[0]
    else:
        for part_rows, _ in own:
            has_extra[part_rows] = True
        rows = np.flatnonzero(has_extra)
        at = np.cumsum(has_extra) - 1
        if vectorised:
            texts = np.zeros(len(rows), f"S{sum(t.itemsize for _, t in own)}")
        else:
            texts = np.full(len(rows), b"", dtype=object)
        for k, (part_rows, part) in enumerate(own):
            i = at[part_rows]
            if k == 0:
                texts[i] = part if vectorised else part.astype(object)
            elif vectorised:
                texts[i] = np.strings.add(texts[i], part)
            else:
                texts[i] = texts[i] + part.astype(object)
    if vectorised:
        extra[rows] = np.strings.add(texts, np.array(b.tails, dtype="S1")[b.tail[rows]]).astype(object)
    else:
        extra[rows] = texts.astype(object) + pieces(b.tails)[b.tail[rows]]
    has_extra[rows] = True
    return extra, has_extra


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
