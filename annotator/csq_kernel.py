"""The per-pair and per-row loops of the consequences op, compiled (numba).

`csq_batch.entries` classifies a batch's (ALT allele, transcript) pairs and lays each entry it takes
out as `textjoin` tokens; `Consequences._texts` finds each allele's most severe term and lays each
row's text out. Written as whole-array numpy, each is ~150 passes over arrays of ~22k pairs a slice,
where the cost is the passes and their temporaries, not the arithmetic: here each is one loop that
reads a pair's numbers once and writes its tokens straight into the run arrays (kind, value, ptr).

What the loops compute is what `csq_batch`'s docstring describes (and `consequence.effect` is the
reference for): `classify` says what becomes of every pair and gives the term bits of those the
batch path takes; `lay_out` writes their entries; `rows` joins a slice's entries into row texts.
The texts made in Python (a set of term bits' Consequence|IMPACT, HGVS suffixes, alleles) reach
them as token ids, one per distinct text.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from annotator import textjoin

# textjoin's token kinds, written here as literals: numba's cache of this file's kernels does not
# see a change to another module's constants, so such a change must change this file too (the
# assert makes it).
A, B, RUN, INT = 0, 1, 125, 126
assert (A, B, RUN, INT) == (textjoin.A, textjoin.B, textjoin.RUN, textjoin.INT), "textjoin's kinds changed"

I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]

# Term bits of a pair, in this order (`csq_batch._terms` makes a set of them a Consequence|IMPACT text).
TERMS = (
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
    # An indel's coding terms without a genome sequence (`codon_effect`: by lengths alone).
    "frameshift_variant",
    "inframe_insertion",
    "inframe_deletion",
    "coding_sequence_variant",
)
# Plain ints: numba folds module globals into the compiled code as constants.
(
    ACCEPTOR, DONOR, FIFTH, DONOR_REGION, TRACT, REGION, INTRON, UTR5, UTR3, NC_EXON, NC, NMD, UP, DOWN,
    FRAMESHIFT, INFRAME_INS, INFRAME_DEL, CODING_SEQ,
) = (1 << k for k in range(len(TERMS)))  # fmt: skip

# What `classify` makes of a pair: left to the calculator, no entry at all (beyond the window),
# up/downstream, a one-base substitution outside any CDS, one inside a CDS (for `csq_codons`), an
# indel deep in an intron (taken if its HGVS names stay in that intron), an indel inside one exon
# away from its edges (the same, in that exon): outside the CDS, or inside it on a contig without
# sequence (no codons to read).
REST, FAR, FLANK, SNV, CDS, INDEL, EXON = 0, 1, 2, 3, 4, 5, 6

# The constant pieces `lay_out` writes, by their place in its `consts` argument (`csq_batch.LAID_OUT`).
(
    BAR, BAR2, BAR6, BAR8, BAR10, SLASH, UNDERSCORE, PLUS, MINUS, STAR, CODING, NONCODING, SUBST, BAR4,
) = range(14)  # fmt: skip
# The most tokens `lay_out` writes for an entry of each class (counted from its code: no bounds are
# checked in compiled code, so a change to an entry's tokens must change these). Its arrays are sized
# by them: what a block holds in flight is mostly these arrays.
FLANK_TOKENS, SNV_TOKENS, INDEL_TOKENS, EXON_TOKENS = 7, 19, 22, 30
# An exonic indel is taken this many bases or more from an edge of its exon: clear of the exonic
# splice region (1-3 bases from an inner edge) and of a transcript's ends.
_EDGE = 4


@numba.njit(cache=True, nogil=True, inline="always")  # type: ignore[misc]
def _acgt(base: int) -> bool:  # pragma: no cover - compiled
    return base == 65 or base == 67 or base == 71 or base == 84


@numba.njit(cache=True, nogil=True, inline="always")  # type: ignore[misc]
def _code(base: int, plus: bool) -> int:  # pragma: no cover - compiled
    """0-3 for A, C, G, T, complemented on the minus strand."""
    code = 0 if base == 65 else 1 if base == 67 else 2 if base == 71 else 3
    return code if plus else 3 - code


@numba.njit(cache=True, nogil=True, inline="always")  # type: ignore[misc]
def _exon(ptr, exon_start, t, g):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The last of transcript t's exons starting at or before g (its exons are in genomic order), as
    `searchsorted` on the transcript << 32 | start keys finds it: ptr[t] - 1 when there is none;
    clipped into the table."""
    lo, hi = ptr[t], ptr[t + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        if exon_start[mid] <= g:
            lo = mid + 1
        else:
            hi = mid
    return min(max(lo - 1, 0), len(exon_start) - 1)


@numba.njit(cache=True, nogil=True, inline="always")  # type: ignore[misc]
def _intronic(g, e, s_next, plus, coding, nmd):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Term bits of base g between exons ending at e and starting at s_next (`variant_location.one_base`:
    its offsets from the two edges; for a deep indel, g its first base, only intron_variant)."""
    fs, fe = g - e - 1, s_next - 1 - g
    low_site, high_site = fs <= 1, fe <= 1
    donor_side = fs if plus else fe
    acceptor_side = fe if plus else fs
    donor = low_site if plus else high_site
    acceptor = high_site if plus else low_site
    fifth = donor_side == 4
    donor_region = donor_side >= 2 and donor_side <= 5 and not fifth
    m = 0
    if acceptor:
        m |= ACCEPTOR
    if donor:
        m |= DONOR
    if fifth:
        m |= FIFTH
    if donor_region:
        m |= DONOR_REGION
    if acceptor_side >= 2 and acceptor_side <= 16:
        m |= TRACT
    near = not (low_site or high_site) and (fs <= 7 or fe <= 7)
    if near and not (donor or acceptor or donor_region or fifth):
        m |= REGION
    if fs >= 2 and fe >= 2:
        m |= INTRON
    if not coding:
        m |= NC
    if nmd:
        m |= NMD
    return m


@numba.njit(cache=True, nogil=True, inline="always")  # type: ignore[misc]
def _cdna(g, off, s, e, pl):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """TranscriptMap.cdna of base g in the exon s..e with `off` cDNA bases 5' of it."""
    return off + (g - s + 1 if pl else e - g + 1)


@numba.njit(cache=True, nogil=True, inline="always")  # type: ignore[misc]
def _protein(a, b, insertion, frame):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """`codon_effect`'s codons of CDS positions a..b (an insertion: b = a - 1): the first and last
    (0-based), and whether an insertion falls between two codons."""
    between = insertion and (a - 1 - frame) % 3 == 0
    first_codon = (a - 1 - frame) // 3 if not insertion or between else (a - 2 - frame) // 3
    last_codon = first_codon - 1 if between else (b - 1 - frame) // 3
    return first_codon, last_codon, between


@numba.njit(cache=True, nogil=True, inline="always")  # type: ignore[misc]
def _cdna_span(lo, hi, off, s, e, pl):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The cDNA positions of the span lo..hi inside the exon s..e, lower first."""
    c_lo, c_hi = _cdna(lo, off, s, e, pl), _cdna(hi, off, s, e, pl)
    return min(c_lo, c_hi), max(c_lo, c_hi)


@numba.njit(cache=True, nogil=True, inline="always")  # type: ignore[misc]
def _cds_span(c_low, c_high, insertion, c5):  # type: ignore[no-untyped-def]  # pragma: no cover
    """`codon_effect`'s CDS positions a (5') and b (3') of the cDNA span c_low..c_high (an insertion's
    two flanks: b = a - 1)."""
    low, high = c_low - c5 + 1, c_high - c5 + 1
    return (high, low) if insertion else (low, high)


@numba.njit(cache=True, nogil=True, inline="always")  # type: ignore[misc]
def _sequenced(contig, seq_length):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Whether the contig has a genome sequence (`Sequence.has`)."""
    return contig >= 0 and contig < len(seq_length) and seq_length[contig] > 0


