"""Every ALT allele of many records at once, read as `annotator.alleles` reads one (compiled).

The consequences op pairs each ALT allele with the transcripts near its record; for a batch's
records of more than one base or more than one ALT, this lists their alleles straight from the
block's bytes: each allele's state (a change, no change, or no allele), its span and trimmed
REF/ALT after `alleles.trim`, and its CSQ Allele as `alleles.vep_alleles` writes it.
tests/annotator/test_allele_list.py holds it to those functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from annotator.textjoin import Texts

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
Bool = npt.NDArray[np.bool_]

CHANGE, NOCHANGE, SKIP = 0, 1, 2  # an allele's state: a change, ALT equal to REF, "." (or not ASCII)


@dataclass(frozen=True)
class Listed:
    """Per allele, in record order and ALT order within a record."""

    row: I64  # which of the rows given
    alt_no: I64  # which ALT of its record
    state: I64  # CHANGE, NOCHANGE or SKIP
    symbolic: Bool  # <DEL>, "*", breakends: location terms only, by the calculator
    start: I64  # first base of the trimmed REF (an insertion: the base after the one before it)
    ref: Texts  # trimmed REF and ALT, upper case (empty for SKIP and symbolic alleles)
    alt: Texts
    allele: Texts  # the CSQ Allele, unescaped ("" for an allele that is not ASCII)


def list_alleles(data: U8, ref_at: I64, ref_end: I64, alt_at: I64, alt_end: I64, pos: I64) -> Listed:
    """The alleles of the records whose REF is data[ref_at:ref_end] and ALT data[alt_at:alt_end]."""
    out = _list(data, ref_at, ref_end, alt_at, alt_end, pos)
    row, alt_no, state, sym, start, r_off, x_off, a_off, r_data, x_data, a_data = out
    texts = Texts(r_data, r_off), Texts(x_data, x_off), Texts(a_data, a_off)
    return Listed(row, alt_no, state, sym.astype(bool), start, *texts)


@numba.njit(cache=True, nogil=True)  # type: ignore[misc]
def _up(c: int) -> int:  # pragma: no cover - compiled
    return c - 32 if 97 <= c <= 122 else c


@numba.njit(cache=True, nogil=True)  # type: ignore[misc]
def _symbolic(data: U8, lo: int, hi: int) -> bool:  # pragma: no cover - compiled
    """alleles.symbolic: "<...>", "*", or a breakend ("[" or "]" anywhere)."""
    if hi > lo and data[lo] == 60:
        return True
    if hi - lo == 1 and data[lo] == 42:
        return True
    for j in range(lo, hi):
        if data[j] == 91 or data[j] == 93:
            return True
    return False


@numba.njit(cache=True, nogil=True)  # type: ignore[misc]
def _list(data, ref_at, ref_end, alt_at, alt_end, pos):  # type: ignore[no-untyped-def]  # pragma: no cover
    n_rows = len(ref_at)
    # Alleles: one more than the commas of each ALT column.
    total = 0
    for i in range(n_rows):
        total += 1
        for j in range(alt_at[i], alt_end[i]):
            if data[j] == 44:
                total += 1
    row = np.empty(total, np.int64)
    alt_no = np.empty(total, np.int64)
    state = np.empty(total, np.int64)
    sym = np.zeros(total, np.uint8)
    start = np.empty(total, np.int64)
    r_off = np.zeros(total + 1, np.int64)
    x_off = np.zeros(total + 1, np.int64)
    a_off = np.zeros(total + 1, np.int64)
    size = 0
    for i in range(n_rows):
        size += (ref_end[i] - ref_at[i] + 1) * 2 + (alt_end[i] - alt_at[i] + 1) * 3
    r_data = np.empty(size, np.uint8)
    x_data = np.empty(size, np.uint8)
    a_data = np.empty(size, np.uint8)
    lo_of = np.empty(total, np.int64)
    hi_of = np.empty(total, np.int64)
    k = 0
    rp = xp = ap = 0
    for i in range(n_rows):
        ra, re = ref_at[i], ref_end[i]
        named = True
        for j in range(ra, alt_end[i]):
            if data[j] >= 128:
                named = False
        # This record's ALTs, and alleles.vep_alleles' "shared first base".
        k0 = k
        lo = alt_at[i]
        for j in range(alt_at[i], alt_end[i] + 1):
            if j == alt_end[i] or data[j] == 44:
                lo_of[k], hi_of[k] = lo, j
                k += 1
                lo = j + 1
        shared = True
        longer = re - ra > 1
        for a in range(k0, k):
            lo, hi = lo_of[a], hi_of[a]
            if _symbolic(data, lo, hi):
                continue
            same = (hi - lo == 0 and re - ra == 0) or (hi > lo and re > ra and _up(data[lo]) == _up(data[ra]))
            if not same:
                shared = False
            if hi - lo > 1:
                longer = True
        shared = shared and longer
        for a in range(k0, k):
            lo, hi = lo_of[a], hi_of[a]
            row[a], alt_no[a], start[a] = i, a - k0, pos[i]
            is_sym = _symbolic(data, lo, hi)
            # The CSQ Allele (empty when not ASCII: no allele any tool could name).
            if named:
                if is_sym:
                    for j in range(lo, hi):
                        a_data[ap] = data[j]
                        ap += 1
                else:
                    first = lo + 1 if shared else lo
                    if first >= hi:
                        a_data[ap] = 45  # "-"
                        ap += 1
                    for j in range(first, hi):
                        a_data[ap] = _up(data[j])
                        ap += 1
            a_off[a + 1] = ap
            if (hi - lo == 1 and data[lo] == 46) or not named:
                state[a] = SKIP
            elif is_sym:
                state[a] = CHANGE
                sym[a] = 1
            else:
                # alleles.trim on the upper-cased REF and ALT: shared bases off the start, then the end.
                m = min(re - ra, hi - lo)
                s = 0
                while s < m and _up(data[ra + s]) == _up(data[lo + s]):
                    s += 1
                m2 = min(re - ra - s, hi - lo - s)
                e = 0
                while e < m2 and _up(data[re - 1 - e]) == _up(data[hi - 1 - e]):
                    e += 1
                if re - ra == 1 and hi - lo == 1:
                    s = e = 0  # one base each: never trimmed (a no change stays one base)
                start[a] = pos[i] + s
                for j in range(ra + s, re - e):
                    r_data[rp] = _up(data[j])
                    rp += 1
                for j in range(lo + s, hi - e):
                    x_data[xp] = _up(data[j])
                    xp += 1
                changed = (re - ra - s - e) > 0 or (hi - lo - s - e) > 0
                if re - ra == 1 and hi - lo == 1:
                    changed = _up(data[ra]) != _up(data[lo])
                state[a] = CHANGE if changed else NOCHANGE
            r_off[a + 1] = rp
            x_off[a + 1] = xp
    texts = r_data[:rp].copy(), x_data[:xp].copy(), a_data[:ap].copy()
    return row, alt_no, state, sym, start, r_off, x_off, a_off, texts[0], texts[1], texts[2]
