"""CSQ entries of a batch's plain SNVs, worked out over all (variant, transcript) pairs at once.

The consequences op asks this module first; what it does not take goes to the per-pair
calculator (`annotator.consequence.effect` and `csq_entry`), which stays the reference.

Taken: pairs of a record whose REF and ALT are one base each, both A/C/G/T and different
(one ALT; its span is POS alone; an ALT equal to REF gets no entry, as from `effect`), with a
transcript that is either

- up- or downstream of it: the term by strand and side, DISTANCE the gap (`consequence._flank`);
- intronic at that base: EXON empty, INTRON numbered from the 5' end, the splice terms by the
  base's offsets from the two exon edges (`variant_location.one_base`), HGVSc ``c.N+d`` /
  ``c.N-d`` from the nearer edge, ties to the 5' one (`TranscriptMap.hgvs_position`);
- exonic outside the CDS (a UTR of a coding transcript, or any exon of a non-coding one):
  EXON, cDNA_position, the exonic splice region (1-3 bases from an inner edge), UTR side by
  strand, HGVSc ``c.-N`` / ``c.*N`` / ``n.N`` (`TranscriptMap.coordinate`).

Every one of those is what `effect` computes from positions alone: none reads the genome
sequence (an SNV is never 3'-shifted, and codons are only read inside a CDS), so the entry is
the same with or without one. A transcript is "coding" as `TranscriptMap` has it: a CDS whose
two ends both lie in exons; a CDS end outside every exon makes it non-coding there too. Left to
the calculator: SNVs in a CDS (codons), every other kind of allele (indels, MNVs, symbolic,
``*``, ``N``) and multi-allelic records. tests/annotator/test_csq_batch.py
checks the two paths give the same bytes on random variants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from annotator.consequence import IMPACT, SEVERITY, fixed_fields
from annotator.transcript_index import CANONICAL
from annotator.transcripts import CSQ_FIELDS

if TYPE_CHECKING:
    from annotator.transcript_index import TranscriptIndex

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

_ESCAPES = str.maketrans({",": "&", "|": "&", ";": "%3B", "=": "%3D", " ": "_", "\t": "_", "\n": "_"})
# Term bits of a pair; a pair's Consequence|IMPACT text is made once per distinct set of bits.
_TERMS = (
    "splice_acceptor_variant",
    "splice_donor_variant",
    "splice_donor_5th_base_variant",
    "splice_donor_region_variant",
    "splice_polypyrimidine_tract_variant",
    "splice_region_variant",
    "intron_variant",
    "5_prime_UTR_variant",
    "3_prime_UTR_variant",
    "non_coding_transcript_exon_variant",
    "non_coding_transcript_variant",
    "NMD_transcript_variant",
    "upstream_gene_variant",
    "downstream_gene_variant",
)
(
    ACCEPTOR, DONOR, FIFTH, DONOR_REGION, TRACT, REGION, INTRON, UTR5, UTR3, NC_EXON, NC, NMD, UP, DOWN,
) = (np.int64(1) << k for k in range(len(_TERMS)))  # fmt: skip
_RANK = {term: k for k, term in enumerate(SEVERITY)}
_COMPLEMENT = {65: "T", 67: "G", 71: "C", 84: "A"}
_ACGT = np.array([65, 67, 71, 84], np.uint8)
assert CSQ_FIELDS.index("EXON") == 8 and len(CSQ_FIELDS) == 21  # the layout `entries` writes


def _terms(mask: int) -> tuple[str, int]:
    """The Consequence|IMPACT text of a set of term bits, and the rank of its most severe term."""
    terms = sorted((t for k, t in enumerate(_TERMS) if mask >> k & 1), key=_RANK.__getitem__)
    return f"{'&'.join(terms)}|{IMPACT[terms[0]]}", _RANK[terms[0]]


@dataclass
class Tables:
    """What the pair arithmetic needs of every transcript, made once per process (a few arrays the size
    of the exon table) from the index's arrays."""

    ptr: I64  # exon CSR
    exon_start: I64
    exon_end: I64
    exon_key: I64  # transcript << 32 | exon start: one searchsorted finds a base's exon in its transcript
    exon_off: I64  # cDNA bases 5' of each exon
    first: I64  # the transcript's span: first exon's start, last exon's end
    last: I64
    plus: Bool
    coding: Bool  # as TranscriptMap.coding: both CDS ends in exons
    cds_low: I64  # genomic CDS span
    cds_high: I64
    cds_c5: I64  # cDNA positions of the CDS's first and last base (TranscriptMap.cds_start/cds_end)
    cds_c3: I64
    nmd: Bool

    @classmethod
    def of(cls, index: TranscriptIndex) -> Tables:
        a = index.a
        ptr = a["tx_exon_ptr"].astype(np.int64)
        start = a["tx_exon_start"].astype(np.int64)
        end = a["tx_exon_end"].astype(np.int64)
        n = np.diff(ptr)
        tx_of = np.repeat(np.arange(len(n), dtype=np.int64), n)
        length = end - start + 1
        cum = np.cumsum(length) - length  # bases before each exon, whole table
        before = cum - cum[ptr[:-1]][tx_of]  # ... within its transcript, genomic order
        total = np.add.reduceat(length, ptr[:-1]) if len(length) else np.zeros(0, np.int64)
        total = np.where(n > 0, total, 0)
        plus = a["tx_strand"].astype(np.int64) >= 0
        off = np.where(plus[tx_of], before, total[tx_of] - before - length)
        key = tx_of << 32 | start
        has = n > 0
        first = np.where(has, start[np.minimum(ptr[:-1], len(start) - 1)], 0)
        last = np.where(has, end[np.maximum(ptr[1:] - 1, 0)], -1)
        low = a["tx_cds_start"].astype(np.int64)
        high = a["tx_cds_end"].astype(np.int64)
        t = np.arange(len(n), dtype=np.int64)
        c_low, in_low = _cdna(key, start, end, off, ptr, plus, t, low)
        c_high, in_high = _cdna(key, start, end, off, ptr, plus, t, high)
        coding = (high >= 0) & in_low & in_high
        biotypes = index.biotypes
        nmd_code = biotypes.index("nonsense_mediated_decay") if "nonsense_mediated_decay" in biotypes else -1
        return cls(
            ptr=ptr,
            exon_start=start,
            exon_end=end,
            exon_key=key,
            exon_off=off,
            first=first,
            last=last,
            plus=plus,
            coding=coding,
            cds_low=low,
            cds_high=high,
            cds_c5=np.where(plus, c_low, c_high),
            cds_c3=np.where(plus, c_high, c_low),
            nmd=a["tx_biotype"].astype(np.int64) == nmd_code,
        )


