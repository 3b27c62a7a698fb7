"""`annotator.indel_names` names every indel as `hgvs.shift` and `hgvs._name` do one at a time:
3' shifts on both strands bounded by the transcript and the contig, dups, ins, del, delins."""

from __future__ import annotations

import random

import numpy as np

from annotator.codons import revcomp
from annotator.hgvs import shift
from annotator.indel_names import name
from annotator.sequence import Sequence
from annotator.textjoin import Texts


def _one(seq: Sequence, contig: int, pl: bool, fx: int, lx: int, st: int, sp: int, ref: bytes, alt: bytes):
    """The per-indel path the batch path replaced (hgvs.hgvsc's shift and point choice)."""
    fetch = seq.fetcher(contig) if seq.has(contig) else None
    dup, f0, l0, was = False, 0, 0, st
    if fetch is not None and (not ref or not alt):
        st, sp, ref, alt = shift(pl, fx, lx, st, sp, ref, alt, fetch)
        if not ref:
            k = len(alt)
            f0, l0 = (sp - k + 1, sp) if pl else (st, st + k - 1)
            dup = f0 >= fx and l0 <= lx and fetch(f0, l0) == alt
    text = alt if pl else revcomp(alt)
    if dup:
        k = len(alt)
        one, pa, pb, sfx = k == 1, *((sp - k + 1, sp) if pl else (st + k - 1, st)), b"dup"
    elif not ref:
        one, pa, pb, sfx = False, *((sp, st) if pl else (st, sp)), b"ins" + text
    else:
        one, pa, pb, sfx = st == sp, *((st, sp) if pl else (sp, st)), b"delins" + text if alt else b"del"
    return pa, pb, one, abs(st - was), f0, l0, dup, sfx


def test_random_indels_on_a_repetitive_genome_name_as_hgvs_does() -> None:
    """Insertions and deletions in repeats (so they shift, up to the transcript's end or the contig's),
    delins, soft-masked bases, a contig without sequence; both strands."""
    rng = random.Random(5)
    contig0 = bytes(rng.choice(b"ACAC" if i % 50 < 30 else b"ACGTacgt") for i in range(3000))
    contig2 = b"CAG" * 400
    bases = np.frombuffer(contig0 + contig2, np.uint8).copy()
    seq = Sequence(bases, np.array([0, 0, len(contig0)]), np.array([len(contig0), 0, len(contig2)]))
    lengths = [len(contig0), 5000, len(contig2)]
    cases = []
    for _ in range(4000):
        c = rng.choice([0, 0, 1, 2])
        pos = rng.randint(1, lengths[c] - 10)
        kind = rng.random()
        if kind < 0.4:  # insertion after pos
            st, ref, alt = pos + 1, b"", bytes(rng.choice(b"ACGT") for _ in range(rng.randint(1, 4)))
            if rng.random() < 0.5 and c != 1:
                src = contig0 if c == 0 else contig2
                alt = src[pos - 1 : pos - 1 + rng.randint(1, 4)].upper() or b"A"
        else:
            k = rng.randint(1, 5)
            src = contig0 if c == 0 else contig2 if c == 2 else b"A" * 5000
            st, ref = pos, src[pos - 1 : pos - 1 + k].upper()
            alt = b"" if kind < 0.8 else bytes(rng.choice(b"ACGT") for _ in range(rng.randint(1, 3)))
        sp = st + len(ref) - 1
        fx = rng.randint(1, max(1, st - rng.choice([0, 3, 50, 2000])))
        lx = min(lengths[c] + rng.choice([0, 5]), sp + rng.choice([0, 2, 40, 3000]))
        cases.append((c, rng.random() < 0.5, fx, lx, st, sp, ref, alt))
    refs, alts = Texts.of([x[6] for x in cases]), Texts.of([x[7] for x in cases])
    at = np.arange(len(cases))
    col = [np.array([x[i] for x in cases]) for i in range(6)]
    got = name(seq, col[0], col[1].astype(bool), col[2], col[3], col[4], col[5], refs, at, alts, at)
    shifted = 0
    for k, case in enumerate(cases):
        want = _one(seq, *case)
        have = (int(got.a[k]), int(got.b[k]), bool(got.single[k]), int(got.moved[k]), int(got.dup_first[k]),
                int(got.dup_last[k]), bool(got.dup[k]), got.suffix[k])  # fmt: skip
        assert have == want, case
        shifted += want[3] > 0
    assert shifted > 500  # the shifts were exercised
