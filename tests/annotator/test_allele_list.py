"""`annotator.allele_list` lists a record's ALT alleles exactly as `annotator.alleles` reads them
one at a time (the calculator's reference): state, trimmed span and REF/ALT, the CSQ Allele."""

from __future__ import annotations

import random

import numpy as np

from annotator.allele_list import CHANGE, NOCHANGE, SKIP, list_alleles
from annotator.alleles import symbolic, trim, vep_alleles

# (row, alt_no, state, symbolic, start, trimmed REF, trimmed ALT, CSQ Allele)
Allele = tuple[int, int, int, bool, int, bytes, bytes, bytes]


def _expected(pos: int, ref: bytes, alt_text: bytes) -> list[Allele]:
    """What the consequences op's per-record path reads of one record (row 0)."""
    alts = alt_text.split(b",")
    named = ref.isascii() and alt_text.isascii()
    names = vep_alleles(ref, alts) if named else [""] * len(alts)
    out = []
    for k, (name, alt) in enumerate(zip(names, alts, strict=True)):
        if alt == b"." or not named:
            out.append((0, k, SKIP, False, pos, b"", b"", name.encode()))
        elif symbolic(alt):
            out.append((0, k, CHANGE, True, pos, b"", b"", name.encode()))
        elif len(ref) == 1 and len(alt) == 1:
            r, x = ref.upper(), alt.upper()
            out.append((0, k, CHANGE if r != x else NOCHANGE, False, pos, r, x, name.encode()))
        else:
            start, r, x = trim(pos, ref.upper(), alt.upper())
            out.append((0, k, CHANGE if r or x else NOCHANGE, False, start, r, x, name.encode()))
    return out


def _listed(pos: int, ref: bytes, alt_text: bytes) -> list[Allele]:
    line = b"x\t" + ref + b"\t" + alt_text + b"\n"
    data = np.frombuffer(line, np.uint8)
    ra, aa = 2, 3 + len(ref)
    got = list_alleles(
        data, np.array([ra]), np.array([ra + len(ref)]), np.array([aa]), np.array([aa + len(alt_text)]),
        np.array([pos]),
    )  # fmt: skip
    return [
        (int(got.row[k]), int(got.alt_no[k]), int(got.state[k]), bool(got.symbolic[k]), int(got.start[k]),
         got.ref[k], got.alt[k], got.allele[k])
        for k in range(len(got.row))
    ]  # fmt: skip


CASES = [
    (b"A", b"G"), (b"a", b"g"), (b"A", b"A"), (b"A", b"."), (b"A", b"AT"), (b"AT", b"A"), (b"ACG", b"ATG"),
    (b"A", b"AT,G"), (b"AT", b"A,ATT"), (b"A", b"<DEL>"), (b"A", b"*,AT"), (b"A", b"G]17:198982]"),
    (b"A", b"[13:123457[A"), (b"A", b"T,<NON_REF>"), (b"GCA", b"GA,GCAA,."), (b"N", b"A"), (b"A", b"N"),
    (b"A", b"\xc3\xa9"), (b"AC", b"ac"), (b"ACGT", b"TGCA"), (b"A", b"A,A"), (b"CAG", b"CG|G"),
]  # fmt: skip


def test_known_cases_read_as_the_one_record_path_reads_them() -> None:
    """SNVs in any case, no change, ".", insertions, deletions, MNVs, multi-allelic mixes, symbolic
    and breakend ALTs, "*", N, non-ASCII alleles and junk that needs escaping later."""
    for ref, alt in CASES:
        assert _listed(100, ref, alt) == _expected(100, ref, alt), (ref, alt)


def test_random_records_read_as_the_one_record_path_reads_them() -> None:
    rng = random.Random(11)

    def seq(n: int) -> bytes:
        return bytes(rng.choice(b"ACGTacgtN") for _ in range(n))

    for _ in range(3000):
        ref = seq(rng.randint(1, 6))
        alts = []
        for _ in range(rng.randint(1, 3)):
            roll = rng.random()
            if roll < 0.1:
                alts.append(rng.choice([b".", b"*", b"<DEL>", b"<INS:ME>"]))
            elif roll < 0.5:
                alts.append(ref[:1] + seq(rng.randint(0, 4)))
            else:
                alts.append(seq(rng.randint(1, 6)))
        alt = b",".join(alts)
        assert _listed(5000, ref, alt) == _expected(5000, ref, alt), (ref, alt)


def test_many_records_at_once_keep_their_rows_in_order() -> None:
    lines = [(b"A", b"G,T"), (b"AT", b"A"), (b"C", b".")]
    data = b"".join(b"x\t" + r + b"\t" + a + b"\n" for r, a in lines)
    ref_at, ref_end, alt_at, alt_end, at = [], [], [], [], 0
    for r, a in lines:
        ref_at.append(at + 2)
        ref_end.append(at + 2 + len(r))
        alt_at.append(at + 3 + len(r))
        alt_end.append(at + 3 + len(r) + len(a))
        at += 4 + len(r) + len(a)
    spans = (np.array(v) for v in (ref_at, ref_end, alt_at, alt_end))
    got = list_alleles(np.frombuffer(data, np.uint8), *spans, np.array([10, 20, 30]))
    assert got.row.tolist() == [0, 0, 1, 2]
    assert got.alt_no.tolist() == [0, 1, 0, 0]
    assert got.state.tolist() == [CHANGE, CHANGE, CHANGE, SKIP]
    assert got.start.tolist() == [10, 10, 21, 30]
    assert [got.allele[k] for k in range(4)] == [b"G", b"T", b"-", b"."]