def _cdna(
    key: I64, start: I64, end: I64, off: I64, ptr: I64, plus: Bool, t: I64, g: I64
) -> tuple[I64, Bool]:
    """TranscriptMap.cdna of base g on transcript t, and whether g is in one of its exons."""
    j = np.searchsorted(key, t << 32 | np.maximum(g, 0), side="right") - 1
    ok = (j >= ptr[t]) & (j < ptr[t + 1]) & (g >= 0)
    j = np.clip(j, 0, max(len(start) - 1, 0))
    ok &= g <= end[j]
    c = off[j] + np.where(plus[t], g - start[j] + 1, end[j] - g + 1)
    return np.where(ok, c, 0), ok


@dataclass
class Pairs:
    """The pairs `entries` took (positions into the batch's pair arrays) and their CSQ entry and
    severity rank; `rest`: the pairs left to the calculator."""

    taken: I64
    text: list[str]
    rank: I64
    rest: I64


class Texts:
    """Per-transcript CSQ text that does not depend on the variant, escaped, made once per transcript."""

    def __init__(self, index: TranscriptIndex):
        self.index = index
        self._head: dict[int, tuple[str, str, str]] = {}

    def get(self, t: int) -> tuple[str, str, str]:
        """`consequence.fixed_fields` of transcript t, and its Feature escaped."""
        got = self._head.get(t)
        if got is None:
            ix = self.index
            a = ix.a
            gene = int(a["tx_gene"][t])
            biotype = ix.biotypes[int(a["tx_biotype"][t])]
            head, tail = fixed_fields(
                ix.gene_symbols[gene], ix.gene_ids[gene], ix.features[t], biotype,
                int(a["tx_strand"][t]), bool(int(a["tx_flags"][t]) & CANONICAL), ix.mane[t],
            )  # fmt: skip
            got = self._head[t] = (head, tail, ix.features[t].translate(_ESCAPES))
        return got


