"""CSQ entries of a batch's (ALT allele, transcript) pairs, worked out over all pairs at once.

The consequences op lists each record's ALT alleles, trimmed as `consequence.effect` trims them,
pairs each with every transcript near the record, and asks this module first; what it does not
take goes to the per-pair calculator (`effect`, `entry`), which stays the reference.

Taken, for any sequence allele (not symbolic, not ``*``): a transcript it is up- or downstream
of (the term by strand and side, DISTANCE the gap to the trimmed span: `consequence._flank`).
For a substitution of one A/C/G/T base (after trimming, so also one ALT of a multi-allelic
record or an MNV sharing all but one base), a transcript it is

- intronic in: EXON empty, INTRON numbered from the 5' end, the splice terms by the base's
  offsets from the two exon edges (`variant_location.one_base`), HGVSc ``c.N+d`` / ``c.N-d``
  from the nearer edge, ties to the 5' one (`TranscriptMap.hgvs_position`);
- exonic in, outside the CDS (a UTR of a coding transcript, or any exon of a non-coding one):
  EXON, cDNA_position, the exonic splice region (1-3 bases from an inner edge), UTR side by
  strand, HGVSc ``c.-N`` / ``c.*N`` / ``n.N`` (`TranscriptMap.coordinate`).

For any other sequence change (insertion, deletion, delins): a transcript it lies wholly inside
one intron of, at least 17 bases from both exons, beyond every splice window
(`variant_location.span` gives intron_variant alone there). Its HGVSc is `hgvs.hgvsc`'s: with a
genome sequence a pure insertion or deletion is first shifted 3' (`hgvs.shift`, the same
function) and an insertion of the bases before it is a dup; the pair is taken only when the
points named stay in that intron, and their HGVS positions are then worked out as above.

Each of those is what `effect` computes: terms from positions alone (an SNV is never shifted,
codons are only read inside a CDS), HGVS from the same positions and shift, so the entry is the
same bytes. A transcript is "coding" as `TranscriptMap` has it: a CDS whose two ends both lie in
exons. Substitutions of one base in a CDS go to `csq_codons` (what it leaves, to the calculator).
Left to the calculator: indels near or across exons (or shifted out of their intron), symbolic and
``*`` ALTs, substitutions of N.
tests/annotator/test_csq_batch.py checks that the two paths write the same records on random
variants around real exon edges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from annotator import csq_codons, indel_names
from annotator.consequence import ESCAPED, IMPACT, SEVERITY
from annotator.hgvs import SHIFT_LIMIT
from annotator.sequence import Sequence
from annotator.textjoin import (
    INT,
    SKIP,
    A,
    B,
    Runs,
    Strings,
    Texts,
    chain,
    concat,
    render,
    template,
    translate,
)
from annotator.transcript_index import CANONICAL
from annotator.transcripts import CSQ_FIELDS

if TYPE_CHECKING:
    from annotator.transcript_index import TranscriptIndex

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
Bool = npt.NDArray[np.bool_]

_ESCAPES = str.maketrans(ESCAPED)
BYTE_ESCAPES = {ord(k): v.encode() for k, v in ESCAPED.items()}  # for `textjoin.translate`
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
ACGT = _ACGT = np.array([65, 67, 71, 84], np.uint8)  # in code order: A, C, G, T = 0-3
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
    exon_off: I32  # cDNA bases 5' of each exon
    first: I64  # the transcript's span: first exon's start, last exon's end
    last: I64
    plus: Bool
    coding: Bool  # as TranscriptMap.coding: both CDS ends in exons
    cds_low: I64  # genomic CDS span
    cds_high: I64
    cds_c5: I64  # cDNA positions of the CDS's first and last base (TranscriptMap.cds_start/cds_end)
    cds_c3: I64
    nmd: Bool
    frames: csq_codons.Frames

    @classmethod
    def of(cls, index: TranscriptIndex) -> Tables:
        a = index.a
        # The index's own exon arrays (int32 views), and as few whole-table temporaries as can be:
        # this is made in the worker's first batch, while a block is in flight.
        ptr = a["tx_exon_ptr"]
        start, end = a["tx_exon_start"], a["tx_exon_end"]
        n = np.diff(ptr)
        tx_of = np.repeat(np.arange(len(n), dtype=np.int64), n)
        length = end - start + 1
        cum = np.cumsum(length, dtype=np.int64)
        total = np.where(n > 0, cum[np.maximum(ptr[1:] - 1, 0)] - np.r_[0, cum][ptr[:-1]], 0)
        cum -= length  # bases before each exon, whole table
        cum -= cum[ptr[:-1]][tx_of]  # ... within its transcript, genomic order
        plus = a["tx_strand"] >= 0
        off = np.where(plus[tx_of], cum, total[tx_of] - cum - length).astype(np.int32)
        del cum, length
        key = tx_of << 32 | start
        del tx_of
        has = n > 0
        first = np.where(has, start[np.minimum(ptr[:-1], len(start) - 1)], 0).astype(np.int64)
        last = np.where(has, end[np.maximum(ptr[1:] - 1, 0)], -1).astype(np.int64)
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
            frames=csq_codons.Frames.of(index),
        )


def _cdna(
    key: I64, start: I64, end: I64, off: I32, ptr: I64, plus: Bool, t: I64, g: I64
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
    """The pairs `entries` took (positions into the batch's pair arrays) and their CSQ entry (one
    `textjoin` run each) and severity rank; `rest`: the pairs left to the calculator."""

    taken: I64
    runs: Runs
    rank: I64
    rest: I64


class Fixed:
    """The texts a pair's entry is joined from that no variant changes, as one `textjoin.Texts` (token
    kind A), made once per process for every transcript at once: per transcript its head (SYMBOL|Gene|
    Feature_type|Feature|BIOTYPE), tail (STRAND|CANONICAL|MANE_SELECT) and Feature, escaped as
    `consequence.fixed_fields` escapes them; and the constant pieces (`const`)."""

    def __init__(self, index: TranscriptIndex, extra: list[str]):
        a = index.a
        every = _CONSTS + extra
        consts = Texts.of(every)
        self._const = {c: k for k, c in enumerate(every)}
        esc = BYTE_ESCAPES
        parts = [
            translate(Texts.from_blob(a[key]), esc)
            for key in ("tx_gene_symbol_text", "tx_gene_id_text", "tx_feature_text", "tx_mane_text")
        ]
        biotypes = translate(Texts.of(index.biotypes), esc)
        src, (_, sym, gid, feat, mane, bio) = concat(consts, *parts, biotypes)
        n = len(index)
        gene = a["tx_gene"].astype(np.int64)
        bar = self._const["|"]
        heads = template(
            n, (A, sym + gene), (A, bar), (A, gid + gene), (A, self._const["|Transcript|"]),
            (A, feat + np.arange(n)), (A, bar), (A, bio + a["tx_biotype"].astype(np.int64)),
        )  # fmt: skip
        canonical = (a["tx_flags"].astype(np.int64) & CANONICAL) != 0
        tails = template(
            n, (INT, a["tx_strand"].astype(np.int64)), (A, bar),
            (np.where(canonical, A, SKIP), self._const["YES"]), (A, bar), (A, mane + np.arange(n)),
        )  # fmt: skip
        features = template(n, (A, feat + np.arange(n)))
        self.texts, (_, self.head, self.tail, self.feature) = concat(
            consts, *(render(runs, src) for runs in (heads, tails, features))
        )

    def const(self, text: str) -> int:
        return self._const[text]

    def get(self, t: int) -> tuple[str, str, str]:
        """Transcript t's head, tail and Feature, as the per-pair path's `entry` takes them."""
        head, tail, feature = (self.texts[base + t].decode() for base in (self.head, self.tail, self.feature))
        return head, tail, feature


class Mask:
    """Consequence|IMPACT text and rank per set of term bits, made once per set (tables by the bits)."""

    def __init__(self) -> None:
        self.text = np.full(1 << len(_TERMS), "", object)
        self.rank = np.full(1 << len(_TERMS), -1, np.int64)

    def tokens(self, masks: I64, strings: Strings) -> tuple[I64, I64]:
        """Per pair: its "|Consequence|IMPACT|" text (a kind B token of `strings`) and rank."""
        # The sets present (by counting: a sort would cost more), each text added once.
        present = np.flatnonzero(np.bincount(masks, minlength=len(self.rank)))
        for m in present[self.rank[present] < 0].tolist():
            self.text[m], self.rank[m] = _terms(m)
        ids = np.zeros(len(self.rank), np.int64)
        ids[present] = strings.add([f"|{t}|" for t in self.text[present].tolist()])
        return ids[masks], self.rank[masks]


def single_bases(single_base: Bool, ref_base: npt.NDArray[np.uint8], alt_base: npt.NDArray[np.uint8]) -> Bool:
    """Records whose one allele the op reads from the batch's arrays: one-base REF and ALT, both A/C/G/T."""
    return single_base & np.isin(ref_base, _ACGT) & np.isin(alt_base, _ACGT)


