"""Reading INFO values out of VCF text, a whole column at a time (pyarrow compute)."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

# VCF 4.3's percent-encoding of the characters INFO values cannot hold; "%25"
# last, so that an encoded "%3B" ("%253B") becomes "%3B" and no more.
_ESCAPES = (("%3A", ":"), ("%3B", ";"), ("%3D", "="), ("%2C", ","), ("%0D", "\r"),
            ("%0A", "\n"), ("%09", "\t"), ("%25", "%"))
_CSQ_FORMAT = re.compile(rb'^##INFO=<ID=CSQ,.*Format: ?([^">]*)')


def info_value(info: pa.Array, key: str, value: str = "[^;]*") -> pa.Array:
    """`key`'s value in each INFO text; null where it is missing or is not `value`."""
    found = pc.extract_regex(info, rf"(?:^|;){key}=(?P<v>{value})(?:;|$)")
    return pc.struct_field(found, "v")


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
