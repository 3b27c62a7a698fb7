"""HGVS names of a variant on a transcript, in the forms Ensembl VEP writes.

HGVSc is built from a trimmed variant, 3'-shifted along the transcript when
the sequence allows; HGVSp from the reference and altered peptides. There is no protein
accession in GAS's models, so HGVSp is prefixed with the transcript's Feature
(VEP writes the ENSP id there): `ENST00000379370:p.Arg12Trp`.
"""

from __future__ import annotations

from annotator.codons import THREE_LETTER, revcomp, three_letter
from annotator.transcript_map import TranscriptMap
from annotator.transcripts import Fetch

# VEP looks this far for a 3' shift (TranscriptVariationAllele::_genomic_shift).
SHIFT_LIMIT = 1000


def hgvsc(m: TranscriptMap, start: int, stop: int, ref: bytes, alt: bytes, fetch: Fetch | None) -> str:
    """HGVSc of a trimmed variant (start..stop its REF span, plus strand); "" unless inside the transcript.

    With a sequence, a pure insertion or deletion is first shifted 3' along the transcript, and an
    insertion repeating the bases 5' of it is a dup."""
    tx = m.tx
    if start < tx.exons[0][0] or stop > tx.exons[-1][1]:
        return ""
    dup = False
    if fetch is not None and (not ref or not alt):
        start, stop, ref, alt = shift(m.plus, tx.exons[0][0], tx.exons[-1][1], start, stop, ref, alt, fetch)
        if not ref:
            k = len(alt)
            first, last = (stop - k + 1, stop) if m.plus else (start, start + k - 1)
            dup = first >= tx.exons[0][0] and last <= tx.exons[-1][1] and fetch(first, last) == alt
    if not m.plus:
        ref, alt = revcomp(ref), revcomp(alt)
    return _name(m, start, stop, ref, alt, dup)


def shift(
    plus: bool, tx_start: int, tx_end: int, start: int, stop: int, ref: bytes, alt: bytes, fetch: Fetch
) -> tuple[int, int, bytes, bytes]:
    """Move a pure insertion or deletion 3' along a transcript (on `plus` strand, spanning tx_start..tx_end)
    while the sequence allows (HGVS)."""
    moving = ref or alt
    if plus:
        limit = min(tx_end - max(start, stop), SHIFT_LIMIT)
        ahead = fetch(stop + 1, stop + limit) if limit > 0 else b""
        n = 0
        while n < len(ahead) and ahead[n] == moving[n % len(moving)]:
            n += 1
        if n:
            k = n % len(moving)
            moving = moving[k:] + moving[:k]
            start, stop = start + n, stop + n
    else:
        limit = min(min(start, stop) - tx_start, SHIFT_LIMIT)
        behind = fetch(start - limit, start - 1) if limit > 0 else b""
        n = 0
        while n < len(behind) and behind[-1 - n] == moving[-1 - n % len(moving)]:
            n += 1
        if n:
            k = n % len(moving)
            moving = moving[-k:] + moving[:-k] if k else moving
            start, stop = start - n, stop - n
    return (start, stop, moving, b"") if ref else (start, stop, b"", moving)


def _name(m: TranscriptMap, start: int, end: int, ref: bytes, alt: bytes, dup: bool) -> str:
    """start..end: the genomic span of ref (end = start - 1 for an insertion); ref/alt on tx's strand.

    dup: the inserted bases repeat the ones just 5' of the insertion (on the transcript).
    """
    kind = "c." if m.coding else "n."
    if m.plus:
        five, three = start, end
    else:
        five, three = end, start
    if not ref:
        k = len(alt)
        if dup:
            # The duplicated copy is the one 5' of the insertion point.
            first, last = (end - k + 1, end) if m.plus else (start + k - 1, start)
            return f"{m.tx.feature}:{kind}{_span(m, first, last)}dup"
        return f"{m.tx.feature}:{kind}{m.hgvs_position(three)}_{m.hgvs_position(five)}ins{alt.decode()}"
    where = _span(m, five, three)
    if not alt:
        return f"{m.tx.feature}:{kind}{where}del"
    if len(ref) == 1 and len(alt) == 1:
        return f"{m.tx.feature}:{kind}{where}{ref.decode()}>{alt.decode()}"
    return f"{m.tx.feature}:{kind}{where}delins{alt.decode()}"


