"""Known variants matched by position, REF and ALT (rsIDs, ClinVar): the
vectorised lookup of a batch in the arrays `knownsites` indexes a track as.

REF and ALT are matched as written (upper case), never normalised: the
sources GAS ships are VCF-style with their anchor bases, as callers write
them. Every (position, REF, ALT) of a site is stored, so a site known with
several ALT alleles matches whichever one a variant carries.

Each allele pair is one int64 code: a SNV's is its two bases (exact), any
other's a 62-bit hash of its text. Codes are only compared between entries
at the same position, where a hash collision (2^-62 a pair) is not a risk
worth a second array of allele texts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from annotator import intervals as iv
from annotator.infotext import split_blob

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
Obj = npt.NDArray[Any]

_HASHED = 1 << 62  # set on every hashed code, never on a SNV's


def allele_code(ref: bytes, alt: bytes) -> int:
    """The code of an upper-case (REF, ALT) pair."""
    if len(ref) == 1 and len(alt) == 1:
        return ref[0] << 8 | alt[0]
    digest = hashlib.blake2b(ref + b">" + alt, digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 2 | _HASHED


@dataclass
class Matches:
    """Which known entries a batch's ALT alleles match: one element per
    (row, ALT allele, entry), by row and ALT ascending."""

    rows: I64  # batch rows with at least one match, ascending
    n_alts: I64  # ALT alleles of each of those rows
    row: I64  # per match: its batch row, its ALT's index, the entry
    alt: I64
    entry: I64


@dataclass
class _Field:
    """One value column: the texts themselves, or a code a row into a table."""

    direct: npt.NDArray[np.bytes_] | None
    codes: npt.NDArray[np.int32] | None
    table: Obj


class KnownIndex:
    """One known-variant track's arrays (from `knownsites.index_sites`), looked up a batch at a time."""

    def __init__(self, a: dict[str, npt.NDArray[Any]], prefix: str, n_values: int):
        self.key: I64 = a[f"{prefix}_key"]
        self.allele: I64 = a[f"{prefix}_allele"]
        self.fields: list[_Field] = []
        for i in range(n_values):
            if f"{prefix}_v{i}" in a:
                self.fields.append(_Field(a[f"{prefix}_v{i}"], None, np.empty(0, object)))
            else:
                table = _objects(split_blob(a[f"{prefix}_t{i}"]))
                self.fields.append(_Field(None, a[f"{prefix}_c{i}"], table))

    def values(self, field: int, entries: I64) -> Obj:
        """The field's text (bytes) of each entry."""
        f = self.fields[field]
        if f.direct is not None:
            return f.direct[entries].astype(object)
        assert f.codes is not None
        return f.table[f.codes[entries]]

    def match(
        self,
        ks: I64,
        annotated: Bool,
        single_base: Bool,
        ref_base: npt.NDArray[np.uint8],
        alt_base: npt.NDArray[np.uint8],
        alleles: Callable[[int], tuple[bytes, bytes]],
    ) -> Matches:
        """Entries at each row's position whose REF and ALT equal the row's REF
        and one of its ALTs. SNVs are matched in numpy; only rows with another
        allele at a known position are split in Python."""
        empty = np.empty(0, np.int64)
        kk = self.key
        if not len(kk) or not len(ks):
            return Matches(empty, empty, empty, empty, empty)
        lo = iv.search(kk, ks, side="left")
        rows = np.flatnonzero(annotated & (kk[np.minimum(lo, len(kk) - 1)] == ks))
        if not len(rows):
            return Matches(empty, empty, empty, empty, empty)
        lo = lo[rows]
        hi = iv.search(kk, ks[rows], side="right")
        # One query per (row, ALT allele): its position among `rows`, ALT index and code.
        simple = single_base[rows]
        q_at = np.flatnonzero(simple)
        q_alt = np.zeros(len(q_at), np.int64)
        q_code = ref_base[rows[q_at]].astype(np.int64) << 8 | alt_base[rows[q_at]].astype(np.int64)
        n_alts = np.ones(len(rows), np.int64)
        other = np.flatnonzero(~simple)
        if len(other):
            at: list[int] = []
            alt_i: list[int] = []
            code: list[int] = []
            for x in other.tolist():
                ref, alt = alleles(int(rows[x]))
                ref = ref.upper()
                split = alt.upper().split(b",")
                n_alts[x] = len(split)
                for k, candidate in enumerate(split):
                    at.append(x)
                    alt_i.append(k)
                    code.append(allele_code(ref, candidate))
            q_at = np.concatenate([q_at, np.array(at, np.int64)])
            q_alt = np.concatenate([q_alt, np.array(alt_i, np.int64)])
            q_code = np.concatenate([q_code, np.array(code, np.int64)])
        # Every query against every entry at its position.
        count = (hi - lo)[q_at]
        query = np.repeat(np.arange(len(q_at)), count)
        first = np.repeat(np.cumsum(count) - count, count)
        entry = np.repeat(lo[q_at], count) + np.arange(len(query)) - first
        hit = self.allele[entry] == q_code[query]
        query, entry = query[hit], entry[hit]
        order = np.lexsort((entry, q_alt[query], q_at[query]))
        query, entry = query[order], entry[order]
        at_rows = q_at[query]
        used = np.unique(at_rows)
        return Matches(rows[used], n_alts[used], rows[at_rows], q_alt[query], entry)


def per_alt_text(index: KnownIndex, m: Matches, fields: Sequence[tuple[bytes, int]]) -> Obj:
    """Each matched row's INFO text: ``;KEY=v1,v2`` per (key, field), one value per
    ALT allele ("." for none, "|" between several entries of one allele)."""
    values = [index.values(f, m.entry) for _, f in fields]
    out = np.empty(len(m.rows), object)
    # The common case without a Python loop: one ALT allele, one entry.
    per_row = np.searchsorted(m.rows, m.row)
    n_match = np.bincount(per_row, minlength=len(m.rows))
    single = (m.n_alts == 1) & (n_match == 1)
    at = np.flatnonzero(single[per_row])
    if len(at):
        joined = np.full(len(at), b"", object)
        for (key, _), v in zip(fields, values, strict=True):
            joined = joined + (b";" + key + b"=") + v[at]
        out[per_row[at]] = joined
    starts = np.searchsorted(per_row, np.arange(len(m.rows)))
    for r in np.flatnonzero(~single).tolist():
        lo = int(starts[r])
        hi = lo + int(n_match[r])
        text = b""
        for (key, _), v in zip(fields, values, strict=True):
            alts: list[list[bytes]] = [[] for _ in range(int(m.n_alts[r]))]
            for k in range(lo, hi):
                alts[int(m.alt[k])].append(v[k])
            text += b";" + key + b"=" + b",".join(b"|".join(x) if x else b"." for x in alts)
        out[r] = text
    return out


def _objects(items: list[bytes]) -> Obj:
    out = np.empty(len(items), object)
    out[:] = items
    return out
