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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from annotator import intervals as iv
from annotator.infotext import split_blob
from annotator.reference import Reference

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
Obj = npt.NDArray[Any]

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


@dataclass
class Batch:
    contig: I64  # reference contig index, -1 when the build has no such contig
    start: I64  # 1-based first base
    end: I64  # 1-based last base
    single_base: Bool  # REF and ALT are one base each (ALT not multi-allelic)
    ref_base: npt.NDArray[np.uint8]  # first byte of REF / ALT, upper case
    alt_base: npt.NDArray[np.uint8]
    alleles: Callable[[int], tuple[bytes, bytes]]  # REF and ALT of a row, as written
    # How each row's text is framed: lead[i] (0 or 1) indexes (b"", b";") before
    # it, tail[i] indexes `tails` after it. Rows not annotated get only their tail.
    lead: I64
    tail: I64
    tails: tuple[bytes, ...] = (b"",)


@dataclass
class Annotation:
    annotated: Bool  # the reference has the row's contig
    text: Obj  # bytes per row: lead + INFO entries shared with other rows + tail ...
    extra: Obj  # ... or, where has_extra, the tail comes after this row's own entries
    has_extra: Bool
    rsid_rows: I64  # rows with a dbSNP match, and their rsIDs (for an empty ID column)
    rsids: Obj


@dataclass
class Stats:
    variants: int = 0
    region: Counter[str] = field(default_factory=Counter)
    gene_type: Counter[str] = field(default_factory=Counter)
    genes: Counter[str] = field(default_factory=Counter)
    in_dbsnp: int = 0
    flags: Counter[str] = field(default_factory=Counter)


class _NamesTrack:
    """An operator's names track: its segments, and the INFO text of each."""

    def __init__(self, info: str, name: str, a: dict[str, npt.NDArray[Any]]):
        key = f"names_{name}"
        self.info = info
        self.bounds, self.indptr, self.ids = a[f"{key}_bounds"], a[f"{key}_indptr"], a[f"{key}_ids"]
        texts = split_blob(a[f"{key}_text"])[: len(self.bounds)]
        self.text = _pieces([b"", *(b";" + t if t else b"" for t in texts)])
        self._blob = a[f"{key}_names"]
        self._names: list[bytes] | None = None

    def span_text(self, lo: int, hi: int) -> bytes:
        """The names over segments lo..hi (a variant wider than one segment)."""
        if self._names is None:
            self._names = split_blob(self._blob)
        ids = self.ids[self.indptr[lo] : self.indptr[hi + 1]]
        seen = dict.fromkeys(self._names[g] for g in np.unique(ids).tolist())
        return b";" + self.info.encode() + b"=" + b",".join(seen) if seen else b""


@dataclass
class _Tables:
    """What an Annotator reads from a reference besides the arrays: INFO text
    pieces by code (made at install, only split apart here) and track lists."""

    a: dict[str, npt.NDArray[Any]]
    genes: bool
    n_seg: int
    seg_text: Obj
    gene_names: list[bytes]
    nearest_text: Obj
    region_text: Obj
    band: bool
    band_text: Obj
    flags: list[tuple[str, bytes, I64, I64]]
    names: list[_NamesTrack]
    known: bool
    rsid_key: bytes
    build_text: bytes

    def __init__(self, ref: Reference):
        # Plain ndarray views of the memory maps: np.memmap's Python-level
        # __getitem__ would cost microseconds on every slice.
        a = {k: np.asarray(v) for k, v in ref.arrays.items()}
        self.a = a
        self.genes = ref.has("genes")
        self.n_seg = len(a["seg_bounds"]) if self.genes else 0
        self.seg_text = self.nearest_text = _pieces([b""])
        self.gene_names = []
        if self.genes:
            self.seg_text = _pieces([b"", *(b";" + t if t else b"" for t in split_blob(a["seg_text"]))])
            self.gene_names = split_blob(a["gene_name_text"])
            nearest = (b";GAS_NEAREST=" + g + b";GAS_DIST=" for g in self.gene_names)
            self.nearest_text = _pieces([b"", *nearest])
        self.region_text = _pieces([b"", *(f";GAS_REGION={r}".encode() for r in REGION_CLASSES)])
        band = ref.track("band")
        self.band = band is not None
        band_key = band["info"] if band else "GAS_BAND"
        self.band_text = _pieces([b"", *(f";{band_key}={label}".encode() for label in ref.band_labels)])
        self.flags = [
            (t["info"], f";{t['info']}".encode(), a[f"flag_{t['name']}_s"], a[f"flag_{t['name']}_e"])
            for t in ref.tracks
            if t["op"] == "flag"
        ]
        self.names = [_NamesTrack(t["info"], t["name"], a) for t in ref.tracks if t["op"] == "names"]
        known = ref.track("known")
        self.known = known is not None
        self.rsid_key = b";" + (known["info"] if known else "GAS_RSID").encode() + b"="
        self.build_text = f"GAS_BUILD={ref.build}".encode()