@dataclass
class Alleles:
    """A batch's ALT alleles, trimmed as `effect` trims them, and their (allele, transcript) pairs.

    Per allele: its REF span start..stop (stop = start - 1 for an insertion), the lengths and first
    bytes of the trimmed REF and ALT (upper case; 0 when empty), where its texts are in `ref`/`alt`
    (-1: a one-base allele, read from the bytes alone), its CSQ Allele as a `textjoin` token, whether
    `entries` may take it at all (`python`: symbolic ALTs, never) and its contig, whose genome
    sequence (`sequence`, if it has one) an indel's HGVSc is 3'-shifted along. Per pair: the transcript
    and the allele (`of`)."""

    start: I64
    stop: I64
    ref_len: I64
    alt_len: I64
    ref_base: npt.NDArray[np.uint8]
    alt_base: npt.NDArray[np.uint8]
    text: I64
    ref: Texts
    alt: Texts
    token_kind: I64
    token_value: I64
    python: Bool
    contig: I64
    sequence: Sequence
    tx: I64
    of: I64


def entries(tables: Tables, fixed: Fixed, masks: Mask, p: Alleles, window: int, strings: Strings) -> Pairs:
    """CSQ entries of the pairs the module takes (see its docstring), as `textjoin` runs whose kind B
    tokens are `strings`'; `rest`: those left to `effect`. Pairs farther than `window` are in neither:
    `effect` gives them no entry."""
    T = tables
    tx, of = p.tx, p.of
    start, stop = p.start[of], p.stop[of]
    first, last = T.first[tx], T.last[tx]
    plus = T.plus[tx]
    python = p.python[of]
    before, after = stop < first, start > last
    flank = (before | after) & ~python
    distance = np.where(before, first - stop, start - last)
    five_prime = np.where(before, plus, ~plus)
    # Substitutions of one A/C/G/T base, and indels (any other sequence change) wholly inside one intron
    # at least 17 bases from both its exons, where no splice window reaches.
    one = (p.ref_len == 1) & (p.alt_len == 1)
    one_acgt = (one & np.isin(p.ref_base, _ACGT) & np.isin(p.alt_base, _ACGT))[of]
    one = one[of]
    snv = ~flank & ~python & one_acgt
    lo, hi = np.minimum(start, stop), np.maximum(start, stop)
    j = np.searchsorted(T.exon_key, tx << 32 | np.maximum(lo, 0), side="right") - 1
    j = np.clip(np.where(flank, T.ptr[tx], j), 0, len(T.exon_start) - 1)
    s, e = T.exon_start[j], T.exon_end[j]
    nxt = np.minimum(j + 1, len(T.exon_start) - 1)
    s_next = T.exon_start[nxt]
    deep = (j >= T.ptr[tx]) & (j + 1 < T.ptr[tx + 1]) & (lo >= e + 18) & (hi <= s_next - 18)
    indel = ~flank & ~python & ~snv & deep & ~one
    named = _indel_names(p, np.flatnonzero(indel), plus, first, last, e, s_next, strings)
    indel &= named.inside
    g = start
    exonic = snv & (g <= e)
    intronic = (snv & ~exonic) | indel
    coding = T.coding[tx]
    in_cds = exonic & coding & (g >= T.cds_low[tx]) & (g <= T.cds_high[tx])
    far = flank & (distance > window)
    k = np.flatnonzero((flank & ~far) | (snv & ~in_cds) | indel)
    codons = csq_codons.cds_snvs(T, fixed, p, np.flatnonzero(in_cds), strings)
    rest = np.setdiff1d(np.flatnonzero(~(flank | (snv & ~in_cds) | indel)), codons[0], assume_unique=True)
    tx, g, j, s, e, nxt, s_next = tx[k], g[k], j[k], s[k], e[k], nxt[k], s_next[k]
    plus, flank, exonic, intronic, coding = plus[k], flank[k], exonic[k], intronic[k], coding[k]
    distance, five_prime, indel, stop = distance[k], five_prime[k], indel[k], stop[k]
    n = T.ptr[tx + 1] - T.ptr[tx]
    i = j - T.ptr[tx]
    ref_base, alt_base = p.ref_base[of[k]], p.alt_base[of[k]]

    mask = np.zeros(len(k), np.int64)
    mask |= np.where(flank & five_prime, UP, 0) | np.where(flank & ~five_prime, DOWN, 0)
    # exonic: only the 1-3 bases next to an intron are a splice region
    region_ex = exonic & (((i > 0) & (g - s < 3)) | ((i < n - 1) & (e - g < 3)))
    # intronic: offsets from the two edges (variant_location.one_base); a deep indel has none of these
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
    mask_ids, rank = masks.tokens(mask, strings)

    # EXON / INTRON numbers from the 5' end
    exon_no = np.where(exonic, np.where(plus, i + 1, n - i), 0)
    intron_no = np.where(intronic, np.where(plus, i + 1, n - 1 - i), 0)
    c5, c3 = T.cds_c5[tx], T.cds_c3[tx]
    off = T.exon_off[j].astype(np.int64)
    c_here = off + np.where(plus, g - s + 1, e - g + 1)

    head, tail, feature = fixed.head + tx, fixed.tail + tx, fixed.feature + tx
    a_kind, a_value = p.token_kind[of[k]], p.token_value[of[k]]
    c = fixed.const
    kind = np.where(coding, c(":c."), c(":n."))
    # One template per kind of entry: their order is free (`taken` says which pair each is).
    f = np.flatnonzero(flank)
    runs = [
        template(
            len(f), (a_kind[f], a_value[f]), (B, mask_ids[f]), (A, head[f]), (A, c("||||||||||")),
            (INT, distance[f]), (A, c("|")), (A, tail[f]),
        )
    ]  # fmt: skip
    x = np.flatnonzero(~flank & ~indel)
    where = _hgvs_position(T, plus[x], coding[x], c5[x], c3[x], j[x], nxt[x], s[x], e[x], s_next[x], g[x],
                           exonic[x], c_here[x], c)  # fmt: skip
    ex = exonic[x]
    r_b, a_b = _base_code(ref_base[x], plus[x]), _base_code(alt_base[x], plus[x])
    runs.append(
        template(
            len(x), (a_kind[x], a_value[x]), (B, mask_ids[x]), (A, head[x]),
            (A, np.where(ex, c("|"), c("||"))), (INT, np.where(ex, exon_no[x], intron_no[x])), (A, c("/")),
            (INT, np.where(ex, n[x], n[x] - 1)),
            (A, np.where(ex, c("||"), c("|"))), (A, feature[x]), (A, kind[x]), *where,
            (A, c("A>A") + 4 * r_b + a_b), (A, np.where(ex, c("||"), c("||||||||"))),
            (np.where(ex, INT, SKIP), c_here[x]), (np.where(ex, A, SKIP), c("||||||")), (A, tail[x]),
        )
    )  # fmt: skip
    y = np.flatnonzero(indel)
    ends = [
        _hgvs_position(
            T, plus[y], coding[y], c5[y], c3[y], j[y], nxt[y], s[y], e[y], s_next[y], point[k][y], exonic[y],
            c_here[y], c,
        )
        for point in (named.a, named.b)
    ]  # fmt: skip
    single = named.single[k][y]
    runs.append(
        template(
            len(y), (a_kind[y], a_value[y]), (B, mask_ids[y]), (A, head[y]), (A, c("||")),
            (INT, intron_no[y]), (A, c("/")), (INT, n[y] - 1), (A, c("|")), (A, feature[y]), (A, kind[y]),
            *ends[0],
            (np.where(single, SKIP, A), c("_")), *((np.where(single, SKIP, kd), v) for kd, v in ends[1]),
            (B, named.suffix[k][y]),
            (A, c("||||||||")), (A, tail[y]),
        )
    )  # fmt: skip
    order = np.concatenate([f, x, y])
    runs += [codons[1]] if codons[1] is not None else []
    return Pairs(taken=np.r_[k[order], codons[0]], runs=chain(runs), rank=np.r_[rank[order], codons[2]],
                 rest=rest)  # fmt: skip


