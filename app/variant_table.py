"""The results viewer's table: one row per annotated variant, stored as an
uncompressed Arrow IPC file so a web process can memory-map it and filter,
count, sort and page a million rows without reading them all into memory.

Built once per job from the annotated VCF (in the annotator's process pool),
kept next to the result in the object store.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

BATCH_ROWS = 65_536
REGION_CLASSES = (
    "CDS", "splice_site", "UTR5", "UTR3", "noncoding_exon", "intron", "upstream", "downstream",
    "intergenic",
)
_CHROM_ORDER = {str(n): n for n in range(1, 23)} | {"X": 23, "Y": 24, "M": 25, "MT": 25}

SCHEMA = pa.schema([
    ("row", pa.int64()),
    ("chrom", pa.string()),
    ("chrom_order", pa.int32()),
    ("pos", pa.int64()),
    ("id", pa.string()),
    ("ref", pa.string()),
    ("alt", pa.string()),
    ("genes", pa.string()),
    ("gene_types", pa.string()),
    ("region", pa.string()),
    ("band", pa.string()),
    ("nearest", pa.string()),
    ("distance", pa.int64()),
    ("in_dbsnp", pa.bool_()),
])
# What a person sees and can sort by, in order, with their column headings.
COLUMNS = {
    "pos": "Position", "ref": "Ref", "alt": "Alt", "id": "rsID", "genes": "Genes",
    "region": "Region", "band": "Cytoband",
}
EXPORT = ("chrom", "pos", "id", "ref", "alt", "genes", "gene_types", "region", "band", "nearest",
          "distance", "in_dbsnp")


def chrom_order(chrom: str) -> int:
    bare = chrom.removeprefix("chr").removeprefix("Chr")
    return _CHROM_ORDER.get(bare, 100)


def _info(field: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in field.split(";"):
        if item.startswith("GAS_"):
            key, _, value = item.partition("=")
            found[key] = value or "1"
    return found


def _rows(vcf: Path) -> Iterator[list[object]]:
    with vcf.open(encoding="utf-8", errors="replace") as lines:
        row = 0
        for line in lines:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t", 8)
            if len(cols) < 8:
                continue
            info = _info(cols[7])
            rsids = [r for r in info.get("GAS_RSID", "").split(",") if r.startswith("rs")]
            ident = cols[2] if cols[2] != "." else ",".join(rsids)
            distance = info.get("GAS_DIST")
            yield [
                row, cols[0], chrom_order(cols[0]), int(cols[1]), ident, cols[3], cols[4],
                info.get("GAS_GENE", "").replace(",", ", "), info.get("GAS_GTYPE", ""),
                info.get("GAS_REGION", ""), info.get("GAS_BAND", ""), info.get("GAS_NEAREST", ""),
                int(distance) if distance and distance.lstrip("-").isdigit() else None,
                bool(rsids) or ident.startswith("rs"),
            ]
            row += 1


def build(vcf: Path, out: Path) -> int:
    """Write the table for an annotated VCF; the number of rows."""
    total = 0
    with pa.OSFile(str(out), "wb") as sink, ipc.new_file(sink, SCHEMA) as writer:
        batch: list[list[object]] = []
        for values in _rows(vcf):
            batch.append(values)
            if len(batch) == BATCH_ROWS:
                writer.write_batch(_batch(batch))
                total += len(batch)
                batch = []
        if batch or total == 0:
            writer.write_batch(_batch(batch))
            total += len(batch)
    return total


def _batch(rows: list[list[object]]) -> pa.RecordBatch:
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [() for _ in SCHEMA]
    return pa.record_batch(
        [pa.array(col, type=field.type) for col, field in zip(columns, SCHEMA, strict=True)],
        schema=SCHEMA,
    )


@dataclass(frozen=True)
class Query:
    gene: str = ""
    chrom: str = ""
    region: str = ""
    dbsnp: str = ""  # "", "yes", "no"
    sort: str = "pos"
    descending: bool = False
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, object]]
    total: int  # rows matching the filters
    all_rows: int
    page: int
    pages: int
    chromosomes: list[str]


def open_table(path: Path) -> pa.Table:
    """Zero-copy over a memory map: only the pages a query touches are read."""
    return ipc.open_file(pa.memory_map(str(path), "r")).read_all()


def _mask(table: pa.Table, query: Query) -> pa.ChunkedArray | None:
    conditions = []
    if query.gene.strip():
        conditions.append(pc.match_substring(table["genes"], query.gene.strip(), ignore_case=True))
    if query.chrom:
        conditions.append(pc.equal(table["chrom"], query.chrom))
    if query.region:
        conditions.append(pc.equal(table["region"], query.region))
    if query.dbsnp in ("yes", "no"):
        flag = table["in_dbsnp"]
        conditions.append(flag if query.dbsnp == "yes" else pc.invert(flag))
    if not conditions:
        return None
    mask = conditions[0]
    for condition in conditions[1:]:
        mask = pc.and_(mask, condition)
    return mask


def filtered(table: pa.Table, query: Query) -> pa.Table:
    mask = _mask(table, query)
    return table if mask is None else table.filter(mask)


def _position_sorted(table: pa.Table) -> bool:
    """Most VCFs are sorted; then a position sort is free (filters keep the order).
    Unknown contigs share one chrom_order, so ties there need the real sort."""
    if table.num_rows < 2 or pc.max(table["chrom_order"]).as_py() >= 100:
        return table.num_rows < 2
    key = pc.add(pc.multiply(pc.cast(table["chrom_order"], pa.int64()), 1 << 33), table["pos"])
    flat = key.combine_chunks()
    return bool(pc.all(pc.greater_equal(flat[1:], flat[:-1])).as_py())


def _sorted(table: pa.Table, query: Query) -> pa.Table:
    order = "descending" if query.descending else "ascending"
    if query.sort == "pos" and _position_sorted(table):
        # Rows are already in position order (filtering keeps it): no sort needed.
        return table[::-1] if query.descending else table
    if query.sort == "pos":
        keys = [("chrom_order", order), ("chrom", order), ("pos", order)]
    elif query.sort in COLUMNS:
        keys = [(query.sort, order), ("row", "ascending")]
    else:
        return table
    return table.take(pc.sort_indices(table, sort_keys=keys))


def page(table: pa.Table, query: Query) -> Page:
    chosen = filtered(table, query)
    total = chosen.num_rows
    pages = max(1, -(-total // query.per_page))
    number = min(max(query.page, 1), pages)
    window = _sorted(chosen, query).slice((number - 1) * query.per_page, query.per_page)
    chromosomes = sorted(pc.unique(table["chrom"]).to_pylist(), key=lambda c: (chrom_order(c), c))
    return Page(window.to_pylist(), total, table.num_rows, number, pages, chromosomes)


def export_tsv(table: pa.Table, query: Query) -> Iterator[str]:
    """The filtered rows as TSV, streamed batch by batch."""
    chosen = _sorted(filtered(table, query), query)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(EXPORT)
    yield buffer.getvalue()
    for batch in chosen.select(list(EXPORT)).to_batches(max_chunksize=BATCH_ROWS):
        buffer.seek(0)
        buffer.truncate()
        for record in batch.to_pylist():
            writer.writerow(["" if record[c] is None else record[c] for c in EXPORT])
        yield buffer.getvalue()
