"""Consequences of one ALT allele on one transcript, as Ensembl VEP defines them.

The terms, their order and IMPACT are VEP's (ensembl-variation
Utils/Constants.pm). Where a variant falls (exons, introns, splice sites, UTRs,
up/downstream within the window) is variant_location's; what it does to the
codons is codon_effect's, computed only when a genome sequence is given:
without one a coding change is coding_sequence_variant (frameshift and inframe
indels are told apart by length alone), with no Codons, Amino_acids or HGVSp.

Variants come VCF-style and are trimmed to their minimal form (common prefix,
then suffix: VEP's --minimal), so a multi-allelic record's ALTs are judged
apart; consequences use that position, HGVSc the position 3'-shifted along the
transcript's strand (up to 1 kb, pure insertions and deletions only, as VEP).
"""

from __future__ import annotations

from dataclasses import dataclass

from annotator import hgvs
from annotator.alleles import symbolic, trim, vep_alleles
from annotator.codon_effect import CodonEffect, codon_effect
from annotator.transcript_map import TranscriptMap, transcript_map
from annotator.transcripts import Fetch, Transcript
from annotator.variant_location import Location, overlap
from app.results.consequences import IMPACT, RANK, TERMS

__all__ = [
    "IMPACT", "RANK", "TERMS", "Effect", "csq_entry", "effect", "entry", "escape", "fixed_fields",
    "most_severe", "trim", "vep_alleles",
]

def most_severe(terms: tuple[str, ...] | list[str]) -> str:
    return min(terms, key=RANK.__getitem__)


# Not frozen: a frozen dataclass's __init__ costs more than the rest of an intronic call.
@dataclass(slots=True)
class Effect:
    terms: tuple[str, ...]  # most severe first
    impact: str
    exon: str = ""
    intron: str = ""
    hgvsc: str = ""
    hgvsp: str = ""
    cdna_position: str = ""
    cds_position: str = ""
    protein_position: str = ""
    amino_acids: str = ""
    codons: str = ""
    distance: str = ""


# VEP's escapes of a CSQ value (what a VCF INFO value cannot hold).
ESCAPED = {",": "&", "|": "&", ";": "%3B", "=": "%3D", " ": "_", "\t": "_", "\n": "_"}
_ESCAPES = str.maketrans(ESCAPED)


def escape(value: str) -> str:
    """A CSQ value made safe for a VCF INFO value (VEP's escapes)."""
    return value.translate(_ESCAPES)


def csq_entry(allele: str, tx: Transcript, e: Effect) -> str:
    """One CSQ entry, its values in CSQ_FIELDS order, each made safe for a VCF INFO value."""
    head, tail = fixed_fields(
        tx.gene, tx.gene_id, tx.feature, tx.biotype, tx.strand, tx.canonical, tx.mane_select
    )
    return entry(allele, head, tail, e)


def fixed_fields(
    gene: str, gene_id: str, feature: str, biotype: str, strand: int, canonical: bool, mane_select: str
) -> tuple[str, str]:
    """The part of a transcript's CSQ entries no variant changes, escaped: SYMBOL|Gene|Feature_type|Feature|
    BIOTYPE and STRAND|CANONICAL|MANE_SELECT (made once per transcript by the consequences op)."""
    head = "|".join(v.translate(_ESCAPES) for v in (gene, gene_id, "Transcript", feature, biotype))
    return head, f"{strand}|{'YES' if canonical else ''}|{mane_select.translate(_ESCAPES)}"


def entry(allele: str, head: str, tail: str, e: Effect) -> str:
    """A CSQ entry from a transcript's `fixed_fields` and an Effect. Only the values that carry the
    VCF's own text (the allele, HGVS, codons) are escaped: terms, numbers and positions never need it."""
    return (
        f"{allele.translate(_ESCAPES)}|{'&'.join(e.terms)}|{e.impact}|{head}|{e.exon}|{e.intron}|"
        f"{e.hgvsc.translate(_ESCAPES) if e.hgvsc else ''}|{e.hgvsp.translate(_ESCAPES) if e.hgvsp else ''}|"
        f"{e.cdna_position}|{e.cds_position}|{e.protein_position}|"
        f"{e.amino_acids.translate(_ESCAPES) if e.amino_acids else ''}|"
        f"{e.codons.translate(_ESCAPES) if e.codons else ''}|{e.distance}|{tail}"
    )


