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
points named stay in that intron, and their HGVS positions are then worked out as above. The same
change lying inside one exon, at least 4 bases from both its edges (clear of the exonic splice
region and the transcript's ends), and either wholly outside the CDS (a UTR, by strand and side; a
non-coding transcript's exon) or, on a contig without a genome sequence, wholly inside it: there
`codon_effect` names it by lengths alone (frameshift_variant, inframe_insertion/deletion,
coding_sequence_variant) with CDS_position and Protein_position and no codons; the first and the
last codon (where it says more) are left to it. It is taken when the points its HGVSc names stay in
that exon; EXON and cDNA_position then come from the exon table.

Each of those is what `effect` computes: terms from positions alone (an SNV is never shifted,
codons are only read inside a CDS), HGVS from the same positions and shift, so the entry is the
same bytes. A transcript is "coding" as `TranscriptMap` has it: a CDS whose two ends both lie in
exons. Substitutions of one base in a CDS go to `csq_codons` (what it leaves, to the calculator).
Left to the calculator: indels near or across exon edges or CDS ends (or shifted out of their intron
or exon), in a CDS with a genome sequence, symbolic and ``*`` ALTs, substitutions of N.
tests/annotator/test_csq_batch.py checks that the two paths write the same records on random
variants around real exon edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from annotator import csq_codons, csq_kernel, indel_names
from annotator.consequence import ESCAPED, IMPACT, RANK
from annotator.hgvs import SHIFT_LIMIT
from annotator.sequence import Sequence
from annotator.textjoin import (
    INT,
    SKIP,
    A,
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
ACGT = _ACGT = np.array([65, 67, 71, 84], np.uint8)  # in code order: A, C, G, T = 0-3
assert CSQ_FIELDS.index("EXON") == 8 and len(CSQ_FIELDS) == 21  # the layout `entries` writes


def _terms(mask: int) -> tuple[str, int]:
    """The Consequence|IMPACT text of a set of term bits, and the rank of its most severe term."""
    terms = sorted((t for k, t in enumerate(csq_kernel.TERMS) if mask >> k & 1), key=RANK.__getitem__)
    return f"{'&'.join(terms)}|{IMPACT[terms[0]]}", RANK[terms[0]]


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
        self.laid_out = np.array([self._const[text] for text in LAID_OUT], np.int64)  # for `lay_out`

    def const(self, text: str) -> int:
        return self._const[text]

    def get(self, t: int) -> tuple[str, str, str]:
        """Transcript t's head, tail and Feature, as the per-pair path's `entry` takes them."""
        head, tail, feature = (self.texts[base + t].decode() for base in (self.head, self.tail, self.feature))
        return head, tail, feature


class Mask:
    """Consequence|IMPACT text and rank per set of term bits, made once per set (tables by the bits)."""

    def __init__(self) -> None:
        self.text = np.full(1 << len(csq_kernel.TERMS), "", object)
        self.rank = np.full(1 << len(csq_kernel.TERMS), -1, np.int64)

    def tables(self, masks: I64, strings: Strings) -> tuple[I64, I64]:
        """By set of term bits: its "|Consequence|IMPACT|" text (a kind B token of `strings`, for the sets
        in `masks`) and rank."""
        # The sets present (by counting: a sort would cost more), each text added once.
        present = np.flatnonzero(np.bincount(masks, minlength=len(self.rank)))
        for m in present[self.rank[present] < 0].tolist():
            self.text[m], self.rank[m] = _terms(m)
        ids = np.zeros(len(self.rank), np.int64)
        ids[present] = strings.add([f"|{t}|" for t in self.text[present].tolist()])
        return ids, self.rank


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
    F = T.frames
    cls, exon, mask = csq_kernel.classify(
        p.tx, p.of, p.start, p.stop, p.python, p.ref_len, p.alt_len, p.ref_base, p.alt_base,
        T.ptr, T.exon_start, T.exon_end, T.exon_off, T.first, T.last, T.plus, T.coding, T.cds_low, T.cds_high,
        T.cds_c5, T.cds_c3, T.nmd, F.frame, F.contig, p.sequence.length, window,
    )  # fmt: skip
    # An indel is taken only when the points its HGVSc names stay in its intron, or its exon.
    indels = np.flatnonzero((cls == csq_kernel.INDEL) | (cls == csq_kernel.EXON))
    named = _indel_names(p, T, indels, exon[indels], cls[indels] == csq_kernel.EXON, strings)
    cls[indels[~named.inside]] = csq_kernel.REST
    codons = csq_codons.cds_snvs(T, fixed, p, np.flatnonzero(cls == csq_kernel.CDS), strings)
    left = _LEFT[cls]
    left[codons[0]] = False
    taken = np.flatnonzero(_TAKEN[cls])
    more = codons[1] if codons[1] is not None else chain([])
    ids, ranks = masks.tables(mask[taken], strings)
    kind, value, ptr = csq_kernel.lay_out(
        taken, cls, exon, mask, ids, p.tx, p.of, p.token_kind, p.token_value, p.start, p.stop, p.ref_len,
        p.ref_base, p.alt_base, indels, named.a, named.b, named.single, named.suffix,
        T.ptr, T.exon_start, T.exon_end, T.exon_off, T.first, T.last, T.plus, T.coding, T.cds_c5, T.cds_c3,
        F.frame, fixed.head, fixed.tail, fixed.feature, fixed.laid_out, more.kind, more.value, more.ptr,
    )  # fmt: skip
    return Pairs(
        taken=np.r_[taken, codons[0]],
        runs=Runs(kind, value, ptr),
        rank=np.r_[ranks[mask[taken]], codons[2]],
        rest=np.flatnonzero(left),
    )


# By a pair's class (`csq_kernel.classify`): whether `lay_out` writes its entry, whether it may be left
# to the calculator (a CDS pair is, unless `csq_codons` takes it).
_TAKEN = np.zeros(7, bool)
_TAKEN[[csq_kernel.FLANK, csq_kernel.SNV, csq_kernel.INDEL, csq_kernel.EXON]] = True
_LEFT = np.zeros(7, bool)
_LEFT[[csq_kernel.REST, csq_kernel.CDS]] = True
# The constant pieces `csq_kernel.lay_out` writes, in the order of its names for them (BAR ... BAR4).
LAID_OUT = (
    "|", "||", "||||||", "||||||||", "||||||||||", "/", "_", "+", "-", "*", ":c.", ":n.", "A>A", "||||",
)  # fmt: skip


# The pieces entries are joined from (`Fixed.const`), besides the transcripts' own.
_CONSTS = [
    "|", "||", "||||", "||||||", "||||||||", "||||||||||", "/", "_", "+", "-", "*", ":c.", ":n.", "YES",
    "|Transcript|", *(f"{r}>{a}" for r in "ACGT" for a in "ACGT"), *"ACGT",
]  # fmt: skip


@dataclass
class _Names:
    """What each indel's HGVSc names (`hgvs.hgvsc`): the two genomic points whose HGVS positions it
    joins (one when `single`), the text after them (a kind B token), and whether both lie in the
    indel's intron (its exon, for an exonic one)."""

    a: I64
    b: I64
    single: Bool
    suffix: I64
    inside: Bool


def _indel_names(p: Alleles, T: Tables, at: I64, j: I64, exonic: Bool, strings: Strings) -> _Names:
    """`indel_names.name` of the indels at pair positions `at` (j: the exon 5' of each in genomic order,
    or holding it when `exonic`):
    once per allele and strand, within the widest span of its transcripts on that strand; again for a
    transcript whose own end would have stopped the shift sooner, or refused the dup."""
    if not len(at):
        none = np.zeros(0, np.int64)
        return _Names(none, none, np.zeros(0, bool), none, np.zeros(0, bool))
    tx, al = p.tx[at], p.of[at]
    pl, fx, lx = T.plus[tx], T.first[tx], T.last[tx]
    uniq, inv = np.unique(al * 2 + pl, return_inverse=True)
    inv = inv.ravel()
    low = np.full(len(uniq), np.iinfo(np.int64).max)
    high = np.full(len(uniq), np.iinfo(np.int64).min)
    np.minimum.at(low, inv, fx)
    np.maximum.at(high, inv, lx)
    u, ids = _name(p, uniq // 2, (uniq % 2).astype(bool), low, high, strings)
    st, sp = p.start[al], p.stop[al]
    room = np.where(pl, lx - np.maximum(st, sp), np.minimum(st, sp) - fx)
    redo = u.moved[inv] > np.clip(room, 0, SHIFT_LIMIT)
    redo |= u.dup[inv] & ((u.dup_first[inv] < fx) | (u.dup_last[inv] > lx))
    a_pt, b_pt, single, suffix = u.a[inv], u.b[inv], u.single[inv], ids[inv]
    if redo.any():
        r = np.flatnonzero(redo)
        own, own_ids = _name(p, al[r], pl[r], fx[r], lx[r], strings)
        a_pt[r], b_pt[r], single[r], suffix[r] = own.a, own.b, own.single, own_ids
    s, e, s_next = T.exon_start[j], T.exon_end[j], T.exon_start[np.minimum(j + 1, len(T.exon_start) - 1)]
    low, high = np.minimum(a_pt, b_pt), np.maximum(a_pt, b_pt)
    inside = np.where(exonic, (s <= low) & (high <= e), (e < low) & (high < s_next))
    return _Names(a_pt, b_pt, single, suffix, inside)


def _name(
    p: Alleles, al: I64, pl: Bool, fx: I64, lx: I64, strings: Strings
) -> tuple[indel_names.Named, I64]:
    """`indel_names.name` of alleles al, and their suffixes escaped, among `strings`."""
    got = indel_names.name(p.sequence, p.contig[al], pl, fx, lx, p.start[al], p.stop[al], p.ref, p.text[al],
                           p.alt, p.text[al])  # fmt: skip
    return got, strings.add_texts(translate(got.suffix, BYTE_ESCAPES))
