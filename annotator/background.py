"""Overlap reading and writing with annotating, on a second core.

Reading a block (inflating gzip above all) and writing one are system calls
and zlib work that release the GIL, and so is rendering a block's text (the
compiled `textjoin` kernels): a thread each lets them run while the main thread
annotates the next block. Queues are short: at most a few blocks are in memory
at once, whatever the file's size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import IO, TypeVar

from annotator.textjoin import Buffer

T = TypeVar("T")
_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


def read_ahead(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """The items of `items`, produced by a thread up to `depth` ahead; its errors re-raised here."""
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                q.put(item)
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(_Failure(exc))
            return
        q.put(_DONE)

    thread = threading.Thread(target=produce, name="gas-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get(timeout=0.05)
            except queue.Empty:
                pass
        thread.join()


Render = Callable[[Buffer], bytes | memoryview]


class BackgroundWriter:
    """Makes and writes blocks of bytes to `out` from a thread; closing waits for the last write and
    re-raises its error.

    A block is made by a function of a `Buffer` (memory to render into, if it wants it), called on
    the thread: one buffer, reused by every block (fresh memory is a page fault every 4 KB)."""

    def __init__(self, out: IO[bytes], depth: int = 2):
        self._out = out
        self._q: queue.Queue[bytes | Render | None] = queue.Queue(maxsize=depth)
        self._buffer = Buffer()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="gas-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._q.get()) is not None:
            if self._error is None:
                try:
                    # One buffer is enough: it is written out before the next block is made.
                    self._out.write(item if isinstance(item, bytes) else item(self._buffer))
                except BaseException as exc:  # re-raised by write() or close()
                    self._error = exc
            del item

    def write(self, block: bytes | Render) -> None:
        """Write bytes, or the block `block(buffer)` makes on the writer's thread."""
        if self._error is not None:
            raise self._error
        self._q.put(block)

    def close(self) -> None:
        self._q.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        # Always stop the thread (a worker process runs many jobs); a write
        # error is raised unless another error is already on its way.
        try:
            self.close()
        except BaseException:
            if exc_type is None:
                raise
