"""`annotator.background`: the writer thread writes blocks in order, hands a block's memory back
once written, and re-raises a write's error."""

from __future__ import annotations

import io

import numpy as np
import pytest

from annotator.background import BackgroundWriter, read_ahead


def test_blocks_are_written_in_order_and_their_buffers_come_back() -> None:
    """A block written from a pooled buffer is the pool's again after the write (so the next block
    reuses its memory), and the bytes written are the ones given at the time."""
    out = io.BytesIO()
    seen = set()
    with BackgroundWriter(out) as w:
        for k in range(20):
            buffer = w.buffer()
            seen.add(id(buffer))
            data = buffer.at_least(3)
            data[:3] = np.frombuffer(f"{k:02d}|".encode(), np.uint8)
            w.write(memoryview(data[:3]), buffer)
        w.write(b"end")
    assert out.getvalue() == "".join(f"{k:02d}|" for k in range(20)).encode() + b"end"
    assert len(seen) <= 4  # the queue holds two, one is being written, one filled


def test_a_failed_write_is_raised_by_the_next_call_or_close() -> None:
    class Broken(io.BytesIO):
        def write(self, data: object) -> int:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), BackgroundWriter(Broken()) as w:
        w.write(b"x")


def test_read_ahead_yields_every_item_in_order() -> None:
    assert list(read_ahead(iter(range(50)), depth=2)) == list(range(50))