def _hgvs_position(
    T: Tables, plus: Bool, coding: Bool, c5: I64, c3: I64, j: I64, nxt: I64, s: I64, e: I64, s_next: I64,
    g: I64, exonic: Bool, c_here: I64, const: Callable[[str], int],
) -> list[tuple[I64, I64]]:  # fmt: skip
    """TranscriptMap.hgvs_position of base g as four `textjoin` tokens (prefix, number, sign, step):
    exonic ones at c_here; intronic ones (between exons j and nxt) from the nearer edge, "+" toward
    3', ties to the 5' edge."""
    c_end = T.exon_off[j] + np.where(plus, e - s + 1, 1)  # cDNA of exon j's genomic end
    c_next = T.exon_off[nxt] + np.where(plus, 1, T.exon_end[nxt] - s_next + 1)  # of exon nxt's start
    from_low, from_high = g - e, s_next - g
    use_low = np.where(plus, from_low <= from_high, ~(from_high <= from_low))
    c = np.where(exonic, c_here, np.where(use_low, c_end, c_next))
    step = np.where(exonic, 0, np.where(use_low, from_low, from_high))
    sign = np.where(exonic, 0, np.where(use_low == plus, 1, 2))
    kind = np.where(coding, np.where(c < c5, 1, np.where(c > c3, 2, 0)), 3)
    coord = np.select([kind == 1, kind == 2, kind == 0], [c5 - c, c - c3, c - c5 + 1], c)
    prefix = np.where(kind == 1, const("-"), const("*"))
    sign_text = np.where(sign == 1, const("+"), const("-"))
    return [
        (np.where((kind == 1) | (kind == 2), A, SKIP), prefix),
        (np.full(len(coord), INT, np.int64), coord),
        (np.where(sign > 0, A, SKIP), sign_text),
        (np.where(sign > 0, INT, SKIP), step),
    ]


