"""The coding terms of a variant inside a CDS, and its codon-level CSQ fields.

VEP's predicates (VariationEffect.pm) on the reference and altered codons:
stop_gained/lost/retained, start_lost/retained, missense, synonymous,
inframe_insertion/deletion, protein_altering, frameshift, coding_sequence
(what no better term names), incomplete_terminal_codon; then Codons,
Amino_acids, Protein_position and HGVSp. Without a genome sequence only the
terms that lengths decide are given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from annotator import hgvs
from annotator.alleles import trim
from annotator.codons import revcomp, translate, translate_to_stop
from annotator.transcript_map import TranscriptMap
from annotator.transcripts import Fetch
from annotator.variant_location import cds_position, overlap, positions


@dataclass(slots=True)
class CodonEffect:
    hgvsp: str = ""
    protein_position: str = ""
    amino_acids: str = ""
    codons: str = ""


def codon_effect(
    m: TranscriptMap, start: int, stop: int, ref: bytes, alt: bytes, fetch: Fetch | None, terms: set[str]
) -> CodonEffect:
    """Adds the coding terms of a variant touching the CDS; returns its codon-level fields."""
    tx = m.tx
    insertion = not ref
    five, three = (m.cdna(start), m.cdna(stop)) if m.plus else (m.cdna(stop), m.cdna(start))
    a, b = cds_position(m, five), cds_position(m, three)
    whole = a is not None and b is not None and (b == a - 1 if insertion else b - a + 1 == len(ref))
    if not whole or a is None or b is None:
        # Part of it lies in an intron or a UTR: VEP cannot map its codons either.
        terms.add("coding_sequence_variant")
        return CodonEffect()
    frame = tx.frame
    length = m.cds_end - m.cds_start + 1
    between = insertion and (a - 1 - frame) % 3 == 0
    first = (a - 1 - frame) // 3 if not insertion or between else (a - 2 - frame) // 3
    last = first - 1 if between else (b - 1 - frame) // 3
    codon_start = frame + 3 * first + 1
    codon_end = frame + 3 * last + 3
    # Ensembl counts a cut first codon (frame > 0) as residue 1 (an X), so whole codons start at 2.
    pad = 1 if frame else 0
    protein_position = (
        f"{first + pad}-{first + 1 + pad}" if between else positions(first + 1 + pad, last + 1 + pad)
    )
    shift = len(alt) - len(ref)
    if min(a, b + 1 if insertion else b) - 1 - frame < 0:
        terms.add("coding_sequence_variant")
        return CodonEffect()
    if codon_end > length:
        terms.add("incomplete_terminal_codon_variant")
        terms.add("coding_sequence_variant")
        return CodonEffect()
    seq = m.sequence(fetch) if fetch is not None else b""
    if not seq:
        if shift % 3:
            terms.add("frameshift_variant")
        elif not ref:
            terms.add("inframe_insertion")
        elif not alt:
            terms.add("inframe_deletion")
        else:
            terms.add("coding_sequence_variant")
        return CodonEffect(protein_position=protein_position)

    o = m.cds_start - 1
    alt_tx = alt if m.plus else revcomp(alt)
    ref_codon = seq[o + codon_start - 1 : o + codon_end]
    cut, keep = a - codon_start, b - codon_start + 1
    alt_codon = ref_codon[:cut] + alt_tx + ref_codon[keep:]
    mito = tx.mito
    ref_pep, alt_pep = translate(ref_codon, mito), translate(alt_codon, mito)
    codons = (
        f"{_display(ref_codon[:cut], ref_codon[cut:keep], ref_codon[keep:])}/"
        f"{_display(ref_codon[:cut], alt_tx, ref_codon[keep:])}"
    )
    amino_acids = ref_pep if ref_pep == alt_pep else f"{ref_pep or '-'}/{alt_pep or '-'}"

    # VEP skips a CDS without an annotated start (cds_start_NF): its first codon is no start.
    overlaps_start = frame == 0 and not tx.frame_inferred and overlap(a, b, 1, 3)
    overlaps_stop = (
        overlap(a, b, length - 2, length)
        and (length - frame) % 3 == 0
        and translate(seq[o + length - 3 : o + length], mito) == "*"
    )

    start_lost = start_retained = False
    if overlaps_start:
        new_start = (alt_codon + seq[o + codon_end : o + codon_end + 3])[:3]
        if len(ref) == len(alt):
            start_lost = not (alt_pep.endswith(ref_pep) or alt_pep.startswith(ref_pep))
            start_retained = new_start == b"ATG"
        else:
            start_retained = new_start == b"ATG"
    stop_lost = "*" in ref_pep and "*" not in alt_pep
    stop_retained = False
    if not stop_lost:
        if alt_pep:
            # VEP's ref_eq_alt_sequence, its first rule kept to variants at the stop codon: elsewhere it
            # would call an inserted stop "retained".
            stop_retained = not (ref_pep == "X" and alt_pep == "X") and (
                (overlaps_stop and ref_pep[:1] == alt_pep[:1] and "*" in alt_pep)
                or ("*" in ref_pep and ref_pep.find("*") == alt_pep.find("*"))
            )
        elif overlaps_stop:
            edited = seq[o : o + a - 1] + alt_tx + seq[o + b :]
            stop_retained = translate(edited[length - 3 : length], mito) == "*"
    stop_gained = not stop_retained and "*" in alt_pep and "*" not in ref_pep

    inframe_insertion = inframe_deletion = False
    if shift % 3 == 0:
        trimmed_alt = re.sub(r"\*.+", "*", alt_pep)
        if len(alt_codon) > len(ref_codon):
            inframe_insertion = (trimmed_alt.startswith(ref_pep) or trimmed_alt.endswith(ref_pep)) and not (
                start_retained and alt_pep.endswith(ref_pep)
            )
        elif len(alt_codon) < len(ref_codon):
            _, inner_ref, inner_alt = trim(0, ref_codon, alt_codon)
            inframe_deletion = (
                ref_codon.startswith(alt_codon)
                or ref_codon.endswith(alt_codon)
                or (not inner_alt and len(inner_ref) % 3 == 0)
            )
    if overlaps_start and len(ref) != len(alt):
        start_lost = not start_retained and not (inframe_insertion or inframe_deletion)
    if start_lost:
        inframe_insertion = False
    frameshift = bool(shift % 3) and not stop_retained

    found: list[str] = []
    if frameshift:
        found.append("frameshift_variant")
    if stop_gained:
        found.append("stop_gained")
    if stop_lost:
        found.append("stop_lost")
    if start_lost:
        found.append("start_lost")
    if start_retained:
        found.append("start_retained_variant")
    if stop_retained:
        found.append("stop_retained_variant")
    if inframe_insertion:
        found.append("inframe_insertion")
    if inframe_deletion:
        found.append("inframe_deletion")
    unknown = "X" in ref_pep or "X" in alt_pep
    if not frameshift and not unknown:
        same_length = len(ref_pep) == len(alt_pep)
        if (
            same_length
            and ref_pep != alt_pep
            and not (start_lost or stop_lost or stop_gained or stop_retained)
        ):
            found.append("missense_variant")
        if ref_pep and ref_pep == alt_pep and not (stop_retained or start_retained):
            found.append("synonymous_variant")
        if (
            not same_length
            and not ref_pep.startswith("*")
            and not alt_pep.startswith("*")
            and not (alt_pep.startswith(ref_pep) or alt_pep.endswith(ref_pep))
            and not (inframe_deletion or start_lost)
        ):
            found.append("protein_altering_variant")
    # VEP's coding_unknown: an X in a peptide (an N in the genome, a partial codon) names nothing better.
    named = frameshift or inframe_deletion or start_lost or start_retained or stop_lost or stop_retained
    if not found or (unknown and not named and "protein_altering_variant" not in found):
        found.append("coding_sequence_variant")
    terms.update(found)

    protein = ""
    # VEP keeps start_lost off an in-frame indel that removes the ATG; its protein is still unknown.
    start_gone = start_lost or (overlaps_start and len(ref) != len(alt) and not start_retained)
    if not unknown or frameshift:
        protein = _hgvsp(
            m, seq, a, b, alt_tx, first, codon_end, alt_codon, ref_pep, alt_pep, start_gone, frameshift
        )
    return CodonEffect(protein, protein_position, amino_acids, codons)


def _display(before: bytes, changed: bytes, after: bytes) -> str:
    """VEP's codon display: unchanged bases lower case, changed ones upper case, "-" for none."""
    shown = (before.lower() + changed.upper() + after.lower()).decode()
    return shown or "-"


