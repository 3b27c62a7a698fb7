"""Genetic codes and the small sequence helpers the consequence calculator needs.

Two NCBI translation tables: 1 (standard) and 2 (vertebrate mitochondrial:
AGA/AGG are stops, TGA is Trp, ATA is Met). Any codon holding a base other
than ACGT translates to "X", as VEP's peptides do.
"""

from __future__ import annotations

import numpy as np

_BASES = "TCAG"
# NCBI's amino-acid strings, codons enumerated TTT, TTC, TTA, TTG, TCT, ... (T, C, A, G order).
_STANDARD_AAS = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
_MITO_AAS = "FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNKKSS**VVVVAAAADDEEGGGG"


def _table(aas: str) -> dict[bytes, str]:
    codons = [a + b + c for a in _BASES for b in _BASES for c in _BASES]
    return {codon.encode(): aa for codon, aa in zip(codons, aas, strict=True)}


STANDARD = _table(_STANDARD_AAS)
MITOCHONDRIAL = _table(_MITO_AAS)

# translate_to_stop's lookups: A/C/G/T to 0-3 and any other byte (N, lower case: not a key of the
# tables above) to 4, then each code's residue by 25*b1 + 5*b2 + b3, "X" wherever a 4 is.
_CODE = np.full(256, 4, np.int64)
_CODE[list(b"ACGT")] = np.arange(4)
_BY_CODE = np.full((2, 125), ord("X"), np.uint8)
for _k, _code in enumerate((STANDARD, MITOCHONDRIAL)):
    for _codon, _aa in _code.items():
        _BY_CODE[_k, 25 * _CODE[_codon[0]] + 5 * _CODE[_codon[1]] + _CODE[_codon[2]]] = ord(_aa)
_STOP = ord("*")

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
    """The peptide up to and including the first stop ("*"); the whole peptide when there is none.

    Read in chunks of codons, growing, each translated by table lookups over its bytes: a frameshift's
    HGVSp translates a whole CDS and then reads through the 3' UTR, where a stop usually comes soon."""
    table = _BY_CODE[1 if mito else 0]
    whole = len(seq) - len(seq) % 3
    bases = np.frombuffer(seq, np.uint8, whole)
    out = []
    at, chunk = 0, 3 * 64
    while at < whole:
        c = _CODE[bases[at : at + chunk]]
        peptide = table[25 * c[0::3] + 5 * c[1::3] + c[2::3]]
        stop = np.flatnonzero(peptide == _STOP)
        if len(stop):
            out.append(peptide[: stop[0] + 1].tobytes())
            break
        out.append(peptide.tobytes())
        at, chunk = at + chunk, 4 * chunk
    return b"".join(out).decode()


def three_letter(peptide: str) -> str:
    return "".join(THREE_LETTER[aa] for aa in peptide)