def _base_code(base: npt.NDArray[np.uint8], plus: Bool) -> I64:
    """0-3 for A, C, G, T, complemented on the minus strand."""
    code = np.searchsorted(_ACGT, base).astype(np.int64)
    return np.where(plus, code, 3 - code)


# The pieces entries are joined from (`Fixed.const`), besides the transcripts' own.
_CONSTS = [
    "|", "||", "||||", "||||||", "||||||||", "||||||||||", "/", "_", "+", "-", "*", ":c.", ":n.", "YES",
    "|Transcript|", *(f"{r}>{a}" for r in "ACGT" for a in "ACGT"), *"ACGT",
]  # fmt: skip


@dataclass
class _Names:
    """What an indel's HGVSc names (`hgvs.hgvsc`): the two genomic points whose HGVS positions it
    joins (one when `single`), the text after them (a kind B token), and whether both lie in the
    indel's intron."""

    a: I64
    b: I64
    single: Bool
    suffix: I64
    inside: Bool


def _indel_names(
    p: Alleles, at: I64, plus: Bool, first: I64, last: I64, e: I64, s_next: I64, strings: Strings
) -> _Names:
    """`indel_names.name` of the indels at `at`: once per allele and strand, within the widest span of
    its transcripts on that strand; again for a transcript whose own end would have stopped the
    shift sooner, or refused the dup."""
    n = len(p.tx)
    a_pt, b_pt, suffix = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
    single, inside = np.zeros(n, bool), np.zeros(n, bool)
    if not len(at):
        return _Names(a_pt, b_pt, single, suffix, inside)
    al, pl, fx, lx = p.of[at], plus[at], first[at], last[at]
    uniq, inv = np.unique(al * 2 + pl, return_inverse=True)
    inv = inv.ravel()
    low = np.full(len(uniq), np.iinfo(np.int64).max)
    high = np.full(len(uniq), np.iinfo(np.int64).min)
    np.minimum.at(low, inv, fx)
    np.maximum.at(high, inv, lx)
    u = _name(p, uniq // 2, (uniq % 2).astype(bool), low, high, strings)
    st, sp = p.start[al], p.stop[al]
    room = np.where(pl, lx - np.maximum(st, sp), np.minimum(st, sp) - fx)
    redo = u.moved[inv] > np.clip(room, 0, SHIFT_LIMIT)
    redo |= u.dup[inv] & ((u.dup_first[inv] < fx) | (u.dup_last[inv] > lx))
    a_pt[at], b_pt[at], single[at], suffix[at] = u.a[inv], u.b[inv], u.single[inv], u.ids[inv]
    if redo.any():
        r = at[redo]
        own = _name(p, p.of[r], plus[r], first[r], last[r], strings)
        a_pt[r], b_pt[r], single[r], suffix[r] = own.a, own.b, own.single, own.ids
    inside[at] = (e[at] < np.minimum(a_pt[at], b_pt[at])) & (np.maximum(a_pt[at], b_pt[at]) < s_next[at])
    return _Names(a_pt, b_pt, single, suffix, inside)


@dataclass
class _Named:
    a: I64
    b: I64
    single: Bool
    moved: I64
    dup_first: I64
    dup_last: I64
    dup: Bool
    ids: I64  # the suffix, escaped, among `strings`


def _name(p: Alleles, al: I64, pl: Bool, fx: I64, lx: I64, strings: Strings) -> _Named:
    got = indel_names.name(p.sequence, p.contig[al], pl, fx, lx, p.start[al], p.stop[al], p.ref, p.text[al],
                           p.alt, p.text[al])  # fmt: skip
    ids = strings.add_texts(translate(got.suffix, BYTE_ESCAPES))
    return _Named(got.a, got.b, got.single, got.moved, got.dup_first, got.dup_last, got.dup, ids)
