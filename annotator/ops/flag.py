"""``flag``: an INFO flag when the variant overlaps any interval of the track
(``GAS_CPG``, ``GAS_RMSK``, ``GAS_PROBLEMATIC``; an operator's own). Summary:
``flags``, the count of variants per flag (names tracks count there too)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from annotator import intervals as iv
from annotator.ops.base import (
    I64,
    Batch,
    Codes,
    Contribution,
    Decl,
    Op,
    Options,
    Place,
    Query,
    Stats,
    TrackInfo,
    arrays,
)

if TYPE_CHECKING:
    from annotator.indexer import Contigs
    from annotator.manifest import Track
    from annotator.reference import Reference


class Flag(Op):
    user = True

    def __init__(self, ref: Reference, tracks: list[TrackInfo], options: Options, stats: Stats):
        super().__init__(ref, tracks, options, stats)
        self.flags = stats.counts["flags"]
        a = arrays(ref) if tracks else {}
        self.intervals: list[tuple[str, bytes, I64, I64]] = [
            (t["info"], f";{t['info']}".encode(), a[f"flag_{t['name']}_s"], a[f"flag_{t['name']}_e"])
            for t in tracks
        ]

    @classmethod
    def build(
        cls, contigs: Contigs, track: Track, files: dict[str, Path], out: dict[str, Any]
    ) -> dict[str, Any]:
        from annotator import indexer

        return indexer.build_flag(contigs, files["table"], track, out)

    def declare(self, track: TrackInfo) -> list[Decl]:
        return [(track["info"], "0", "Flag", track["description"])]

    def apply(self, b: Batch, q: Query) -> Contribution:
        """One bit per flag track, and the text of every combination of bits:
        one code for all of them keeps the batch's combinations few."""
        if not self.intervals:
            return Contribution()
        bits = np.zeros(len(q.ks), np.int64)
        for k, (key, _, s, e) in enumerate(self.intervals):
            hit = iv.overlaps(s, e, q.ks, q.ke) & q.annotated
            self.flags[key] += int(hit.sum())
            bits |= hit.astype(np.int64) << k
        used = np.unique(bits)
        table = np.full(int(used[-1]) + 1, b"", dtype=object)
        for v in used.tolist():
            table[v] = b"".join(text for k, (_, text, _, _) in enumerate(self.intervals) if v >> k & 1)
        return Contribution(shared=[Codes(Place.FLAGS, bits, table)])

    def summary(self, records: int) -> dict[str, Any]:
        return {"flags": {k: self.flags[k] for k in sorted(self.flags) if self.flags[k]}}
