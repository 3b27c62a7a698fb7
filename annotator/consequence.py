"""Consequences of one ALT allele on one transcript, as Ensembl VEP defines them.

The terms, their order and IMPACT are VEP's (ensembl-variation
Utils/Constants.pm); the predicates follow Utils/VariationEffect.pm and
BaseTranscriptVariationAllele::_intron_effects: splice donor/acceptor are the
2 intronic bases next to an exon, splice_donor_5th_base / splice_donor_region
(+3..+6) / polypyrimidine tract (-3..-17) / splice_region (3-8 intronic, 1-3
exonic) around them, up/downstream within the window, UTR side by the CDS.
Only introns between two exons have splice sites: a transcript's own ends have
none. Terms that need codons (missense, synonymous, stop and start terms) and
Codons, Amino_acids and HGVSp are computed only when a genome sequence is
given; without one a coding change is coding_sequence_variant (frameshift and
inframe indels are told apart by length alone).

Variants come VCF-style and are trimmed to their minimal form (common prefix,
then suffix: VEP's --minimal), so a multi-allelic record's ALTs are judged
apart; consequences use that position, HGVSc the position 3'-shifted along the
transcript's strand (up to 1 kb, pure insertions and deletions only, as VEP).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from annotator import hgvs
from annotator.codons import revcomp, translate, translate_to_stop
from annotator.transcript_map import TranscriptMap, transcript_map
from annotator.transcripts import CSQ_FIELDS, Fetch, Transcript

# VEP's consequence ranks (Constants.pm), most severe first.
SEVERITY: tuple[str, ...] = (
    "transcript_ablation",
    "splice_acceptor_variant",
    "splice_donor_variant",
    "stop_gained",
    "frameshift_variant",
    "stop_lost",
    "start_lost",
    "transcript_amplification",
    "feature_elongation",
    "feature_truncation",
    "inframe_insertion",
    "inframe_deletion",
    "missense_variant",
    "protein_altering_variant",
    "splice_donor_5th_base_variant",
    "splice_region_variant",
    "splice_donor_region_variant",
    "splice_polypyrimidine_tract_variant",
    "incomplete_terminal_codon_variant",
    "start_retained_variant",
    "stop_retained_variant",
    "synonymous_variant",
    "coding_sequence_variant",
    "mature_miRNA_variant",
    "5_prime_UTR_variant",
    "3_prime_UTR_variant",
    "non_coding_transcript_exon_variant",
    "intron_variant",
    "NMD_transcript_variant",
    "non_coding_transcript_variant",
    "coding_transcript_variant",
    "upstream_gene_variant",
    "downstream_gene_variant",
    "TFBS_ablation",
    "TFBS_amplification",
    "TF_binding_site_variant",
    "regulatory_region_ablation",
    "regulatory_region_amplification",
    "regulatory_region_variant",
    "intergenic_variant",
    "sequence_variant",
)
_HIGH = SEVERITY[:10]
_MODERATE = (*SEVERITY[10:14], "TFBS_ablation")
_LOW = SEVERITY[14:22]
IMPACT: dict[str, str] = {
    **dict.fromkeys(SEVERITY, "MODIFIER"),
    **dict.fromkeys(_LOW, "LOW"),
    **dict.fromkeys(_MODERATE, "MODERATE"),
    **dict.fromkeys(_HIGH, "HIGH"),
}
_RANK = {term: rank for rank, term in enumerate(SEVERITY)}

# VEP looks this far for a 3' shift (TranscriptVariationAllele::_genomic_shift).
_SHIFT_LIMIT = 1000


def most_severe(terms: tuple[str, ...] | list[str]) -> str:
    return min(terms, key=_RANK.__getitem__)


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


def vep_alleles(ref: bytes, alts: list[bytes]) -> list[str]:
    """The CSQ Allele of each ALT of a record, as VEP writes it: when REF and every sequence ALT start with
    the same base (and one of them is longer than it), that base is dropped from all, "-" for nothing left.
    Symbolic ALTs and "*" stay as written."""
    sequences = [alt for alt in alts if not _symbolic(alt)]
    first = ref[:1].upper()
    shared = all(alt[:1].upper() == first for alt in sequences) and any(
        len(allele) > 1 for allele in (ref, *sequences)
    )
    return [
        alt.decode() if _symbolic(alt) else (alt[1:] if shared else alt).decode().upper() or "-"
        for alt in alts
    ]


def _symbolic(alt: bytes) -> bool:
    return alt[:1] == b"<" or alt == b"*" or b"[" in alt or b"]" in alt


_ESCAPES = str.maketrans({",": "&", "|": "&", ";": "%3B", "=": "%3D", " ": "_", "\t": "_", "\n": "_"})


def csq_entry(allele: str, tx: Transcript, e: Effect) -> str:
    """One CSQ entry, its values in CSQ_FIELDS order, each made safe for a VCF INFO value."""
    values = {
        "Allele": allele,
        "Consequence": "&".join(e.terms),
        "IMPACT": e.impact,
        "SYMBOL": tx.gene,
        "Gene": tx.gene_id,
        "Feature_type": "Transcript",
        "Feature": tx.feature,
        "BIOTYPE": tx.biotype,
        "EXON": e.exon,
        "INTRON": e.intron,
        "HGVSc": e.hgvsc,
        "HGVSp": e.hgvsp,
        "cDNA_position": e.cdna_position,
        "CDS_position": e.cds_position,
        "Protein_position": e.protein_position,
        "Amino_acids": e.amino_acids,
        "Codons": e.codons,
        "DISTANCE": e.distance,
        "STRAND": str(tx.strand),
        "CANONICAL": "YES" if tx.canonical else "",
        "MANE_SELECT": tx.mane_select,
    }
    return "|".join(values[name].translate(_ESCAPES) for name in CSQ_FIELDS)


def trim(pos: int, ref: bytes, alt: bytes) -> tuple[int, bytes, bytes]:
    """Drop the bases REF and ALT share, first at the start (moving pos), then at the end."""
    n, most = 0, min(len(ref), len(alt))
    while n < most and ref[n] == alt[n]:
        n += 1
    ref, alt, pos = ref[n:], alt[n:], pos + n
    k, most = 0, min(len(ref), len(alt))
    while k < most and ref[-1 - k] == alt[-1 - k]:
        k += 1
    if k:
        ref, alt = ref[:-k], alt[:-k]
    return pos, ref, alt


def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    # VEP's overlap(): an insertion (start = end + 1) overlaps a feature holding both its flanks.
    return a_end >= b_start and a_start <= b_end


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
    if _symbolic(alt):
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
    where = _Where(m, start, stop, insertion=not ref)
    terms = where.terms
    coding = _Coding()
    if m.coding and where.in_cds:
        coding = _coding(m, start, stop, ref, alt, fetch, terms)
    ordered, impact = _ordered(terms)
    return Effect(
        terms=ordered,
        impact=impact,
        exon=where.exon,
        intron=where.intron,
        hgvsc=_hgvsc(m, start, stop, ref, alt, fetch),
        hgvsp=coding.hgvsp,
        cdna_position=where.cdna_position,
        cds_position=where.cds_position,
        protein_position=coding.protein_position,
        amino_acids=coding.amino_acids,
        codons=coding.codons,
    )


def _ordered(terms: set[str]) -> tuple[tuple[str, ...], str]:
    ordered = tuple(sorted(terms, key=_RANK.__getitem__))
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


class _Where:
    """Where a variant falls on a transcript it overlaps: exons, introns, splice sites, UTRs."""

    __slots__ = ("cdna_position", "cds_position", "exon", "in_cds", "intron", "terms")

    def __init__(self, m: TranscriptMap, start: int, stop: int, insertion: bool) -> None:
        tx = m.tx
        terms: set[str] = set()
        starts, ends = m.starts, m.ends
        n = len(starts)
        if start == stop:
            exons_hit, introns_hit, flags = _one_base(m, start)
        else:
            exons_hit, introns_hit, flags = _span(m, start, stop, insertion)
        donor, acceptor, fifth, donor_region, tract, region, intronic = flags
        if acceptor:
            terms.add("splice_acceptor_variant")
        if donor:
            terms.add("splice_donor_variant")
        if fifth:
            terms.add("splice_donor_5th_base_variant")
        elif donor_region:
            terms.add("splice_donor_region_variant")
        if tract:
            terms.add("splice_polypyrimidine_tract_variant")
        if region and not (donor or acceptor or donor_region or fifth):
            terms.add("splice_region_variant")
        if intronic:
            terms.add("intron_variant")
        self.exon = _numbers(exons_hit, n, m.plus)
        self.intron = _numbers(introns_hit, n - 1, m.plus)

        in_cdna = bool(exons_hit)
        self.in_cds = False
        if m.coding:
            assert tx.cds is not None
            cds_low, cds_high = tx.cds
            if in_cdna:
                self.in_cds = any(
                    _overlap(start, stop, max(starts[i], cds_low), min(ends[i], cds_high)) for i in exons_hit
                )
                before = (insertion and start == cds_low) or _overlap(start, stop, starts[0], cds_low - 1)
                after = (insertion and stop == cds_high) or _overlap(start, stop, cds_high + 1, ends[-1])
                if before:
                    terms.add("5_prime_UTR_variant" if m.plus else "3_prime_UTR_variant")
                if after:
                    terms.add("3_prime_UTR_variant" if m.plus else "5_prime_UTR_variant")
        elif in_cdna:
            terms.add("non_coding_transcript_exon_variant")
        else:
            terms.add("non_coding_transcript_variant")
        if tx.biotype == "nonsense_mediated_decay":
            terms.add("NMD_transcript_variant")

        self.cdna_position = self.cds_position = ""
        if in_cdna:
            five, three = (m.cdna(start), m.cdna(stop)) if m.plus else (m.cdna(stop), m.cdna(start))
            self.cdna_position = _positions(five, three)
            if self.in_cds:
                self.cds_position = _positions(_cds(m, five), _cds(m, three))
        self.terms = terms


_Flags = tuple[bool, bool, bool, bool, bool, bool, bool]


def _one_base(m: TranscriptMap, g: int) -> tuple[list[int], list[int], _Flags]:
    """_span for a single base, by its offsets from the edges of its exon or intron (the common case)."""
    starts, ends = m.starts, m.ends
    i = bisect_right(starts, g) - 1
    if g <= ends[i]:
        # Exonic: only the 1-3 bases next to an intron are a splice region.
        region = (i > 0 and g - starts[i] < 3) or (i < len(starts) - 1 and ends[i] - g < 3)
        return [i], [], (False, False, False, False, False, region, False)
    from_start, from_end = g - ends[i] - 1, starts[i + 1] - 1 - g
    if from_start > 16 and from_end > 16:
        return [], [i], (False, False, False, False, False, False, True)
    low_site, high_site = from_start <= 1, from_end <= 1
    donor_side, acceptor_side = (from_start, from_end) if m.plus else (from_end, from_start)
    return (
        [],
        [i],
        (
            low_site if m.plus else high_site,
            high_site if m.plus else low_site,
            donor_side == 4,
            2 <= donor_side <= 5,
            2 <= acceptor_side <= 16,
            not (low_site or high_site) and (from_start <= 7 or from_end <= 7),
            from_start >= 2 and from_end >= 2,
        ),
    )


def _span(m: TranscriptMap, start: int, stop: int, insertion: bool) -> tuple[list[int], list[int], _Flags]:
    """The exons and introns start..stop overlaps, and VEP's splice flags for it (_intron_effects):
    donor, acceptor, donor 5th base, donor region, polypyrimidine tract, splice region, intronic."""
    starts, ends = m.starts, m.ends
    n = len(starts)
    lo, hi = (stop, start) if insertion else (start, stop)
    first = max(0, bisect_right(starts, lo) - 1)
    exons_hit = []
    i = first
    while i < n and starts[i] <= hi:
        if _overlap(start, stop, starts[i], ends[i]):
            exons_hit.append(i)
        i += 1
    introns_hit = []
    donor = acceptor = fifth = donor_region = tract = region = intronic = False
    i = max(0, first - 1)
    while i < n - 1 and ends[i] + 1 - 3 <= hi:
        s, e = ends[i] + 1, starts[i + 1] - 1
        i += 1
        if e < s or e + 3 < lo:
            continue
        if _overlap(start, stop, s, e):
            introns_hit.append(i - 1)
        if _overlap(start, stop, s + 2, e - 2) or (insertion and (start == s + 2 or stop == e - 2)):
            intronic = True
        low_site, high_site = _overlap(start, stop, s, s + 1), _overlap(start, stop, e - 1, e)
        if m.plus:
            donor |= low_site
            acceptor |= high_site
            fifth |= _overlap(start, stop, s + 4, s + 4)
            donor_region |= _overlap(start, stop, s + 2, s + 5)
            tract |= _overlap(lo, hi, e - 16, e - 2)
        else:
            donor |= high_site
            acceptor |= low_site
            fifth |= _overlap(start, stop, e - 4, e - 4)
            donor_region |= _overlap(start, stop, e - 5, e - 2)
            tract |= _overlap(lo, hi, s + 2, s + 16)
        if not (low_site or high_site):
            region |= _splice_region(start, stop, s, e, insertion)
    return exons_hit, introns_hit, (donor, acceptor, fifth, donor_region, tract, region, intronic)


def _splice_region(start: int, stop: int, s: int, e: int, insertion: bool) -> bool:
    """3-8 bases into intron s..e or 1-3 into the exon, at either end (VEP's _intron_overlap)."""
    return (
        _overlap(start, stop, s + 2, s + 7)
        or _overlap(start, stop, e - 7, e - 2)
        or _overlap(start, stop, s - 3, s - 1)
        or _overlap(start, stop, e + 1, e + 3)
        or (insertion and (start == s or stop == e or start == s + 2 or stop == e - 2))
    )


def _numbers(indexes: list[int], total: int, plus: bool) -> str:
    """EXON/INTRON: the features' numbers from the transcript's 5' end (indexes ascend in genomic order)."""
    if not indexes:
        return ""
    if plus:
        low, high = indexes[0] + 1, indexes[-1] + 1
    else:
        low, high = total - indexes[-1], total - indexes[0]
    return f"{low}/{total}" if low == high else f"{low}-{high}/{total}"


def _cds(m: TranscriptMap, c: int | None) -> int | None:
    if c is None or c < m.cds_start or c > m.cds_end:
        return None
    return c - m.cds_start + 1


def _positions(five: int | None, three: int | None) -> str:
    """VEP's position field: 12, 12-14, an insertion's two flanks 12-13, "?" for an end off the feature."""
    if five is not None and three is not None:
        low, high = min(five, three), max(five, three)
        return str(low) if low == high else f"{low}-{high}"
    if five is None and three is None:
        return ""
    return f"?-{three}" if five is None else f"{five}-?"


@dataclass(slots=True)
class _Coding:
    hgvsp: str = ""
    protein_position: str = ""
    amino_acids: str = ""
    codons: str = ""


def _coding(
    m: TranscriptMap, start: int, stop: int, ref: bytes, alt: bytes, fetch: Fetch | None, terms: set[str]
) -> _Coding:
    """Adds the coding terms of a variant touching the CDS; returns its codon-level fields."""
    tx = m.tx
    insertion = not ref
    five, three = (m.cdna(start), m.cdna(stop)) if m.plus else (m.cdna(stop), m.cdna(start))
    a, b = _cds(m, five), _cds(m, three)
    whole = a is not None and b is not None and (b == a - 1 if insertion else b - a + 1 == len(ref))
    if not whole or a is None or b is None:
        # Part of it lies in an intron or a UTR: VEP cannot map its codons either.
        terms.add("coding_sequence_variant")
        return _Coding()
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
        f"{first + pad}-{first + 1 + pad}" if between else _positions(first + 1 + pad, last + 1 + pad)
    )
    shift = len(alt) - len(ref)
    if min(a, b + 1 if insertion else b) - 1 - frame < 0:
        terms.add("coding_sequence_variant")
        return _Coding()
    if codon_end > length:
        terms.add("incomplete_terminal_codon_variant")
        terms.add("coding_sequence_variant")
        return _Coding()
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
        return _Coding(protein_position=protein_position)

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

    overlaps_start = frame == 0 and _overlap(a, b, 1, 3)
    overlaps_stop = (
        _overlap(a, b, length - 2, length)
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
    return _Coding(protein, protein_position, amino_acids, codons)


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
    length = m.cds_end - m.cds_start + 1
    reference = pad + translate_to_stop(seq[o + frame : o + length], mito)
    altered = reference[: residue - 1] + translate_to_stop(
        seq[o + frame + 3 * first : o + a - 1] + alt_tx + seq[o + b :], mito
    )
    growth = (len(alt_tx) - (b - a + 1)) // 3
    between = a == b + 1 and (a - 1 - frame) % 3 == 0
    return hgvs.protein_change(feature, reference, altered, residue - 1, frameshift, growth, between)


def _hgvsc(m: TranscriptMap, start: int, stop: int, ref: bytes, alt: bytes, fetch: Fetch | None) -> str:
    tx = m.tx
    if start < tx.exons[0][0] or stop > tx.exons[-1][1]:
        return ""
    dup = False
    if fetch is not None and (not ref or not alt):
        start, stop, ref, alt = _shift(m, start, stop, ref, alt, fetch)
        if not ref:
            k = len(alt)
            first, last = (stop - k + 1, stop) if m.plus else (start, start + k - 1)
            dup = first >= tx.exons[0][0] and last <= tx.exons[-1][1] and fetch(first, last) == alt
    if not m.plus:
        ref, alt = revcomp(ref), revcomp(alt)
    return hgvs.hgvsc(m, start, stop, ref, alt, dup)


def _shift(
    m: TranscriptMap, start: int, stop: int, ref: bytes, alt: bytes, fetch: Fetch
) -> tuple[int, int, bytes, bytes]:
    """Move a pure insertion or deletion 3' along the transcript while the sequence allows (HGVS)."""
    moving = ref or alt
    tx_start, tx_end = m.tx.exons[0][0], m.tx.exons[-1][1]
    if m.plus:
        limit = min(tx_end - max(start, stop), _SHIFT_LIMIT)
        ahead = fetch(stop + 1, stop + limit) if limit > 0 else b""
        n = 0
        while n < len(ahead) and ahead[n] == moving[n % len(moving)]:
            n += 1
        if n:
            k = n % len(moving)
            moving = moving[k:] + moving[:k]
            start, stop = start + n, stop + n
    else:
        limit = min(min(start, stop) - tx_start, _SHIFT_LIMIT)
        behind = fetch(start - limit, start - 1) if limit > 0 else b""
        n = 0
        while n < len(behind) and behind[-1 - n] == moving[-1 - n % len(moving)]:
            n += 1
        if n:
            k = n % len(moving)
            moving = moving[-k:] + moving[:-k] if k else moving
            start, stop = start - n, stop - n
    return (start, stop, moving, b"") if ref else (start, stop, b"", moving)


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
    where = _Where(m, start, stop, insertion=insertion)
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
        if kind and _overlap(start, stop, *start_codon) and tx.frame == 0:
            terms.add("start_lost")
        if loss and _overlap(start, stop, *stop_codon):
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
