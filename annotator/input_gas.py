"""An input's own ``GAS_*`` and ``CSQ`` INFO values are dropped, so every one in
the output is GAS's.

They are either an earlier GAS run's (re-annotating a result: the new values
replace them) or someone else's that would pass for GAS's, e.g. ``GAS_GENE`` on
a contig GAS does not annotate, or VEP's ``CSQ`` (two ``CSQ`` keys in a record,
or one declared with another Format, would break every tool that reads it; the
input file itself is kept). Dropped rather than renamed: a renamed key
would need its own header line, would pile up prefixes on every re-annotation,
and would still read like GAS's to a person skimming the file. The log says
how many were dropped, and which keys.

Done on the block's bytes before it is split into fields, so the fast path
writes the cleaned lines as it writes any others; a block without ``GAS_`` in
it costs one substring search.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import numpy.typing as npt

_KEY = b"GAS_"
_CSQ = b"CSQ="
_TAB, _LF, _SEMI, _HASH, _EQ, _DOT = 9, 10, 59, 35, 61, 46
_NAME_BYTES = 64  # of a key's name, hashed to tell names apart (longer names: their first 64)
_NAMES_KEPT = 20  # distinct key names remembered for the log; a file may invent millions
I64 = npt.NDArray[np.int64]


class InputGasKeys:
    def __init__(self) -> None:
        self.records = 0  # records that had any
        self.values = 0
        self.keys: Counter[str] = Counter()

    def strip(self, block: bytes) -> bytes:
        """The block with every ``GAS_*`` INFO entry removed (INFO "." when none is left).

        With numpy over the whole block, as `records.parse` splits it: a
        re-annotated result has them on every line, and a Python loop per line
        cost more than annotating it.
        """
        if _KEY not in block and _CSQ not in block:
            return block
        a = np.frombuffer(block, np.uint8)
        hits, lines = _entries(a)
        if not len(hits):
            return block
        ends = _ends(a, hits)
        # A run of adjacent entries goes with one separator: the ";" before it, or
        # after it when it starts INFO; INFO left empty becomes ".".
        first = np.ones(len(hits), bool)
        first[1:] = hits[1:] != ends[:-1] + 1
        run_start, run_end = hits[first], ends[np.append(first[1:], True)]
        before, after = a[run_start - 1] == _SEMI, a[run_end] == _SEMI
        cut_from = np.where(before, run_start - 1, run_start)
        cut_to = np.where(~before & after, run_end + 1, run_end)
        self._count(a, hits, ends, lines)
        whole = (~before & ~after).tolist()
        pieces, kept_from = [], 0
        for cut, to, emptied in zip(cut_from.tolist(), cut_to.tolist(), whole, strict=True):
            pieces.append(block[kept_from:cut])
            if emptied:
                pieces.append(b".")
            kept_from = to
        pieces.append(block[kept_from:])
        return b"".join(pieces)

    def _count(self, a: npt.NDArray[np.uint8], hits: I64, ends: I64, lines: I64) -> None:
        self.records += len(np.unique(lines))
        self.values += len(hits)
        equals = np.flatnonzero(a == _EQ)
        at = np.searchsorted(equals, hits)
        name_end = np.minimum(ends, np.append(equals, len(a))[at])
        width = np.minimum(name_end - hits, _NAME_BYTES)
        digest = np.zeros(len(hits), np.uint64)
        with np.errstate(over="ignore"):
            for k in range(int(width.max())):
                byte = np.where(k < width, a[np.minimum(hits + k, len(a) - 1)], 0).astype(np.uint64)
                digest = digest * np.uint64(1099511628211) + byte
        _, index, counts = np.unique(digest, return_index=True, return_counts=True)
        for i, n in zip(index.tolist(), counts.tolist(), strict=True):
            name = bytes(a[hits[i] : name_end[i]]).decode("utf-8", "backslashreplace")
            if name in self.keys or len(self.keys) < _NAMES_KEPT:
                self.keys[name] += n

    def summary(self) -> dict[str, object]:
        return {"records": self.records, "values": self.values, "keys": dict(self.keys.most_common())}

    def note(self) -> str:
        names = ", ".join(self.keys)
        more = ", …" if len(self.keys) >= _NAMES_KEPT else ""
        return (
            f"dropped {self.values:,} GAS_* and CSQ INFO values the input brought itself ({names}{more}) "
            f"from {self.records:,} records: every GAS_* and CSQ value in the output is GAS's own"
        )


def _entries(a: npt.NDArray[np.uint8]) -> tuple[I64, I64]:
    """Where INFO entries named ``GAS_*`` or ``CSQ`` start (after the 8th column's TAB
    or one of its ";"), on lines that are not comments; and the index of each one's line."""
    g = np.flatnonzero(a[1:-3] == ord("G")) + 1
    g = g[(a[g + 1] == ord("A")) & (a[g + 2] == ord("S")) & (a[g + 3] == ord("_"))]
    c = np.flatnonzero(a[1:-3] == ord("C")) + 1
    c = c[(a[c + 1] == ord("S")) & (a[c + 2] == ord("Q")) & (a[c + 3] == _EQ)]
    g = np.union1d(g, c)
    g = g[(a[g - 1] == _TAB) | (a[g - 1] == _SEMI)]
    if not len(g):
        return g, g
    nl = np.flatnonzero(a == _LF)
    line = np.searchsorted(nl, g)
    start = np.where(line > 0, nl[np.maximum(line - 1, 0)] + 1, 0)
    tabs = np.flatnonzero(a == _TAB)
    before = np.searchsorted(tabs, g) - np.searchsorted(tabs, start)
    # After the 7th TAB and before the 8th: in INFO.
    info = (before == 7) & (a[start] != _HASH)
    return g[info], line[info]


def _ends(a: npt.NDArray[np.uint8], hits: I64) -> I64:
    """Where each entry ends: its ";", TAB or LF."""
    stops = np.flatnonzero((a == _SEMI) | (a == _TAB) | (a == _LF))
    return stops[np.searchsorted(stops, hits)]
