"""The results viewer's table: one row per annotated variant, stored as an
uncompressed Arrow IPC file so a web process can memory-map it and filter,
count, sort and page a million rows without reading them all into memory.

Built once per job from the annotated VCF (in the annotator's process pool),
kept next to the result in the object store. Tables built before a column
existed still open: the column reads as nulls (``open_table``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc

from app.results import annotation_columns, consequences, locus, sort_keys
from app.results.vcf_info import Info, csq_format

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
    *annotation_columns.FIELDS,
])
# What a person sees and can sort by, in order, with their column headings.
COLUMNS = {
    "pos": "Position", "ref": "Ref", "alt": "Alt", "id": "rsID", "genes": "Genes",
    "region": "Region", "band": "Cytoband",
}
_SORT_KEYS: dict[str, Callable[[pa.ChunkedArray], list[pa.Array | pa.ChunkedArray]]] = {
    "ref": sort_keys.text, "alt": sort_keys.text, "id": sort_keys.rsid, "genes": sort_keys.text,
    "region": sort_keys.text, "band": sort_keys.band,
}
EXPORT = ("chrom", "pos", "id", "ref", "alt", "genes", "gene_types", "region", "band", "nearest",
          "distance", "in_dbsnp", "consequence", "impact", "feature", "hgvsc", "hgvsp", "clinvar",
          "clinvar_disease", "clinvar_ids", "clinvar_review")
CLINVAR_FILTERS = ("pathogenic",)
# A text cell a spreadsheet would read as a formula (OWASP's CSV injection list):
# exported with a leading ' so that it shows as the text it is. Numbers stay numbers.
_FORMULA = r"^[=+\-@\t\r]"
_TEXT_EXPORT = tuple(name for name in EXPORT if SCHEMA.field(name).type == pa.string())


def chrom_order(chrom: str) -> int:
    bare = chrom.removeprefix("chr").removeprefix("Chr")
    return _CHROM_ORDER.get(bare, 100)


# The columns read: CHROM, POS, ID, REF, ALT and INFO.
_READ = (0, 1, 2, 3, 4, 7)
# A CSV block must hold a whole line; an annotated line is its input line plus
# GAS's INFO text, which is far below this.
_BLOCK_MARGIN = 1 << 24


def _header(vcf: Path) -> tuple[int, int, tuple[str, ...] | None]:
    """Where the records start (a byte offset), how many columns they have, and
    the sub-fields of INFO CSQ as its declaration lists them."""
    fields = None
    with vcf.open("rb") as lines:
        offset = 0
        for line in lines:
            offset += len(line)
            if line.startswith(b"#CHROM"):
                return offset, line.count(b"\t") + 1, fields
            if not line.startswith(b"##"):
                break
            fields = csq_format(line) or fields
    raise ValueError(f"{vcf}: no #CHROM header line")


def _text(column: pa.Array) -> pa.Array:
    """VCF bytes as text: UTF-8 as it is, other bytes as U+FFFD. Only the table's
    copy is decoded so; the annotated VCF keeps the bytes it was given."""
    try:
        return pc.cast(column, pa.string())
    except pa.ArrowInvalid:
        return pa.array([b.decode("utf-8", "replace") for b in column.to_pylist()], pa.string())


def _convert(batch: pa.RecordBatch, first_row: int, csq: tuple[str, ...] | None) -> pa.RecordBatch:
    """Eight VCF columns in, the viewer's columns out: all vectorised."""
    chrom, ident, ref, alt, text = (_text(batch.column(i)) for i in (0, 2, 3, 4, 5))
    info = Info(text)
    pos = batch.column(1)
    uniques = pc.unique(chrom)
    orders = pa.array([chrom_order(c) for c in uniques.to_pylist()], pa.int32())
    rsid = info.value("GAS_RSID")
    has_rsid = pc.fill_null(pc.match_substring(rsid, "rs"), False)
    ident = pc.if_else(pc.equal(ident, "."), pc.fill_null(rsid, ""), ident)
    distance = info.value("GAS_DIST", "-?[0-9]{1,18}")
    columns = [
        pa.array(np.arange(first_row, first_row + batch.num_rows, dtype=np.int64)),
        chrom,
        pc.take(orders, pc.index_in(chrom, value_set=uniques)),
        pos,
        ident,
        ref,
        alt,
        pc.replace_substring(pc.fill_null(info.value("GAS_GENE"), ""), ",", ", "),
        pc.fill_null(info.value("GAS_GTYPE"), ""),
        pc.fill_null(info.value("GAS_REGION"), ""),
        pc.fill_null(info.value("GAS_BAND"), ""),
        pc.fill_null(info.value("GAS_NEAREST"), ""),
        pc.cast(distance, pa.int64()),
        pc.or_(has_rsid, pc.starts_with(ident, "rs")),
        *annotation_columns.columns(info, csq),
    ]
    return pa.record_batch(columns, schema=SCHEMA)


