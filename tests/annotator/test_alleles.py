"""VCF alleles as VEP reads them."""

from __future__ import annotations

from annotator.alleles import symbolic, trim, vep_alleles


def test_trim_drops_shared_prefix_then_suffix() -> None:
    """The minimal form: shared leading bases move the position, then shared trailing bases go."""
    assert trim(10, b"CGT", b"TGT") == (10, b"C", b"T")
    assert trim(10, b"GA", b"G") == (11, b"A", b"")
    assert trim(10, b"T", b"TGCT") == (11, b"", b"GCT")
    # Prefix first: AT>AAT is an A inserted after the first A, not before the T.
    assert trim(10, b"AT", b"AAT") == (11, b"", b"A")


def test_vep_alleles() -> None:
    """The CSQ Allele: VEP drops the first base only when REF and every ALT share it, "-" when empty."""
    assert vep_alleles(b"C", [b"T"]) == ["T"]
    assert vep_alleles(b"GA", [b"G"]) == ["-"]
    assert vep_alleles(b"T", [b"TGCT"]) == ["GCT"]
    # Only the first base goes (VEP without --minimal): CA>CAA is A>AA, so "AA".
    assert vep_alleles(b"CA", [b"CAA", b"C"]) == ["AA", "-"]
    # One ALT not sharing the first base keeps every allele whole.
    assert vep_alleles(b"CA", [b"C", b"TA"]) == ["C", "TA"]
    assert vep_alleles(b"N", [b"<DEL>", b"*"]) == ["<DEL>", "*"]


def test_symbolic() -> None:
    """Symbolic ALTs, the upstream-deletion allele and breakends are not sequences."""
    assert symbolic(b"<DEL>") and symbolic(b"*") and symbolic(b"G]17:198982]")
    assert not symbolic(b"GA")