class Mask:
    """Consequence|IMPACT text and rank per set of term bits, made once per set."""

    def __init__(self) -> None:
        self._made: dict[int, tuple[str, int]] = {}

    def texts(self, masks: I64) -> tuple[list[str], I64]:
        distinct, inverse = np.unique(masks, return_inverse=True)
        made = []
        for m in distinct.tolist():
            got = self._made.get(m)
            if got is None:
                got = self._made[m] = _terms(m)
            made.append(got)
        texts = [made[k][0] for k in inverse.tolist()]
        ranks = np.array([r for _, r in made], np.int64)[inverse] if made else np.zeros(0, np.int64)
        return texts, ranks


def snv_rows(single_base: Bool, ref_base: npt.NDArray[np.uint8], alt_base: npt.NDArray[np.uint8]) -> Bool:
    """Records whose pairs `entries` may take: one-base REF and ALT, both A/C/G/T (an ALT equal to
    REF is no change on any transcript: its pairs get no entry)."""
    return single_base & np.isin(ref_base, _ACGT) & np.isin(alt_base, _ACGT)


def entries(
    tables: Tables,
    texts: Texts,
    masks: Mask,
    tx: I64,
    pos: I64,
    ref: npt.NDArray[np.uint8],
    alt: npt.NDArray[np.uint8],
    window: int,
) -> Pairs:
    """CSQ entries of SNV pairs (transcript tx[k], base pos[k], REF/ALT bytes ref[k]/alt[k] upper
    case, all of them `snv_rows`) that need no codons; the rest (CDS bases) are left over."""
    T = tables
    g = pos
    first, last = T.first[tx], T.last[tx]
    plus = T.plus[tx]
    before, after = g < first, g > last
    flank = before | after
    distance = np.where(before, first - g, g - last)
    five_prime = np.where(before, plus, ~plus)
    inside = ~flank
    j = np.searchsorted(T.exon_key, tx << 32 | g, side="right") - 1
    j = np.where(inside, j, T.ptr[tx])
    s, e = T.exon_start[j], T.exon_end[j]
    exonic = inside & (g <= e)
    intronic = inside & ~exonic
    coding = T.coding[tx]
    in_cds = exonic & coding & (g >= T.cds_low[tx]) & (g <= T.cds_high[tx])
    # No entry (effect() gives None): ALT equal to REF, a transcript farther than the window.
    none = (ref == alt) | (flank & (distance > window))
    rest = np.flatnonzero(in_cds & ~none)
    k = np.flatnonzero(~in_cds & ~none)
    tx, g, j, s, e = tx[k], g[k], j[k], s[k], e[k]
    plus, flank, exonic, intronic, coding = plus[k], flank[k], exonic[k], intronic[k], coding[k]
    distance, five_prime = distance[k], five_prime[k]
    n = T.ptr[tx + 1] - T.ptr[tx]
    i = j - T.ptr[tx]
    nxt = np.minimum(j + 1, len(T.exon_start) - 1)
    s_next = T.exon_start[nxt]

    mask = np.zeros(len(k), np.int64)
    mask |= np.where(flank & five_prime, UP, 0) | np.where(flank & ~five_prime, DOWN, 0)
    # exonic: only the 1-3 bases next to an intron are a splice region
    region_ex = exonic & (((i > 0) & (g - s < 3)) | ((i < n - 1) & (e - g < 3)))
    # intronic: offsets from the two edges (variant_location.one_base)
    fs, fe = g - e - 1, s_next - 1 - g
    low_site, high_site = fs <= 1, fe <= 1
    donor_side, acceptor_side = np.where(plus, fs, fe), np.where(plus, fe, fs)
    donor = intronic & np.where(plus, low_site, high_site)
    acceptor = intronic & np.where(plus, high_site, low_site)
    fifth = intronic & (donor_side == 4)
    donor_region = intronic & (donor_side >= 2) & (donor_side <= 5) & ~fifth
    tract = intronic & (acceptor_side >= 2) & (acceptor_side <= 16)
    region_in = intronic & ~(low_site | high_site) & ((fs <= 7) | (fe <= 7))
    region_in &= ~(donor | acceptor | donor_region | fifth)
    in_intron = intronic & (fs >= 2) & (fe >= 2)
    before_cds = exonic & coding & (g < T.cds_low[tx])
    after_cds = exonic & coding & (g > T.cds_high[tx])
    utr5 = np.where(plus, before_cds, after_cds)
    utr3 = np.where(plus, after_cds, before_cds)
    for bits, on in (
        (ACCEPTOR, acceptor), (DONOR, donor), (FIFTH, fifth), (DONOR_REGION, donor_region),
        (TRACT, tract), (REGION, region_ex | region_in), (INTRON, in_intron), (UTR5, utr5), (UTR3, utr3),
        (NC_EXON, exonic & ~coding), (NC, intronic & ~coding), (NMD, ~flank & T.nmd[tx]),
    ):  # fmt: skip
        mask |= np.where(on, bits, 0)
    csq, rank = masks.texts(mask)

    # EXON / INTRON numbers from the 5' end
    exon_no = np.where(exonic, np.where(plus, i + 1, n - i), 0)
    intron_no = np.where(intronic, np.where(plus, i + 1, n - 1 - i), 0)
    # cDNA of the base (exonic) or of the nearer exon edge (intronic), with the HGVS offset
    off = T.exon_off[j]
    c_here = off + np.where(plus, g - s + 1, e - g + 1)
    c_end = off + np.where(plus, e - s + 1, 1)  # cDNA of exon i's genomic end
    c_next = T.exon_off[nxt] + np.where(plus, 1, T.exon_end[nxt] - s_next + 1)  # of exon i+1's start
    from_low, from_high = g - e, s_next - g
    use_low = np.where(plus, from_low <= from_high, ~(from_high <= from_low))
    c = np.where(exonic, c_here, np.where(use_low, c_end, c_next))
    step = np.where(exonic, 0, np.where(use_low, from_low, from_high))
    # "+" toward 3': from exon i's end on plus, from exon i+1's start on minus
    sign_plus = use_low == plus
    c5, c3 = T.cds_c5[tx], T.cds_c3[tx]
    coord_kind = np.where(coding, np.where(c < c5, 1, np.where(c > c3, 2, 0)), 3)
    coord = np.select([coord_kind == 1, coord_kind == 2, coord_kind == 0], [c5 - c, c - c3, c - c5 + 1], c)

    allele_b = alt[k]
    ref_b = ref[k]
    rows = zip(
        tx.tolist(), flank.tolist(), exonic.tolist(), plus.tolist(), coding.tolist(), distance.tolist(),
        exon_no.tolist(), intron_no.tolist(), n.tolist(), c.tolist(), coord_kind.tolist(), coord.tolist(),
        step.tolist(), sign_plus.tolist(), ref_b.tolist(), allele_b.tolist(), csq,
        strict=True,
    )  # fmt: skip
    get = texts.get
    out: list[str] = []
    for t, fl, ex, pl, cod, dist, en, inn, nn, cc, ck, co, st, sp, r, a, cq in rows:
        head, tail, feature = get(t)
        allele = chr(a)
        if fl:
            out.append(f"{allele}|{cq}|{head}||||||||||{dist}|{tail}")
            continue
        ref_s, alt_s = (chr(r), allele) if pl else (_COMPLEMENT[r], _COMPLEMENT[a])
        where = ("", "-", "*", "")[ck] + str(co)
        if not ex:
            where = f"{where}{'+' if sp else '-'}{st}"
        hgvsc = f"{feature}:{'c.' if cod else 'n.'}{where}{ref_s}>{alt_s}"
        if ex:
            out.append(f"{allele}|{cq}|{head}|{en}/{nn}||{hgvsc}||{cc}||||||{tail}")
        else:
            out.append(f"{allele}|{cq}|{head}||{inn}/{nn - 1}|{hgvsc}||||||||{tail}")
    return Pairs(taken=k, text=out, rank=rank, rest=rest)
