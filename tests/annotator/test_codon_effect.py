"""Codon-level effects through the calculator: the mitochondrial code, cut first and last codons."""

from __future__ import annotations

from annotator.consequence import effect
from annotator.transcripts import Transcript

from .synthetic_genome import FRAME_GENOME, MT_GENOME, TX_FRAME, TX_MT, fetch_of

MT_FETCH = fetch_of(MT_GENOME)
TX_STANDARD = Transcript(**{**TX_MT.__dict__, "feature": "TXST", "mito": False})


def test_mitochondrial_code() -> None:
    """MT transcripts use the vertebrate mitochondrial code: TGA is Trp, ATA is Met, AGA/AGG stop."""
    # Codon 2 TGG at 6-8: 8 G>A makes TGA, Trp in the MT code, a stop in the standard one.
    mt = effect(TX_MT, 8, b"G", b"A", MT_FETCH)
    std = effect(TX_STANDARD, 8, b"G", b"A", MT_FETCH)
    assert mt is not None and std is not None
    assert (mt.terms, mt.hgvsp) == (("synonymous_variant",), "TXMT:p.Trp2=")
    assert (std.terms, std.hgvsp) == (("stop_gained",), "TXST:p.Trp2Ter")
    # Codon 3 ATG at 9-11: 11 G>A makes ATA, Met in the MT code, Ile in the standard one.
    mt = effect(TX_MT, 11, b"G", b"A", MT_FETCH)
    std = effect(TX_STANDARD, 11, b"G", b"A", MT_FETCH)
    assert mt is not None and std is not None
    assert (mt.terms, mt.hgvsp) == (("synonymous_variant",), "TXMT:p.Met3=")
    assert (std.terms, std.hgvsp) == (("missense_variant",), "TXST:p.Met3Ile")
    # The stop AGA at 15-17: AGG is still a stop; AAA (Lys) loses it, and no stop follows.
    retained = effect(TX_MT, 17, b"A", b"G", MT_FETCH)
    lost = effect(TX_MT, 16, b"G", b"A", MT_FETCH)
    assert retained is not None and lost is not None
    assert (retained.terms, retained.hgvsp) == (("stop_retained_variant",), "TXMT:p.Ter5=")
    assert (lost.terms, lost.hgvsp) == (("stop_lost",), "TXMT:p.Ter5LysextTer?")


def test_cds_without_atg_uses_the_frame() -> None:
    """A CDS whose first codon is cut (frame 1) reads codons from its frame; as in Ensembl, the cut
    codon is residue 1, so the first whole codon is residue 2."""
    fetch = fetch_of(FRAME_GENOME)
    # The CDS is C GCT TGG TAA from 3; 5 C>A turns GCT (A) into GAT (D): residue 2, CDS base 3.
    got = effect(TX_FRAME, 5, b"C", b"A", fetch)
    assert got is not None
    assert (got.terms, got.hgvsc, got.hgvsp) == (("missense_variant",), "TXF:c.3C>A", "TXF:p.Ala2Asp")
    assert got.protein_position == "2"
    # 4 G>A makes ACT (T): a missense, not start_lost (there is no start codon).
    got = effect(TX_FRAME, 4, b"G", b"A", fetch)
    assert got is not None and got.terms == ("missense_variant",)
    # Deleting TGG (7-9) shifts one base 3' (10 is T) to GGT, 8-10 = c.6_8del; the protein loses
    # Trp, residue 3 counted the same way by the whole-protein path.
    got = effect(TX_FRAME, 6, b"TTGG", b"T", fetch)
    assert got is not None
    assert (got.terms, got.hgvsc, got.hgvsp) == (("inframe_deletion",), "TXF:c.6_8del", "TXF:p.Trp3del")
    # The cut codon's own base has no codon to read.
    got = effect(TX_FRAME, 3, b"C", b"A", fetch)
    assert got is not None
    assert (got.terms, got.hgvsp, got.codons) == (("coding_sequence_variant",), "", "")


def test_incomplete_terminal_codon() -> None:
    """A CDS whose last codon is cut short: a variant there is incomplete_terminal_codon_variant."""
    # The same contig with the CDS ending one base before the stop: C GCT TGG TA.
    tx = Transcript(**{**TX_FRAME.__dict__, "cds": (3, 11)})
    got = effect(tx, 10, b"T", b"C", fetch_of(FRAME_GENOME))
    assert got is not None
    assert got.terms == ("incomplete_terminal_codon_variant", "coding_sequence_variant")
