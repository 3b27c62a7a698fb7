"""``names``: the names of the features a variant overlaps, comma-separated
(an operator's BED / GTF / VCF track: ``PANEL=BRCA1_panel,exon_11_region``).
Counted in the summary's ``flags``, per INFO key, with the flag tracks."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from annotator import intervals as iv
from annotator.infotext import split_blob
from annotator.ops.base import (
    I64,
    Batch,
    Bool,
    Codes,
    Contribution,
    Decl,
    Obj,
    Op,
    Options,
    Place,
    Query,
    Stats,
    TrackInfo,
    arrays,
    cached,
    pieces,
)

if TYPE_CHECKING:
    from annotator.reference import Reference


class _Track:
    """One names track: its segments, and the INFO text of each."""

    def __init__(self, track: TrackInfo, ref: Reference):
        a = arrays(ref)
        key = f"names_{track['name']}"
        self.info = track["info"]
        self.bounds, self.indptr, self.ids = a[f"{key}_bounds"], a[f"{key}_indptr"], a[f"{key}_ids"]
        texts = split_blob(a[f"{key}_text"])[: len(self.bounds)]
        self.text = pieces([b"", *(b";" + t if t else b"" for t in texts)])
        self._blob = a[f"{key}_names"]
        self._names: list[bytes] | None = None

    def span_text(self, lo: int, hi: int) -> bytes:
        """The names over segments lo..hi (a variant wider than one segment)."""
        if self._names is None:
            self._names = split_blob(self._blob)
        ids = self.ids[self.indptr[lo] : self.indptr[hi + 1]]
        seen = dict.fromkeys(self._names[g] for g in np.unique(ids).tolist())
        return b";" + self.info.encode() + b"=" + b",".join(seen) if seen else b""


class Names(Op):
    user = True

    def __init__(self, ref: Reference, tracks: list[TrackInfo], options: Options, stats: Stats):
        super().__init__(ref, tracks, options, stats)
        self.flags = stats.counts["flags"]
        self.names = [cached(ref, f"names {t['name']}", functools.partial(_Track, t, ref)) for t in tracks]

    def declare(self, track: TrackInfo) -> list[Decl]:
        return [(track["info"], ".", "String", track["description"])]

    def apply(self, b: Batch, q: Query) -> Contribution:
        return Contribution(shared=[self._codes(t, q.ks, q.ke, q.annotated) for t in self.names])

    def _codes(self, track: _Track, ks: I64, ke: I64, known: Bool) -> Codes:
        """Per row: the code of its segment's names text (a text of its own when it spans segments)."""
        lo = iv.segment_of(track.bounds, ks)
        wide = np.flatnonzero(known & (ks != ke))
        hi = lo.copy()
        hi[wide] = iv.segment_of(track.bounds, ke[wide])
        codes = np.where(known & (lo >= 0), lo + 1, 0)
        table: Obj = track.text
        spans = np.flatnonzero(known & (hi > lo))
        if len(spans):
            coded: dict[tuple[int, int], int] = {}
            for i in spans.tolist():
                codes[i] = coded.setdefault((max(int(lo[i]), 0), int(hi[i])), len(table) + len(coded))
            table = np.concatenate([table, pieces(track.span_text(*span) for span in coded)])
        self.flags[track.info] += int(np.count_nonzero(table[codes] != b""))
        return Codes(Place.NAMES, codes, table)
