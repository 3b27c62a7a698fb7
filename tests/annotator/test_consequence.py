"""The consequence calculator on hand-written transcripts (see synthetic_genome.py for the layout)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from annotator.consequence import (
    IMPACT,
    TERMS,
    Effect,
    csq_entry,
    effect,
    most_severe,
)
from annotator.transcripts import CSQ_FIELDS, Transcript

from .synthetic_genome import FETCH, TXM, TXN, TXP


@dataclass(frozen=True)
class Case:
    tx: Transcript
    pos: int
    ref: str
    alt: str
    terms: tuple[str, ...]
    hgvsc: str = ""
    hgvsp: str = ""
    more: dict[str, str] = field(default_factory=dict)


# Each case names the codon and base it changes; positions are read off synthetic_genome.py.
CASES = {
    # Codon 3 CGT (R) at 77-79; 77 C>T makes TGT (C). c.7 = 77 - 71 + 1.
    "missense": Case(
        TXP, 77, "C", "T", ("missense_variant",), "TXP:c.7C>T", "TXP:p.Arg3Cys",
        {"codons": "Cgt/Tgt", "amino_acids": "R/C", "protein_position": "3", "cds_position": "7",
         "cdna_position": "17", "exon": "1/3", "impact": "MODERATE"},
    ),
    # 79 T>C: CGT -> CGC, still Arg.
    "synonymous": Case(
        TXP, 79, "T", "C", ("synonymous_variant",), "TXP:c.9T>C", "TXP:p.Arg3=",
        {"codons": "cgT/cgC", "amino_acids": "R"},
    ),
    # Codon 4 TGG (W) at 80-82; 81 G>A makes TAG, a stop.
    "stop_gained": Case(
        TXP, 81, "G", "A", ("stop_gained",), "TXP:c.11G>A", "TXP:p.Trp4Ter",
        {"amino_acids": "W/*", "codons": "tGg/tAg"},
    ),
    # The start codon ATG at 71-73; 72 T>C makes ACG.
    "start_lost": Case(TXP, 72, "T", "C", ("start_lost",), "TXP:c.2T>C", "TXP:p.Met1?"),
    # The stop TAA at 199-201; 199 T>C makes CAA (Q). Read on through the 3' UTR: CAA GGA TTC TAG,
    # so Gln17 is followed by Gln Gly Phe and a stop 4 codons past the old one.
    "stop_lost": Case(TXP, 199, "T", "C", ("stop_lost",), "TXP:c.49T>C", "TXP:p.Ter17GlnextTer4"),
    # 201 A>G: TAA -> TAG, still a stop.
    "stop_retained": Case(
        TXP, 201, "A", "G", ("stop_retained_variant",), "TXP:c.51A>G", "TXP:p.Ter17="
    ),
    # Intron 1 starts at 91 (G of GT); exon 1's last base 90 is c.20.
    "splice_donor": Case(
        TXP, 91, "G", "A", ("splice_donor_variant",), "TXP:c.20+1G>A", "", {"intron": "1/2"}
    ),
    # Intron 1 ends at 130 (AG at 129-130); exon 2's first base 131 is c.21.
    "splice_acceptor": Case(TXP, 129, "A", "G", ("splice_acceptor_variant",), "TXP:c.21-2A>G"),
    # 95 is the donor's 5th intronic base (GTAAG: the G).
    "donor_5th_base": Case(
        TXP, 95, "G", "C", ("splice_donor_5th_base_variant", "intron_variant"), "TXP:c.20+5G>C"
    ),
    # 93 is +3 (the first A of GTAAG): VEP's donor region is +3..+6.
    "donor_region": Case(
        TXP, 93, "A", "G", ("splice_donor_region_variant", "intron_variant"), "TXP:c.20+3A>G"
    ),
    # 97 is +7: splice region (3-8 intronic bases), nothing more specific.
    "splice_region_intronic": Case(
        TXP, 97, "A", "G", ("splice_region_variant", "intron_variant"), "TXP:c.20+7A>G"
    ),
    # 126 is -5 before exon 2: splice region and the polypyrimidine tract (-3..-17).
    "polypyrimidine_tract": Case(
        TXP, 126, "T", "G",
        ("splice_region_variant", "splice_polypyrimidine_tract_variant", "intron_variant"),
        "TXP:c.21-5T>G",
    ),
    # 110 is 20 bases after exon 1 and 21 before exon 2: the nearer edge names it.
    "intron_nearer_5p": Case(TXP, 110, "C", "T", ("intron_variant",), "TXP:c.20+20C>T"),
    # 111 is 21 after exon 1 and 20 before exon 2.
    "intron_nearer_3p": Case(TXP, 111, "T", "C", ("intron_variant",), "TXP:c.21-20T>C"),
    # 90 is exon 1's last base (T of codon 7's CT|G): exonic splice region; CTG -> CAG (Q).
    "splice_region_exonic": Case(
        TXP, 90, "T", "A", ("missense_variant", "splice_region_variant"), "TXP:c.20T>A", "TXP:p.Leu7Gln",
        {"codons": "cTg/cAg"},
    ),
    # 131, exon 2's first base, completes codon 7 CTG; G>A makes CTA, still Leu.
    "splice_region_synonymous": Case(
        TXP, 131, "G", "A", ("splice_region_variant", "synonymous_variant"), "TXP:c.21G>A", "TXP:p.Leu7=",
    ),
    # 65 is the 5th UTR base; the CDS starts at cDNA 11, so c.-6.
    "five_prime_utr": Case(
        TXP, 65, "C", "T", ("5_prime_UTR_variant",), "TXP:c.-6C>T", "", {"cdna_position": "5"}
    ),
    # 205 is the 4th base after the stop (202 C, 203 A, 204 A, 205 G).
    "three_prime_utr": Case(TXP, 205, "G", "A", ("3_prime_UTR_variant",), "TXP:c.*4G>A"),
    # 61 and 240 are exon edges that are the transcript's own ends: no splice region there.
    "transcript_start_no_splice": Case(TXP, 61, "G", "A", ("5_prime_UTR_variant",), "TXP:c.-10G>A"),
    "transcript_end_no_splice": Case(TXP, 240, "G", "A", ("3_prime_UTR_variant",), "TXP:c.*39G>A"),
    # 40 is 21 bases before the plus-strand transcript's start.
    "upstream": Case(TXP, 40, "G", "A", ("upstream_gene_variant",), "", "", {"distance": "21"}),
    "downstream": Case(TXP, 300, "G", "A", ("downstream_gene_variant",), "", "", {"distance": "60"}),
    # Deleting one A of AAA (codon 5, 83-85) shifts 3' to 85 (86 is G): c.15del. The new frame
    # reads AAG AGC ...: Lys5 survives, Glu6 becomes Ser, and no stop follows in the transcript.
    "frameshift_deletion": Case(
        TXP, 82, "GA", "G", ("frameshift_variant",), "TXP:c.15del", "TXP:p.Glu6SerfsTer?",
        {"codons": "Aaa/aa", "amino_acids": "K/X", "cds_position": "13", "protein_position": "5"},
    ),
    # T inserted after 77 (C of codon 3 CGT): 78 is G so no shift, 77 is C so no dup. The new
    # frame reads CTG TTG GAA AGA ... and meets TAA at codon 27: Arg3Leu, stop 25 codons on.
    "frameshift_insertion": Case(
        TXP, 77, "C", "CT", ("frameshift_variant",), "TXP:c.7_8insT", "TXP:p.Arg3LeufsTer25",
        {"codons": "cgt/cTgt", "amino_acids": "R/LX", "cds_position": "7-8"},
    ),
    # Codons 11-12 are AAA AAA (141-146); deleting 141-143 shifts 3' to 144-146 (c.34_36);
    # the protein loses the second Lys (3' rule): p.Lys12del. Codons/positions are VEP's, unshifted.
    "inframe_deletion": Case(
        TXP, 140, "CAAA", "C", ("inframe_deletion",), "TXP:c.34_36del", "TXP:p.Lys12del",
        {"codons": "AAA/-", "amino_acids": "K/-", "protein_position": "11", "cds_position": "31-33"},
    ),
    # GCT inserted after 149 repeats codon 13 (GCT, 147-149): a dup c.37_39dup / p.Ala13dup. The
    # insertion point (149|150) is within 3 bases of intron 2: splice region too.
    "inframe_insertion_dup": Case(
        TXP, 149, "T", "TGCT", ("inframe_insertion", "splice_region_variant"), "TXP:c.37_39dup",
        "TXP:p.Ala13dup", {"codons": "-/GCT", "amino_acids": "-/A", "protein_position": "13-14"},
    ),
    # Minus strand: t12 is the A of codon 2 AAG (K), genomic 476 - 12 = 464 holds T. T>G there
    # is A>C on the transcript: CAG (Q).
    "minus_missense": Case(
        TXM, 464, "T", "G", ("missense_variant",), "TXM:c.4A>C", "TXM:p.Lys2Gln",
        {"codons": "Aag/Cag", "cdna_position": "12"},
    ),
    # t57, the A of codon 7 AGA (R), is genomic 419 (T); T>A makes TGA.
    "minus_stop_gained": Case(TXM, 419, "T", "A", ("stop_gained",), "TXM:c.19A>T", "TXM:p.Arg7Ter"),
    # t21, the G of the intron's GT, is genomic 455 (C); exon 1 ends at c.12.
    "minus_splice_donor": Case(TXM, 455, "C", "G", ("splice_donor_variant",), "TXM:c.12+1G>C"),
    # t49, the A of the intron's AG, is genomic 427 (T); exon 2 starts at c.13.
    "minus_splice_acceptor": Case(TXM, 427, "T", "C", ("splice_acceptor_variant",), "TXM:c.13-2A>G"),
    # The intron's t25 (+5, the G of GTAAG) is genomic 451 (C).
    "minus_donor_5th_base": Case(
        TXM, 451, "C", "T", ("splice_donor_5th_base_variant", "intron_variant"), "TXM:c.12+5G>A"
    ),
    # t23 (+3, A) is genomic 453 (T).
    "minus_donor_region": Case(
        TXM, 453, "T", "C", ("splice_donor_region_variant", "intron_variant"), "TXM:c.12+3A>G"
    ),
    # t40 (T), 11 before exon 2 (t51) and 20 after exon 1 (t20), is genomic 436 (A): the
    # polypyrimidine tract (-3..-17) but not the splice region (-3..-8).
    "minus_polypyrimidine_tract": Case(
        TXM, 436, "A", "G", ("splice_polypyrimidine_tract_variant", "intron_variant"), "TXM:c.13-11T>C"
    ),
    # t3 (A) is genomic 473; the CDS starts at t9, so c.-6.
    "minus_five_prime_utr": Case(TXM, 473, "T", "C", ("5_prime_UTR_variant",), "TXM:c.-6A>G"),
    # t70 (C) is genomic 406; the stop ends at t68, so c.*2.
    "minus_three_prime_utr": Case(TXM, 406, "G", "A", ("3_prime_UTR_variant",), "TXM:c.*2C>T"),
    # Upstream of a minus-strand transcript is past its genomic end (475).
    "minus_upstream": Case(TXM, 480, "G", "C", ("upstream_gene_variant",), "", "", {"distance": "5"}),
    "minus_downstream": Case(TXM, 395, "A", "C", ("downstream_gene_variant",), "", "", {"distance": "6"}),
    # Deleting genomic 415 (t61, the first C of TCC, codon 8) shifts 3' on the transcript to t62 =
    # c.24. TCC -> TCG keeps Ser8; Asp9 becomes Thr (ACT) and no stop follows.
    "minus_frameshift_deletion": Case(
        TXM, 414, "GG", "G", ("frameshift_variant",), "TXM:c.24del", "TXM:p.Asp9ThrfsTer?",
        {"cds_position": "23", "codons": "tCc/tc"},
    ),
    # T inserted between genomic 422 and 423 is an A between t53 and t54: GAA + A repeats t53,
    # so c.15dup. The frame then reads ACT GAG ... (Leu6Thr) with no stop in the transcript.
    "minus_insertion_dup": Case(
        TXM, 422, "G", "GT", ("frameshift_variant",), "TXM:c.15dup", "TXM:p.Leu6ThrfsTer?",
        {"codons": "-/A", "protein_position": "5-6"},
    ),
    # CG>TT at 77-78: codon 3 CGT -> TTT (F); two bases changed is a delins in HGVSc.
    "mnv_missense": Case(
        TXP, 77, "CG", "TT", ("missense_variant",), "TXP:c.7_8delinsTT", "TXP:p.Arg3Phe",
        {"codons": "CGt/TTt", "cds_position": "7-8"},
    ),
    # TAA inserted inside codon 4 (T G|TAA|G -> TGT AAG): Trp4 becomes Cys Lys, a length change
    # that neither keeps Trp at an end nor shifts the frame: VEP's protein_altering_variant.
    "protein_altering": Case(
        TXP, 81, "G", "GTAA", ("protein_altering_variant",), "TXP:c.11_12insTAA", "TXP:p.Trp4delinsCysLys",
        {"amino_acids": "W/CK", "codons": "tgg/tgTAAg"},
    ),
    # TAG inserted between codons 4 and 5 (82|83): a stop after Trp4, in frame. 83 is A, so no shift.
    "stop_inserted": Case(
        TXP, 82, "G", "GTAG", ("stop_gained", "inframe_insertion"), "TXP:c.12_13insTAG",
        "TXP:p.Trp4_Lys5insTer", {"amino_acids": "-/*", "codons": "-/TAG"},
    ),
    # AAA inserted in AAA (codon 5, 83-85) shifts to 85|86 and repeats 83-85: c.13_15dup, p.Lys5dup.
    "inframe_dup_shifted": Case(
        TXP, 84, "A", "AAAA", ("inframe_insertion",), "TXP:c.13_15dup", "TXP:p.Lys5dup",
    ),
    # TGG deleted from ATG GCC (72-74) leaves ACC: VEP calls this an inframe_deletion, not start_lost
    # (VariationEffect.pm: start_lost excludes inframe indels); without its ATG the protein is p.Met1?.
    "start_codon_deleted": Case(TXP, 71, "ATGG", "A", ("inframe_deletion",), "TXP:c.2_4del", "TXP:p.Met1?"),
    # GCA inserted after 72 shifts one base (73 is G) to CAG between 73 and 74: ATG CAG GCC keeps
    # the start and adds Gln.
    "start_retained": Case(
        TXP, 72, "T", "TGCA", ("inframe_insertion", "start_retained_variant"), "TXP:c.3_4insCAG",
        "TXP:p.Met1_Ala2insGln",
    ),
    # Non-coding transcript: exon 1 base 5 and intron 1 (20 after exon 1's end, n.30).
    "noncoding_exon": Case(TXN, 65, "C", "T", ("non_coding_transcript_exon_variant",), "TXN:n.5C>T"),
    "noncoding_intron": Case(
        TXN, 110, "C", "T", ("intron_variant", "non_coding_transcript_variant"), "TXN:n.30+20C>T"
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", CASES)
def test_case(name: str) -> None:
    """Each term, HGVS name and codon field of a hand-checked variant on the synthetic transcripts."""
    case = CASES[name]
    got = effect(case.tx, case.pos, case.ref.encode(), case.alt.encode(), FETCH)
    assert got is not None
    assert got.terms == case.terms
    assert got.hgvsc == case.hgvsc
    assert got.hgvsp == case.hgvsp
    for key, value in case.more.items():
        assert getattr(got, key) == value, key


def test_without_sequence_only_sequence_free_terms() -> None:
    """With no genome sequence: no codon terms, no HGVSp/Codons/Amino_acids; HGVSc unshifted."""
    missense = effect(TXP, 77, b"C", b"T", None)
    assert missense is not None
    assert missense.terms == ("coding_sequence_variant",)
    assert (missense.hgvsc, missense.hgvsp, missense.codons, missense.amino_acids) == (
        "TXP:c.7C>T",
        "",
        "",
        "",
    )
    # Frameshift vs inframe needs only lengths; HGVSc stays where the VCF put it (83 = c.13).
    frameshift = effect(TXP, 82, b"GA", b"G", None)
    inframe = effect(TXP, 140, b"CAAA", b"C", None)
    insertion = effect(TXP, 149, b"T", b"TGCT", None)
    assert frameshift is not None and inframe is not None and insertion is not None
    assert (frameshift.terms, frameshift.hgvsc) == (("frameshift_variant",), "TXP:c.13del")
    assert (inframe.terms, inframe.hgvsc) == (("inframe_deletion",), "TXP:c.31_33del")
    assert (insertion.terms[0], insertion.hgvsc) == ("inframe_insertion", "TXP:c.39_40insGCT")
    donor = effect(TXP, 91, b"G", b"A", None)
    assert donor is not None and donor.terms == ("splice_donor_variant",)


def test_window() -> None:
    """A transcript farther than the window gives None; at the window's edge it is still up/downstream."""
    assert effect(TXP, 40, b"G", b"A", FETCH, window=20) is None
    edge = effect(TXP, 40, b"G", b"A", FETCH, window=21)
    assert edge is not None and edge.terms == ("upstream_gene_variant",)


