"""The genome sequence as the engine reads it: fetch by 1-based closed range, and the
vectorised REF comparison of a batch (multi-base REFs, case, N and IUPAC codes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from annotator import reference
from annotator.sequence import Sequence, differs, reverse_complement

# contig 0: ACGTACGTNN, contig 1: no sequence, contig 2: GGGCCC
SEQ = Sequence(
    np.frombuffer(b"ACGTACGTNNGGGCCC", np.uint8),
    np.array([0, 0, 10], np.int64),
    np.array([10, 0, 6], np.int64),
)


def test_fetch_is_one_based_closed_and_empty_outside() -> None:
    """fetch(c, s, e) gives bases s..e; anything not wholly on the contig's sequence is b""."""
    assert SEQ.fetch(0, 1, 4) == b"ACGT"
    assert SEQ.fetch(2, 6, 6) == b"C"
    assert SEQ.fetch(0, 9, 10) == b"NN"
    assert SEQ.fetch(0, 10, 11) == b""  # past the end
    assert SEQ.fetch(0, 0, 2) == b""
    assert SEQ.fetch(0, 3, 2) == b""
    assert SEQ.fetch(1, 1, 1) == b""  # a contig without sequence
    assert SEQ.fetch(7, 1, 1) == b""  # no such contig
    assert SEQ.fetcher(2)(1, 3) == b"GGG"
    assert SEQ.fetcher(2) is SEQ.fetcher(2)  # transcript maps cache spliced sequence against it
    assert [SEQ.has(c) for c in (-1, 0, 1, 2, 3)] == [False, True, False, True, False]


def _check(rows: list[tuple[int, int, bytes]]) -> tuple[list[bool], list[bool]]:
    text = b"".join(r for _, _, r in rows)
    lengths = np.array([len(r) for _, _, r in rows], np.int64)
    at = np.cumsum(lengths) - lengths
    checked, mismatch = SEQ.ref_mismatch(
        np.array([c for c, _, _ in rows], np.int64),
        np.array([p for _, p, _ in rows], np.int64),
        np.frombuffer(text, np.uint8),
        at,
        lengths,
    )
    return checked.tolist(), mismatch.tolist()


def test_ref_mismatch_single_bases() -> None:
    """A 1-base REF differs when both it and the genome are definite bases; case is ignored,
    N or an IUPAC code on either side never differs, and rows off the sequence are not checked."""
    checked, mismatch = _check(
        [(0, 1, b"A"), (0, 2, b"G"), (0, 3, b"g"), (0, 9, b"A"), (0, 4, b"R"), (1, 1, b"A"), (0, 11, b"A"),
         (-1, 1, b"A"), (2, 4, b"c")]
    )
    assert checked == [True, True, True, True, True, False, False, False, True]
    assert mismatch == [False, True, False, False, False, False, False, False, False]


def test_ref_mismatch_multi_base() -> None:
    """A longer REF differs when any of its bases does; one running past the end is not checked."""
    checked, mismatch = _check([(0, 1, b"ACGT"), (0, 1, b"ACGA"), (2, 3, b"GCCC"), (2, 3, b"GCCCA"),
                                (0, 7, b"GTAC"), (0, 5, b"A")])
    assert checked == [True, True, True, False, True, True]
    assert mismatch == [False, True, False, False, False, False]


def test_reverse_complement_and_differs() -> None:
    """IUPAC-aware reverse complement (case kept, "*" kept); `differs` ignores N and case."""
    assert reverse_complement(b"ACGTNRYacgt*") == b"*acgtRYNACGT"
    assert not differs(b"ACGT", b"acgt")
    assert not differs(b"ANGT", b"ACGT")
    assert differs(b"ACGA", b"ACGT")


def test_index_without_sequence_has_none(reference_root: Path) -> None:
    """A loaded index answers for every contig; the default GRCh37 has the rCRS and nothing else."""
    ref = reference.load(reference_root, "GRCh37")
    seq = Sequence.of(ref)
    assert seq.has(ref.contig_index("MT"))
    assert not seq.has(ref.contig_index("1"))
    assert seq.fetch(ref.contig_index("chrM"), 1, 9) == b"GATCACAGG"
    assert Sequence.of(ref) is seq  # made once per process and reference
