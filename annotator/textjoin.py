"""Many texts joined from pieces at once, compiled: the CSQ entries of a batch are millions of
small strings (a 1M-variant file writes ~350 MB of them), too many for one Python f-string each.

A `Texts` is many byte strings in one array (``data``, with ``off``: text i is
``data[off[i]:off[i + 1]]``). A text to make is a run of tokens, each a piece of one of the
`Texts` given (kinds `A`, `B`, `C`, ...: their place), a decimal integer (`INT`) or nothing
(`SKIP`, so that a template of fixed width can leave a piece out) or the text of a run of a second,
inner set of runs (`RUN`: texts made of texts, written once, in place, rather than made first and
then copied); `render` writes every run in one compiled pass (numba).
`template` lays runs of one shape out from numpy columns, `Strings` collects a batch's own
Python texts (alleles, HGVS names) into a `Texts` its tokens point at.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
from numba import types
from numba.extending import intrinsic

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

A, B, C = 0, 1, 2  # token kinds: a text of the first, second, third source (and so on) ...
RUN, INT, SKIP = 125, 126, 127  # ... the text of an inner run, a decimal integer, nothing


@dataclass(frozen=True)
class Texts:
    data: U8
    off: I64  # len(texts) + 1 offsets into data

    def __len__(self) -> int:
        return len(self.off) - 1

    @classmethod
    def of(cls, items: Iterable[bytes | str]) -> Texts:
        raw = [x.encode("utf-8", "surrogateescape") if isinstance(x, str) else x for x in items]
        off = np.zeros(len(raw) + 1, np.int64)
        np.cumsum(np.fromiter(map(len, raw), np.int64, len(raw)), out=off[1:])
        return cls(np.frombuffer(bytearray(b"".join(raw)), np.uint8), off)

    @classmethod
    def from_blob(cls, blob: U8) -> Texts:
        """The texts of an `infotext.text_blob` (newline-separated), without splitting it in Python."""
        cut = np.flatnonzero(blob == 10)
        off = np.empty(len(cut) + 2, np.int64)
        off[0], off[-1] = 0, len(blob) + 1
        off[1:-1] = cut + 1
        # Each text but the last is followed by its newline: drop it by shifting the ends.
        data = np.delete(blob, cut) if len(cut) else np.array(blob, np.uint8)
        return cls(data, off - np.arange(len(off), dtype=np.int64))

    def first_bytes(self) -> U8:
        """Each text's first byte; 0 for an empty text."""
        data = np.append(self.data, np.uint8(0))
        return np.where(np.diff(self.off) > 0, data[self.off[:-1]], 0).astype(np.uint8)

    def __getitem__(self, i: int) -> bytes:
        return self.data[self.off[i] : self.off[i + 1]].tobytes()

    def objects(self) -> npt.NDArray[np.object_]:
        """One bytes object per text (made by Arrow in C++), for the engine's per-row pieces."""
        # Imported here: only the line-by-line path needs it, and Arrow's import is ~0.05 s of every run.
        import pyarrow as pa

        arr = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), len(self), [None, pa.py_buffer(self.off), pa.py_buffer(self.data)]
        )
        return arr.to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def concat(*parts: Texts) -> tuple[Texts, list[int]]:
    """The texts of every part in one `Texts`, and where each part's first text is in it."""
    bases = np.cumsum([0] + [len(p) for p in parts]).tolist()
    sizes = np.cumsum([0] + [len(p.data) for p in parts])
    off = np.concatenate([p.off[:-1] + s for p, s in zip(parts, sizes.tolist(), strict=False)] + [sizes[-1:]])
    return Texts(np.concatenate([p.data for p in parts]), off.astype(np.int64)), bases[:-1]


def translate(texts: Texts, table: dict[int, bytes]) -> Texts:
    """Each byte of `table`'s keys replaced by its bytes (for escaping), every text at once."""
    width = np.ones(256, np.int64)
    repl = np.zeros((256, max([len(v) for v in table.values()] + [1])), np.uint8)
    for byte in range(256):
        repl[byte, 0] = byte
    for byte, to in table.items():
        width[byte] = len(to)
        repl[byte, : len(to)] = np.frombuffer(to, np.uint8)
    data, off = _translate(texts.data, texts.off, width, repl)
    return Texts(data, off)