@numba.njit(cache=True, nogil=True, inline="always")  # type: ignore[misc]
def _exonic(  # type: ignore[no-untyped-def]
    lo, hi, ref_len, alt_len, off, s, e, pl, cod, low, high, c5, c3, frame, sequenced,
):  # fmt: skip  # pragma: no cover - compiled
    """Term bits (but NMD) of an indel spanning lo..hi inside one exon s..e, clear of its edges; -1 for
    one left to the calculator: across a CDS end, or in a CDS where codons are read (a sequence) or
    where `codon_effect` says more than lengths do (the first or the last, incomplete, codon)."""
    if not cod:
        return NC_EXON
    if hi < low - 1 or lo > high + 1:
        return UTR5 if (lo < low) == pl else UTR3
    if sequenced or lo < low or hi > high:
        return -1
    insertion = ref_len == 0
    c_low, c_high = _cdna_span(lo, hi, off, s, e, pl)
    a, b = _cds_span(c_low, c_high, insertion, c5)
    if min(a, b + 1 if insertion else b) - 1 - frame < 0:
        return -1
    last_codon = _protein(a, b, insertion, frame)[1]
    if frame + 3 * last_codon + 3 > c3 - c5 + 1:
        return -1
    if (alt_len - ref_len) % 3:
        return FRAMESHIFT
    if insertion:
        return INFRAME_INS
    return INFRAME_DEL if alt_len == 0 else CODING_SEQ