def test_ref_equal_alt_is_no_variant() -> None:
    """REF == ALT (or ALT equal after trimming) has no effect."""
    assert effect(TXP, 77, b"C", b"C", FETCH) is None
    assert effect(TXP, 77, b"CG", b"CG", FETCH) is None


def test_shared_padding_is_trimmed() -> None:
    """A SNV written with shared flanking bases (CGT>TGT) is the same as C>T at 77."""
    padded = effect(TXP, 77, b"CGT", b"TGT", FETCH)
    plain = effect(TXP, 77, b"C", b"T", FETCH)
    assert padded == plain


def test_symbolic_alleles() -> None:
    """<DEL>/<DUP>/<INS>/* get VEP's structural terms from their span, with no HGVS."""
    ablation = effect(TXP, 49, b"N", b"<DEL>", FETCH, end=250)
    assert ablation is not None and ablation.terms == ("transcript_ablation",)
    amplification = effect(TXP, 40, b"N", b"<DUP>", FETCH, end=300)
    assert amplification is not None and amplification.terms == ("transcript_amplification",)
    # 100-140: the end of intron 1 (acceptor, polypyrimidine tract) and exon 2's first 10 bases.
    partial = effect(TXP, 99, b"N", b"<DEL>", FETCH, end=140)
    assert partial is not None
    assert partial.terms == (
        "splice_acceptor_variant",
        "feature_truncation",
        "splice_polypyrimidine_tract_variant",
        "coding_sequence_variant",
        "intron_variant",
    )
    assert (partial.hgvsc, partial.exon, partial.intron, partial.cdna_position) == ("", "2/3", "1/2", "?-40")
    # A 3 bp deletion inside exon 3's CDS (196-198): inframe by its length.
    inframe = effect(TXP, 195, b"N", b"<DEL>", FETCH, end=198)
    assert inframe is not None and inframe.terms == ("feature_truncation", "inframe_deletion")
    elongation = effect(TXP, 195, b"N", b"<DUP>", FETCH, end=197)
    assert elongation is not None and elongation.terms == ("feature_elongation", "coding_sequence_variant")
    star = effect(TXP, 77, b"C", b"*", FETCH)
    assert star is not None and star.terms == ("coding_sequence_variant",) and star.hgvsc == ""


