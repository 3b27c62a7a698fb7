"""``genes``: the gene model (GENCODE genes, transcripts, exons, CDS, UTRs).

INFO keys written:

- ``GAS_GENE``     genes overlapped (symbols, GENCODE), in genomic order
- ``GAS_GTYPE``    their GENCODE gene types, one per ``GAS_GENE`` entry
- ``GAS_REGION``   region class, by priority: ``CDS`` > ``splice_site`` (within
  2 bp of an exon boundary that is not its own transcript's end) > ``UTR5`` /
  ``UTR3`` (a coding transcript's exons before / after its own CDS, by its
  strand; see `region_masks`) > ``noncoding_exon`` > ``intron`` > ``upstream`` / ``downstream`` (of a gene,
  within the promoter window, 5 kb by default, strand-aware) > ``intergenic``
- ``GAS_NEAREST`` / ``GAS_DIST``  nearest gene and its distance in bp, for
  variants outside every gene (upstream, downstream, intergenic)

Summary: ``per_region_class``, ``per_gene_type``, ``top_genes``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    text_of,
)
from annotator.textjoin import INT, A, Texts, render, template

_DIST = Texts.of([b";GAS_DIST="])

if TYPE_CHECKING:
    from annotator.indexer import Contigs
    from annotator.manifest import Track
    from annotator.reference import Reference

REGION_CLASSES = [
    "CDS",
    "splice_site",
    "UTR5",
    "UTR3",
    "noncoding_exon",
    "intron",
    "upstream",
    "downstream",
    "intergenic",
]
# The index's region masks, named by the first len(GENE_MASKS) classes above
# ("gene": inside a gene, none of the others: intron).
GENE_MASKS = ("cds", "splice", "utr5", "utr3", "exon", "gene")
UPSTREAM, DOWNSTREAM, INTERGENIC = 6, 7, 8


class _Tables:
    """INFO text pieces by code, made at install and only split apart here."""

    def __init__(self, ref: Reference):
        a = arrays(ref)
        self.n_seg = len(a["seg_bounds"])
        self.seg_text = pieces([b"", *(b";" + t if t else b"" for t in split_blob(a["seg_text"]))])
        self.gene_names = split_blob(a["gene_name_text"])
        self.nearest_text = pieces([b"", *(b";GAS_NEAREST=" + g for g in self.gene_names)])
        self.region_text = pieces([b"", *(f";GAS_REGION={r}".encode() for r in REGION_CLASSES)])


class Genes(Op):
    def __init__(self, ref: Reference, tracks: list[TrackInfo], options: Options, stats: Stats):
        super().__init__(ref, tracks, options, stats)
        self.window = int(options.upstream_window)
        self.region = stats.counts["region"]
        self.gene_type = stats.counts["gene_type"]
        self.genes = stats.counts["genes"]
        if tracks:
            self.a = arrays(ref)
            self.t = cached(ref, "genes", lambda: _Tables(ref))
            # Per segment, counted with one bincount a batch; names and types at the end.
            self._seg_count = np.zeros(self.t.n_seg, np.int64)

    @classmethod
    def build(
        cls, contigs: Contigs, track: Track, files: dict[str, Path], out: dict[str, Any]
    ) -> dict[str, Any]:
        from annotator import indexer

        return indexer.build_genes(contigs, files, out, GENE_MASKS)

    def declare(self, track: TrackInfo) -> list[Decl]:
        w = self.window
        window = f"{w / 1000:g} kb" if w >= 1000 else f"{w} bp"
        return [
            ("GAS_GENE", ".", "String", "Genes overlapped (GENCODE symbols)"),
            ("GAS_GTYPE", ".", "String", "GENCODE gene type of each GAS_GENE"),
            (
                "GAS_REGION",
                "1",
                "String",
                "Region class, by priority: CDS > splice_site (2 bp of an exon boundary) > "
                "UTR5/UTR3 > noncoding_exon > intron > upstream/downstream "
                f"(within {window} of a gene) > intergenic",
            ),
            ("GAS_NEAREST", "1", "String", "Nearest gene, for variants outside every gene"),
            ("GAS_DIST", "1", "Integer", "Distance in bp to GAS_NEAREST"),
        ]

    def apply(self, b: Batch, q: Query) -> Contribution:
        if not self.tracks:
            return Contribution()
        seg, seg_text, cls, nearest, dist = self._fields(q.ks, q.ke, q.annotated)
        with_dist = np.flatnonzero(nearest >= 0)
        return Contribution(
            shared=[
                Codes(Place.REGION, cls + 1, self.t.region_text),
                Codes(Place.GENES, seg, seg_text),
                Codes(Place.NEAREST, nearest + 1, self.t.nearest_text),
            ],
            own=[(with_dist, render(template(len(with_dist), (A, 0), (INT, dist[with_dist])), _DIST))],
        )

    def _fields(self, ks: I64, ke: I64, known: Bool) -> tuple[I64, Obj, I64, I64, I64]:
        """Per row: gene segment code and the text table for it, region class,
        nearest gene (-1: none) and its distance."""
        a = self.a
        point = ks == ke
        lo = iv.segment_of(a["seg_bounds"], ks)
        hi = lo.copy()
        hi[~point] = iv.segment_of(a["seg_bounds"], ke[~point])
        single = known & (lo == hi) & (lo >= 0)
        self._seg_count += np.bincount(lo[single], minlength=self.t.n_seg)
        seg = np.where(single, lo + 1, 0)
        # Variants spanning several segments (deletions, SVs): a text of their own.
        seg_text = self.t.seg_text
        spans = np.flatnonzero(known & ~single & (hi >= 0))
        if len(spans):
            coded: dict[tuple[int, int], tuple[int, list[bytes], list[str]]] = {}
            for i in spans.tolist():
                span = (max(int(lo[i]), 0), int(hi[i]))
                if span not in coded:
                    coded[span] = (len(seg_text) + len(coded), *self._span_genes(*span))
                seg[i], gnames, gtypes = coded[span]
                self.genes.update(map(text_of, gnames))
                self.gene_type.update(set(gtypes))
            span_texts = pieces(self._span_text(n, t) for _, n, t in coded.values())
            seg_text = np.concatenate([seg_text, span_texts])

        cls = np.full(len(ks), -1, np.int64)
        ip = np.flatnonzero(known & point)
        j = iv.search(a["class_bounds"], ks[ip], side="right") - 1
        cls[ip] = np.where(j >= 0, a["class_code"][np.maximum(j, 0)], UPSTREAM)
        wide = np.flatnonzero(known & ~point)
        if len(wide):
            qs, qe = ks[wide], ke[wide]
            in_mask = [iv.overlaps(a[f"mask_{m}_s"], a[f"mask_{m}_e"], qs, qe) for m in GENE_MASKS]
            cls[wide] = np.select(in_mask, list(range(len(GENE_MASKS))), UPSTREAM)
        # Outside genes: upstream / downstream of a gene within the window (strand-aware), else intergenic.
        out = np.flatnonzero(cls == UPSTREAM)
        qs, qe, w = ks[out], ke[out], self.window
        up = iv.count_in(a["minus_end"], qs - w, qs - 1) + iv.count_in(a["plus_start"], qe + 1, qe + w)
        down = iv.count_in(a["plus_end"], qs - w, qs - 1) + iv.count_in(a["minus_start"], qe + 1, qe + w)
        cls[out] = np.where(up > 0, UPSTREAM, np.where(down > 0, DOWNSTREAM, INTERGENIC))
        self.region.update(
            {REGION_CLASSES[k]: int(v) for k, v in enumerate(np.bincount(cls[known], minlength=9)) if v}
        )

        # Nearest gene for everything outside genes: the last gene ending
        # before the variant or the first starting after it, same contig only.
        nearest = np.full(len(ks), -1, np.int64)
        dist = np.zeros(len(ks), np.int64)
        if len(out):
            left = iv.search(a["end_sorted"], qs, side="left") - 1
            right = iv.search(a["gene_start"], qe, side="right")
            ng = len(a["gene_start"])
            lgene = a["end_gene"][np.maximum(left, 0)].astype(np.int64)
            rgene = np.minimum(right, ng - 1)
            same_l = (left >= 0) & (iv.contig_of(a["gene_end"][lgene]) == iv.contig_of(qs))
            same_r = (right < ng) & (iv.contig_of(a["gene_start"][rgene]) == iv.contig_of(qe))
            far = np.iinfo(np.int64).max
            dl = np.where(same_l, qs - a["gene_end"][lgene], far)
            dr = np.where(same_r, a["gene_start"][rgene] - qe, far)
            found = np.minimum(dl, dr) != far
            nearest[out[found]] = np.where(dl <= dr, lgene, rgene)[found]
            dist[out[found]] = np.minimum(dl, dr)[found]
        return seg, seg_text, cls, nearest, dist

    def _span_genes(self, lo: int, hi: int) -> tuple[list[bytes], list[str]]:
        """Distinct gene names (and their types) over segments lo..hi."""
        p = self.a["seg_indptr"]
        types, gtype = self.ref.gene_types, self.a["gene_type"]
        seen: dict[bytes, str] = {}
        for g in np.unique(self.a["seg_ids"][p[lo] : p[hi + 1]]).tolist():
            seen.setdefault(self.t.gene_names[g], types[int(gtype[g])])
        return list(seen), list(seen.values())

    def _span_text(self, gnames: list[bytes], gtypes: list[str]) -> bytes:
        if not gnames:
            return b""
        return b";GAS_GENE=" + b",".join(gnames) + b";GAS_GTYPE=" + ",".join(gtypes).encode()

    def _fold_segments(self) -> None:
        """Fold the per-segment counts into per-gene and per-type counts."""
        if not self.tracks or not self._seg_count.any():
            return
        a = self.a
        names = split_blob(a["name_text"])
        for key, labels, counter in (
            ("seg_names", names, self.genes),
            ("seg_types", self.ref.gene_types, self.gene_type),
        ):
            weights = np.repeat(self._seg_count, np.diff(a[f"{key}_ptr"]))
            totals = np.bincount(a[key], weights=weights, minlength=len(labels)).astype(np.int64)
            hit = np.flatnonzero(totals)
            found = [labels[k] for k in hit.tolist()]
            counter.update(dict(zip(map(text_of, found), totals[hit].tolist(), strict=True)))
        self._seg_count[:] = 0

    def summary(self, records: int) -> dict[str, Any]:
        self._fold_segments()
        return {
            "per_region_class": dict(self.region.most_common()),
            "per_gene_type": dict(self.gene_type.most_common()),
            "top_genes": [[g, n] for g, n in self.genes.most_common(20)],
        }
