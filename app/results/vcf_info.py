"""Reading INFO values out of VCF text, a whole column at a time (pyarrow compute)."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# VCF 4.3's percent-encoding of the characters INFO values cannot hold; "%25"
# last, so that an encoded "%3B" ("%253B") becomes "%3B" and no more.
_ESCAPES = (("%3A", ":"), ("%3B", ";"), ("%3D", "="), ("%2C", ","), ("%0D", "\r"),
            ("%0A", "\n"), ("%09", "\t"), ("%25", "%"))
_CSQ_FORMAT = re.compile(rb'^##INFO=<ID=CSQ,.*Format: ?([^">]*)')


class Info:
    """One batch of INFO texts, split once into its ``key=value`` items, so that
    reading a key scans short items for a prefix instead of every whole INFO text
    again (a CSQ makes those long) with a regex."""

    def __init__(self, info: pa.Array) -> None:
        lists = pc.split_pattern(info, ";")
        self.items = lists.flatten()
        self.rows = np.asarray(pc.list_parent_indices(lists), dtype=np.int64)
        self.size = len(info)

    def value(self, key: str, value: str = "") -> pa.Array:
        """`key`'s first value in each row; null where it is missing or does not
        match the regex `value`."""
        prefix = f"{key}="
        found = np.flatnonzero(np.asarray(pc.starts_with(self.items, prefix), dtype=bool))
        values = pc.utf8_slice_codeunits(self.items.take(pa.array(found)), len(prefix))
        if value:
            values = pc.if_else(pc.match_substring_regex(values, f"^(?:{value})$"), values,
                                pa.scalar(None, pa.string()))
        # Where each row's value is in `values`; reversed, so a repeated key's
        # first value is the one kept.
        place = np.full(self.size, -1, dtype=np.int64)
        place[self.rows[found][::-1]] = np.arange(len(found) - 1, -1, -1)
        return values.take(pa.array(place, mask=place < 0))


def decoded(column: pa.Array) -> pa.Array:
    """Percent-encoded characters as themselves (VEP writes HGVSp's "=" as %3D)."""
    for code, char in _ESCAPES:
        column = pc.replace_substring(column, code, char)
    return column


def csq_format(header_line: bytes) -> tuple[str, ...] | None:
    """The sub-field names of a ``##INFO=<ID=CSQ…Format: A|B|…>`` line, as
    ``bcftools +split-vep`` reads them; None for any other line."""
    found = _CSQ_FORMAT.match(header_line)
    if found is None:
        return None
    return tuple(name.strip() for name in found[1].decode("utf-8", "replace").split("|"))