class Annotator:
    """Annotates batches against one reference; keeps the run's counts.

    Every lookup gives each row a small integer per track (gene segment,
    region class, band, flag bits, nearest gene). Rows sharing all of them
    share one INFO text, so a batch is reduced to its distinct combinations
    with np.unique, a text is joined once per combination from per-code
    pieces, and rows take theirs by index. Only what differs per row (the
    distance to the nearest gene, rsIDs) is formatted per row.
    """

    def __init__(self, ref: Reference, upstream_window: int = 5000):
        self.ref = ref
        self.window = int(upstream_window)
        # Built once per process and reference, then shared by every job.
        tables = ref.cache.get("annotator")
        if tables is None:
            tables = ref.cache["annotator"] = _Tables(ref)
        self.t: _Tables = tables
        self.a = tables.a
        self.stats = Stats()
        self._seg_count = np.zeros(tables.n_seg, np.int64)

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
        shapes = {
            "band": ("1", "String"),
            "known": ("A", "String"),
            "flag": ("0", "Flag"),
            "names": (".", "String"),
        }
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
    def annotate(self, b: Batch) -> Annotation:
        n = len(b.contig)
        known = b.contig >= 0
        c = np.maximum(b.contig, 0)
        ks = np.where(known, iv.keys(c, b.start), -1)
        ke = np.where(known, iv.keys(c, b.end), -1)
        self.stats.variants += int(known.sum())
        extra = np.full(n, b"", dtype=object)
        has_extra = np.zeros(n, bool)
        nearest, dist = np.full(n, -1, np.int64), np.zeros(n, np.int64)
        # One code per row and track (0: nothing), with the text piece of each code.
        fields: list[tuple[I64, Obj]] = [(b.lead, _pieces([b"", b";"]))]
        if self.t.genes:
            seg, seg_text, cls, nearest, dist = self._gene_fields(ks, ke, known)
            fields.append((cls + 1, self.t.region_text))
        if self.t.band:
            fields.append((iv.label_index(self.a["band_s"], self.a["band_e"], ks) + 1, self.t.band_text))
        if self.t.flags:
            fields.append(self._flag_field(ks, ke, known))
        fields += [self._names_field(track, ks, ke, known) for track in self.t.names]
        if self.t.genes:
            fields += [(seg, seg_text), (nearest + 1, self.t.nearest_text)]
        rsid_rows, per_alt, rsids = self._known_matches(ks, known, b)
        # Row-specific text (GAS_DIST's digits, GAS_RSID) comes after the shared
        # text and carries the row's tail; built in numpy's bytes type where it can.
        tails = _pieces(b.tails)
        with_dist = np.flatnonzero(nearest >= 0)
        extra[with_dist] = _decimal(dist[with_dist], np.array(b.tails, dtype="S1")[b.tail[with_dist]])
        has_extra[with_dist] = True
        if len(rsid_rows):
            rsid_text = self.t.rsid_key + per_alt + tails[b.tail[rsid_rows]]
            both = has_extra[rsid_rows]
            digits = _decimal(dist[rsid_rows[both]], np.zeros(int(both.sum()), "S1"))
            rsid_text[both] = digits + rsid_text[both]
            extra[rsid_rows] = rsid_text
            has_extra[rsid_rows] = True
        fields.append((np.where(has_extra, 0, b.tail), tails))

        text = tails[b.tail]
        rows = np.flatnonzero(known)
        if len(rows):
            uniq, inverse = _combinations([f[rows] for f, _ in fields])
            pieces = [table[codes].tolist() for (_, table), codes in zip(fields, uniq, strict=True)]
            # GAS_BUILD right after the lead: every annotated row has it, so
            # every other piece can start with its own ";".
            pieces.insert(1, [self.t.build_text] * len(uniq[0]))
            text[rows] = _pieces([b"".join(p) for p in zip(*pieces, strict=True)])[inverse]
        return Annotation(known, text, extra, has_extra, rsid_rows, rsids)

    def _names_field(self, track: _NamesTrack, ks: I64, ke: I64, known: Bool) -> tuple[I64, Obj]:
        """Per row: the code of its segment's names text (a text of its own when it spans segments)."""
        lo = iv.segment_of(track.bounds, ks)
        wide = np.flatnonzero(known & (ks != ke))
        hi = lo.copy()
        hi[wide] = iv.segment_of(track.bounds, ke[wide])
        codes = np.where(known & (lo >= 0), lo + 1, 0)
        table = track.text
        spans = np.flatnonzero(known & (hi > lo))
        if len(spans):
            coded: dict[tuple[int, int], int] = {}
            for i in spans.tolist():
                codes[i] = coded.setdefault((max(int(lo[i]), 0), int(hi[i])), len(table) + len(coded))
            table = np.concatenate([table, _pieces(track.span_text(*span) for span in coded)])
        self.stats.flags[track.info] += int(np.count_nonzero(table[codes] != b""))
        return codes, table

    def _flag_field(self, ks: I64, ke: I64, known: Bool) -> tuple[I64, Obj]:
        """One bit per flag track, and the text of every combination of bits."""
        bits = np.zeros(len(ks), np.int64)
        for k, (key, _, s, e) in enumerate(self.t.flags):
            hit = iv.overlaps(s, e, ks, ke) & known
            self.stats.flags[key] += int(hit.sum())
            bits |= hit.astype(np.int64) << k
        used = np.unique(bits)
        table = np.full(int(used[-1]) + 1, b"", dtype=object)
        for v in used.tolist():
            table[v] = b"".join(text for k, (_, text, _, _) in enumerate(self.t.flags) if v >> k & 1)
        return bits, table

    def _gene_fields(self, ks: I64, ke: I64, known: Bool) -> tuple[I64, Obj, I64, I64, I64]:
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
                self.stats.genes.update(map(_text, gnames))
                self.stats.gene_type.update(set(gtypes))
            span_texts = _pieces(self._span_text(n, t) for _, n, t in coded.values())
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
        self.stats.region.update(
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

    def _known_matches(self, ks: I64, known: Bool, b: Batch) -> tuple[I64, Obj, Obj]:
        """Rows matching a known variant by position, REF and ALT: their rsIDs per ALT
        allele (the INFO value) and the distinct rsIDs (for an empty ID column)."""
        none = (np.empty(0, np.int64), _pieces([]), _pieces([]))
        if not self.t.known:
            return none
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
        self.stats.in_dbsnp += len(rows)
        if not rows:
            return none
        order = np.argsort(rows, kind="stable")
        return np.asarray(rows, np.int64)[order], _pieces(per_alt)[order], _pieces(ids)[order]

    def _match_alleles(self, b: Batch, i: int, lo: int, hi: int) -> list[bytes] | None:
        """rsIDs per ALT allele ("." for none, "|" between several), or None without any match."""
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

    def finish(self) -> None:
        """Fold the per-segment counts into per-gene and per-type counts."""
        counts = self._seg_count
        if not self.t.genes or not counts.any():
            return
        a = self.a
        names = split_blob(a["name_text"])
        for key, labels, counter in (
            ("seg_names", names, self.stats.genes),
            ("seg_types", self.ref.gene_types, self.stats.gene_type),
        ):
            weights = np.repeat(counts, np.diff(a[f"{key}_ptr"]))
            totals = np.bincount(a[key], weights=weights, minlength=len(labels)).astype(np.int64)
            hit = np.flatnonzero(totals)
            found = [labels[k] for k in hit.tolist()]
            counter.update(dict(zip(map(_text, found), totals[hit].tolist(), strict=True)))
        counts[:] = 0


def _text(label: bytes | str) -> str:
    return label.decode("utf-8", "surrogateescape") if isinstance(label, bytes) else label


def _decimal(values: I64, tails: npt.NDArray[np.bytes_]) -> Obj:
    """Each value's decimal digits followed by its tail byte (b"" for none), as bytes objects."""
    return np.strings.add(values.astype("S20"), tails).astype(object)


def _pieces(items: Iterable[bytes]) -> Obj:
    """bytes objects in a numpy object array, to be taken by index."""
    items = list(items)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


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
