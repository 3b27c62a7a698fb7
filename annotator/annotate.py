"""Annotate a batch of variants against a loaded reference, numpy-vectorised.

INFO keys written (each declared with a ``##INFO`` header line):

- ``GAS_GENE``     genes overlapped (symbols, GENCODE), in genomic order
- ``GAS_GTYPE``    their GENCODE gene types, one per ``GAS_GENE`` entry
- ``GAS_REGION``   region class, by priority: ``CDS`` > ``splice_site`` (within
  2 bp of an exon boundary that is not a transcript end) > ``UTR5`` / ``UTR3``
  > ``noncoding_exon`` > ``intron`` > ``upstream`` / ``downstream`` (of a gene,
  within the promoter window, 5 kb by default, strand-aware) > ``intergenic``
- ``GAS_NEAREST`` / ``GAS_DIST``  nearest gene and its distance in bp, for
  variants outside every gene (upstream, downstream, intergenic)
- ``GAS_BAND``     cytoband, e.g. ``17q21.31``
- ``GAS_RSID``     dbSNP rsID per ALT allele (``.`` where that allele has no
  match) for a position + REF + ALT match; an empty ``ID`` is filled with it
- ``GAS_CPG``, ``GAS_RMSK``, ``GAS_BLACKLIST``  flags: overlaps a CpG island, a
  RepeatMasker element, an ENCODE blacklist region
- ``GAS_BUILD``    the build the variant was annotated on
- ``GAS_ORIG``     ``build:contig:pos`` before lift-over, when it was lifted

A variant spans ``[POS, POS + len(REF) - 1]`` (or to ``INFO/END`` for symbolic
alleles), as in bcftools and bedtools, so a deletion reaching into a coding
exon is ``CDS``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from annotator import intervals as iv
from annotator.reference import Reference

I64 = npt.NDArray[np.int64]

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
_MASKS = ["cds", "splice", "utr5", "utr3", "exon", "gene"]
UPSTREAM, DOWNSTREAM, INTERGENIC = 6, 7, 8


@dataclass
class Batch:
    contig: I64  # reference contig index, -1 when the build has no such contig
    start: I64  # 1-based first base
    end: I64  # 1-based last base
    ref: list[str]
    alt: list[str]  # raw ALT column


@dataclass
class Stats:
    variants: int = 0
    region: Counter[str] = field(default_factory=Counter)
    gene_type: Counter[str] = field(default_factory=Counter)
    genes: Counter[str] = field(default_factory=Counter)
    in_dbsnp: int = 0
    flags: Counter[str] = field(default_factory=Counter)


class Annotator:
    def __init__(self, ref: Reference, upstream_window: int = 5000):
        self.ref = ref
        self.window = int(upstream_window)
        a = ref.arrays
        self.a = a
        self.stats = Stats()
        self._seg_text: dict[int, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
        self._seg_count = np.zeros(len(a["seg_bounds"]) if "seg_bounds" in a else 0, np.int64)
        self._flags = [
            (t["info"], a[f"flag_{t['name']}_s"], a[f"flag_{t['name']}_e"])
            for t in ref.tracks
            if t["op"] == "flag"
        ]
        self._build_text = f"GAS_BUILD={ref.build}"
        # Index -1 (no class / no band) lands on the trailing "".
        self._region_text = [f"GAS_REGION={r};" for r in REGION_CLASSES] + [""]
        band = ref.track("band")
        band_key = band["info"] if band else "GAS_BAND"
        self._band_text = [f"{band_key}={label};" for label in ref.band_labels] + [""]
        self._safe_names = ref.safe_gene_names()

    # -- header ---------------------------------------------------------------
    def info_headers(self, lifted: bool) -> list[str]:
        w = f"{self.window / 1000:g} kb" if self.window >= 1000 else f"{self.window} bp"
        decl: list[tuple[str, str, str, str]] = []  # (ID, Number, Type, Description)
        if self.ref.has("genes"):
            decl += [
                ("GAS_GENE", ".", "String", "Genes overlapped (GENCODE symbols)"),
                ("GAS_GTYPE", ".", "String", "GENCODE gene type of each GAS_GENE"),
                (
                    "GAS_REGION",
                    "1",
                    "String",
                    "Region class, by priority: CDS > splice_site (2 bp of an exon boundary) > "
                    "UTR5/UTR3 > noncoding_exon > intron > upstream/downstream "
                    f"(within {w} of a gene) > intergenic",
                ),
                ("GAS_NEAREST", "1", "String", "Nearest gene, for variants outside every gene"),
                ("GAS_DIST", "1", "Integer", "Distance in bp to GAS_NEAREST"),
            ]
        shapes = {"band": ("1", "String"), "known": ("A", "String"), "flag": ("0", "Flag")}
        for t in self.ref.tracks:
            if t["op"] in shapes:
                decl.append((t["info"], *shapes[t["op"]], t["description"]))
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
        lines = [f'##INFO=<ID={i},Number={n},Type={t},Description="{d}">' for i, n, t, d in decl]
        return lines

    # -- batch ----------------------------------------------------------------
    def annotate(self, b: Batch) -> tuple[list[str], dict[int, str]]:
        """INFO text to append per variant ("" for none), and rsIDs by row for empty IDs.

        Each track yields one column of strings built by list comprehensions
        over numpy results; the columns are then joined row-wise once.
        """
        n = len(b.contig)
        known = b.contig >= 0
        c = np.maximum(b.contig, 0)
        ks = np.where(known, iv.keys(c, b.start), -1)
        ke = np.where(known, iv.keys(c, b.end), -1)
        n_known = int(known.sum())
        self.stats.variants += n_known
        columns: list[list[str]] = []

        if self.ref.has("genes"):
            columns += self._genes(ks, ke, known)
        if self.ref.has("band"):
            idx = iv.label_index(self.a["band_s"], self.a["band_e"], ks)
            text = self._band_text
            columns.append([text[i] for i in idx.tolist()])
        rsids: dict[int, str] = {}
        if self.ref.has("known"):
            col, rsids = self._known(ks, known, b)
            if rsids:
                columns.append(col)
        for key, s, e in self._flags:
            hit = iv.overlaps(s, e, ks, ke) & known
            count = int(hit.sum())
            if count:
                self.stats.flags[key] += count
                flag = key + ";"
                columns.append([flag if h else "" for h in hit.tolist()])
        # Every other column's entries end with ";" when not empty, so a row
        # is one C-level concatenation with this last, unterminated column.
        build = self._build_text
        columns.append([build] * n if n_known == n else [build if k else "" for k in known.tolist()])
        return list(map("".join, zip(*columns, strict=True))), rsids

    def _genes(self, ks: I64, ke: I64, known: npt.NDArray[np.bool_]) -> list[list[str]]:
        a = self.a
        lo = iv.segment_of(a["seg_bounds"], ks)
        hi = iv.segment_of(a["seg_bounds"], ke)
        single = known & (lo == hi) & (lo >= 0)
        self._seg_count += np.bincount(lo[single], minlength=len(self._seg_count))

        in_mask = [iv.overlaps(a[f"mask_{m}_s"], a[f"mask_{m}_e"], ks, ke) for m in _MASKS]
        w = self.window
        up = (iv.count_in(a["minus_end"], ks - w, ks - 1) + iv.count_in(a["plus_start"], ke + 1, ke + w)) > 0
        down = (
            iv.count_in(a["plus_end"], ks - w, ks - 1) + iv.count_in(a["minus_start"], ke + 1, ke + w)
        ) > 0
        cls = np.select([*in_mask, up, down], list(range(8)), INTERGENIC)
        cls = np.where(known, cls, -1)
        self.stats.region.update(
            {REGION_CLASSES[k]: int(v) for k, v in enumerate(np.bincount(cls[known], minlength=9)) if v}
        )

        # Gene text per elementary segment, cached: most variants share segments.
        seg = np.where(single, lo, -1)
        texts = self._seg_text
        for s in np.unique(seg).tolist():
            if s not in texts:
                self._segment_text(s)
        gene_col = [texts[s][0] for s in seg.tolist()]
        for i in np.flatnonzero(known & ~single & (hi >= 0)).tolist():
            text, gnames, gtypes = self._span_text(int(lo[i]), int(hi[i]))
            gene_col[i] = text
            self.stats.genes.update(set(gnames))
            self.stats.gene_type.update(set(gtypes))

        region_text = self._region_text
        region_col = [region_text[k] for k in cls.tolist()]
        # Nearest gene for everything outside genes: the last gene ending
        # before the variant or the first starting after it, same contig only.
        outside = np.flatnonzero(cls >= UPSTREAM)
        if len(outside):
            qs, qe = ks[outside], ke[outside]
            left = np.searchsorted(a["end_sorted"], qs, side="left") - 1
            right = np.searchsorted(a["gene_start"], qe, side="right")
            ng = len(a["gene_start"])
            lgene = a["end_gene"][np.maximum(left, 0)].astype(np.int64)
            rgene = np.minimum(right, ng - 1)
            same_l = (left >= 0) & (iv.contig_of(a["gene_end"][lgene]) == iv.contig_of(qs))
            same_r = (right < ng) & (iv.contig_of(a["gene_start"][rgene]) == iv.contig_of(qe))
            far = np.iinfo(np.int64).max
            dl = np.where(same_l, qs - a["gene_end"][lgene], far)
            dr = np.where(same_r, a["gene_start"][rgene] - qe, far)
            nearest = np.where(dl <= dr, lgene, rgene).tolist()
            dist = np.minimum(dl, dr).tolist()
            names = self._safe_names
            for j, i in enumerate(outside.tolist()):
                if dist[j] != far:
                    region_col[i] += f"GAS_NEAREST={names[nearest[j]]};GAS_DIST={dist[j]};"
        return [gene_col, region_col]

    def _genes_text(self, ids: npt.NDArray[np.int32]) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        if len(ids) == 0:
            return "", (), ()
        ids = np.unique(ids)
        names = self._safe_names
        types = self.ref.gene_types
        gtype = self.a["gene_type"]
        seen: dict[str, str] = {}
        for g in ids.tolist():
            seen.setdefault(names[g], types[int(gtype[g])])
        gnames = tuple(seen)
        gtypes = tuple(seen.values())
        text = f"GAS_GENE={','.join(gnames)};GAS_GTYPE={','.join(gtypes)};"
        return text, gnames, gtypes

    def _segment_text(self, seg: int) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        cached = self._seg_text.get(seg)
        if cached is None:
            if seg < 0 or len(self._seg_count) == 0:
                cached = ("", (), ())
            else:
                p = self.a["seg_indptr"]
                cached = self._genes_text(np.asarray(self.a["seg_ids"][p[seg] : p[seg + 1]]))
            self._seg_text[seg] = cached
        return cached

    def _span_text(self, lo: int, hi: int) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        p = self.a["seg_indptr"]
        lo = max(lo, 0)
        return self._genes_text(np.asarray(self.a["seg_ids"][p[lo] : p[hi + 1]]))

    def _known(self, ks: I64, known: npt.NDArray[np.bool_], b: Batch) -> tuple[list[str], dict[int, str]]:
        a = self.a
        lo = np.searchsorted(a["known_key"], ks, side="left")
        hi = np.searchsorted(a["known_key"], ks, side="right")
        hits = np.flatnonzero((hi > lo) & known)
        col = [""] * len(ks)
        rsids: dict[int, str] = {}
        track = self.ref.track("known")
        key = track["info"] if track else "GAS_RSID"
        kref, kalt, kid = a["known_ref"], a["known_alt"], a["known_id"]
        for i in hits.tolist():
            ref = b.ref[i].upper().encode()
            alts = b.alt[i].upper().split(",")
            per_alt = ["."] * len(alts)
            for j in range(int(lo[i]), int(hi[i])):
                if kref[j] != ref:
                    continue
                alt = kalt[j].decode()
                for x, candidate in enumerate(alts):
                    if candidate == alt:
                        rs = kid[j].decode()
                        per_alt[x] = rs if per_alt[x] == "." else f"{per_alt[x]}|{rs}"
            if any(v != "." for v in per_alt):
                col[i] = f"{key}={','.join(per_alt)};"
                ids = dict.fromkeys(r for v in per_alt if v != "." for r in v.split("|"))
                rsids[i] = ";".join(ids)
                self.stats.in_dbsnp += 1
        return col, rsids

    def finish(self) -> None:
        """Fold the per-segment counts into per-gene and per-type counts."""
        for seg in np.flatnonzero(self._seg_count).tolist():
            n = int(self._seg_count[seg])
            _, gnames, gtypes = self._segment_text(seg)
            for g in gnames:
                self.stats.genes[g] += n
            for t in set(gtypes):
                self.stats.gene_type[t] += n
        self._seg_count[:] = 0
