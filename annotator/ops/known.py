"""``known``: known variants matched by position, REF and ALT (the common SNPs
track: ``GAS_RSID``), one ID per ALT allele (``.`` where that allele has no
match, ``|`` between several); an empty ``ID`` is filled with the distinct IDs.
Every ALT allele a source lists for a site is stored (`knownvariants`).
Summary: ``in_dbsnp`` (records with a match) and ``dbsnp_share``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from annotator.knownvariants import KnownIndex, Matches, per_alt_text
from annotator.ops.base import (
    Batch,
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
        a = arrays(ref) if tracks else {}
        self.indexes = [(t["info"].encode(), KnownIndex(a, f"known_{t['name']}", 1)) for t in tracks]

    @classmethod
    def build(
        cls, contigs: Contigs, track: Track, files: dict[str, Path], out: dict[str, Any]
    ) -> dict[str, Any]:
        """The track's ``table`` (a common dbSNP parquet) and, when named, its
        ``hapmap3`` SNP list, merged into one table."""
        from annotator import commonsnps
        from annotator.knownsites import index_sites, merge

        parts = [commonsnps.read_common(files["table"], contigs, track.zero_based())]
        if "hapmap3" in files:
            parts.append(commonsnps.read_hapmap3(files["hapmap3"], contigs))
        got = index_sites(merge(parts), f"known_{track.name}", out)
        counts = {f"{track.name} (position, REF, ALT, ID)": got["sites"]}
        if got["skipped"]:
            counts[f"{track.name} skipped (contig not in the build)"] = got["skipped"]
        return {"counts": counts}

    def declare(self, track: TrackInfo) -> list[Decl]:
        return [(track["info"], "A", "String", track["description"])]

    def apply(self, b: Batch, q: Query) -> Contribution:
        out = Contribution()
        for key, index in self.indexes:
            m = index.match(q.ks, q.annotated, b.single_base, b.ref_base, b.alt_base, b.alleles)
            self.matched[key.decode()] += len(m.rows)
            if not len(m.rows):
                continue
            texts = per_alt_text(index, m, [(key, 0)])
            out.own.append((m.rows, np.array(texts.tolist(), dtype="S")))
            out.ids = out.ids or (m.rows, _distinct_ids(index, m))
        return out

    def summary(self, records: int) -> dict[str, Any]:
        found = sum(self.matched.values())
        return {"in_dbsnp": found, "dbsnp_share": round(found / records, 4) if records else 0.0}


def _distinct_ids(index: KnownIndex, m: Matches) -> Obj:
    """Each matched row's IDs, once each, joined by ";" (the ID column's separator)."""
    values = index.values(0, m.entry)
    per_row = np.searchsorted(m.rows, m.row)
    n = np.bincount(per_row, minlength=len(m.rows))
    out = pieces([b""] * len(m.rows))
    single = n[per_row] == 1
    out[per_row[single]] = values[single]
    starts = np.cumsum(n) - n
    for r in np.flatnonzero(n > 1).tolist():
        out[r] = b";".join(dict.fromkeys(values[starts[r] : starts[r] + n[r]].tolist()))
    return out
