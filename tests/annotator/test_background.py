"""`annotator.background`: the writer thread makes and writes blocks in order, on its own thread,
into one buffer it reuses, and re-raises a write's error."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest

from annotator.background import BackgroundWriter, read_ahead
from annotator.textjoin import Buffer


def test_blocks_are_made_on_the_writers_thread_in_order_into_one_buffer() -> None:
    """A block given as a function is made on the writer's thread (so the caller goes on with the
    next), into the same memory each time, and written before the next is made: the bytes are the
    ones each block made, in the order given."""
    out = io.BytesIO()
    threads, buffers = set(), set()

    def block(k: int, into: Buffer) -> memoryview:
        threads.add(threading.current_thread().name)
        buffers.add(id(into))
        data = into.at_least(3)
        data[:3] = np.frombuffer(f"{k:02d}|".encode(), np.uint8)
        return memoryview(data[:3])

    with BackgroundWriter(out) as w:
        for k in range(20):
            w.write(lambda into, k=k: block(k, into))
        w.write(b"end")
    assert out.getvalue() == "".join(f"{k:02d}|" for k in range(20)).encode() + b"end"
    assert threads == {"gas-writer"} and len(buffers) == 1


def test_a_failed_write_is_raised_by_the_next_call_or_close() -> None:
    class Broken(io.BytesIO):
        def write(self, data: object) -> int:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), BackgroundWriter(Broken()) as w:
        w.write(b"x")


def test_read_ahead_yields_every_item_in_order() -> None:
    assert list(read_ahead(iter(range(50)), depth=2)) == list(range(50))


def test_a_block_that_fails_to_be_made_is_raised_and_nothing_after_it_written() -> None:
    def broken(into: Buffer) -> bytes:
        raise ValueError("bad block")

    out = io.BytesIO()
    with pytest.raises(ValueError, match="bad block"), BackgroundWriter(out) as w:
        w.write(b"a")
        w.write(broken)
        w.write(b"b")
    assert out.getvalue() == b"a"