@numba.njit(cache=True, nogil=True)  # type: ignore[misc]
def classify(  # type: ignore[no-untyped-def]
    tx, of, a_start, a_stop, a_python, a_ref_len, a_alt_len, a_ref_base, a_alt_base,
    ptr, exon_start, exon_end, exon_off, first, last, plus, coding, cds_low, cds_high, cds_c5, cds_c3, nmd,
    frame, tx_contig, seq_length, window,
):  # fmt: skip  # pragma: no cover - compiled
    """Per pair: its class (REST ... EXON), its exon (`_exon` of its span's low end) and the term bits
    of a FLANK, SNV, INDEL or EXON pair. seq_length: the genome sequence's length by contig (0: none)."""
    n = len(tx)
    cls = np.empty(n, np.int8)
    exon = np.zeros(n, np.int64)
    mask = np.zeros(n, np.int64)
    top = len(exon_start) - 1
    for k in range(n):
        t, al = tx[k], of[k]
        start, stop = np.int64(a_start[al]), np.int64(a_stop[al])
        f, last_t, pl = np.int64(first[t]), np.int64(last[t]), plus[t]
        if a_python[al]:
            cls[k] = REST
            continue
        before, after = stop < f, start > last_t
        if before or after:
            distance = f - stop if before else start - last_t
            if distance > window:
                cls[k] = FAR
                continue
            cls[k] = FLANK
            mask[k] = UP if before == pl else DOWN
            continue
        one = a_ref_len[al] == 1 and a_alt_len[al] == 1
        snv = one and _acgt(a_ref_base[al]) and _acgt(a_alt_base[al])
        if one and not snv:
            cls[k] = REST
            continue
        lo, hi = min(start, stop), max(start, stop)
        j = _exon(ptr, exon_start, t, max(lo, 0))
        exon[k] = j
        s, e = np.int64(exon_start[j]), np.int64(exon_end[j])
        s_next = np.int64(exon_start[min(j + 1, top)])
        if not snv:
            deep = j >= ptr[t] and j + 1 < ptr[t + 1] and lo >= e + 18 and hi <= s_next - 18
            if deep:
                cls[k] = INDEL
                mask[k] = _intronic(start, e, s_next, pl, coding[t], nmd[t])
                continue
            m = -1
            if j >= ptr[t] and lo >= s + _EDGE and hi <= e - _EDGE:
                m = _exonic(
                    lo, hi, a_ref_len[al], a_alt_len[al], np.int64(exon_off[j]), s, e, pl, coding[t],
                    np.int64(cds_low[t]), np.int64(cds_high[t]), np.int64(cds_c5[t]), np.int64(cds_c3[t]),
                    np.int64(frame[t]), _sequenced(tx_contig[t], seq_length),
                )  # fmt: skip
            if m < 0:
                cls[k] = REST
                continue
            cls[k] = EXON
            mask[k] = m | NMD if nmd[t] else m
            continue
        g = start
        if g > e:
            cls[k] = SNV
            mask[k] = _intronic(g, e, s_next, pl, coding[t], nmd[t])
            continue
        low, high = np.int64(cds_low[t]), np.int64(cds_high[t])
        if coding[t] and g >= low and g <= high:
            cls[k] = CDS
            continue
        cls[k] = SNV
        i, count = j - ptr[t], ptr[t + 1] - ptr[t]
        m = 0
        # only the 1-3 bases next to an intron are a splice region
        if (i > 0 and g - s < 3) or (i < count - 1 and e - g < 3):
            m |= REGION
        if coding[t]:
            m |= UTR5 if (g < low) == pl else UTR3
        else:
            m |= NC_EXON
        if nmd[t]:
            m |= NMD
        mask[k] = m
    return cls, exon, mask


