"""The build's genome sequence as the engine reads it: slices of one memory map.

`annotator.fasta` decodes the sequence into the index at install (upper case,
one byte a base, each contig's offset and length beside it); contigs no
source had have length 0 and no sequence. Positions are 1-based and closed,
on the plus strand, as in a VCF.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from annotator.transcripts import Fetch

if TYPE_CHECKING:  # reference imports liftover, which imports this module
    from annotator.reference import Reference

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
U8 = npt.NDArray[np.uint8]

# Only a definite base disagrees with another: N and the other IUPAC codes
# (and "*", "-") in either the genome or a REF never count as a mismatch.
_DEFINITE = np.zeros(256, bool)
_DEFINITE[list(b"ACGT")] = True
_UPPER = np.uint8(0xDF)  # clears bit 5: ASCII letters to upper case
_COMPLEMENT = bytes.maketrans(b"ACGTRYKMBVDHNacgtrykmbvdhn", b"TGCAYRMKVBHDNtgcayrmkvbhdn")


def differs(a: bytes, b: bytes) -> bool:
    """Two alleles of one length differ at a definite base (case ignored)."""
    return any(x != y and _DEFINITE[x] and _DEFINITE[y] for x, y in zip(a.upper(), b.upper(), strict=True))


def reverse_complement(bases: bytes) -> bytes:
    """IUPAC-aware; anything else ("*", ".") is kept as it is."""
    return bases.translate(_COMPLEMENT)[::-1]


class Sequence:
    """The genome sequence of one build (possibly of some contigs only, or none)."""

    def __init__(self, bases: U8, start: I64, length: I64):
        self.bases, self.start, self.length = bases, start, length
        self._fetchers: dict[int, Fetch] = {}

    @classmethod
    def of(cls, ref: Reference) -> Sequence:
        """The reference's sequence, made once per process and reference."""
        seq: Sequence | None = ref.cache.get("sequence")
        if seq is None:
            a: dict[str, npt.NDArray[Any]] = ref.arrays
            if "seq_bases" in a:
                # Plain ndarray views: np.memmap's Python-level indexing costs microseconds a call.
                seq = cls(np.asarray(a["seq_bases"]), np.asarray(a["seq_start"]), np.asarray(a["seq_length"]))
            else:
                n = len(ref.contig_names)
                seq = cls(np.zeros(0, np.uint8), np.zeros(n, np.int64), np.zeros(n, np.int64))
            ref.cache["sequence"] = seq
        return seq

    def any(self) -> bool:
        return bool(self.length.any())

    def has(self, contig: int) -> bool:
        return 0 <= contig < len(self.length) and bool(self.length[contig])

    def fetch(self, contig: int, start: int, end: int) -> bytes:
        """Bases start..end (1-based, closed); b"" unless the whole range is on the contig's sequence."""
        if not self.has(contig) or start < 1 or end < start or end > self.length[contig]:
            return b""
        offset = int(self.start[contig])
        return self.bases[offset + start - 1 : offset + end].tobytes()

    def fetcher(self, contig: int) -> Fetch:
        """The contig's fetch, the same object every call (what is cached against it stays valid)."""
        got = self._fetchers.get(contig)
        if got is None:
            got = self._fetchers[contig] = lambda start, end: self.fetch(contig, start, end)
        return got

    def covered(self, contig: I64, start: I64, end: I64) -> Bool:
        """Rows whose whole span start..end lies on their contig's sequence."""
        c = np.maximum(contig, 0)
        return (contig >= 0) & (contig < len(self.length)) & (start >= 1) & (end >= start) & (
            end <= self.length[np.minimum(c, len(self.length) - 1)]
        )

    def ref_mismatch(self, contig: I64, pos: I64, text: U8, ref_at: I64, ref_len: I64) -> tuple[Bool, Bool]:
        """(checked, mismatch) per row: checked where the REF (``text[ref_at : ref_at + ref_len]``,
        as written at POS) lies on the sequence; mismatch where a base of it is a definite
        base that differs from the genome's (case ignored)."""
        checked = self.covered(contig, pos, pos + ref_len - 1) & (ref_len > 0)
        mismatch = np.zeros(len(pos), bool)
        rows = np.flatnonzero(checked)
        if not len(rows):
            return checked, mismatch
        length = ref_len[rows]
        genome_at = self.start[contig[rows]] + pos[rows] - 1
        if (length == 1).all():  # SNVs and the like: no per-base expansion needed
            g = self.bases[genome_at]
            r = text[ref_at[rows]] & _UPPER
            mismatch[rows] = _DEFINITE[g] & _DEFINITE[r] & (g != r)
            return checked, mismatch
        row_of = np.repeat(np.arange(len(rows)), length)
        within = np.arange(len(row_of)) - np.repeat(np.cumsum(length) - length, length)
        g = self.bases[genome_at[row_of] + within]
        r = text[ref_at[rows][row_of] + within] & _UPPER
        bad = _DEFINITE[g] & _DEFINITE[r] & (g != r)
        mismatch[rows] = np.bincount(row_of[bad], minlength=len(rows)) > 0
        return checked, mismatch