def _span(m: TranscriptMap, first: int, last: int) -> str:
    if first == last:
        return m.hgvs_position(first)
    return f"{m.hgvs_position(first)}_{m.hgvs_position(last)}"


def _aa(aa: str) -> str:
    return THREE_LETTER[aa]


def substitution(feature: str, ref_aa: str, alt_aa: str, position: int) -> str:
    """A one-codon change: p.Arg12Trp, p.Arg12Ter, p.Arg12= (synonymous or stop retained)."""
    if ref_aa == alt_aa:
        return f"{feature}:p.{_aa(ref_aa)}{position}="
    return f"{feature}:p.{_aa(ref_aa)}{position}{_aa(alt_aa)}"


def extension(feature: str, position: int, alt_aa: str, extra: int | None) -> str:
    """A lost stop: p.Ter120GlnextTer17, VEP's count of codons past the old stop, ? when no new one."""
    return f"{feature}:p.Ter{position}{_aa(alt_aa)}extTer{extra if extra else '?'}"


def start_lost(feature: str) -> str:
    return f"{feature}:p.Met1?"


def protein_change(
    feature: str, ref: str, alt: str, at: int, frameshift: bool, growth: int, between_codons: bool
) -> str:
    """HGVSp from whole peptides: ref (the reference protein, to its stop) and alt (the altered one, read
    through the 3' UTR to its first stop). at: the 0-based codon the variant starts in (both agree before);
    growth: residues an in-frame change adds (negative when it removes some); between_codons: an
    insertion that changes no reference codon.

    Returns "" when the peptides cannot name the change (the sequence ran out before a difference).
    """
    i = at
    n = min(len(ref), len(alt))
    while i < n and ref[i] == alt[i]:
        i += 1
    if i == len(ref) and i == len(alt):
        return substitution(feature, ref[at], ref[at], at + 1) if at < len(ref) else ""
    if i >= len(ref) or i >= len(alt):
        return ""
    r, x = ref[i], alt[i]
    if r == "*":
        stop = alt.find("*", i)
        return extension(feature, i + 1, x, stop - i if stop > i else None)
    if frameshift:
        if x == "*":
            return f"{feature}:p.{_aa(r)}{i + 1}Ter"
        stop = alt.find("*", i)
        count = str(stop - i + 1) if stop >= 0 else "?"
        return f"{feature}:p.{_aa(r)}{i + 1}{_aa(x)}fsTer{count}"
    if alt.endswith("*") and ref.endswith("*") and len(alt) < len(ref) + growth:
        # A stop earlier than the reference's: everything after it is gone, so name the change up to it.
        gained = three_letter(alt[i:])
        if between_codons and i > 0:
            return f"{feature}:p.{_aa(ref[i - 1])}{i}_{_aa(r)}{i + 1}ins{gained}"
        if x == "*":
            return f"{feature}:p.{_aa(r)}{i + 1}Ter"
        return f"{feature}:p.{_aa(r)}{i + 1}delins{gained}"
    s = 0
    while s < len(ref) - i and s < len(alt) - i and ref[-1 - s] == alt[-1 - s]:
        s += 1
    lost, gained_aas = ref[i : len(ref) - s], alt[i : len(alt) - s]
    if len(lost) == 1 and len(gained_aas) == 1:
        return substitution(feature, lost, gained_aas, i + 1)
    if not gained_aas:
        return f"{feature}:p.{_range(lost, i)}del"
    if not lost:
        k = len(gained_aas)
        if i >= k and ref[i - k : i] == gained_aas:
            return f"{feature}:p.{_range(gained_aas, i - k)}dup"
        if i == 0:
            return ""
        return f"{feature}:p.{_aa(ref[i - 1])}{i}_{_aa(ref[i])}{i + 1}ins{three_letter(gained_aas)}"
    return f"{feature}:p.{_range(lost, i)}delins{three_letter(gained_aas)}"


def _range(peptide: str, at: int) -> str:
    """Lys5 or Lys5_Ala7: the first and last residue of a run starting at 0-based at."""
    if len(peptide) == 1:
        return f"{_aa(peptide)}{at + 1}"
    return f"{_aa(peptide[0])}{at + 1}_{_aa(peptide[-1])}{at + len(peptide)}"
