"""The HGVSc points and suffix of many insertions and deletions at once (compiled), as `hgvs.hgvsc`
names one: with a genome sequence a pure insertion or deletion is first moved 3' along its
transcript (`hgvs.shift`: at most `hgvs.SHIFT_LIMIT` bases, and none when that stretch is not all
on the contig's sequence), and an insertion of the bases just 5' of it is a dup; then `hgvs._name`'s
two points (one when `single`) and the text after them (``dup``, ``insACG``, ``del``, ``delinsT``,
the bases on the transcript's strand). tests/annotator/test_indel_names.py holds it to `hgvs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from annotator.hgvs import SHIFT_LIMIT
from annotator.sequence import Sequence
from annotator.textjoin import Texts

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
Bool = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Named:
    """Per indel: HGVS's two points, `single`, bases moved 3', the span a dup repeats and `dup`,
    and the suffix text (unescaped)."""

    a: I64
    b: I64
    single: Bool
    moved: I64
    dup_first: I64
    dup_last: I64
    dup: Bool
    suffix: Texts


def name(
    genome: Sequence, contig: I64, plus: Bool, tx_first: I64, tx_last: I64, start: I64, stop: I64,
    ref: Texts, ref_at: I64, alt: Texts, alt_at: I64,
) -> Named:  # fmt: skip
    """Indel k: REF ref[ref_at[k]] spanning start..stop (stop = start - 1 for an insertion), ALT
    alt[alt_at[k]], on a transcript of strand plus[k] spanning tx_first..tx_last of contig[k]."""
    out = _name(
        genome.bases, genome.start, genome.length, contig, plus.astype(np.uint8), tx_first, tx_last, start,
        stop, ref.data, ref.off, ref_at, alt.data, alt.off, alt_at, SHIFT_LIMIT,
    )  # fmt: skip
    a, b, single, moved, f0, l0, dup, s_data, s_off = out
    return Named(a, b, single.astype(bool), moved, f0, l0, dup.astype(bool), Texts(s_data, s_off))


@numba.njit(cache=True, nogil=True)  # type: ignore[misc]
def _comp(c: int) -> int:  # pragma: no cover - compiled
    """codons.revcomp's complement: ACGTN either case; anything else stays."""
    for src, dst in ((65, 84), (67, 71), (71, 67), (84, 65), (97, 116), (99, 103), (103, 99), (116, 97)):
        if c == src:
            return dst
    return c


@numba.njit(cache=True, nogil=True)  # type: ignore[misc]
def _name(  # type: ignore[no-untyped-def]
    bases, seq_start, seq_len, contig, plus, fx, lx, start, stop, rd, ro, ri, xd, xo, xi, limit_max
):  # pragma: no cover - compiled
    n = len(contig)
    a = np.zeros(n, np.int64)
    b = np.zeros(n, np.int64)
    single = np.zeros(n, np.uint8)
    moved = np.zeros(n, np.int64)
    f0 = np.zeros(n, np.int64)
    l0 = np.zeros(n, np.int64)
    dup = np.zeros(n, np.uint8)
    s_off = np.zeros(n + 1, np.int64)
    size, longest = 0, 1
    for k in range(n):
        size += 6 + xo[xi[k] + 1] - xo[xi[k]]
        longest = max(longest, xo[xi[k] + 1] - xo[xi[k]], ro[ri[k] + 1] - ro[ri[k]])
    s_data = np.empty(size, np.uint8)
    moving = np.empty(longest, np.uint8)
    q = 0
    for k in range(n):
        st, sp, pl = start[k], stop[k], plus[k] == 1
        r_lo, r_hi = ro[ri[k]], ro[ri[k] + 1]
        x_lo, x_hi = xo[xi[k]], xo[xi[k] + 1]
        r_len, x_len = r_hi - r_lo, x_hi - x_lo
        c = contig[k]
        length = seq_len[c] if 0 <= c < len(seq_len) else 0
        off = seq_start[c] if length > 0 else 0
        # The bases that move: REF of a deletion, ALT of an insertion (hgvs.shift's `moving`).
        m = 0
        if r_len > 0:
            for j in range(r_lo, r_hi):
                moving[m] = rd[j]
                m += 1
        else:
            for j in range(x_lo, x_hi):
                moving[m] = xd[j]
                m += 1
        was = st
        shifts = length > 0 and (r_len == 0 or x_len == 0)
        if shifts:
            if pl:
                limit = min(lx[k] - max(st, sp), limit_max)
                lo_b, hi_b = sp + 1, sp + limit
            else:
                limit = min(min(st, sp) - fx[k], limit_max)
                lo_b, hi_b = st - limit, st - 1
            # fetch: nothing unless the whole stretch is on the contig's sequence
            if limit > 0 and 1 <= lo_b and hi_b <= length and lo_b <= hi_b:
                steps = 0
                span = hi_b - lo_b + 1
                if pl:
                    while steps < span and bases[off + lo_b - 1 + steps] == moving[steps % m]:
                        steps += 1
                else:
                    while steps < span and bases[off + hi_b - 1 - steps] == moving[m - 1 - steps % m]:
                        steps += 1
                if steps:
                    r = steps % m
                    if r:
                        tmp = moving[:m].copy()
                        for j in range(m):
                            # plus: moving[r:] + moving[:r]; minus: moving[-r:] + moving[:-r]
                            moving[j] = tmp[(j + r) % m] if pl else tmp[(j - r) % m]
                    if pl:
                        st, sp = st + steps, sp + steps
                    else:
                        st, sp = st - steps, sp - steps
        moved[k] = abs(st - was)
        # The ALT text after the shift (REF's is `moving` for a deletion).
        is_dup = False
        if r_len == 0 and shifts:
            kk = m
            first, last = (sp - kk + 1, sp) if pl else (st, st + kk - 1)
            f0[k], l0[k] = first, last
            if shifts and first >= fx[k] and last <= lx[k] and 1 <= first and last <= length:
                is_dup = True
                for j in range(kk):
                    if bases[off + first - 1 + j] != moving[j]:
                        is_dup = False
                        break
        dup[k] = is_dup
        # The suffix, the bases on the transcript's strand.
        if is_dup:
            kk = m
            single[k] = kk == 1
            a[k], b[k] = (sp - kk + 1, sp) if pl else (st + kk - 1, st)
            for ch in (100, 117, 112):  # "dup"
                s_data[q] = ch
                q += 1
        else:
            if r_len == 0:
                single[k] = False
                a[k], b[k] = (sp, st) if pl else (st, sp)
                for ch in (105, 110, 115):  # "ins"
                    s_data[q] = ch
                    q += 1
                t_lo, t_len, src_moving = 0, m, True
            else:
                single[k] = st == sp
                a[k], b[k] = (st, sp) if pl else (sp, st)
                for ch in (100, 101, 108):  # "del"
                    s_data[q] = ch
                    q += 1
                if x_len > 0:
                    for ch in (105, 110, 115):  # "ins"
                        s_data[q] = ch
                        q += 1
                t_lo, t_len, src_moving = x_lo, x_len, False
            for j in range(t_len):
                jj = j if pl else t_len - 1 - j
                ch = moving[jj] if src_moving else xd[t_lo + jj]
                s_data[q] = ch if pl else _comp(ch)
                q += 1
        s_off[k + 1] = q
    return a, b, single, moved, f0, l0, dup, s_data[:q].copy(), s_off
