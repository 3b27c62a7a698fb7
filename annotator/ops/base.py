"""What every track op is written against: the batch it reads, what it gives
back, the run's counts, and the `Op` base class (see the package docstring)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

from annotator.install_error import ReferenceInstallError

if TYPE_CHECKING:
    from annotator.indexer import Contigs
    from annotator.manifest import Track
    from annotator.reference import Reference
    from annotator.textjoin import Pending, Texts
    from annotator.usertracks import Features

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
Obj = npt.NDArray[Any]

# A track as the index records it: name, op, info (its INFO key), description.
TrackInfo = dict[str, str]
# One ##INFO declaration: ID, Number, Type, Description.
Decl = tuple[str, str, str, str]

T = TypeVar("T")


@dataclass
class Batch:
    contig: I64  # reference contig index, -1 when the build has no such contig
    start: I64  # 1-based first base
    end: I64  # 1-based last base
    single_base: Bool  # REF and ALT are one base each (ALT not multi-allelic)
    ref_base: npt.NDArray[np.uint8]  # first byte of REF / ALT, upper case
    alt_base: npt.NDArray[np.uint8]
    alleles: Callable[[int], tuple[bytes, bytes]]  # REF and ALT of a row, as written
    # The same as spans of the block's bytes: REF of row i is text[ref_at[i]:ref_end[i]].
    text: npt.NDArray[np.uint8]
    ref_at: I64
    ref_end: I64
    alt_at: I64
    alt_end: I64
    # How each row's text is framed: lead[i] (0 or 1) indexes (b"", b";") before
    # it, tail[i] indexes `tails` after it. Rows not annotated get only their tail.
    lead: I64
    tail: I64
    tails: tuple[bytes, ...] = (b"",)


@dataclass
class Query:
    """The batch's positions as every op looks them up, worked out once per batch."""

    annotated: Bool  # the reference has the row's contig
    ks: I64  # whole-genome keys (see `intervals`) of the first and last base; -1 where not annotated
    ke: I64


class Place(IntEnum):
    """Where an op's pieces go in a row's INFO text (after GAS_BUILD, before the
    rows' own texts): the order GAS has always written, kept so that output
    stays byte-for-byte the same. A new op takes a new value."""

    REGION = 10
    BAND = 20
    FLAGS = 30
    NAMES = 40
    GENES = 50
    NEAREST = 60


@dataclass
class Codes:
    """A small integer per row and the INFO text of each code (table[0] is b"" for
    rows without one). Texts start with their own ";". `place` orders the pieces
    of a row's INFO text across ops (ascending; ties in track order)."""

    place: int
    codes: I64
    table: Obj


@dataclass
class Contribution:
    """What an op adds to a batch."""

    shared: list[Codes] = field(default_factory=list)
    # Text of a row's own (distances, IDs, per-ALT values): rows ascending, and
    # one bytes value each (numpy "S" or object array, a `textjoin.Texts`, or `textjoin.Pending` texts
    # the output writes later), starting with ";".
    own: list[tuple[I64, npt.NDArray[Any] | Texts | Pending]] = field(default_factory=list)
    # Values for rows whose ID column is empty: rows ascending, bytes each.
    ids: tuple[I64, Obj] | None = None


@dataclass
class Stats:
    """A run's counts, shared by its ops: summary key -> label -> count. Ops
    may add to the same counter (flag and names tracks both count in "flags")."""

    counts: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


@dataclass(frozen=True)
class Options:
    upstream_window: int = 5000  # bp: how far upstream / downstream of a gene counts


class Op(ABC):
    """One kind of track: how it is built, declared and applied (see the package docstring).

    An instance serves one run over every track of its kind in the build (in
    track order); what it reads from the reference is made once per process
    and kept in ``ref.cache`` (`cached`)."""

    user: ClassVar[bool] = False  # an operator's own file (BED, GTF, VCF) may use this op

    def __init__(self, ref: Reference, tracks: list[TrackInfo], options: Options, stats: Stats):
        self.ref = ref
        self.tracks = tracks

    # -- install ------------------------------------------------------------------
    @classmethod
    def build(
        cls, contigs: Contigs, track: Track, files: dict[str, Path], out: dict[str, Any]
    ) -> dict[str, Any]:
        """Index the track's packaged files (role -> path) into `out`'s arrays; returns
        what goes into index.json: ``counts`` (merged into the index's) and any other keys."""
        raise ReferenceInstallError(f"track {track.name}: op {track.op!r} reads an operator's own file only")

    @classmethod
    def build_user(
        cls, contigs: Contigs, track: Track, features: Features, out: dict[str, Any]
    ) -> dict[str, Any]:
        """Index an operator's file (read into `features`); only for ops with `user` set."""
        if cls.user:
            # Imported here, as in every op's ``build``: the indexers' pyarrow tables
            # are for installing, not for the engine processes that import the ops.
            from annotator import indexer

            return indexer.build_user(contigs, track, features, out)
        raise ReferenceInstallError(f"track {track.name}: op {track.op!r} is not for a file of yours")

    # -- run --------------------------------------------------------------------
    @abstractmethod
    def declare(self, track: TrackInfo) -> list[Decl]:
        """The ##INFO lines one of this op's tracks writes."""

    @abstractmethod
    def apply(self, b: Batch, q: Query) -> Contribution:
        """What this op's tracks add to the batch's rows (only rows `q.annotated`)."""

    def summary(self, records: int) -> dict[str, Any]:
        """This op's entries in the run's summary, asked once after the last batch;
        present (zero) when the build has no such track."""
        return {}


def cached(ref: Reference, key: str, make: Callable[[], T]) -> T:
    """What `make` builds from `ref`, built once per process and reference."""
    got: T | None = ref.cache.get(key)
    if got is None:
        got = ref.cache[key] = make()
    return got


def arrays(ref: Reference) -> dict[str, npt.NDArray[Any]]:
    """Plain ndarray views of the memory maps: np.memmap's Python-level
    __getitem__ would cost microseconds on every slice."""
    return cached(ref, "arrays", lambda: {k: np.asarray(v) for k, v in ref.arrays.items()})


def pieces(items: Iterable[bytes]) -> Obj:
    """bytes objects in a numpy object array, to be taken by index."""
    items = list(items)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def text_of(label: bytes | str) -> str:
    return label.decode("utf-8", "surrogateescape") if isinstance(label, bytes) else label