def test_severity_and_impact_tables() -> None:
    """VEP's ranks and impacts: the table is ordered, complete and has intergenic_variant."""
    assert len(TERMS) == len(set(TERMS)) == len(IMPACT)
    assert TERMS[0] == "transcript_ablation" and IMPACT["transcript_ablation"] == "HIGH"
    assert IMPACT["missense_variant"] == "MODERATE"
    assert IMPACT["splice_region_variant"] == "LOW"
    assert IMPACT["intergenic_variant"] == "MODIFIER"
    assert most_severe(["intron_variant", "splice_region_variant", "missense_variant"]) == "missense_variant"
    assert most_severe(["stop_gained", "frameshift_variant"]) == "stop_gained"


def test_csq_entry_fields_and_escaping() -> None:
    """One CSQ entry has every CSQ_FIELDS value in order; , ; = | and spaces are escaped as VEP does."""
    got = effect(TXP, 77, b"C", b"T", FETCH)
    assert got is not None
    entry = csq_entry("T", TXP, got)
    values = dict(zip(CSQ_FIELDS, entry.split("|"), strict=True))
    assert values["Consequence"] == "missense_variant"
    assert values["STRAND"] == "1" and values["CANONICAL"] == "YES" and values["MANE_SELECT"] == "NM_000001.1"
    assert values["Feature_type"] == "Transcript" and values["BIOTYPE"] == "protein_coding"
    odd = Transcript(**{**TXP.__dict__, "gene": "A,B;C=D|E F"})
    two = Effect(terms=("missense_variant", "splice_region_variant"), impact="MODERATE")
    values = dict(zip(CSQ_FIELDS, csq_entry("T", odd, two).split("|"), strict=True))
    assert values["SYMBOL"] == "A&B%3BC%3DD&E_F"
    assert values["Consequence"] == "missense_variant&splice_region_variant"


def test_nmd_transcript() -> None:
    """A nonsense_mediated_decay transcript adds NMD_transcript_variant to whatever else a variant does."""
    nmd = Transcript(**{**TXP.__dict__, "biotype": "nonsense_mediated_decay"})
    got = effect(nmd, 77, b"C", b"T", FETCH)
    assert got is not None and got.terms == ("missense_variant", "NMD_transcript_variant")
    deep = effect(nmd, 110, b"C", b"T", FETCH)
    assert deep is not None and deep.terms == ("intron_variant", "NMD_transcript_variant")