def effect(
    tx: Transcript,
    pos: int,
    ref: bytes,
    alt: bytes,
    fetch: Fetch | None,
    window: int = 5000,
    end: int | None = None,
) -> Effect | None:
    """The effect of ALT on tx, or None when tx is farther than window (or ALT is REF).

    pos, ref, alt as in the VCF. Symbolic ALTs (<DEL>, <DUP>, <INS>, <CNV>, <INV>...) span pos+1..end;
    "*" (an allele deleted upstream) and breakends get location terms only. fetch: the contig's
    sequence, the same object on every call (the transcript's spliced sequence is cached against it),
    or None when the build has none.
    """
    if symbolic(alt):
        return _structural(tx, pos, ref, alt, end, window)
    if len(ref) == 1 and len(alt) == 1:
        ref, alt = ref.upper(), alt.upper()
        if ref == alt:
            return None
        start = pos
    else:
        start, ref, alt = trim(pos, ref.upper(), alt.upper())
        if not ref and not alt:
            return None
    stop = start + len(ref) - 1
    if stop < tx.exons[0][0] or start > tx.exons[-1][1]:
        return _flank(tx, start, stop, window)
    m = transcript_map(tx)
    if not alt and start <= tx.exons[0][0] and stop >= tx.exons[-1][1]:
        return _whole(m, "transcript_ablation")
    where = Location(m, start, stop, insertion=not ref)
    terms = where.terms
    coding = CodonEffect()
    if m.coding and where.in_cds:
        coding = codon_effect(m, start, stop, ref, alt, fetch, terms)
    ordered, impact = _ordered(terms)
    return Effect(
        terms=ordered,
        impact=impact,
        exon=where.exon,
        intron=where.intron,
        hgvsc=hgvs.hgvsc(m, start, stop, ref, alt, fetch),
        hgvsp=coding.hgvsp,
        cdna_position=where.cdna_position,
        cds_position=where.cds_position,
        protein_position=coding.protein_position,
        amino_acids=coding.amino_acids,
        codons=coding.codons,
    )


def _ordered(terms: set[str]) -> tuple[tuple[str, ...], str]:
    ordered = tuple(sorted(terms, key=RANK.__getitem__))
    return ordered, IMPACT[ordered[0]]


def _flank(tx: Transcript, start: int, stop: int, window: int) -> Effect | None:
    if stop < tx.exons[0][0]:
        distance, five_prime = tx.exons[0][0] - stop, tx.strand >= 0
    else:
        distance, five_prime = start - tx.exons[-1][1], tx.strand < 0
    if distance > window:
        return None
    term = "upstream_gene_variant" if five_prime else "downstream_gene_variant"
    return Effect(terms=(term,), impact="MODIFIER", distance=str(distance))


def _whole(m: TranscriptMap, term: str) -> Effect:
    n = len(m.starts)
    return Effect(
        terms=(term,),
        impact="HIGH",
        exon=f"1-{n}/{n}" if n > 1 else "1/1",
        intron=(f"1-{n - 1}/{n - 1}" if n > 2 else "1/1") if n > 1 else "",
    )


_SV_LOSS = ("DEL", "CNV:LOSS")
_SV_GAIN = ("DUP", "CNV:GAIN", "INS")


def _structural(
    tx: Transcript, pos: int, ref: bytes, alt: bytes, end: int | None, window: int
) -> Effect | None:
    """Symbolic alleles: VEP's structural-variant terms from the span alone, without HGVS or codons."""
    kind = alt[1:-1].decode().upper() if alt[:1] == b"<" else ""
    loss = kind.startswith(_SV_LOSS)
    gain = kind.startswith(_SV_GAIN)
    insertion = kind.startswith("INS")
    if alt == b"*":
        start, stop = pos, pos + max(len(ref), 1) - 1
    elif insertion:
        start, stop = pos + 1, pos
    elif kind:
        start, stop = pos + 1, max(end if end is not None else pos + 1, pos + 1)
    else:
        start, stop = pos, pos
    if stop < tx.exons[0][0] or start > tx.exons[-1][1]:
        return _flank(tx, start, stop, window)
    m = transcript_map(tx)
    if start <= tx.exons[0][0] and stop >= tx.exons[-1][1]:
        if loss:
            return _whole(m, "transcript_ablation")
        if gain and not insertion:
            return _whole(m, "transcript_amplification")
    where = Location(m, start, stop, insertion=insertion)
    terms = where.terms
    in_cdna = bool(where.exon)
    if in_cdna and loss:
        terms.add("feature_truncation")
    if in_cdna and gain and start >= tx.exons[0][0] and stop <= tx.exons[-1][1]:
        terms.add("feature_elongation")
    if m.coding and where.in_cds:
        assert tx.cds is not None
        cds_low, cds_high = tx.cds
        start_codon = (cds_low, cds_low + 2) if m.plus else (cds_high - 2, cds_high)
        stop_codon = (cds_high - 2, cds_high) if m.plus else (cds_low, cds_low + 2)
        if kind and overlap(start, stop, *start_codon) and tx.frame == 0 and not tx.frame_inferred:
            terms.add("start_lost")
        if loss and overlap(start, stop, *stop_codon):
            terms.add("stop_lost")
        in_one_exon = any(s <= start and stop <= e for s, e in tx.exons)
        if loss and in_one_exon and cds_low <= start and stop <= cds_high:
            terms.add("frameshift_variant" if (stop - start + 1) % 3 else "inframe_deletion")
        else:
            terms.add("coding_sequence_variant")
    ordered, impact = _ordered(terms)
    return Effect(
        terms=ordered,
        impact=impact,
        exon=where.exon,
        intron=where.intron,
        cdna_position=where.cdna_position,
        cds_position=where.cds_position,
    )
