"""Known variants as a track's sources give them (`Sites`), and the sorted
arrays they are indexed as (`index_sites`), which `knownvariants` looks up.

Install time only: columns are pyarrow arrays, so a few million sites cost
tens of MB rather than a Python string each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from annotator import intervals as iv
from annotator.infotext import text_blob
from annotator.knownvariants import allele_code

I64 = npt.NDArray[np.int64]


@dataclass
class Sites:
    """Known variants, one row per (position, REF, ALT) and source entry.
    `values` holds, per INFO key the track writes, one INFO-safe text per row."""

    contig: I64  # index into the build's contigs, -1 for one the build lacks
    pos: I64  # 1-based
    ref: pa.Array  # strings, as the source writes them
    alt: pa.Array
    values: list[pa.Array]

    def __len__(self) -> int:
        return len(self.pos)


def info_safe_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`infotext.info_safe` over a whole column."""
    safe = pc.replace_substring_regex(values.cast(pa.large_string()), "[;=, \t\n]", "_")
    return safe.combine_chunks() if isinstance(safe, pa.ChunkedArray) else safe


def merge(parts: list[Sites]) -> Sites:
    def joined(arrays: list[pa.Array]) -> pa.Array:
        return pa.concat_arrays([a.cast(pa.large_string()) for a in arrays])

    return Sites(
        contig=np.concatenate([p.contig for p in parts]),
        pos=np.concatenate([p.pos for p in parts]),
        ref=joined([p.ref for p in parts]),
        alt=joined([p.alt for p in parts]),
        values=[joined([p.values[k] for p in parts]) for k in range(len(parts[0].values))],
    )


def allele_codes(refs: pa.Array, alts: pa.Array) -> I64:
    """The code of each (REF, ALT) pair, upper case; SNVs straight from the
    arrays' bytes, only longer alleles one by one."""
    refs, alts = pc.utf8_upper(refs), pc.utf8_upper(alts)
    snv = np.asarray(pc.and_(pc.equal(pc.binary_length(refs), 1), pc.equal(pc.binary_length(alts), 1)))
    out = np.zeros(len(refs), np.int64)
    at = np.flatnonzero(snv)
    if len(at):
        first = [
            np.frombuffer(pc.take(a, pa.array(at)).cast(pa.large_binary()).buffers()[2], np.uint8)
            for a in (refs, alts)
        ]
        out[at] = first[0][: len(at)].astype(np.int64) << 8 | first[1][: len(at)].astype(np.int64)
    for i in np.flatnonzero(~snv).tolist():
        out[i] = allele_code(refs[i].as_py().encode(), alts[i].as_py().encode())
    return out


def index_sites(sites: Sites, prefix: str, out: dict[str, Any]) -> dict[str, int]:
    """Sorted arrays of `sites` under `prefix`; identical rows (position, alleles,
    every value) are stored once. Returns the counts for index.json."""
    ok = sites.contig >= 0
    keep = pa.array(ok)
    keys = iv.keys(np.maximum(sites.contig, 0), sites.pos)[ok]
    codes = allele_codes(sites.ref.filter(keep), sites.alt.filter(keep))
    columns: list[I64] = []
    tables: list[list[str]] = []
    for values in sites.values:
        encoded = values.filter(keep).dictionary_encode()
        columns.append(np.asarray(encoded.indices, dtype=np.int64))
        tables.append(encoded.dictionary.to_pylist())
    order = np.lexsort([*reversed(columns), codes, keys])  # by key, then allele, then values
    rows = np.stack([keys, codes, *columns], axis=1)[order]
    if len(rows):
        rows = rows[np.concatenate([[True], (rows[1:] != rows[:-1]).any(axis=1)])]
    out[f"{prefix}_key"] = np.ascontiguousarray(rows[:, 0])
    out[f"{prefix}_allele"] = np.ascontiguousarray(rows[:, 1])
    for i, table in enumerate(tables):
        col = rows[:, 2 + i]
        if 2 * len(table) <= len(rows):
            # Few distinct values (significances, disease lists): a code a row.
            out[f"{prefix}_c{i}"] = col.astype(np.int32)
            out[f"{prefix}_t{i}"] = text_blob(table)
        else:
            # Nearly one a row (rsIDs): the texts themselves, memory-mapped.
            out[f"{prefix}_v{i}"] = np.array([t.encode() for t in table], dtype="S")[col]
    return {"sites": len(rows), "skipped": int((~ok).sum())}