@numba.njit(cache=True, nogil=True)  # type: ignore[misc]
def _translate(data: U8, off: I64, width: I64, repl: U8) -> tuple[U8, I64]:  # pragma: no cover - compiled
    new = np.empty(len(off), np.int64)
    new[0] = 0
    for i in range(len(off) - 1):
        n = 0
        for j in range(off[i], off[i + 1]):
            n += width[data[j]]
        new[i + 1] = new[i] + n
    out = np.empty(new[-1], np.uint8)
    p = 0
    for j in range(off[0], off[-1]):
        c = data[j]
        for k in range(width[c]):
            out[p] = repl[c, k]
            p += 1
    return out, new


def template(n: int, *parts: tuple[int | npt.NDArray[np.integer], int | npt.NDArray[np.integer]]) -> Runs:
    """n runs of len(parts) tokens: each part a (kind, value), either a scalar for every run or an
    array of n (a part left out of some runs has kind SKIP there)."""
    k = len(parts)
    kind = np.empty((n, k), np.int8)
    value = np.empty((n, k), np.int64)
    for j, (kd, v) in enumerate(parts):
        kind[:, j] = kd
        value[:, j] = v
    return Runs(kind.ravel(), value.ravel(), np.arange(0, n * k + 1, k, dtype=np.int64) if n else _ZERO)


_ZERO = np.zeros(1, np.int64)


@dataclass(frozen=True)
class Runs:
    """Runs of tokens, one per text to make: run i is tokens ptr[i]..ptr[i + 1]."""

    kind: npt.NDArray[np.int8]
    value: I64
    ptr: I64

    def __len__(self) -> int:
        return len(self.ptr) - 1


_NO_RUNS = Runs(np.empty(0, np.int8), np.empty(0, np.int64), _ZERO)


@dataclass(frozen=True)
class Joined:
    """Texts not written yet: runs over their sources, for a later render to write in place (a RUN
    token of its runs) rather than written once and copied from there."""

    runs: Runs
    sources: tuple[Texts, ...]
    size: int  # the bytes of all its texts

    def inner(self, first: int) -> Runs:
        """Its runs as inner runs of a render whose sources from `first` on are these sources."""
        kind = self.runs.kind
        return Runs(np.where(kind < RUN, kind + first, kind).astype(np.int8), self.runs.value, self.runs.ptr)

    def texts(self) -> Texts:
        return render(self.runs, *self.sources)


def chain(runs: Sequence[Runs]) -> Runs:
    """The runs of every part, one after another."""
    runs = [r for r in runs if len(r)]
    if not runs:
        return Runs(np.empty(0, np.int8), np.empty(0, np.int64), _ZERO)
    shifts = np.cumsum([0] + [len(r.kind) for r in runs]).tolist()
    ptr = np.concatenate([r.ptr[:-1] + s for r, s in zip(runs, shifts, strict=False)] + [shifts[-1:]])
    return Runs(
        np.concatenate([r.kind for r in runs]), np.concatenate([r.value for r in runs]), ptr.astype(np.int64)
    )