@numba.njit(cache=True, nogil=True, inline="always")  # type: ignore[misc]
def _position(  # type: ignore[no-untyped-def]
    kind, value, p, exon_off, exon_end, pl, cod, c5, c3, j, s, e, s_next, g, exonic, c_here, consts,
):  # fmt: skip  # pragma: no cover - compiled
    """TranscriptMap.hgvs_position of base g as tokens from kind[p] on (prefix, number, sign, step):
    an exonic one at c_here; an intronic one (between exons j and j + 1) from the nearer edge, "+"
    toward 3', ties to the 5' edge. The position after them."""
    step, sign = np.int64(0), 0
    if exonic:
        c = c_here
    else:
        from_low, from_high = g - e, s_next - g
        use_low = from_low <= from_high if pl else not (from_high <= from_low)
        if use_low:
            c = np.int64(exon_off[j]) + (e - s + 1 if pl else 1)
            step = from_low
        else:
            c = np.int64(exon_off[j + 1]) + (1 if pl else np.int64(exon_end[j + 1]) - s_next + 1)
            step = from_high
        sign = 1 if use_low == pl else 2
    coord = c
    if cod:
        if c < c5:
            kind[p], value[p] = A, consts[MINUS]
            p += 1
            coord = c5 - c
        elif c > c3:
            kind[p], value[p] = A, consts[STAR]
            p += 1
            coord = c - c3
        else:
            coord = c - c5 + 1
    kind[p], value[p] = INT, coord
    p += 1
    if sign > 0:
        kind[p], value[p] = A, consts[PLUS] if sign == 1 else consts[MINUS]
        kind[p + 1], value[p + 1] = INT, step
        p += 2
    return p


@numba.njit(cache=True, nogil=True, inline="always")  # type: ignore[misc]
def _put(kind, value, p, kd, v):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    kind[p], value[p] = kd, v
    return p + 1


@numba.njit(cache=True, nogil=True, inline="always")  # type: ignore[misc]
def _range(kind, value, p, low, high, consts):  # type: ignore[no-untyped-def]  # pragma: no cover
    """`variant_location.positions` of two known ends: "12" or "12-14"."""
    p = _put(kind, value, p, INT, low)
    if high != low:
        p = _put(kind, value, p, A, consts[MINUS])
        p = _put(kind, value, p, INT, high)
    return p


