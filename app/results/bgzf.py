"""BGZF, the blocked gzip of bgzip/htslib (SAM/BAM spec section 4.1), written with
zlib: a series of gzip members of at most 64 KiB each, every one carrying its
own size in a "BC" extra field, and a fixed empty member at the end.

Written here rather than taken from a library: the project has none that writes
it (biopython's Bio.bgzf would be a new dependency for ~40 lines, pysam a C
build), and the format is small and fixed.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator

# bgzip's own input size per block: the deflated block, even if it grows a little
# on incompressible data, then still fits the 16-bit size field.
BLOCK_INPUT = 0xFF00
# The empty block that ends every BGZF file; readers take its absence as truncation.
EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def block(data: bytes, level: int = 6) -> bytes:
    """One BGZF block holding ``data`` (at most BLOCK_INPUT bytes)."""
    if len(data) > BLOCK_INPUT:
        raise ValueError(f"a BGZF block holds at most {BLOCK_INPUT} bytes, not {len(data)}")
    deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
    payload = deflate.compress(data) + deflate.flush()
    size = 18 + len(payload) + 8  # header with the BC field, deflated data, CRC32 and ISIZE
    header = struct.pack("<4BI2BH2BHH", 0x1F, 0x8B, 8, 4, 0, 0, 0xFF, 6, ord("B"), ord("C"), 2, size - 1)
    return header + payload + struct.pack("<II", zlib.crc32(data), len(data))


class Writer:
    """Text in, BGZF blocks out: ``feed`` returns the whole blocks that the bytes so
    far make, ``close`` the rest and the end-of-file block. Holds less than a block."""

    def __init__(self, level: int = 6) -> None:
        self.level = level
        self.pending = bytearray()

    def feed(self, data: bytes) -> bytes:
        self.pending += data
        whole = len(self.pending) - len(self.pending) % BLOCK_INPUT
        out = b"".join(block(bytes(self.pending[at:at + BLOCK_INPUT]), self.level)
                       for at in range(0, whole, BLOCK_INPUT))
        del self.pending[:whole]
        return out

    def close(self) -> bytes:
        rest = block(bytes(self.pending), self.level) if self.pending else b""
        self.pending.clear()
        return rest + EOF


def compress(pieces: Iterable[bytes], level: int = 6) -> Iterator[bytes]:
    """``pieces`` as one BGZF file, piece by piece."""
    writer = Writer(level)
    for piece in pieces:
        if out := writer.feed(piece):
            yield out
    yield writer.close()
