"""Split a block of VCF data lines into columns, checking what must hold.

Column-wise (``zip(*rows)``) rather than record objects: every check and
conversion is then one C-level pass over a column, and the annotator gets
numpy arrays of positions without a Python loop per variant.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import numpy.typing as npt

from annotator.vcf import VcfError

_END = re.compile(r"(?:^|;)END=(\d+)")


@dataclass
class Records:
    line_no: list[int]
    chrom: list[str]
    pos_text: list[str]
    pos: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]  # last reference base covered (INFO/END for symbolic ALTs)
    ids: list[str]
    ref: list[str]
    alt: list[str]
    qual: list[str]
    filter: list[str]
    info: list[str]
    rest: list[str] | None  # FORMAT + samples, unsplit
    alleles: int
    multiallelic: int
    symbolic: int

    def __len__(self) -> int:
        return len(self.chrom)


def parse(first_line: int, lines: list[str], n_tabs: int, skipped: Counter[str]) -> Records | None:
    """Columns of the data lines; blank and stray comment lines are counted in `skipped`."""
    numbers = list(range(first_line, first_line + len(lines)))
    tabs = np.fromiter(map(str.count, lines, repeat("\t")), np.int64, len(lines))
    # A commented-out record can have the right number of tabs: look for "#" too.
    if (tabs != n_tabs).any() or any(line[:1] == "#" for line in lines):
        lines, numbers = _clean(lines, numbers, tabs, n_tabs, skipped)
    if not lines:
        return None
    rows = [line.split("\t", 8) for line in lines]
    cols = list(zip(*rows, strict=True))
    chrom, pos_text, ids, ref, alt, qual, filt, info = (list(c) for c in cols[:8])
    rest = list(cols[8]) if len(cols) > 8 else None

    if not all(map(str.isdigit, pos_text)):
        bad = next(i for i, p in enumerate(pos_text) if not p.isdigit())
        raise VcfError(numbers[bad], f"POS {pos_text[bad]!r} is not a number")
    try:
        pos = np.array(pos_text, dtype=np.int64)
    except (ValueError, OverflowError):
        bad = next(i for i, p in enumerate(pos_text) if not p.isascii() or len(p) > 12)
        raise VcfError(numbers[bad], f"POS {pos_text[bad]!r} is not a number") from None
    for name, col in (("CHROM", chrom), ("REF", ref), ("ALT", alt)):
        if not all(col):
            bad = col.index("")
            raise VcfError(numbers[bad], f"{name} is empty")

    ref_len = np.fromiter(map(len, ref), np.int64, len(ref))
    end = pos + ref_len - 1
    commas = np.fromiter(map(str.count, alt, repeat(",")), np.int64, len(alt))
    symbolic = 0
    joined = "\x01".join(alt)
    if "<" in joined or "[" in joined or "]" in joined:
        for i, a in enumerate(alt):
            if "<" in a or "[" in a or "]" in a:
                symbolic += 1
                m = _END.search(info[i])
                if m:
                    end[i] = max(int(m.group(1)), int(end[i]))
    return Records(
        line_no=numbers,
        chrom=chrom,
        pos_text=pos_text,
        pos=pos,
        end=end,
        ids=ids,
        ref=ref,
        alt=alt,
        qual=qual,
        filter=filt,
        info=info,
        rest=rest,
        alleles=int(commas.sum()) + len(alt),
        multiallelic=int((commas > 0).sum()),
        symbolic=symbolic,
    )


def _clean(
    lines: list[str], numbers: list[int], tabs: npt.NDArray[np.int64], n_tabs: int, skipped: Counter[str]
) -> tuple[list[str], list[int]]:
    """Slow path for a block with odd lines: drop blanks and comments, or fail."""
    kept: list[str] = []
    kept_no: list[int] = []
    for line, no, t in zip(lines, numbers, tabs.tolist(), strict=True):
        if line.startswith("#"):
            skipped["comment line after the header"] += 1
            continue
        if t != n_tabs:
            # Trailing whitespace (an editor's stray tab) is forgiven; anything else is not.
            line = line.rstrip()
            if not line:
                skipped["blank line"] += 1
                continue
            found = line.count("\t")
            if found != n_tabs:
                raise VcfError(
                    no,
                    f"{found + 1} tab-separated columns, but the #CHROM header line has {n_tabs + 1}"
                    + (" (is it separated by spaces?)" if found == 0 else ""),
                )
        kept.append(line)
        kept_no.append(no)
    return kept, kept_no
