"""Genetic codes and translation."""

from __future__ import annotations

from annotator.codons import MITOCHONDRIAL, STANDARD, revcomp, three_letter, translate, translate_to_stop


def test_tables_differ_exactly_where_the_mitochondrial_code_does() -> None:
    """NCBI table 2 differs from table 1 at AGA, AGG (stops), ATA (Met) and TGA (Trp) only."""
    differ = {
        codon: (STANDARD[codon], MITOCHONDRIAL[codon])
        for codon in STANDARD
        if STANDARD[codon] != MITOCHONDRIAL[codon]
    }
    assert differ == {b"AGA": ("R", "*"), b"AGG": ("R", "*"), b"ATA": ("I", "M"), b"TGA": ("*", "W")}
    assert len(STANDARD) == 64 and STANDARD[b"ATG"] == "M" and STANDARD[b"TAA"] == "*"


def test_translate_marks_partial_codons_and_unknown_bases() -> None:
    """A trailing partial codon reads "X" (VEP's frameshift peptide); a codon with an N reads "X"."""
    assert translate(b"ATGAAA") == "MK"
    assert translate(b"ATGAA") == "MX"
    assert translate(b"ANG") == "X"
    assert translate(b"TGA", mito=True) == "W"
    assert translate(b"") == ""


def test_translate_to_stop() -> None:
    """Translation stops at (and keeps) the first stop; none found gives the whole peptide."""
    assert translate_to_stop(b"ATGTAAGGG") == "M*"
    assert translate_to_stop(b"ATGGGGC") == "MG"
    assert translate_to_stop(b"ATGAGAAAA", mito=True) == "M*"


def test_revcomp_and_three_letter() -> None:
    """Reverse complement keeps N; three-letter names are HGVS's, Ter for the stop."""
    assert revcomp(b"ATGCN") == b"NGCAT"
    assert three_letter("MW*") == "MetTrpTer"
