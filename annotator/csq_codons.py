"""CSQ entries of one-base substitutions inside a CDS, worked out over all such pairs at once.

`csq_batch.entries` hands over its in-CDS pairs: a substitution of one A/C/G/T base (after trimming)
in an exon of a coding transcript, between the CDS's ends. Each pair's codon is read from the genome
sequence with one fancy index into its memory-mapped bases (`Sequence.bases`: the whole build's
sequence is one uint8 array, so no copy per process; a codon split by an intron gets its three bases
from the exon table), both codons are translated with a 64-entry table, and the entry is made as
`textjoin` runs (tokens, and one Python text a pair for HGVSp to Codons): what `consequence.effect`
+ `entry` write, the same bytes.

For one codon changed into one codon, `codon_effect`'s predicates come down to the two residues,
r (reference) and x (altered): stop_gained x = * != r; stop_lost r = * != x; stop_retained r = x = *;
on the first codon start_lost r != x and start_retained when the altered codon is ATG; missense
r != x and none of those; synonymous r = x and neither retained term. HGVSp is `hgvs.substitution`'s
(``p.Leu7=`` escaped ``p.Leu7%3D``), ``p.Met1?`` for a lost start, and for a lost stop
`hgvs.extension` after a read-through into the 3' UTR, per pair (they are few) with the calculator's
own `translate_to_stop`.

Without a genome sequence for the whole transcript (a contig without one, or an exon off its end:
`TranscriptMap.sequence` is then empty) a base of a whole codon is a coding_sequence_variant, with
its positions and HGVSc and no codons (`_without_sequence`). Left to the calculator (not taken):
without a sequence, the other bases below; a base of a CDS's cut first codon (frame > 0:
coding_sequence_variant alone); a codon cut short by the CDS's 3' end
(incomplete_terminal_codon_variant); a codon holding a base other than A/C/G/T (X residues).
A CDS with a cut first codon numbers its residues from 2 (Ensembl's residue 1 is that X); one
with a cut or inferred first codon has no start codon to lose or keep.
tests/annotator/test_csq_codons.py checks the entries against the calculator's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from annotator import hgvs
from annotator.codons import MITOCHONDRIAL, STANDARD, THREE_LETTER, revcomp, translate_to_stop
from annotator.consequence import ESCAPED, IMPACT, RANK
from annotator.intervals import SHIFT
from annotator.textjoin import INT, A, B, Runs, Strings, chain, template
from annotator.transcript_index import FRAME_INFERRED

if TYPE_CHECKING:
    from annotator.csq_batch import Alleles, Fixed, Tables
    from annotator.transcript_index import TranscriptIndex
    from annotator.transcripts import Fetch

Bool = npt.NDArray[np.bool_]

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

_ESCAPES = str.maketrans(ESCAPED)
_TERMS = (
    "stop_gained",
    "stop_lost",
    "start_lost",
    "missense_variant",
    "splice_region_variant",
    "start_retained_variant",
    "stop_retained_variant",
    "synonymous_variant",
    "NMD_transcript_variant",
    "coding_sequence_variant",
)
GAINED, LOST, START_LOST, MISSENSE, REGION, START_KEPT, STOP_KEPT, SYNONYMOUS, NMD, CODING = (
    np.int64(1) << k for k in range(len(_TERMS))
)
# A/C/G/T to their place in NCBI's codon order (T, C, A, G); anything else -1.
_BASE_CODE = np.full(256, -1, np.int64)
_BASE_CODE[list(b"TCAG")] = np.arange(4)
_COMPLEMENT = np.arange(256, dtype=np.uint8)
_COMPLEMENT[list(b"ACGT")] = list(b"TGCA")
_LOWER = np.uint8(0x20)
_ACGT_CODE = np.zeros(256, np.int64)  # A, C, G, T = 0-3, the order of `csq_batch`'s "A>C" constants
_ACGT_CODE[list(b"ACGT")] = np.arange(4)
_ATG = 16 * 2 + 4 * 0 + 3  # A, T, G in NCBI's order


def _code(table: dict[bytes, str]) -> U8:
    """The residue letter of each codon by its index 16*b1 + 4*b2 + b3 (bases in T, C, A, G order)."""
    out = np.zeros(64, np.uint8)
    for codon, aa in table.items():
        out[16 * _BASE_CODE[codon[0]] + 4 * _BASE_CODE[codon[1]] + _BASE_CODE[codon[2]]] = ord(aa)
    return out


_CODES = np.stack([_code(STANDARD), _code(MITOCHONDRIAL)])
_THREE = np.full(256, "", object)
for _aa, _name in THREE_LETTER.items():
    _THREE[ord(_aa)] = _name
_term_text: dict[int, tuple[str, int]] = {}


def _terms(mask: int) -> tuple[str, int]:
    """Consequence|IMPACT of a set of term bits and the rank of the most severe, made once per set."""
    got = _term_text.get(mask)
    if got is None:
        terms = sorted((t for k, t in enumerate(_TERMS) if mask >> k & 1), key=RANK.__getitem__)
        got = _term_text[mask] = f"{'&'.join(terms)}|{IMPACT[terms[0]]}", RANK[terms[0]]
    return got


@dataclass
class Frames:
    """What codons need of every transcript beyond `csq_batch.Tables`, made with it once per process."""

    contig: I64
    frame: I64  # bases before the CDS's first whole codon
    has_start: Bool  # a whole, annotated first codon: a start codon to lose or keep
    mito: Bool  # the vertebrate mitochondrial code

    @classmethod
    def of(cls, index: TranscriptIndex) -> Frames:
        a = index.a
        contig = a["tx_start"].astype(np.int64) >> SHIFT
        frame = a["tx_frame"].astype(np.int64)
        return cls(
            contig=contig,
            frame=frame,
            has_start=(frame == 0) & ((a["tx_flags"] & FRAME_INFERRED) == 0),
            mito=np.isin(contig, np.fromiter(index.mito, np.int64, len(index.mito))),
        )


def cds_snvs(
    tables: Tables, fixed: Fixed, p: Alleles, k: I64, strings: Strings
) -> tuple[I64, Runs | None, I64]:
    """The entries of the in-CDS one-base substitutions at pair positions k that this module takes
    (see its docstring): (taken, a subset of k; their entries as `textjoin` runs, kind B tokens
    `strings`'; their severity ranks)."""
    T, F, seq = tables, tables.frames, p.sequence
    none = np.zeros(0, np.int64)
    if not len(k):
        return none, None, none
    tx, al = p.tx[k], p.of[k]
    g = p.start[al]
    contig = F.contig[tx]
    size = seq.length[np.clip(contig, 0, len(seq.length) - 1)]
    ok = (contig < len(seq.length)) & (size > 0) & (T.first[tx] >= 1) & (T.last[tx] <= size)
    frame, has_start = F.frame[tx], F.has_start[tx]
    plus = T.plus[tx]
    j = np.searchsorted(T.exon_key, tx << 32 | g, side="right") - 1
    s, e = T.exon_start[j].astype(np.int64), T.exon_end[j].astype(np.int64)
    c = T.exon_off[j] + np.where(plus, g - s + 1, e - g + 1)
    pos = c - T.cds_c5[tx] + 1  # CDS position
    ok &= pos - 1 - frame >= 0  # not in the cut first codon
    codon = (pos - 1 - frame) // 3
    codon_end = frame + 3 * codon + 3  # CDS position of the codon's last base
    ok &= codon_end <= T.cds_c3[tx] - T.cds_c5[tx] + 1
    # The codon's three genomic positions: cDNA c - cut .. c - cut + 2, each in exon j or up to two
    # exons either side (an exon may be one base long).
    cut = (pos - 1 - frame) % 3
    cc = (c - cut)[:, None] + np.arange(3)
    lo, hi = T.ptr[tx][:, None], T.ptr[tx + 1][:, None]
    at = np.zeros(cc.shape, np.int64)
    for d in range(-2, 3):
        jj = j[:, None] + d
        inside = (jj >= lo) & (jj < hi)
        jj = np.clip(jj, 0, len(T.exon_start) - 1)
        o = T.exon_off[jj].astype(np.int64)
        js, je = T.exon_start[jj].astype(np.int64), T.exon_end[jj].astype(np.int64)
        hit = inside & (cc > o) & (cc <= o + je - js + 1)
        at = np.where(hit, np.where(plus[:, None], js + cc - o - 1, je - cc + o + 1), at)
    # Without the transcript's sequence, a whole codon's base is a coding_sequence_variant.
    blind = np.flatnonzero(~ok & (pos - 1 - frame >= 0) & (codon_end <= T.cds_c3[tx] - T.cds_c5[tx] + 1))
    blind_residue = codon[blind] + 1 + (frame[blind] > 0)
    blind_runs, blind_rank = _without_sequence(
        T, fixed, p, k[blind], j[blind], c[blind].astype(np.int64), pos[blind], blind_residue, strings
    )
    blind_k = k[blind]
    if not ok.any():
        return blind_k, blind_runs, blind_rank
    at = np.where(ok[:, None], at, 1)
    bases = seq.bases[seq.start[np.where(ok, contig, 0)][:, None] + at - 1]
    bases = np.where(plus[:, None], bases, _COMPLEMENT[bases])
    code = _BASE_CODE[bases]
    ok &= (code >= 0).all(axis=1)

    x = np.flatnonzero(ok)
    k, tx, al, g, plus, j, s, e, c = k[x], tx[x], al[x], g[x], plus[x], j[x], s[x], e[x], c[x]
    pos, codon, cut, bases, code, contig = pos[x], codon[x], cut[x], bases[x], code[x], contig[x]
    frame, has_start, codon_end = frame[x], has_start[x], codon_end[x]
    rows = np.arange(len(k))
    ref_b, alt_b = p.ref_base[al], p.alt_base[al]
    alt_tx = np.where(plus, alt_b, _COMPLEMENT[alt_b])
    ref_tx = np.where(plus, ref_b, _COMPLEMENT[ref_b])
    alt_code = code.copy()
    alt_code[rows, cut] = _BASE_CODE[alt_tx]
    mito = F.mito[tx]
    weights = np.array([16, 4, 1])
    ref_i, alt_i = code @ weights, alt_code @ weights
    r, xa = _CODES[mito.astype(np.int64), ref_i], _CODES[mito.astype(np.int64), alt_i]

    stop = ord("*")
    first = has_start & (codon == 0)
    gained = (xa == stop) & (r != stop)
    lost = (r == stop) & (xa != stop)
    kept = (r == stop) & (xa == stop)
    start_lost = first & (r != xa)
    start_kept = first & (alt_i == _ATG)
    n = T.ptr[tx + 1] - T.ptr[tx]
    i = j - T.ptr[tx]
    region = ((i > 0) & (g - s < 3)) | ((i < n - 1) & (e - g < 3))
    mask = np.zeros(len(k), np.int64)
    for bit, on in (
        (GAINED, gained), (LOST, lost), (STOP_KEPT, kept), (START_LOST, start_lost), (START_KEPT, start_kept),
        (MISSENSE, (r != xa) & ~(start_lost | lost | gained)), (SYNONYMOUS, (r == xa) & ~(kept | start_kept)),
        (REGION, region), (NMD, T.nmd[tx]),
    ):  # fmt: skip
        mask |= np.where(on, bit, 0)
    rank = np.fromiter((_terms(m)[1] for m in mask.tolist()), np.int64, len(mask))

    # Codons: unchanged bases lower case, the changed one upper case (`codon_effect._display`).
    shown = np.empty((len(k), 7), np.uint8)
    shown[:, :3], shown[:, 3], shown[:, 4:] = bases | _LOWER, ord("/"), bases | _LOWER
    shown[rows, 4 + cut] = alt_tx
    shown[rows, cut] &= ~_LOWER
    codons = shown.view("S7").ravel().astype("U7").tolist()

    # Ensembl counts a cut first codon (frame > 0) as residue 1, an X, so whole codons start at 2.
    residue = (codon + 1 + (frame > 0)).tolist()
    change = np.where(r == xa, "%3D", _THREE[xa]).tolist()
    hgvsp = [f":p.{r3}{res}{ch}" for r3, res, ch in zip(_THREE[r].tolist(), residue, change, strict=True)]
    for y in np.flatnonzero(start_lost).tolist():
        hgvsp[y] = hgvs.start_lost("")
    for y in np.flatnonzero(lost & ~start_lost).tolist():  # a lost start names the change first
        fetch = seq.fetcher(int(contig[y]))
        alt_codon = bytes(shown[y, 4:]).upper()
        hgvsp[y] = _extension(T, int(tx[y]), fetch, alt_codon, int(codon_end[y]), residue[y], chr(xa[y]),
                              bool(mito[y]))  # fmt: skip
    amino = [chr(ra) if ra == xb else f"{chr(ra)}/{chr(xb)}" for ra, xb in zip(r.tolist(), xa.tolist(),
                                                                                strict=True)]  # fmt: skip
    # The entry's pieces after HGVSp's Feature, one Python text a pair; the rest are tokens.
    after = strings.add([
        f"{hp}|{cd}|{ps}|{res}|{aa}|{co}||"
        for hp, cd, ps, res, aa, co in zip(
            hgvsp, c.tolist(), pos.tolist(), residue, amino, codons, strict=True
        )
    ])  # fmt: skip
    uniq, inverse = np.unique(mask, return_inverse=True)
    terms = strings.add([f"|{_terms(m)[0]}|" for m in uniq.tolist()])[inverse.ravel()]
    ct = fixed.const
    change_id = ct("A>A") + 4 * _ACGT_CODE[ref_tx] + _ACGT_CODE[alt_tx]
    runs = template(
        len(k), (p.token_kind[al], p.token_value[al]), (B, terms), (A, fixed.head + tx), (A, ct("|")),
        (INT, np.where(plus, i + 1, n - i)), (A, ct("/")), (INT, n), (A, ct("||")), (A, fixed.feature + tx),
        (A, ct(":c.")), (INT, pos), (A, change_id), (A, ct("|")), (A, fixed.feature + tx), (B, after),
        (A, fixed.tail + tx),
    )  # fmt: skip
    return np.concatenate([k, blind_k]), chain([runs, blind_runs]), np.concatenate([rank, blind_rank])


def _without_sequence(
    T: Tables, fixed: Fixed, p: Alleles, k: I64, j: I64, c: I64, pos: I64, residue: I64, strings: Strings
) -> tuple[Runs, I64]:
    """Entries of in-CDS substitutions of a whole codon's base with no sequence to read the codon from:
    coding_sequence_variant (and the exon's splice region, NMD), positions, HGVSc; no HGVSp, amino
    acids or codons (`codon_effect` without a sequence)."""
    tx, al = p.tx[k], p.of[k]
    g, plus = p.start[al], T.plus[tx]
    s, e = T.exon_start[j].astype(np.int64), T.exon_end[j].astype(np.int64)
    n = T.ptr[tx + 1] - T.ptr[tx]
    i = j - T.ptr[tx]
    region = ((i > 0) & (g - s < 3)) | ((i < n - 1) & (e - g < 3))
    mask = CODING | np.where(region, REGION, 0) | np.where(T.nmd[tx], NMD, 0)
    rank = np.fromiter((_terms(m)[1] for m in mask.tolist()), np.int64, len(mask))
    uniq, inverse = np.unique(mask, return_inverse=True)
    terms = strings.add([f"|{_terms(m)[0]}|" for m in uniq.tolist()])[inverse.ravel()]
    ref_b, alt_b = p.ref_base[al], p.alt_base[al]
    ref_tx, alt_tx = np.where(plus, ref_b, _COMPLEMENT[ref_b]), np.where(plus, alt_b, _COMPLEMENT[alt_b])
    ct = fixed.const
    runs = template(
        len(k), (p.token_kind[al], p.token_value[al]), (B, terms), (A, fixed.head + tx), (A, ct("|")),
        (INT, np.where(plus, i + 1, n - i)), (A, ct("/")), (INT, n), (A, ct("||")), (A, fixed.feature + tx),
        (A, ct(":c.")), (INT, pos), (A, ct("A>A") + 4 * _ACGT_CODE[ref_tx] + _ACGT_CODE[alt_tx]),
        (A, ct("||")), (INT, c), (A, ct("|")), (INT, pos), (A, ct("|")), (INT, residue), (A, ct("||||")),
        (A, fixed.tail + tx),
    )  # fmt: skip
    return runs, rank


def _extension(
    T: Tables, t: int, fetch: Fetch, alt_codon: bytes, codon_end: int, residue: int, alt_aa: str,
    mito: bool,
) -> str:  # fmt: skip
    """A lost stop's HGVSp after its Feature: the altered codon read on through the transcript to the
    next stop (`codon_effect._hgvsp`'s calls on `TranscriptMap.sequence`, here from the exon table)."""
    lo, hi = int(T.ptr[t]), int(T.ptr[t + 1])
    exons = zip(T.exon_start[lo:hi].tolist(), T.exon_end[lo:hi].tolist(), strict=True)
    spliced = b"".join(fetch(s, e) for s, e in exons)
    seq = spliced if T.plus[t] else revcomp(spliced)
    tail = translate_to_stop(alt_codon + seq[int(T.cds_c5[t]) - 1 + codon_end :], mito)
    stop = tail.find("*")
    return hgvs.extension("", residue, alt_aa, stop if stop > 0 else None)
