"""HGVSp from whole peptides (the HGVSc forms are checked through the calculator in test_consequence)."""

from __future__ import annotations

from annotator.hgvs import extension, protein_change, substitution

REF = "MKKAEW*"


def change(alt: str, at: int, frameshift: bool = False, growth: int = 0, between: bool = False) -> str:
    return protein_change("T1", REF, alt, at, frameshift, growth, between)


def test_substitutions() -> None:
    """Missense, nonsense and synonymous changes of one residue."""
    assert change("MKKVEW*", 3) == "T1:p.Ala4Val"
    assert change("MKK*", 3) == "T1:p.Ala4Ter"
    assert change(REF, 3) == "T1:p.Ala4="
    assert substitution("T1", "*", "*", 7) == "T1:p.Ter7="


def test_deletions_take_the_3prime_most_copy() -> None:
    """Deleting either Lys of KK names the second (HGVS's 3' rule); runs name first and last residue."""
    assert change("MKAEW*", 1, growth=-1) == "T1:p.Lys3del"
    assert change("MEW*", 1, growth=-3) == "T1:p.Lys2_Ala4del"


def test_insertions_and_duplications() -> None:
    """An insertion repeating the residues before it is a dup; otherwise ins between its flanks."""
    assert change("MKKKAEW*", 1, growth=1, between=True) == "T1:p.Lys3dup"
    assert change("MKKAKAEW*", 1, growth=2, between=True) == "T1:p.Lys3_Ala4dup"
    assert change("MKKAGEW*", 3, growth=1, between=True) == "T1:p.Ala4_Glu5insGly"
    # An insertion of a stop between codons names what is inserted up to the stop.
    assert change("MKKAG*", 3, growth=2, between=True) == "T1:p.Ala4_Glu5insGlyTer"


def test_delins() -> None:
    """Residues replaced by others of another number: delins over the replaced run."""
    assert change("MKKGGW*", 3, growth=0) == "T1:p.Ala4_Glu5delinsGlyGly"
    assert change("MKKGGEW*", 3, growth=1) == "T1:p.Ala4delinsGlyGly"


def test_frameshifts() -> None:
    """The first changed residue, its replacement and the new stop counted from it; ? when none."""
    assert change("MKKGLR*", 3, frameshift=True) == "T1:p.Ala4GlyfsTer4"
    assert change("MKKGLR", 3, frameshift=True) == "T1:p.Ala4GlyfsTer?"
    assert change("MKK*", 3, frameshift=True) == "T1:p.Ala4Ter"
    # The frame may keep a few residues before it changes: name the first that differs.
    assert change("MKKAEL*", 2, frameshift=True) == "T1:p.Trp6LeufsTer2"


def test_stop_loss_extension() -> None:
    """A lost stop: the new residue and how many codons past the old stop the new one is."""
    assert change("MKKAEWQGF*", 6) == "T1:p.Ter7GlnextTer3"
    assert change("MKKAEWQGF", 6) == "T1:p.Ter7GlnextTer?"
    assert extension("T1", 7, "Q", None) == "T1:p.Ter7GlnextTer?"
