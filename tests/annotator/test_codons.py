"""Genetic codes and translation."""

from __future__ import annotations

import numpy as np

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


def test_translate_to_stop_reads_in_chunks_as_codon_by_codon() -> None:
    """The chunked table lookups give what reading one codon at a time from the tables gives: stops
    before, at and after chunk edges (64, 320 codons), none at all, N and lower case as "X", both codes."""
    rng = np.random.default_rng(5)

    def by_codon(seq: bytes, mito: bool) -> str:
        code = MITOCHONDRIAL if mito else STANDARD
        out = []
        for i in range(0, len(seq) - 2, 3):
            out.append(code.get(seq[i : i + 3], "X"))
            if out[-1] == "*":
                break
        return "".join(out)

    sense = [c for c in STANDARD if STANDARD[c] != "*" and MITOCHONDRIAL[c] != "*"]
    for n in [0, 1, 2, 3, 4, 63, 64, 65, 191, 192, 193, 319, 320, 321, 1000, 1400]:
        for stop in (None, 0, n // 2, 63, 64, 319, 320, n - 1):
            codons = [sense[int(i)] for i in rng.integers(0, len(sense), n)]
            if stop is not None and 0 <= stop < n:
                codons[stop] = [b"TAA", b"TAG", b"TGA", b"AGA"][int(rng.integers(0, 4))]
            if rng.random() < 0.3 and n:
                codons[int(rng.integers(0, n))] = [b"NAA", b"acg", b"ATN"][int(rng.integers(0, 3))]
            seq = b"".join(codons) + b"GA"[: int(rng.integers(0, 3))]
            for mito in (False, True):
                assert translate_to_stop(seq, mito) == by_codon(seq, mito)
