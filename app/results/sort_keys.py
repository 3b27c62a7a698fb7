"""What the results table sorts each column by: arrays an Arrow sort orders the
way a person expects, with null where the cell is empty so that empty cells go
last whichever way the column is sorted (the sort puts nulls at the end).

A column may need more than one key: the first decides, the next breaks its ties.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

_CHROMOSOMES = [str(n) for n in range(1, 23)] + ["X", "Y"]
# UCSC cytoBand names: chromosome, arm, band and sub-bands (``1p36.33``, ``Xq28``).
_BAND = re.compile(r"^(?:chr)?(?P<chrom>[0-9]{1,2}|X|Y)(?P<arm>[pq])(?P<band>[0-9]{1,7}(?:\.[0-9]{1,7})?)$",
                   re.IGNORECASE)
# A band's digits read as base-11 digits (1..10), padded with 0 to a fixed width, so
# that comparing the numbers compares the digit strings: 11 < 11.1 < 11.2 < 12. Read
# that way, band names are in order from the centromere outward on both arms.
_BAND_DIGITS = 8
_ARM = 11**_BAND_DIGITS
_RSID = r"^[rR][sS](?P<number>[0-9]{1,18})"


def band_order(label: str) -> int | None:
    """Where a cytoband lies in the karyotype: by chromosome (1..22, X, Y), then
    the p arm from its telomere to the centromere, then the q arm from the
    centromere to its telomere. None for a label that is no band."""
    match = _BAND.match(label.strip())
    if match is None:
        return None
    name = match["chrom"].upper()
    digits = match["band"].replace(".", "")
    if name not in _CHROMOSOMES or len(digits) > _BAND_DIGITS:
        return None
    outward = 0
    for place in range(_BAND_DIGITS):
        outward = outward * 11 + (int(digits[place]) + 1 if place < len(digits) else 0)
    # The p arm is read from its telomere: the band furthest out comes first.
    along = _ARM - 1 - outward if match["arm"].lower() == "p" else _ARM + outward
    return _CHROMOSOMES.index(name) * 2 * _ARM + along


def _empty_as_null(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def text(column: pa.Array | pa.ChunkedArray) -> list[pa.Array | pa.ChunkedArray]:
    """Text compared case-insensitively (``snoU13`` among the S's); ties in the
    same case-folded text come back in row order."""
    return [pc.utf8_lower(_empty_as_null(column))]


def rsid(column: pa.Array | pa.ChunkedArray) -> list[pa.Array | pa.ChunkedArray]:
    """rsIDs by their number (rs9 before rs10); any other ID after every rsID, as
    text; no ID last."""
    digits = pc.struct_field(pc.extract_regex(column, _RSID), [0])
    return [pc.cast(digits, pa.int64()), *text(column)]


def band(column: pa.Array | pa.ChunkedArray) -> list[pa.Array | pa.ChunkedArray]:
    """Cytobands in karyotype order (``band_order``); a label that is no band after
    every band, as text; no band last. Worked out once per distinct label: a table
    has at most a few hundred."""
    labels = pc.unique(column)
    orders = pa.array([None if label is None else band_order(label) for label in labels.to_pylist()],
                      pa.int64())
    return [pc.take(orders, pc.index_in(column, value_set=labels)), *text(column)]
