"""Vectorised interval queries over whole-genome coordinate keys.

A position is encoded as one int64 *key*: ``contig_index << 32 | pos`` (1-based
pos). Intervals never cross contigs, so one sorted array per track answers
queries for every contig at once, and a batch of variants is answered with a
handful of ``np.searchsorted`` calls instead of a Python loop per variant.

All intervals here are closed, ``[start, end]``, in keys.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
Side = Literal["left", "right"]
_NARROW_FROM = 1 << 16  # smaller arrays stay in cache anyway

SHIFT = 32


def keys(contig: npt.ArrayLike, pos: npt.ArrayLike) -> I64:
    return (np.asarray(contig, dtype=np.int64) << SHIFT) | np.asarray(pos, dtype=np.int64)


def contig_of(k: I64) -> I64:
    return k >> SHIFT


def merge(starts: I64, ends: I64) -> tuple[I64, I64]:
    """Union of closed intervals as sorted, disjoint, non-adjacent intervals."""
    if len(starts) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    reach = np.maximum.accumulate(e)
    # A new run begins where the start lies past everything seen so far (+1 so
    # that touching intervals merge: [1,5] and [6,9] cover 1..9 with no gap).
    new_run = np.empty(len(s), dtype=bool)
    new_run[0] = True
    new_run[1:] = s[1:] > reach[:-1] + 1
    run_start = np.flatnonzero(new_run)
    run_end = np.append(run_start[1:], len(s)) - 1
    return s[run_start].astype(np.int64), reach[run_end].astype(np.int64)


def search(sorted_keys: I64, q: I64, side: Side = "left") -> I64:
    """np.searchsorted, first narrowed to the slice the queries can land in.

    A block of a sorted VCF spans a small part of the genome: searching only
    that slice of a multi-million entry array keeps the binary search in
    cache (3-5x faster on the repeat and region-class arrays). Negative keys
    (rows on contigs the build lacks) are ignored for the narrowing; what
    they get back is meaningless and masked by the callers.
    """
    if len(sorted_keys) < _NARROW_FROM or not len(q):
        return np.searchsorted(sorted_keys, q, side=side).astype(np.int64, copy=False)
    top = q.max()
    low = q.min()
    if low < 0 <= top:
        low = q[q >= 0].min()
    lo, hi = np.searchsorted(sorted_keys, [low, top], side=side)
    found = np.searchsorted(sorted_keys[lo : hi + 1], q, side=side).astype(np.int64, copy=False)
    found += lo
    return found


def overlaps(mask_starts: I64, mask_ends: I64, qs: I64, qe: I64) -> Bool:
    """For disjoint sorted intervals: does [qs[i], qe[i]] touch any of them?"""
    n = len(mask_starts)
    if n == 0:
        return np.zeros(len(qs), dtype=bool)
    i = search(mask_ends, qs, side="left")
    inside = i < n
    j = np.minimum(i, n - 1)
    return inside & (mask_starts[j] <= qe)


def label_index(starts: I64, ends: I64, q: I64) -> I64:
    """For disjoint sorted intervals: index of the one holding q, or -1."""
    i = search(starts, q, side="right") - 1
    ok = (i >= 0) & (ends[np.maximum(i, 0)] >= q) if len(starts) else np.zeros(len(q), bool)
    return np.where(ok, i, -1).astype(np.int64)


def count_in(sorted_keys: I64, lo: I64, hi: I64) -> I64:
    """How many of sorted_keys lie in [lo[i], hi[i]]."""
    return search(sorted_keys, hi, side="right") - search(sorted_keys, lo, side="left")


def segment(starts: I64, ends: I64) -> tuple[I64, I64, npt.NDArray[np.int32]]:
    """Cut the genome into elementary segments with a constant set of features.

    Returns (bounds, indptr, ids): segment s spans [bounds[s], bounds[s+1]-1]
    and holds features ids[indptr[s]:indptr[s+1]]. A point query is then one
    searchsorted plus a slice, however deeply the features nest (a 2 Mb gene
    with 40 genes inside costs nothing extra at query time).
    """
    bounds = np.unique(np.concatenate([starts, ends + 1])).astype(np.int64)
    first = np.searchsorted(bounds, starts)
    last = np.searchsorted(bounds, ends + 1) - 1
    n = (last - first + 1).astype(np.int64)
    total = int(n.sum())
    feature = np.repeat(np.arange(len(starts), dtype=np.int64), n)
    run_offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
    seg = np.repeat(first, n) + run_offset
    order = np.lexsort((feature, seg))
    seg, feature = seg[order], feature[order]
    indptr = np.zeros(len(bounds) + 1, dtype=np.int64)
    np.cumsum(np.bincount(seg, minlength=len(bounds)), out=indptr[1:])
    return bounds, indptr, feature.astype(np.int32)


def segment_of(bounds: I64, q: I64) -> I64:
    return search(bounds, q, side="right") - 1
