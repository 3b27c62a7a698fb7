"""The transcript models of a loaded index: which are near a batch of
variants, and one model as a `transcripts.Transcript`.

`transcript_build` makes the arrays at install (how models are linked,
named and chosen canonical is documented there), all prefixed ``tx_``:
per transcript (numbered in the genomic order of their starts) its span
(``tx_start``/``tx_end``, whole-genome keys), ``tx_strand``, CDS span
(``tx_cds_start``/``tx_cds_end``, positions, -1 end: non-coding),
``tx_frame``, ``tx_biotype`` (index into ``transcript_biotypes`` in
index.json), ``tx_gene`` (index into the gene texts) and ``tx_flags``; the
exons as CSR (``tx_exon_ptr``, ``tx_exon_start``, ``tx_exon_end``, genomic
order); texts (`infotext.text_blob`): ``tx_feature_text``,
``tx_mane_text``, ``tx_gene_symbol_text``, ``tx_gene_id_text``; and
``tx_near_*``, the segments of the spans widened by WINDOW.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from annotator import intervals as iv
from annotator.infotext import split_blob
from annotator.transcripts import Transcript

if TYPE_CHECKING:
    from annotator.reference import Reference

I64 = npt.NDArray[np.int64]

WINDOW = 5000  # bp up/downstream the near-variant query is built for (index.json: transcript_window)
# tx_flags bits
CANONICAL, MANE_SELECT, FRAME_INFERRED, NO_STOP = 1, 2, 4, 8
_MITO = ("chrM", "chrMT")
_MODELS_KEPT = 10_000


class TranscriptIndex:
    """The transcript arrays of a loaded index, and the models built from them."""

    def __init__(self, ref: Reference):
        # Plain ndarray views: np.memmap's __getitem__ costs microseconds a call.
        a = {k: np.asarray(v) for k, v in ref.arrays.items() if k.startswith("tx_")}
        self.a: dict[str, npt.NDArray[Any]] = a
        self.window = int(ref.meta["transcript_window"])
        self.biotypes: list[str] = ref.meta["transcript_biotypes"]
        self.mito = {i for i, name in enumerate(ref.contig_names) if name in _MITO}
        self.features = [f.decode() for f in split_blob(a["tx_feature_text"])]
        self.mane = [m.decode() for m in split_blob(a["tx_mane_text"])]
        self.gene_symbols = [g.decode() for g in split_blob(a["tx_gene_symbol_text"])]
        self.gene_ids = [g.decode() for g in split_blob(a["tx_gene_id_text"])]
        self._models: dict[int, Transcript] = {}

    def __len__(self) -> int:
        return len(self.features)

    def near(self, ks: I64, ke: I64, window: int | None = None) -> tuple[I64, I64]:
        """(row, transcript) pairs: every transcript within `window` bp (at
        most the index's, its default) of each variant [ks[row], ke[row]]
        (closed, in keys; a row with a negative key is on no contig and gets
        none). Sorted by row, then transcript (transcripts are numbered in
        the genomic order of their starts)."""
        w = self.window if window is None else window
        if not 0 <= w <= self.window:
            raise ValueError(f"window {w} is outside 0..{self.window}, what the index was built for")
        bounds, indptr, ids = self.a["tx_near_bounds"], self.a["tx_near_indptr"], self.a["tx_near_ids"]
        lo = np.maximum(iv.segment_of(bounds, ks), 0)
        hi = iv.segment_of(bounds, ke)
        first = indptr[lo]
        stop = np.where((hi >= lo) & (ks >= 0), indptr[np.maximum(hi, 0) + 1], first)
        n = stop - first
        rows = np.repeat(np.arange(len(ks), dtype=np.int64), n)
        at = np.repeat(first - np.cumsum(n) + n, n) + np.arange(int(n.sum()), dtype=np.int64)
        tx = ids[at].astype(np.int64)
        if (hi > lo).any():
            # A variant across segments meets a transcript once in each.
            # np.unique's result, from a stable sort: the keys are already sorted but for those rows.
            pair = np.sort(rows * len(self) + tx, kind="stable")
            pair = pair[np.r_[True, pair[1:] != pair[:-1]]]
            rows, tx = pair // len(self), pair % len(self)
        gap = np.maximum(self.a["tx_start"][tx] - ke[rows], ks[rows] - self.a["tx_end"][tx])
        keep = gap <= w
        return rows[keep], tx[keep]

    def transcript(self, i: int) -> Transcript:
        """Model i, kept once built (a job meets the same ones many times): in a cache emptied when
        full, so that a long job's memory stays flat (a sorted VCF seldom comes back to one)."""
        model = self._models.get(i)
        if model is None:
            if len(self._models) >= _MODELS_KEPT:
                self._models.clear()
            model = self._models[i] = self._build(i)
        return model

    def _build(self, i: int) -> Transcript:
        a = self.a
        lo, hi = int(a["tx_exon_ptr"][i]), int(a["tx_exon_ptr"][i + 1])
        exons = tuple(zip(a["tx_exon_start"][lo:hi].tolist(), a["tx_exon_end"][lo:hi].tolist(), strict=True))
        cds_end = int(a["tx_cds_end"][i])
        flags = int(a["tx_flags"][i])
        gene = int(a["tx_gene"][i])
        contig = int(a["tx_start"][i]) >> iv.SHIFT
        return Transcript(
            feature=self.features[i],
            gene=self.gene_symbols[gene],
            gene_id=self.gene_ids[gene],
            biotype=self.biotypes[int(a["tx_biotype"][i])],
            contig=contig,
            strand=int(a["tx_strand"][i]),
            exons=exons,
            cds=(int(a["tx_cds_start"][i]), cds_end) if cds_end >= 0 else None,
            canonical=bool(flags & CANONICAL),
            mane_select=self.mane[i],
            mito=contig in self.mito,
            frame=int(a["tx_frame"][i]),
            frame_inferred=bool(flags & FRAME_INFERRED),
        )


def transcripts_of(ref: Reference) -> TranscriptIndex:
    """The build's transcript index, made once per loaded reference."""
    index = ref.cache.get("transcripts")
    if not isinstance(index, TranscriptIndex):
        index = ref.cache["transcripts"] = TranscriptIndex(ref)
    return index