def build(
    vcf: Path, out: Path, longest_line: int = 0, progress: Callable[[int], None] | None = None
) -> int:
    """Write the table for an annotated VCF, streaming; the number of rows.

    `longest_line`: the longest input line in bytes (the engine's summary says); `progress` is
    told the rows written so far after each batch (rows, not bytes read: the CSV reader reads
    ahead, so its place in the file runs well before the rows converted).
    """
    start, width, csq = _header(vcf)
    if start == vcf.stat().st_size:  # no records: the CSV reader wants at least one line
        with pa.OSFile(str(out), "wb") as sink, ipc.new_file(sink, SCHEMA):
            return 0
    # Sample names may repeat; columns are named by their place instead.
    names = [f"c{i}" for i in range(width)]
    read = [names[i] for i in _READ]
    source = pa.OSFile(str(vcf))
    # Read past the header rather than skipped by the CSV reader: a header line
    # longer than its block was an error.
    source.seek(start)
    reader = pacsv.open_csv(
        source,
        read_options=pacsv.ReadOptions(column_names=names, block_size=longest_line + _BLOCK_MARGIN),
        parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False, double_quote=False),
        convert_options=pacsv.ConvertOptions(
            include_columns=read,
            # Bytes, decoded per batch (_text): VCF text need not be UTF-8.
            column_types={n: (pa.int64() if n == "c1" else pa.binary()) for n in read},
            strings_can_be_null=False, quoted_strings_can_be_null=False,
        ),
    )
    total = 0
    with source, pa.OSFile(str(out), "wb") as sink, ipc.new_file(sink, SCHEMA) as writer:
        for batch in reader:
            if batch.num_rows:
                writer.write_batch(_convert(batch, total, csq))
                total += batch.num_rows
                if progress is not None:
                    progress(total)
    return total


@dataclass(frozen=True)
class Query:
    gene: str = ""
    chrom: str = ""
    region: str = ""
    dbsnp: str = ""  # "", "yes", "no"
    impact: str = ""  # "" or one of consequences.IMPACTS: that IMPACT or a more severe one
    consequence: str = ""  # "" or an SO term: rows whose most severe term it is
    clinvar: str = ""  # "" or "pathogenic": pathogenic or likely pathogenic in ClinVar
    locus: locus.Locus | None = None  # a range, a chromosome or a gene's rows
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
    # The SO terms some row has as its most severe, most severe first; and whether
    # the table has consequences at all (one built before them has not).
    consequences: list[str]
    annotated: bool


def open_table(path: Path) -> pa.Table:
    """Zero-copy over a memory map: only the pages a query touches are read. A
    column the table was built without reads as nulls, so old tables still page."""
    table = ipc.open_file(pa.memory_map(str(path), "r")).read_all()
    for field in SCHEMA:
        if field.name not in table.column_names:
            table = table.append_column(field, pa.nulls(table.num_rows, field.type))
    return table.select(SCHEMA.names)


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
    if query.impact:
        conditions.append(pc.is_in(table["impact"], pa.array(consequences.at_least(query.impact))))
    if query.consequence:
        conditions.append(pc.equal(table["consequence"], query.consequence))
    if query.clinvar == "pathogenic":
        conditions.append(table["pathogenic"])
    if query.locus is not None:
        conditions.extend(_locus_conditions(table, query.locus))
    if not conditions:
        return None
    mask = conditions[0]
    for condition in conditions[1:]:
        mask = pc.and_(mask, condition)
    return mask


