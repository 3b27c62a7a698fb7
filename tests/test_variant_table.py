"""The results viewer's table: built by streaming, queried by filter, sort and page."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pyarrow as pa
import pytest

from app import variant_table
from app.variant_table import Query

GENES = ["BRCA1", "TP53", "BRCA2", "", "MT-RNR1", "NBPF1,NBPF10"]
REGIONS = ["CDS", "intron", "intergenic", "UTR3", "splice_site"]
CHROMS = ["1", "2", "10", "X", "MT"]


def write_vcf(path: Path, n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    with path.open("w") as out:
        out.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for i in range(n):
            chrom, gene, region = rng.choice(CHROMS), rng.choice(GENES), rng.choice(REGIONS)
            rsid = f"rs{i}" if rng.random() < 0.3 else ""
            info = [f"GAS_REGION={region}", "GAS_BAND=1p36.33"]
            if gene:
                info.append(f"GAS_GENE={gene}")
            else:
                info += ["GAS_NEAREST=FOO", "GAS_DIST=1234"]
            if rsid:
                info.append(f"GAS_RSID={rsid}")
            out.write(f"{chrom}\t{i + 1}\t.\tA\tG\t.\tPASS\tDP=3;{';'.join(info)}\n")
            rows.append({"chrom": chrom, "pos": i + 1, "gene": gene, "region": region, "rsid": rsid})
    return rows


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, list[dict]]:
    folder = tmp_path_factory.mktemp("table")
    rows = write_vcf(folder / "a.vcf", 150_000)
    assert variant_table.build(folder / "a.vcf", folder / "a.arrow") == 150_000
    return variant_table.open_table(folder / "a.arrow"), rows


def test_filters_count_the_same_as_a_plain_scan(table: tuple[object, list[dict]]) -> None:
    """Every filter, alone and combined, matches a plain Python count, across
    several record batches."""
    arrow, rows = table
    cases = [
        (Query(), lambda r: True),
        (Query(gene="brca"), lambda r: "BRCA" in r["gene"]),
        (Query(chrom="10"), lambda r: r["chrom"] == "10"),
        (Query(region="CDS", dbsnp="yes"), lambda r: r["region"] == "CDS" and r["rsid"]),
        (Query(gene="NBPF10", chrom="X", dbsnp="no"),
         lambda r: "NBPF10" in r["gene"] and r["chrom"] == "X" and not r["rsid"]),
    ]
    for query, match in cases:
        page = variant_table.page(arrow, query)  # type: ignore[arg-type]
        assert page.total == sum(1 for r in rows if match(r)), query
        assert page.all_rows == len(rows)


def test_sort_and_pages(table: tuple[object, list[dict]]) -> None:
    """Position sorts by natural chromosome order; pages are 50 rows; the last page
    number is clamped."""
    arrow, _ = table
    first = variant_table.page(arrow, Query(sort="pos", descending=True))  # type: ignore[arg-type]
    assert first.rows[0]["chrom"] == "MT" and len(first.rows) == 50
    assert first.pages == 3000
    by_gene = variant_table.page(arrow, Query(sort="genes", gene="b"))  # type: ignore[arg-type]
    assert [r["genes"] for r in by_gene.rows] == sorted(r["genes"] for r in by_gene.rows)
    beyond = variant_table.page(arrow, Query(page=10**6))  # type: ignore[arg-type]
    assert beyond.page == 3000 and beyond.rows
    assert first.chromosomes == ["1", "2", "10", "X", "MT"]


def test_export_is_the_filtered_rows(table: tuple[object, list[dict]]) -> None:
    """TSV export has a header and exactly the filtered rows."""
    arrow, rows = table
    text = "".join(variant_table.export_tsv(arrow, Query(chrom="2", region="intron")))  # type: ignore[arg-type]
    lines = text.splitlines()
    assert lines[0].split("\t")[:3] == ["chrom", "pos", "id"]
    assert len(lines) - 1 == sum(1 for r in rows if r["chrom"] == "2" and r["region"] == "intron")


def test_export_neutralises_formulas_in_every_text_column() -> None:
    """Every text cell that starts with =, +, -, @, tab or CR is exported behind a single
    quote, in every text column; numbers (a negative distance too) and booleans are not."""
    starts = ["=1+1", "+1", "-1", "@A1", "\tx"]
    texts = [name for name in variant_table.EXPORT if variant_table.SCHEMA.field(name).type == pa.string()]
    rows = [{name: start for name in texts} | {"row": n, "chrom_order": 1, "pos": 5, "distance": -40,
                                                "in_dbsnp": False}
            for n, start in enumerate(starts)]
    table = pa.Table.from_pylist(rows, schema=variant_table.SCHEMA)
    text = "".join(variant_table.export_tsv(table, Query()))
    header, *cells = csv.reader(io.StringIO(text, newline=""), delimiter="\t")
    assert len(cells) == len(starts)
    for row, start in zip(cells, starts, strict=True):
        record = dict(zip(header, row, strict=True))
        assert all(record[name] == "'" + start for name in texts), record
        assert (record["pos"], record["distance"], record["in_dbsnp"]) == ("5", "-40", "False")
    # A CR cannot come from a VCF (the table's reader ends lines there), and the TSV
    # writer leaves it unquoted, so it is checked in the text: each cell quoted once.
    lone = pa.Table.from_pylist([rows[0] | dict.fromkeys(texts, "\ry")], schema=variant_table.SCHEMA)
    text = "".join(variant_table.export_tsv(lone, Query()))
    assert text.count("'\ry") == len(texts) == text.count("\r")


def test_intergenic_rows_keep_nearest_gene(tmp_path: Path) -> None:
    """Variants outside genes carry their nearest gene and distance."""
    write_vcf(tmp_path / "b.vcf", 50)
    variant_table.build(tmp_path / "b.vcf", tmp_path / "b.arrow")
    rows = variant_table.page(variant_table.open_table(tmp_path / "b.arrow"), Query()).rows
    intergenic = [r for r in rows if not r["genes"]]
    assert intergenic and all(r["nearest"] == "FOO" and r["distance"] == 1234 for r in intergenic)


def test_empty_result_builds_an_empty_table(tmp_path: Path) -> None:
    """A VCF with no records still gives a table the viewer can open."""
    (tmp_path / "e.vcf").write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    assert variant_table.build(tmp_path / "e.vcf", tmp_path / "e.arrow") == 0
    page = variant_table.page(variant_table.open_table(tmp_path / "e.arrow"), Query())
    assert page.total == 0 and page.pages == 1


HEADER = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"


def _rows(tmp_path: Path, body: bytes, header: bytes = HEADER, longest_line: int = 0) -> list[dict]:
    (tmp_path / "t.vcf").write_bytes(header + body)
    variant_table.build(tmp_path / "t.vcf", tmp_path / "t.arrow", longest_line)
    return variant_table.page(variant_table.open_table(tmp_path / "t.arrow"), Query()).rows


def test_non_numeric_distance_is_null(tmp_path: Path) -> None:
    """A GAS_DIST that is not a number (an input's own, say) leaves the distance
    empty instead of failing the whole table (ArrowInvalid, retried as if storage failed)."""
    rows = _rows(tmp_path, b"1\t5\t.\tA\tG\t.\t.\tGAS_NEAREST=FOO;GAS_DIST=abc\tGT\t0/1\n"
                           b"1\t6\t.\tA\tG\t.\t.\tGAS_NEAREST=FOO;GAS_DIST=-12\tGT\t0/1\n")
    assert [r["distance"] for r in rows] == [None, -12]
    assert rows[0]["nearest"] == "FOO"


def test_bytes_that_are_not_utf8_are_replaced_in_the_table_only(tmp_path: Path) -> None:
    """The engine accepts any bytes in a record: the table shows them as U+FFFD in
    every text column (it failed on the first such byte), UTF-8 text as it is."""
    got = _rows(tmp_path, b"chr\xff1\t5\trs\xfe1\tA\tG\t.\t.\tGAS_GENE=B\xe9RCA1;GAS_BAND=1p\tGT\t\xff\n"
                          b"1\t6\t\xc3\xa9\tA\tG\t.\t.\tGAS_REGION=CDS\tGT\t0/1\n")
    rows = sorted(got, key=lambda r: r["pos"])
    assert rows[0]["chrom"] == "chr\ufffd1" and rows[0]["id"] == "rs\ufffd1"
    assert rows[0]["genes"] == "B\ufffdRCA1" and rows[0]["band"] == "1p"
    assert rows[1]["id"] == "\u00e9" and rows[1]["region"] == "CDS"


def test_header_and_lines_longer_than_a_csv_block(tmp_path: Path) -> None:
    """A 20 MB header line (a CSV block is 16 MiB) is skipped, and a 20 MB record is
    read when the engine says how long the longest line is."""
    long_meta = b"##x=" + b"A" * 20_000_000 + b"\n"
    wide = b"1\t5\t.\tA\tG\t.\t.\tGAS_REGION=CDS\tGT\t" + b"0" * 20_000_000 + b"\n"
    rows = _rows(tmp_path, wide + b"1\t6\t.\tA\tG\t.\t.\tGAS_REGION=intron\tGT\t0/1\n",
                 header=long_meta + HEADER, longest_line=len(wide))
    assert [r["region"] for r in rows] == ["CDS", "intron"]