@numba.njit(cache=True, nogil=True)  # type: ignore[misc]
def _exon_indel(  # type: ignore[no-untyped-def]
    kind, value, p, t, al, q, i, count, j, s, e, s_next, pl, cod, c5, c3, a_start, a_stop, a_ref_len,
    name_a, name_b, name_single, name_suffix, exon_off, exon_end, frame, feature, consts,
):  # fmt: skip  # pragma: no cover - compiled
    """An EXON pair's entry from EXON to the end of DISTANCE (`classify` took it: one exon, either
    outside the CDS or inside it with no sequence): EXON, HGVSc, cDNA_position and, in a CDS,
    CDS_position and Protein_position as `codon_effect` gives them without codons."""
    off = np.int64(exon_off[j])
    start, stop = np.int64(a_start[al]), np.int64(a_stop[al])
    lo, hi = min(start, stop), max(start, stop)
    p = _put(kind, value, p, A, consts[BAR])
    p = _put(kind, value, p, INT, i + 1 if pl else count - i)
    p = _put(kind, value, p, A, consts[SLASH])
    p = _put(kind, value, p, INT, count)
    p = _put(kind, value, p, A, consts[BAR2])
    p = _put(kind, value, p, A, feature + t)
    p = _put(kind, value, p, A, consts[CODING] if cod else consts[NONCODING])
    g = np.int64(name_a[q])
    p = _position(kind, value, p, exon_off, exon_end, pl, cod, c5, c3, j, s, e, s_next, g, True,
                  _cdna(g, off, s, e, pl), consts)  # fmt: skip
    if not name_single[q]:
        g = np.int64(name_b[q])
        p = _put(kind, value, p, A, consts[UNDERSCORE])
        p = _position(kind, value, p, exon_off, exon_end, pl, cod, c5, c3, j, s, e, s_next, g, True,
                      _cdna(g, off, s, e, pl), consts)  # fmt: skip
    p = _put(kind, value, p, B, name_suffix[q])
    p = _put(kind, value, p, A, consts[BAR2])
    c_low, c_high = _cdna_span(lo, hi, off, s, e, pl)
    p = _range(kind, value, p, c_low, c_high, consts)
    p = _put(kind, value, p, A, consts[BAR])
    if cod and c_low >= c5 and c_high <= c3:  # in the CDS (else in a UTR)
        p = _range(kind, value, p, c_low - c5 + 1, c_high - c5 + 1, consts)
        p = _put(kind, value, p, A, consts[BAR])
        insertion = a_ref_len[al] == 0
        a, b = _cds_span(c_low, c_high, insertion, c5)
        fr = np.int64(frame[t])
        first_codon, last_codon, between = _protein(a, b, insertion, fr)
        pad = 1 if fr else 0
        if between:
            p = _put(kind, value, p, INT, first_codon + pad)
            p = _put(kind, value, p, A, consts[MINUS])
            p = _put(kind, value, p, INT, first_codon + 1 + pad)
        else:
            p = _range(kind, value, p, first_codon + 1 + pad, last_codon + 1 + pad, consts)
    else:
        p = _put(kind, value, p, A, consts[BAR])
    return _put(kind, value, p, A, consts[BAR4])