def _locus_conditions(table: pa.Table, where: locus.Locus) -> list[pa.ChunkedArray]:
    if where.gene:
        # Whole names only: BRCA1 is not BRCA10's rows. Genes are joined with ", ".
        pattern = f"(^|, ){re.escape(where.gene)}(,|$)"
        return [pc.match_substring_regex(table["genes"], pattern, ignore_case=True)]
    # Rows name chromosomes as their VCF did (17, chr17, MT, chrM): compared bare.
    names = [c for c in pc.unique(table["chrom"]).to_pylist() if locus.bare(c) == where.chrom]
    conditions = [pc.is_in(table["chrom"], pa.array(names, pa.string()))]
    if where.end:
        conditions.append(pc.and_(pc.greater_equal(table["pos"], where.start),
                                  pc.less_equal(table["pos"], where.end)))
    return conditions


def _position_sorted(table: pa.Table) -> bool:
    """Most VCFs are sorted; then a position sort is free (filters keep the order).
    Unknown contigs share one chrom_order, so ties there need the real sort."""
    if table.num_rows < 2 or pc.max(table["chrom_order"]).as_py() >= 100:
        return table.num_rows < 2
    key = pc.add(pc.multiply(pc.cast(table["chrom_order"], pa.int64()), 1 << 33), table["pos"])
    flat = key.combine_chunks()
    return bool(pc.all(pc.greater_equal(flat[1:], flat[:-1])).as_py())


def _position_order(table: pa.Table, descending: bool) -> np.ndarray:
    if _position_sorted(table):
        indices = np.arange(table.num_rows, dtype=np.int64)
        return indices[::-1] if descending else indices
    order = "descending" if descending else "ascending"
    keys = [("chrom_order", order), ("chrom", order), ("pos", order)]
    return np.asarray(pc.sort_indices(table, sort_keys=keys))


def sort_order(table: pa.Table, column: str, descending: bool) -> np.ndarray:
    """Every row's index, in the order of ``column`` (``sort_keys``): cells with no
    value last both ways, ties in row order."""
    if column == "pos":
        return _position_order(table, descending)
    keys = _SORT_KEYS[column](table[column])
    order = "descending" if descending else "ascending"
    names = [f"k{n}" for n in range(len(keys))]
    frame = pa.table([*keys, table["row"]], names=[*names, "row"])
    return np.asarray(pc.sort_indices(
        frame, sort_keys=[*((n, order, "at_end") for n in names), ("row", "ascending", "at_end")]))


class Orders:
    """The row orders of one table, each sorted once and kept beside it (``folder``,
    named after ``name``) as .npy files read by memory map: a page of a million
    rows sorted by gene then costs a filter of that order, not a sort. The table
    file never changes (one per job), so neither do its orders. Without a folder,
    each order is sorted when asked for."""

    def __init__(self, table: pa.Table, folder: Path | None = None, name: str = "") -> None:
        self.table = table
        self.folder = folder
        self.name = name

    def get(self, column: str, descending: bool) -> np.ndarray:
        if self.folder is None:
            return sort_order(self.table, column, descending)
        path = self.folder / f"{self.name}.{column}.{'desc' if descending else 'asc'}.npy"
        with contextlib.suppress(FileNotFoundError, ValueError):
            kept: np.ndarray = np.load(path, mmap_mode="r")
            if len(kept) == self.table.num_rows:
                return kept
        order = sort_order(self.table, column, descending)
        if self.table.num_rows < 2**31:  # half the disk and page cache of int64
            order = order.astype(np.int32)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                np.save(out, order)
            os.replace(tmp, path)  # a request reading it meanwhile sees the whole file or none
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return order