class Buffer:
    """Memory `render` writes into, kept from one call to the next: a fresh array each time would be
    fresh pages each time, which the kernel takes a fault on every 4 KB of (as long as the writing)."""

    def __init__(self) -> None:
        self.data = np.empty(1 << 20, np.uint8)

    def at_least(self, n: int) -> U8:
        """The memory, grown to n bytes at least (what was in it kept)."""
        if len(self.data) < n:
            grown = np.empty(n + n // 8, np.uint8)  # an eighth more: the next one is seldom much larger
            grown[: len(self.data)] = self.data
            self.data = grown
        return self.data


@dataclass(frozen=True)
class Pending:
    """Texts laid out but not written: renders (runs over their sources, inner runs) to be done one
    after another by `Arena.write`, later and maybe on another thread (the sources must stay as
    they are until then)."""

    renders: tuple[tuple[Runs, tuple[Texts, ...], Runs | None], ...]

    def __len__(self) -> int:
        return sum(len(runs) for runs, _, _ in self.renders)


class Arena(Buffer):
    """A `Buffer` several renders write one after another into, read back as one `Texts` (valid until
    `reset`)."""

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        self.used = 0
        self.offs: list[I64] = [_ZERO]

    def render(self, runs: Runs, *sources: Texts, inner: Runs | None = None) -> None:
        off = _write(runs, sources, self, self.used, inner)
        self.offs.append(off[1:])
        self.used = int(off[-1])

    def texts(self) -> Texts:
        return Texts(self.data[: self.used], np.concatenate(self.offs))

    def write(self, pending: Sequence[Pending]) -> list[Texts]:
        """Each pending's texts, written into this arena from its start (valid until the next use)."""
        self.reset()
        for p in pending:
            for runs, sources, inner in p.renders:
                self.render(runs, *sources, inner=inner)
        off = np.concatenate(self.offs)
        # Views taken once all is written: a render may have grown (moved) the memory.
        first = np.cumsum([0] + [len(p) for p in pending]).tolist()
        data = self.data[: self.used]
        return [Texts(data, off[lo : hi + 1]) for lo, hi in itertools.pairwise(first)]


def render(runs: Runs, *sources: Texts, into: Buffer | None = None, inner: Runs | None = None) -> Texts:
    """The text of every run, token kind k taking its texts from sources[k] and kind RUN v the text of
    inner run v (whose tokens are no RUNs): in `into`'s memory (valid until its next use) or a new
    array."""
    into = into if into is not None else Buffer()
    off = _write(runs, sources, into, 0, inner)
    return Texts(into.data[: off[-1]], off)


def _write(runs: Runs, sources: tuple[Texts, ...], into: Buffer, at: int, inner: Runs | None = None) -> I64:
    """Writes the runs into `into` from byte `at` on, in one pass (grown and again on the rare run
    that would not fit); the offsets of the texts written, from `at`."""
    # The kernel reads the sources by address (see `_bytes_at`); `held` keeps every array it reads
    # alive and contiguous until it returns.
    held = [(np.ascontiguousarray(t.data), np.ascontiguousarray(t.off, np.int64)) for t in sources]
    data_at = np.array([d.ctypes.data for d, _ in held], np.int64)
    off_at = np.array([o.ctypes.data for _, o in held], np.int64)
    off = np.empty(len(runs) + 1, np.int64)
    off[0] = at
    r, sub = runs, inner if inner is not None else _NO_RUNS
    done = 0
    while True:
        done = _render(
            r.kind, r.value, r.ptr, sub.kind, sub.value, sub.ptr, data_at, off_at, into.data, done, off
        )
        if done == len(runs):
            return off
        # A run did not fit: grown, the runs before it kept, and on from it. Grown to what the runs
        # written so far say they all take, and a quarter more: doubling from a small buffer took a
        # copy per doubling (7 of them for a batch's CSQ texts). Nothing written yet (a run longer
        # than the buffer): no guess, twice the room.
        written = int(off[done]) - at
        guess = at + written * len(runs) // done * 5 // 4 if done else 2 * len(into.data)
        into.at_least(max(guess, len(into.data) + 1))


def _pointer_to(item: types.Type) -> Any:
    """A compiled function of an address: a pointer to `item`s there. The kernels take their sources
    as a table of addresses: indexing a tuple of arrays by a kind known only at run time cost ~45 ns
    a token (measured: 1M chr20 records spent 3.4 s in `_render`), reading through a pointer ~7 ns."""

    def typer(typingctx, address):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
        sig = types.CPointer(item)(types.int64)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            return builder.inttoptr(args[0], context.get_value_type(sig.return_type))

        return sig, codegen

    return intrinsic(typer)


_bytes_at = _pointer_to(types.uint8)  # a source's bytes
_ints_at = _pointer_to(types.int64)  # a source's offsets


_EMPTY = Texts(np.zeros(0, np.uint8), np.zeros(1, np.int64))


@numba.njit(cache=True, nogil=True)  # type: ignore[misc]
def _digits(v: int) -> int:  # pragma: no cover - compiled
    n = 1
    if v < 0:
        n += 1
        v = -v
    while v >= 10:
        v //= 10
        n += 1
    return n


@numba.njit(cache=True, nogil=True, inline="always")  # type: ignore[misc]
def _copy(src_at: int, lo: int, hi: int, out: U8, p: int) -> int:  # pragma: no cover - compiled
    """Bytes lo..hi of the source at src_at to out[p:], and the position after them: a slice copy
    (memcpy) pays for itself on long pieces only."""
    if hi - lo > 16:
        out[p : p + hi - lo] = numba.carray(_bytes_at(src_at + lo), hi - lo)
        return p + hi - lo
    src = _bytes_at(src_at)
    for j in range(lo, hi):
        out[p] = src[j]
        p += 1
    return p


@numba.njit(cache=True, nogil=True)  # type: ignore[misc]
def _tokens(kind, value, lo, hi, data_at, off_at, out, p):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Writes tokens lo..hi (no RUNs) at out[p:]; the position after them, -1 when they would not fit."""
    size = len(out)
    for k in range(lo, hi):
        kd, v = kind[k], value[k]
        if kd == INT:
            neg = v < 0
            if neg:
                v = -v
            d = _digits(v) + neg
            if p + d > size:
                return -1
            if neg:
                out[p] = 45  # "-"
            q = p + d - 1
            while True:
                out[q] = 48 + v % 10
                v //= 10
                q -= 1
                if v == 0:
                    break
            p += d
        elif kd != SKIP:
            o = _ints_at(off_at[kd])
            a, b = o[v], o[v + 1]
            if p + b - a > size:
                return -1
            p = _copy(data_at[kd], a, b, out, p)
    return p


@numba.njit(cache=True, nogil=True)  # type: ignore[misc]
def _render(kind, value, ptr, ikind, ivalue, iptr, data_at, off_at, out, first, off):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Writes runs first.. into out from off[first] on, off[i + 1] where run i ends; the first run
    not written when out is too small for it (what is before off[that run] is written and stays),
    else all runs. A RUN token writes inner run (ikind, ivalue, iptr). Its token cases repeat
    `_tokens`' on purpose: one writer of a token called from both loops, inlined, made 1M chr20
    records ~1 s slower (measured)."""
    n = len(ptr) - 1
    size = len(out)
    p = off[first]
    for i in range(first, n):
        for k in range(ptr[i], ptr[i + 1]):
            kd, v = kind[k], value[k]
            if kd == INT:
                neg = v < 0
                if neg:
                    v = -v
                d = _digits(v) + neg
                if p + d > size:
                    return i
                if neg:
                    out[p] = 45  # "-"
                q = p + d - 1
                while True:
                    out[q] = 48 + v % 10
                    v //= 10
                    q -= 1
                    if v == 0:
                        break
                p += d
            elif kd == RUN:
                p = _tokens(ikind, ivalue, iptr[v], iptr[v + 1], data_at, off_at, out, p)
                if p < 0:
                    return i
            elif kd != SKIP:
                o = _ints_at(off_at[kd])
                lo, hi = o[v], o[v + 1]
                if p + hi - lo > size:
                    return i
                p = _copy(data_at[kd], lo, hi, out, p)
        off[i + 1] = p
    return n


class Strings:
    """A batch's own texts, numbered as they are added (token kind B), made one `Texts` at the end."""

    def __init__(self) -> None:
        self.parts: list[Texts] = []
        self.pending: list[str] = []
        self.n = 0

    def add(self, items: Sequence[str]) -> I64:
        self.pending += items
        return self._ids(len(items))

    def add_texts(self, texts: Texts) -> I64:
        self._flush()
        self.parts.append(texts)
        return self._ids(len(texts))

    def one(self, item: str) -> int:
        return int(self.add([item])[0])

    def texts(self) -> Texts:
        self._flush()
        return concat(*self.parts)[0] if self.parts else _EMPTY

    def _ids(self, n: int) -> I64:
        self.n += n
        return np.arange(self.n - n, self.n, dtype=np.int64)

    def _flush(self) -> None:
        if self.pending:
            self.parts.append(Texts.of(self.pending))
            self.pending = []