@numba.njit(cache=True, nogil=True)  # type: ignore[misc]
def lay_out(  # type: ignore[no-untyped-def]
    taken, cls, exon, mask, mask_ids, tx, of, a_kind, a_value, a_start, a_stop, a_ref_len, a_ref_base,
    a_alt_base, indels, name_a, name_b, name_single, name_suffix,
    ptr, exon_start, exon_end, exon_off, first, last, plus, coding, cds_c5, cds_c3, frame,
    head, tail, feature, consts, more_kind, more_value, more_ptr,
):  # fmt: skip  # pragma: no cover - compiled
    """The CSQ entry of each taken pair (FLANK, SNV, INDEL or EXON, ascending), one run of tokens each,
    then the runs `more_*` (the in-CDS entries: copied here, not concatenated after): (kind, value,
    ptr). An INDEL or EXON pair's HGVS points and suffix are at its place in `indels`."""
    n, n_more = len(taken), len(more_ptr) - 1
    size = len(more_kind)
    for r in range(n):
        c = cls[taken[r]]
        if c == FLANK:
            size += FLANK_TOKENS
        elif c == SNV:
            size += SNV_TOKENS
        elif c == INDEL:
            size += INDEL_TOKENS
        else:
            size += EXON_TOKENS
    kind = np.empty(size, np.int8)
    value = np.empty(size, np.int64)
    run = np.empty(n + n_more + 1, np.int64)
    run[0] = 0
    top = len(exon_start) - 1
    p, q = 0, 0
    for r in range(n):
        k = taken[r]
        t, al = tx[k], of[k]
        pl, cod = plus[t], coding[t]
        p = _put(kind, value, p, a_kind[al], a_value[al])
        p = _put(kind, value, p, B, mask_ids[mask[k]])
        p = _put(kind, value, p, A, head + t)
        c = cls[k]
        if c == FLANK:
            start, stop = np.int64(a_start[al]), np.int64(a_stop[al])
            f = np.int64(first[t])
            p = _put(kind, value, p, A, consts[BAR10])
            p = _put(kind, value, p, INT, f - stop if stop < f else start - np.int64(last[t]))
            p = _put(kind, value, p, A, consts[BAR])
            p = _put(kind, value, p, A, tail + t)
            run[r + 1] = p
            continue
        j = exon[k]
        count, i = ptr[t + 1] - ptr[t], j - ptr[t]
        s, e = np.int64(exon_start[j]), np.int64(exon_end[j])
        s_next = np.int64(exon_start[min(j + 1, top)])
        c5, c3 = np.int64(cds_c5[t]), np.int64(cds_c3[t])
        intron_no = i + 1 if pl else count - 1 - i
        if c == INDEL or c == EXON:
            while indels[q] < k:
                q += 1
        if c == EXON:
            p = _exon_indel(
                kind, value, p, t, al, q, i, count, j, s, e, s_next, pl, cod, c5, c3, a_start, a_stop,
                a_ref_len, name_a, name_b, name_single, name_suffix, exon_off, exon_end, frame, feature,
                consts,
            )  # fmt: skip
            p = _put(kind, value, p, A, tail + t)
            run[r + 1] = p
            continue
        if c == INDEL:
            p = _put(kind, value, p, A, consts[BAR2])
            p = _put(kind, value, p, INT, intron_no)
            p = _put(kind, value, p, A, consts[SLASH])
            p = _put(kind, value, p, INT, count - 1)
            p = _put(kind, value, p, A, consts[BAR])
            p = _put(kind, value, p, A, feature + t)
            p = _put(kind, value, p, A, consts[CODING] if cod else consts[NONCODING])
            p = _position(kind, value, p, exon_off, exon_end, pl, cod, c5, c3, j, s, e, s_next, name_a[q],
                          False, 0, consts)  # fmt: skip
            if not name_single[q]:
                p = _put(kind, value, p, A, consts[UNDERSCORE])
                p = _position(kind, value, p, exon_off, exon_end, pl, cod, c5, c3, j, s, e, s_next,
                              name_b[q], False, 0, consts)  # fmt: skip
            p = _put(kind, value, p, B, name_suffix[q])
            p = _put(kind, value, p, A, consts[BAR8])
            p = _put(kind, value, p, A, tail + t)
            run[r + 1] = p
            continue
        g = np.int64(a_start[al])
        exonic = g <= e
        c_here = np.int64(exon_off[j]) + (g - s + 1 if pl else e - g + 1)
        if exonic:
            p = _put(kind, value, p, A, consts[BAR])
            p = _put(kind, value, p, INT, i + 1 if pl else count - i)
            p = _put(kind, value, p, A, consts[SLASH])
            p = _put(kind, value, p, INT, count)
            p = _put(kind, value, p, A, consts[BAR2])
        else:
            p = _put(kind, value, p, A, consts[BAR2])
            p = _put(kind, value, p, INT, intron_no)
            p = _put(kind, value, p, A, consts[SLASH])
            p = _put(kind, value, p, INT, count - 1)
            p = _put(kind, value, p, A, consts[BAR])
        p = _put(kind, value, p, A, feature + t)
        p = _put(kind, value, p, A, consts[CODING] if cod else consts[NONCODING])
        p = _position(kind, value, p, exon_off, exon_end, pl, cod, c5, c3, j, s, e, s_next, g, exonic, c_here,
                      consts)  # fmt: skip
        subst = consts[SUBST] + 4 * _code(a_ref_base[al], pl) + _code(a_alt_base[al], pl)
        p = _put(kind, value, p, A, subst)
        if exonic:
            p = _put(kind, value, p, A, consts[BAR2])
            p = _put(kind, value, p, INT, c_here)
            p = _put(kind, value, p, A, consts[BAR6])
        else:
            p = _put(kind, value, p, A, consts[BAR8])
        p = _put(kind, value, p, A, tail + t)
        run[r + 1] = p
    lo, m = more_ptr[0], more_ptr[-1] - more_ptr[0]
    kind[p : p + m] = more_kind[lo : lo + m]
    value[p : p + m] = more_value[lo : lo + m]
    for r in range(n_more):
        run[n + r + 1] = p + more_ptr[r + 1] - lo
    return kind[: p + m], value[: p + m], run


