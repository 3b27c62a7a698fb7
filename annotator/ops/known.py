"""``known``: known variants matched by position, REF and ALT (dbSNP common
SNPs: ``GAS_RSID``), one value per ALT allele (``.`` where that allele has no
match, ``|`` between several); an empty ``ID`` is filled with the distinct IDs.
Summary: ``in_dbsnp`` (records with a match) and ``dbsnp_share``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from annotator import intervals as iv
from annotator.ops.base import (
    I64,
    Batch,
    Bool,
    Contribution,
    Decl,
    Obj,
    Op,
    Options,
    Query,
    Stats,
    TrackInfo,
    arrays,
    pieces,
)

if TYPE_CHECKING:
    from annotator.indexer import Contigs
    from annotator.manifest import Track
    from annotator.reference import Reference


class Known(Op):
    def __init__(self, ref: Reference, tracks: list[TrackInfo], options: Options, stats: Stats):
        super().__init__(ref, tracks, options, stats)
        self.matched = stats.counts["known"]
        if tracks:
            self.info = tracks[0]["info"]
            self.key = np.bytes_(b";" + self.info.encode() + b"=")
            self.a = arrays(ref)

    @classmethod
    def build(
        cls, contigs: Contigs, track: Track, files: dict[str, Path], out: dict[str, Any]
    ) -> dict[str, Any]:
        from annotator import indexer

        return indexer.build_known(contigs, files["table"], track, out)

    def declare(self, track: TrackInfo) -> list[Decl]:
        return [(track["info"], "A", "String", track["description"])]

    def apply(self, b: Batch, q: Query) -> Contribution:
        if not self.tracks:
            return Contribution()
        rows, per_alt, ids = self._matches(q.ks, q.annotated, b)
        self.matched[self.info] += len(rows)
        if not len(rows):
            return Contribution()
        return Contribution(own=[(rows, np.strings.add(self.key, per_alt))], ids=(rows, ids))

    def _matches(self, ks: I64, known: Bool, b: Batch) -> tuple[I64, Any, Obj]:
        """Rows matching a known variant: their IDs per ALT allele (the INFO value,
        numpy bytes) and the distinct IDs (for an empty ID column)."""
        none = (np.empty(0, np.int64), np.empty(0, "S1"), pieces([]))
        a = self.a
        kk, kref, kalt, kid = a["known_key"], a["known_ref"], a["known_alt"], a["known_id"]
        lo = iv.search(kk, ks, side="left")
        hits = np.flatnonzero(known & (kk[np.minimum(lo, len(kk) - 1)] == ks))
        if not len(hits):
            return none
        hi = iv.search(kk, ks[hits], side="right")
        h_lo = lo[hits]
        # The common case in one step: a SNV at a position with one known SNV.
        simple = np.zeros(len(hits), bool)
        matched = np.zeros(len(hits), bool)
        if kref.dtype.itemsize == 1 and kalt.dtype.itemsize == 1:
            simple = b.single_base[hits] & (hi - h_lo == 1)
            matched = (
                simple
                & (kref.view(np.uint8)[h_lo] == b.ref_base[hits])
                & (kalt.view(np.uint8)[h_lo] == b.alt_base[hits])
            )
        rows = hits[matched].tolist()
        per_alt = kid[h_lo[matched]].astype(object).tolist()
        ids = list(per_alt)
        for x in np.flatnonzero(~simple).tolist():
            found = self._match_alleles(b, int(hits[x]), int(h_lo[x]), int(hi[x]))
            if found is not None:
                rows.append(int(hits[x]))
                per_alt.append(b",".join(found))
                distinct = dict.fromkeys(r for v in found if v != b"." for r in v.split(b"|"))
                ids.append(b";".join(distinct))
        if not rows:
            return none
        order = np.argsort(rows, kind="stable")
        return np.asarray(rows, np.int64)[order], np.array(per_alt, dtype="S")[order], pieces(ids)[order]

    def _match_alleles(self, b: Batch, i: int, lo: int, hi: int) -> list[bytes] | None:
        """IDs per ALT allele ("." for none, "|" between several), or None without any match."""
        kref, kalt, kid = self.a["known_ref"], self.a["known_alt"], self.a["known_id"]
        ref, alt = b.alleles(i)
        ref = ref.upper()
        alts = alt.upper().split(b",")
        per_alt = [b"."] * len(alts)
        for j in range(lo, hi):
            if kref[j] != ref:
                continue
            for x, candidate in enumerate(alts):
                if candidate == kalt[j]:
                    rs = bytes(kid[j])
                    per_alt[x] = rs if per_alt[x] == b"." else per_alt[x] + b"|" + rs
        if all(v == b"." for v in per_alt):
            return None
        return per_alt

    def summary(self, records: int) -> dict[str, Any]:
        found = sum(self.matched.values())
        return {"in_dbsnp": found, "dbsnp_share": round(found / records, 4) if records else 0.0}
