"""Genetic codes and the small sequence helpers the consequence calculator needs.

Two NCBI translation tables: 1 (standard) and 2 (vertebrate mitochondrial:
AGA/AGG are stops, TGA is Trp, ATA is Met). Any codon holding a base other
than ACGT translates to "X", as VEP's peptides do.
"""

from __future__ import annotations

_BASES = "TCAG"
# NCBI's amino-acid strings, codons enumerated TTT, TTC, TTA, TTG, TCT, ... (T, C, A, G order).
_STANDARD_AAS = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
_MITO_AAS = "FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNKKSS**VVVVAAAADDEEGGGG"


def _table(aas: str) -> dict[bytes, str]:
    codons = [a + b + c for a in _BASES for b in _BASES for c in _BASES]
    return {codon.encode(): aa for codon, aa in zip(codons, aas, strict=True)}


STANDARD = _table(_STANDARD_AAS)
MITOCHONDRIAL = _table(_MITO_AAS)

THREE_LETTER = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu",
    "G": "Gly", "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe",
    "P": "Pro", "S": "Ser", "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "Ter",
    "X": "Xaa",
}  # fmt: skip

_COMPLEMENT = bytes.maketrans(b"ACGTNacgtn", b"TGCANtgcan")


def revcomp(seq: bytes) -> bytes:
    return seq.translate(_COMPLEMENT)[::-1]


def translate(seq: bytes, mito: bool = False) -> str:
    """One letter per whole codon, then "X" for a trailing partial codon (VEP's peptide for a frameshift)."""
    code = MITOCHONDRIAL if mito else STANDARD
    if len(seq) == 3:
        return code.get(seq, "X")
    whole = len(seq) - len(seq) % 3
    peptide = "".join([code.get(seq[i : i + 3], "X") for i in range(0, whole, 3)])
    return peptide + "X" if whole < len(seq) else peptide


def translate_to_stop(seq: bytes, mito: bool = False) -> str:
    """The peptide up to and including the first stop ("*"); the whole peptide when there is none."""
    code = MITOCHONDRIAL if mito else STANDARD
    out = []
    for i in range(0, len(seq) - 2, 3):
        aa = code.get(seq[i : i + 3], "X")
        out.append(aa)
        if aa == "*":
            break
    return "".join(out)


def three_letter(peptide: str) -> str:
    return "".join(THREE_LETTER[aa] for aa in peptide)
