"""Split a block of VCF data lines into fields with numpy, checking what must hold.

A block is bytes holding whole lines. Instead of a Python object per line or
per field, every TAB and LF is found with numpy and only *offsets* are kept:
field k of line i is ``data[ends[i, k - 1] + 1 : ends[i, k]]`` (field 0 starts
at ``starts[i]``). Positions are parsed from their digits in one vectorised
step, contig names once per run of equal names. Python touches a line only
when it is odd (blank, a comment, a bad value) or when its bytes are needed
(a dbSNP candidate's alleles, a symbolic allele's END or SVLEN).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from annotator.vcf import VcfError

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

PAD = 16  # zero bytes around the block, so fixed-width gathers never leave it
_PADDING = bytes(PAD)
MAX_POS = 2**31 - 1  # VCF's POS is a signed 32-bit integer
_END = re.compile(rb"(?:^|;)END=(\d{1,10})(?:;|$)")
_SVLEN = re.compile(rb"(?:^|;)SVLEN=(-?\d{1,10}(?:,-?\d{1,10})*)(?:;|$)")
_TAB, _LF, _HASH, _DOT, _COMMA = 9, 10, 35, 46, 44
_SYMBOLIC = (60, 91, 93)  # "<", "[", "]": <DEL>, breakends
_POW10 = 10 ** np.arange(9, -1, -1, dtype=np.int64)
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)  # little-endian views


@dataclass
class Skipped:
    """Lines left out, by reason: how many, and the first few line numbers."""

    counts: Counter[str] = field(default_factory=Counter)
    first_lines: dict[str, list[int]] = field(default_factory=dict)
    keep_first: int = 5

    def add(self, reason: str, line: int) -> None:
        self.counts[reason] += 1
        first = self.first_lines.setdefault(reason, [])
        if len(first) < self.keep_first:
            first.append(line)

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {r: {"count": n, "first_lines": self.first_lines[r]} for r, n in self.counts.items()}


@dataclass
class Records:
    data: bytes  # whole lines, each ending in "\n"
    line_no: I64  # 1-based line number in the file, per record
    starts: I64  # offset of each line
    ends: I64  # (n, 8): offset of the TAB or LF that ends each of the first 8 fields
    line_end: I64  # offset of each line's LF
    chrom_code: I64  # index into chrom_names
    chrom_names: list[str]
    pos: I64
    end: I64  # last reference base covered (for symbolic ALTs: INFO/END, or POS + |SVLEN|)
    id_missing: Bool  # ID is "." or empty
    info_dot: Bool  # INFO is "."
    info_empty: Bool  # INFO is ""
    alleles: int
    multiallelic: int
    symbolic: int

    def __len__(self) -> int:
        return len(self.pos)

    def field(self, i: int, k: int) -> bytes:
        start = int(self.starts[i]) if k == 0 else int(self.ends[i, k - 1]) + 1
        return self.data[start : int(self.ends[i, k])]

    def line(self, i: int) -> bytes:
        return self.data[int(self.starts[i]) : int(self.line_end[i])]


def parse(
    first_line: int, data: bytes, n_tabs: int, skipped: Skipped, skip_bad: bool = False
) -> Records | None:
    """The block's records. Blank and stray comment lines are counted in `skipped`;
    a bad record raises VcfError with its line number, or with `skip_bad` is
    counted there too and left out."""
    line_no: I64 | None = None
    errors: list[tuple[int, str]] = []  # bad records when not skipping: the first one is raised
    rec = None
    while data:
        a = np.frombuffer(b"".join((_PADDING, data, _PADDING)), np.uint8)
        nl = np.flatnonzero(a == _LF) - PAD
        starts = np.empty_like(nl)
        starts[0] = 0
        starts[1:] = nl[:-1] + 1
        if line_no is None:
            line_no = np.arange(first_line, first_line + len(nl), dtype=np.int64)
        tabs = np.flatnonzero(a == _TAB) - PAD
        odd = a[starts + PAD] == _HASH
        if len(tabs) == len(nl) * n_tabs:
            # The usual case, checked without a search: with the right total,
            # every line has exactly n_tabs TABs if each group of n_tabs lies
            # inside its own line.
            grid = tabs.reshape(len(nl), n_tabs)
            odd |= (grid[:, 0] < starts) | (grid[:, -1] > nl)
        else:
            first_tab = np.searchsorted(tabs, starts)
            odd |= np.searchsorted(tabs, nl) - first_tab != n_tabs
        if odd.any():
            data, line_no = _clean(data, nl, line_no, odd, n_tabs, skipped, skip_bad, errors)
            continue
        grid = tabs.reshape(len(nl), n_tabs)
        ends = np.empty((len(nl), 8), np.int64)
        ends[:, :7] = grid[:, :7]
        ends[:, 7] = grid[:, 7] if n_tabs >= 8 else nl
        pos, bad = _positions(a, ends)
        bad_rows = _bad_rows(data, starts, ends, bad)
        if not bad_rows:
            end, symbolic, bad_rows = _spans(a, data, ends, pos)
        if bad_rows:
            data, line_no = _drop(data, starts, nl, line_no, bad_rows, skipped, skip_bad, errors)
            continue
        rec = _records(a, data, line_no, starts, ends, nl, pos, end, symbolic)
        break
    if errors:
        raise VcfError(*min(errors))
    return rec


def _positions(a: npt.NDArray[np.uint8], ends: I64) -> tuple[I64, Bool]:
    """POS of every line from its (right-aligned) digits; `bad` where it is not a number."""
    length = ends[:, 1] - ends[:, 0] - 1
    digits = a[(ends[:, 1] + PAD)[:, None] + np.arange(-10, 0)] - np.uint8(ord("0"))  # wraps below "0"
    lead = np.arange(10) < (10 - length)[:, None]
    digits[lead] = 0
    ok = (digits <= 9).all(axis=1) & (length >= 1) & (length <= 10)
    pos = digits @ _POW10
    return pos, ~ok | (pos > MAX_POS)


def _bad_rows(data: bytes, starts: I64, ends: I64, bad_pos: Bool) -> list[tuple[int, str, str]]:
    """(row, reason, message) for records that cannot be annotated, in file order."""
    found: dict[int, tuple[str, str]] = {}
    for i in np.flatnonzero(ends[:, 0] == starts).tolist():
        found[i] = ("CHROM is empty", "CHROM is empty")
    for i in np.flatnonzero(bad_pos).tolist():
        value = data[int(ends[i, 0]) + 1 : int(ends[i, 1])].decode("utf-8", "replace")
        if value.isdigit() and value.isascii():
            found.setdefault(i, ("POS is out of range", f"POS {value[:30]} is larger than {MAX_POS}"))
        else:
            found.setdefault(i, ("POS is not a number", f"POS {value[:30]!r} is not a number"))
    for col, name in ((3, "REF"), (4, "ALT")):
        for i in np.flatnonzero(ends[:, col] == ends[:, col - 1] + 1).tolist():
            found.setdefault(i, (f"{name} is empty", f"{name} is empty"))
    return [(i, *found[i]) for i in sorted(found)]


def _clean(
    data: bytes,
    nl: I64,
    line_no: I64,
    odd: Bool,
    n_tabs: int,
    skipped: Skipped,
    skip_bad: bool,
    errors: list[tuple[int, str]],
) -> tuple[bytes, I64]:
    """Slow path for a block with odd lines: drop blanks and comments, forgive
    trailing whitespace, and fail (or skip) on a wrong number of columns."""
    lines = data.split(b"\n")[: len(nl)]
    keep = np.ones(len(lines), bool)
    for i in np.flatnonzero(odd).tolist():
        line, number = lines[i], int(line_no[i])
        if line.startswith(b"#"):
            skipped.add("comment line after the header", number)
            keep[i] = False
            continue
        # Trailing whitespace (an editor's stray tab) is forgiven; anything else is not.
        stripped = line.rstrip()
        if not stripped:
            skipped.add("blank line", number)
            keep[i] = False
            continue
        found = stripped.count(b"\t")
        if found == n_tabs:
            lines[i] = stripped
            continue
        message = f"{found + 1} tab-separated columns, but the #CHROM header line has {n_tabs + 1}"
        if found == 0:
            message += " (is it separated by spaces?)"
        if skip_bad:
            skipped.add("wrong number of columns", number)
        else:
            errors.append((number, message))
        keep[i] = False
    kept = [line for line, k in zip(lines, keep.tolist(), strict=True) if k]
    return (b"\n".join(kept) + b"\n" if kept else b""), line_no[keep]


def _drop(
    data: bytes,
    starts: I64,
    nl: I64,
    line_no: I64,
    bad: list[tuple[int, str, str]],
    skipped: Skipped,
    skip_bad: bool,
    errors: list[tuple[int, str]],
) -> tuple[bytes, I64]:
    keep = np.ones(len(nl), bool)
    for row, reason, message in bad:
        if skip_bad:
            skipped.add(reason, int(line_no[row]))
        else:
            errors.append((int(line_no[row]), message))
        keep[row] = False
    rows = np.flatnonzero(keep).tolist()
    kept = b"".join(data[int(starts[i]) : int(nl[i]) + 1] for i in rows)
    return kept, line_no[keep]


def _chrom_codes(a: npt.NDArray[np.uint8], starts: I64, ends0: I64, data: bytes) -> tuple[I64, list[str]]:
    """A code per line for its CHROM, decoding each run of equal names once."""
    n = len(starts)
    width = ends0 - starts
    # The first 8 bytes of each name as one integer, bytes past the name masked off.
    packed = a[(starts + PAD)[:, None] + np.arange(8)].view("<u8").ravel() & _LOW_BYTES[np.minimum(width, 8)]
    new_run = np.ones(n, bool)
    new_run[1:] = (packed[1:] != packed[:-1]) | (width[1:] != width[:-1])
    new_run |= width > 8  # longer names are compared in full, one by one
    run_starts = np.flatnonzero(new_run)
    names: dict[str, int] = {}
    run_codes = [
        names.setdefault(data[s:e].decode("utf-8", "surrogateescape"), len(names))
        for s, e in zip(starts[run_starts].tolist(), ends0[run_starts].tolist(), strict=True)
    ]
    codes = np.repeat(np.array(run_codes, np.int64), np.diff(np.append(run_starts, n)))
    return codes, list(names)


def _spans(
    a: npt.NDArray[np.uint8], data: bytes, ends: I64, pos: I64
) -> tuple[I64, int, list[tuple[int, str, str]]]:
    """The last reference base of each record, how many are symbolic, and the
    records whose END is before their POS (row, reason, message)."""
    end = pos + (ends[:, 3] - ends[:, 2] - 2)
    # Only an ALT of 3 bytes or more can be symbolic ("<*>").
    wide = np.flatnonzero(ends[:, 4] - ends[:, 3] > 3)
    if not len(wide):
        return end, 0, []
    alt_s, alt_e = ends[wide, 3], ends[wide, 4]
    special = np.flatnonzero((a == _SYMBOLIC[0]) | (a == _SYMBOLIC[1]) | (a == _SYMBOLIC[2])) - PAD
    symbolic = wide[np.searchsorted(special, alt_e) > np.searchsorted(special, alt_s)]
    bad: list[tuple[int, str, str]] = []
    for i in symbolic.tolist():
        alt = data[int(ends[i, 3]) + 1 : int(ends[i, 4])]
        if b"[" in alt or b"]" in alt:
            # A breakend joins POS to another place; callers put the mate's
            # position in END (Sniffles), which is no span on this contig.
            continue
        info = data[int(ends[i, 6]) + 1 : int(ends[i, 7])]
        m = _END.search(info)
        if m and int(m.group(1)) <= MAX_POS:
            stop = int(m.group(1))
            if stop < int(pos[i]):
                bad.append((i, "END is before POS", f"END {stop} is before POS {int(pos[i])}"))
            end[i] = max(stop, int(end[i]))
        elif (m := _SVLEN.search(info)) and not all(x.startswith(b"<INS") for x in alt.split(b",")):
            # <DEL>, <DUP>, <INV>, <CNV> cover POS + |SVLEN| (POS is the padding
            # base); an insertion's SVLEN is new sequence and covers nothing.
            length = max(abs(int(v)) for v in m.group(1).split(b","))
            end[i] = min(max(int(pos[i]) + length, int(end[i])), MAX_POS)
    return end, len(symbolic), bad


def _records(
    a: npt.NDArray[np.uint8],
    data: bytes,
    line_no: I64,
    starts: I64,
    ends: I64,
    nl: I64,
    pos: I64,
    end: I64,
    symbolic: int,
) -> Records:
    codes, names = _chrom_codes(a, starts, ends[:, 0], data)
    # Only an ALT of 3 bytes or more can hold a comma ("A,C").
    wide = np.flatnonzero(ends[:, 4] - ends[:, 3] > 3)
    alt_commas = np.zeros(len(pos), np.int64)
    if len(wide):
        commas = np.flatnonzero(a == _COMMA) - PAD
        alt_commas[wide] = np.searchsorted(commas, ends[wide, 4]) - np.searchsorted(commas, ends[wide, 3])
    id_len = ends[:, 2] - ends[:, 1] - 1
    info_len = ends[:, 7] - ends[:, 6] - 1
    return Records(
        data=data,
        line_no=line_no,
        starts=starts,
        ends=ends,
        line_end=nl,
        chrom_code=codes,
        chrom_names=names,
        pos=pos,
        end=end,
        id_missing=(id_len == 0) | ((id_len == 1) & (a[ends[:, 1] + 1 + PAD] == _DOT)),
        info_dot=(info_len == 1) & (a[ends[:, 6] + 1 + PAD] == _DOT),
        info_empty=info_len == 0,
        alleles=int(alt_commas.sum()) + len(pos),
        multiallelic=int((alt_commas > 0).sum()),
        symbolic=symbolic,
    )