def _order(table: pa.Table, query: Query, orders: Orders | None) -> np.ndarray:
    """The indices of the rows the filters keep, in the asked-for order: the whole
    table's order (``Orders``) with the rows filtered out dropped, never a sorted
    copy of the table."""
    column = query.sort if query.sort in COLUMNS else "pos"
    order = (orders or Orders(table)).get(column, query.descending)
    mask = _mask(table, query)
    if mask is not None:
        keep = np.asarray(pc.fill_null(mask, False).combine_chunks())
        order = order[keep[order]]
    return order


def position_rows(table: pa.Table, query: Query, orders: Orders | None = None) -> np.ndarray:
    """The ``row`` (record index) of each row the filters keep, in position order
    whatever the query's sort: the order a VCF's records must have."""
    order = _order(table, replace(query, sort="pos", descending=False), orders)
    return np.asarray(table["row"].combine_chunks())[order]


def matching(table: pa.Table, query: Query, columns: list[str]) -> pa.Table:
    """``columns`` of the rows the filters keep (the query's sort and page ignored)."""
    chosen = table.select(columns)
    mask = _mask(table, query)
    return chosen if mask is None else chosen.filter(pc.fill_null(mask, False))


def _rows_at(table: pa.Table, indices: np.ndarray) -> list[dict[str, object]]:
    """The rows at ``indices``, in that order, each read from the record batch it is
    in: Arrow's take on a table of many batches first joins each column's chunks,
    a copy of the whole table for a page of 50 rows (25-60 ms at 1M rows)."""
    batches = table.to_batches()
    starts = np.cumsum([0] + [batch.num_rows for batch in batches])
    chunks = np.searchsorted(starts, indices, side="right") - 1
    return [row for chunk, index in zip(chunks, indices, strict=True)
            for row in batches[chunk].slice(int(index - starts[chunk]), 1).to_pylist()]


def page(table: pa.Table, query: Query, orders: Orders | None = None) -> Page:
    order = _order(table, query, orders)
    total = len(order)
    pages = max(1, -(-total // query.per_page))
    number = min(max(query.page, 1), pages)
    start = (number - 1) * query.per_page
    rows = _rows_at(table, order[start:start + query.per_page])
    chromosomes = sorted(pc.unique(table["chrom"]).to_pylist(), key=lambda c: (chrom_order(c), c))
    terms = [t for t in pc.unique(table["consequence"]).to_pylist() if t]
    return Page(rows, total, table.num_rows, number, pages, chromosomes,
                sorted(terms, key=consequences.term_rank), table["consequence"].null_count == 0)


def _neutralised(column: pa.ChunkedArray) -> pa.ChunkedArray:
    quoted = pc.binary_join_element_wise("'", column, "")
    return pc.if_else(pc.match_substring_regex(column, _FORMULA), quoted, column)


def _cell(value: object) -> object:
    """A TSV cell: nothing for no value; booleans as true/false, which R, pandas and
    spreadsheets read as booleans (Python's False/True they read as text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def export_tsv(table: pa.Table, query: Query, orders: Orders | None = None) -> Iterator[str]:
    """The filtered rows as TSV, streamed batch by batch; no text cell starts a formula."""
    order = _order(table, query, orders)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(EXPORT)
    yield buffer.getvalue()
    columns = table.select(list(EXPORT))
    for start in range(0, len(order), BATCH_ROWS):
        buffer.seek(0)
        buffer.truncate()
        batch = columns.take(pa.array(order[start:start + BATCH_ROWS], pa.int64()))
        for name in _TEXT_EXPORT:
            batch = batch.set_column(batch.schema.get_field_index(name), name,
                                     _neutralised(batch[name]))
        for record in batch.to_pylist():
            writer.writerow([_cell(record[c]) for c in EXPORT])
        yield buffer.getvalue()
