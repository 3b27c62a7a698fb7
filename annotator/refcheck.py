"""REF against the genome: records whose REF disagrees are flagged GAS_REF_MISMATCH.

A REF that is not the genome's says the file is on another build than it
claims, was lifted or edited by hand, or has a strand error: every
consequence computed for it is suspect. The flag is a Flag, not the genome's
bases: it joins the shared INFO text without formatting a value per row,
and the genome's bases are one `fetch` (or ``samtools faidx``) away. Only
contigs with a sequence are checked; N and the other IUPAC codes never
count as a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from annotator.annotate import Annotation
from annotator.records import Records
from annotator.sequence import Sequence

KEY = "GAS_REF_MISMATCH"
HEADER = (
    f'##INFO=<ID={KEY},Number=0,Type=Flag,Description="REF differs from the genome sequence of the build '
    "annotated on (for a lifted record: the lifted REF, replaced by the genome's); "
    'N and other IUPAC codes never differ">'
)
_FLAG = f"{KEY};".encode()
I64 = npt.NDArray[np.int64]
FIRST_LINES = 5


@dataclass
class RefCheck:
    """Checks the REF of every batch against the sequence; keeps the run's counts."""

    sequence: Sequence
    checked: int = 0
    mismatched: int = 0
    first_lines: list[int] = field(default_factory=list)

    def check(self, rec: Records, contig: I64, rows: npt.NDArray[np.bool_]) -> I64:
        """The rows (among `rows`, on `contig`) whose REF differs from the genome."""
        ref_at = rec.ends[:, 2] + 1
        text = np.frombuffer(rec.data, np.uint8)
        checked, mismatch = self.sequence.ref_mismatch(
            np.where(rows, contig, -1), rec.pos, text, ref_at, rec.ends[:, 3] - ref_at
        )
        found = np.flatnonzero(mismatch)
        self.count(int(checked.sum()), rec.line_no[found].tolist())
        return found

    def count(self, checked: int, lines: list[int]) -> None:
        """`checked` records compared, of which those on `lines` differ."""
        self.checked += checked
        self.mismatched += len(lines)
        self.first_lines += lines[: FIRST_LINES - len(self.first_lines)]

    @staticmethod
    def mark(ann: Annotation, lead: I64, rows: I64) -> None:
        """Put the flag first in each row's INFO text, after its lead ";" (if any): an
        annotated row's text always starts there with GAS_BUILD."""
        if not len(rows):
            return
        texts, leads = ann.table[ann.code[rows]].tolist(), lead[rows].tolist()
        ann.retext(rows, [t[:k] + _FLAG + t[k:] for t, k in zip(texts, leads, strict=True)])

    def log_line(self, build: str) -> str:
        line = f"REF checked against the {build} sequence: {self.checked:,} records"
        line += f", {self.mismatched:,} differ"
        if self.first_lines:
            line += f" (flagged {KEY}; first at line {', '.join(map(str, self.first_lines))})"
        return line
