"""``clinvar``: ClinVar's pathogenic variants (the subset ideogram 1.53.0
caches, see `annotator.clinvar`) matched by position, REF and ALT, one value
per ALT allele (``.`` where that allele has no match) in ClinVar's VCF
spelling: ``GAS_CLNSIG`` (the track's INFO key: clinical significance),
``GAS_CLNDN`` (disease names, ``|`` between several), ``GAS_CLNREVSTAT``
(review status) and ``GAS_CLNVID`` (ClinVar's variation id). Absence means
nothing: most pathogenic variants are not in this subset. Summary:
``clinvar``, matched ALT alleles per significance."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator.knownvariants import KnownIndex, per_alt_text
from annotator.ops.base import (
    Batch,
    Contribution,
    Decl,
    Op,
    Options,
    Query,
    Stats,
    TrackInfo,
    arrays,
    text_of,
)

if TYPE_CHECKING:
    from annotator.indexer import Contigs
    from annotator.manifest import Track
    from annotator.reference import Reference

# The INFO keys after the track's own (GAS_CLNSIG), with the value they hold.
KEYS = (
    (
        "GAS_CLNDN",
        "ClinVar disease names (CLNDN) that have a MONDO id, the only ones ideogram's cache keeps "
        "(not_provided: none has), | between several",
    ),
    ("GAS_CLNREVSTAT", "ClinVar review status (CLNREVSTAT), commas as _"),
    ("GAS_CLNVID", "ClinVar variation id (VCV number without its prefix and zeros)"),
)


class ClinVar(Op):
    def __init__(self, ref: Reference, tracks: list[TrackInfo], options: Options, stats: Stats):
        super().__init__(ref, tracks, options, stats)
        self.significance = stats.counts["clinvar"]
        a = arrays(ref) if tracks else {}
        self.indexes = [
            (
                KnownIndex(a, f"clinvar_{t['name']}", 1 + len(KEYS)),
                [(t["info"].encode(), 0), *((k.encode(), i + 1) for i, (k, _) in enumerate(KEYS))],
            )
            for t in tracks
        ]

    @classmethod
    def build(
        cls, contigs: Contigs, track: Track, files: dict[str, Path], out: dict[str, Any]
    ) -> dict[str, Any]:
        """ideogram's ``variants`` cache and its ``keys``; lifted with ``chain``
        (GRCh38 to the build) when the build names one."""
        from annotator import clinvar
        from annotator.knownsites import index_sites
        from annotator.liftover import Chain, build_chain_arrays

        chain = Chain(*build_chain_arrays(files["chain"])) if "chain" in files else None
        decoded = clinvar.read(files["variants"], files["keys"])
        sites, counts = clinvar.sites(decoded, contigs, chain)
        got = index_sites(sites, f"clinvar_{track.name}", out)
        counts = {k.replace("clinvar", track.name, 1): v for k, v in counts.items()}
        counts[track.name] = got["sites"]
        return {"counts": counts}

    def declare(self, track: TrackInfo) -> list[Decl]:
        subset = track["description"]
        return [
            (
                track["info"],
                "A",
                "String",
                f"ClinVar clinical significance (CLNSIG) per ALT allele. {subset}",
            ),
            *(
                (
                    key,
                    "A",
                    "String",
                    f"{what}; one per ALT allele, from the same ClinVar subset as {track['info']}",
                )
                for key, what in KEYS
            ),
        ]

    def apply(self, b: Batch, q: Query) -> Contribution:
        out = Contribution()
        for index, fields in self.indexes:
            m = index.match(q.ks, q.annotated, b.single_base, b.ref_base, b.alt_base, b.alleles)
            if not len(m.rows):
                continue
            self.significance.update(text_of(v) for v in index.values(0, m.entry).tolist())
            # Object texts: a disease list may be long, and matches are few.
            out.own.append((m.rows, per_alt_text(index, m, fields)))
        return out

    def summary(self, records: int) -> dict[str, Any]:
        return {"clinvar": dict(sorted(self.significance.items()))}