def _hgvsp(
    m: TranscriptMap,
    seq: bytes,
    a: int,
    b: int,
    alt_tx: bytes,
    first: int,
    codon_end: int,
    alt_codon: bytes,
    ref_pep: str,
    alt_pep: str,
    start_lost: bool,
    frameshift: bool,
) -> str:
    feature, mito, frame, o = m.tx.feature, m.tx.mito, m.tx.frame, m.cds_start - 1
    if start_lost:
        return hgvs.start_lost(feature)
    pad = "X" if frame else ""
    residue = first + 1 + len(pad)
    if len(alt_codon) == 3 and len(ref_pep) == 1:
        if ref_pep == "*" and alt_pep != "*":
            alt_tail = translate_to_stop(alt_codon + seq[o + codon_end :], mito)
            stop = alt_tail.find("*")
            return hgvs.extension(feature, residue, alt_pep, stop if stop > 0 else None)
        return hgvs.substitution(feature, ref_pep, alt_pep, residue)
    reference = m.peptide(seq)
    altered = reference[: residue - 1] + translate_to_stop(
        seq[o + frame + 3 * first : o + a - 1] + alt_tx + seq[o + b :], mito
    )
    growth = (len(alt_tx) - (b - a + 1)) // 3
    between = a == b + 1 and (a - 1 - frame) % 3 == 0
    return hgvs.protein_change(feature, reference, altered, residue - 1, frameshift, growth, between)