@numba.njit(cache=True, nogil=True)  # type: ignore[misc]
def rows(  # type: ignore[no-untyped-def]
    n, a_rows, state, n_near, p_a, rank, taken, made, made_ids, raw_kind, raw_value, tail_ids,
    csq, comma, lone_text, skip_state, none, dot, intergenic, severities,
):  # fmt: skip  # pragma: no cover - compiled
    """A slice's row texts as runs of tokens, from its alleles (`a_rows` ascending) and pairs (`p_a`
    ascending, numbered allele by allele).

    Per allele its most severe rank over its pairs (`worst`; `dot` for no allele, or no change on any
    transcript near it). A row with a term: ";CSQ=", its entries in allele and pair order joined by
    ",", then its GAS_CONSEQUENCE/GAS_IMPACT tail. An entry is: for taken[i], run i of the caller's
    inner runs (a RUN token); for made[i], the text made_ids[i] (kind B); for an allele of a change
    with no transcript near, its intergenic entry (its Allele token in raw_*, then `lone_text`). The
    tail is `tail_ids` by rank for a row of one allele; for a row of several, a kind B token whose
    value the caller sets (`many_at` its place, `many_alleles` the row's alleles, first and last + 1).
    Returns the runs (kind, value, ptr), `worst`, the rows per most severe term (`per_consequence`),
    `many_at` and `many_alleles`."""
    n_alleles, n_pairs = len(a_rows), len(p_a)
    entry_kind = np.full(n_pairs, -1, np.int64)
    entry = np.empty(n_pairs, np.int64)
    for i in range(len(taken)):
        entry_kind[taken[i]], entry[taken[i]] = RUN, i
    for i in range(len(made)):
        entry_kind[made[i]], entry[made[i]] = B, made_ids[i]
    size = 2 * n + 3 * (n_pairs + n_alleles)
    kind = np.empty(size, np.int8)
    value = np.empty(size, np.int64)
    ptr = np.empty(n + 1, np.int64)
    ptr[0] = 0
    worst = np.empty(n_alleles, np.int64)
    pair_lo = np.empty(n_alleles + 1, np.int64)
    counts = np.zeros(severities, np.int64)
    many_at = np.empty(n, np.int64)
    many_alleles = np.empty((n, 2), np.int64)
    n_many, p, a, q = 0, 0, 0, 0
    for r in range(n):
        b = a
        best_row = dot
        while b < n_alleles and a_rows[b] == r:
            pair_lo[b] = q
            best = none
            while q < n_pairs and p_a[q] == b:
                best = min(best, rank[q])
                q += 1
            if state[b] == skip_state:
                w = dot
            elif best != none:
                w = best
            elif n_near[b] > 0:
                w = dot
            else:
                w = intergenic
            worst[b] = w
            best_row = min(best_row, w)
            b += 1
        pair_lo[b] = q
        if best_row == dot:
            ptr[r + 1] = p
            a = b
            continue
        counts[best_row] += 1
        kind[p], value[p] = A, csq
        p += 1
        items = 0
        for x in range(a, b):
            if worst[x] == intergenic and pair_lo[x] == pair_lo[x + 1]:
                if items:
                    kind[p], value[p] = A, comma
                    p += 1
                kind[p], value[p] = raw_kind[x], raw_value[x]
                kind[p + 1], value[p + 1] = A, lone_text
                p += 2
                items += 1
                continue
            for y in range(pair_lo[x], pair_lo[x + 1]):
                if entry_kind[y] >= 0:
                    if items:
                        kind[p], value[p] = A, comma
                        p += 1
                    kind[p], value[p] = entry_kind[y], entry[y]
                    p += 1
                    items += 1
        if b - a == 1:
            kind[p], value[p] = A, tail_ids[worst[a]]
        else:
            kind[p], value[p] = B, 0
            many_at[n_many] = p
            many_alleles[n_many, 0], many_alleles[n_many, 1] = a, b
            n_many += 1
        p += 1
        ptr[r + 1] = p
        a = b
    return kind[:p], value[:p], ptr, worst, counts, many_at[:n_many], many_alleles[:n_many]
