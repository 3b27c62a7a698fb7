"""VCF alleles as VEP reads them: minimal trimming, the CSQ Allele, symbolic ALTs."""

from __future__ import annotations


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


def vep_alleles(ref: bytes, alts: list[bytes]) -> list[str]:
    """The CSQ Allele of each ALT of a record, as VEP writes it: when REF and every sequence ALT start with
    the same base (and one of them is longer than it), that base is dropped from all, "-" for nothing left.
    Symbolic ALTs and "*" stay as written."""
    sequences = [alt for alt in alts if not symbolic(alt)]
    first = ref[:1].upper()
    shared = all(alt[:1].upper() == first for alt in sequences) and any(
        len(allele) > 1 for allele in (ref, *sequences)
    )
    return [
        alt.decode() if symbolic(alt) else (alt[1:] if shared else alt).decode().upper() or "-"
        for alt in alts
    ]


def symbolic(alt: bytes) -> bool:
    return alt[:1] == b"<" or alt == b"*" or b"[" in alt or b"]" in alt
