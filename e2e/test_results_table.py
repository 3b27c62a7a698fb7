"""The results table in a real browser (Debian's chromium) against a real ``gas
serve``: sorting each way with empty cells last, the Locus filter, Clear filters
and the pager above the table.

What the page should show is worked out here from the engine's own output (the
same input annotated with ``annotate_file`` against the server's reference) with
plain Python, none of ``app``'s code; cytobands in the order of the reference's
own band table, which lists them along each chromosome.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Page, expect

from annotator.engine import annotate_file
from e2e.server import Server, reference_dir
from e2e.test_browser import accessibility_violations, sign_up, upload

# Rows with no gene (intergenic), genes whose names start in lower case (snoU13,
# hsa-mir-6723) beside upper-case ones, rsIDs of 2 to 9 digits, cytobands on both
# arms of several chromosomes (10p and 10q: as text, 10p11.1 sorted first) and the
# mitochondrion with none. More than a page (50 rows), so there is a pager.
_ROWS = [
    ("1", 566500, "."), ("1", 5000000, "rs559900608"), ("1", 6812800, "rs12"),
    ("1", 150234150, "."), ("10", 39100000, "rs8"), ("10", 42000000, "."),
    ("13", 32900000, "rs77582345"), ("17", 7577120, "rs9"), ("17", 41245466, "."),
    ("17", 41246000, "rs1234"), ("X", 100000000, "."), ("MT", 750, "."),
]
_LENGTHS = {"2": 243, "3": 198, "4": 191, "5": 180, "6": 171, "7": 159, "8": 146, "9": 141, "11": 135,
            "12": 133, "14": 107, "15": 102, "16": 90, "18": 78, "19": 59, "20": 63, "21": 48, "22": 51}
_FILLERS = [(chrom, (mb * (k + 1) // 4) * 1_000_000 + 12_345, f"rs{(k + 3) * 7 ** (n % 9 + 1)}"
             if n % 3 else ".")
            for n, (chrom, mb, k) in enumerate((c, mb, k) for c, mb in _LENGTHS.items() for k in range(3))]
VCF = "##fileformat=VCFv4.2\n##reference=GRCh37\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "".join(
    f"{chrom}\t{pos}\t{ident}\tA\tG\t50\tPASS\t.\n" for chrom, pos, ident in _ROWS + _FILLERS)
PER_PAGE = 50


@dataclass(frozen=True)
class Shown:
    """A row's sortable cells as the page shows them."""
    position: str
    rsid: str
    genes: str  # "" for a row with no gene (its cell says "near ...", or nothing)
    band: str


def expected_rows(annotated: Path) -> list[Shown]:
    """The engine's rows, as the page shows them: the VCF's ID, else the rsID the
    engine found; genes joined with ", "."""
    rows = []
    for line in annotated.read_text().splitlines():
        if line.startswith("#"):
            continue
        chrom, pos, ident, *_, info_text = line.split("\t")[:8]
        info = dict(item.partition("=")[::2] for item in info_text.split(";"))
        rsid = ident if ident != "." else info.get("GAS_RSID", "")
        rows.append(Shown(f"{chrom}:{int(pos):,}", rsid, info.get("GAS_GENE", "").replace(",", ", "),
                          info.get("GAS_BAND", "")))
    return rows


def band_table() -> list[str]:
    """GRCh37's cytobands along the genome: chromosome 1 pter to qter, then 2, ..."""
    labels: list[str] = json.loads((reference_dir() / "GRCh37" / "index.json").read_text())["band_labels"]
    return labels


def in_order(values: list[str], key: object, descending: bool) -> list[str]:
    """``values`` sorted by ``key``, the empty ones last either way."""
    filled = sorted((v for v in values if v), key=key, reverse=descending)  # type: ignore[arg-type]
    return filled + [v for v in values if not v]


async def column(page: Page, heading: str) -> list[str]:
    """The cells under ``heading`` on the page shown."""
    headings = [h.strip(" ▲▼") for h in await page.locator("#results-table th").all_inner_texts()]
    index = headings.index(heading) + 1
    cells = await page.locator(f"#results-table tbody tr td:nth-child({index})").all_inner_texts()
    return ["" if c.startswith("near ") else c.strip() for c in cells]


async def whole_column(page: Page, heading: str, total: int) -> list[str]:
    """The cells under ``heading`` on every page, turning pages with the pager above
    the table (its 'Next page')."""
    shown = await column(page, heading)
    top = page.get_by_role("navigation", name="Pages of variants, above the table")
    for number in range(2, -(-total // PER_PAGE) + 1):
        await top.get_by_role("link", name="Next page").click()
        await expect(top).to_contain_text(f"Page {number} of")
        shown += await column(page, heading)
    return shown


async def sort_by(page: Page, heading: str, direction: str) -> None:
    """Click the column's heading once (a first click sorts ascending, the next
    descending); wait until the table says it is sorted so."""
    header = page.locator("#results-table th", has=page.get_by_role("link", name=re.compile(heading)))
    await header.get_by_role("link").click()
    await expect(header).to_have_attribute("aria-sort", direction)


async def test_sorts_locus_filter_clear_filters_and_top_pager(
    page: Page, server: Server, tmp_path: Path, output_path: str
) -> None:
    """Genes sort without regard to case, rsIDs by number, cytobands in karyotype
    order, rows with no value last both ascending and descending (read across
    both pages, turned with the pager above the table); the Locus filter takes a
    range, a chromosome and a gene, says what it takes when it cannot read what
    was typed, and Clear filters brings every row back with the filters empty."""
    sample = tmp_path / "table.vcf"
    sample.write_text(VCF)
    annotated = tmp_path / "expected.vcf"
    await asyncio.to_thread(annotate_file, sample, annotated, reference_root=reference_dir())
    rows = expected_rows(annotated)
    total = len(rows)
    genes = [r.genes for r in rows]
    # The input still has what the tester's result had.
    assert total > PER_PAGE and "" in genes and any(g[:1].islower() for g in genes)
    assert {"rs77582345", "rs559900608", "rs9"} <= {r.rsid for r in rows}
    assert {"10p11.1", "1p36.33", "17q21.31", ""} <= {r.band for r in rows}

    await sign_up(page, server, "sorter@example.org")
    await upload(page, sample, build="GRCh37")
    await expect(page.locator("#status")).to_contain_text("completed", timeout=90_000)
    await page.get_by_role("link", name="View results").click()
    await expect(page.locator("#result-count")).to_contain_text(f"{total} of {total} variants")

    bands = {label: n for n, label in enumerate(band_table())}
    cases = [("Genes", [r.genes for r in rows], str.lower),
             ("rsID", [r.rsid for r in rows], lambda i: int(re.match(r"rs([0-9]+)", i)[1])),  # type: ignore[index]
             ("Cytoband", [r.band for r in rows], bands.__getitem__)]
    for heading, values, key in cases:
        for direction in ("ascending", "descending"):
            await sort_by(page, heading, direction)
            shown = await whole_column(page, heading, total)
            print(heading, direction, shown)
            assert shown == in_order(values, key, direction == "descending"), (heading, direction)
    await page.screenshot(path=Path(output_path) / "results-sorted.png", full_page=True)

    locus = page.get_by_label("Locus", exact=True)
    in_range = ("17:7,577,120", "17:41,245,466")
    for typed, match in [("17:7,000,000-41,245,466", lambda r: r.position in in_range),
                         ("chr17", lambda r: r.position.startswith("17:")),
                         ("SNOU13", lambda r: "snoU13" in r.genes.split(", "))]:
        await locus.fill(typed)
        await locus.press("Enter")
        wanted = [r for r in rows if match(r)]
        await expect(page.locator("#result-count")).to_contain_text(f"{len(wanted)} of {total} variants")
        assert sorted(await column(page, "Position")) == sorted(r.position for r in wanted), typed
        print(typed, len(wanted), "rows")
        assert wanted

    await locus.fill("17:forty-one")
    await locus.press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text("The Locus filter takes a range")
    await expect(page.locator("#result-count")).to_contain_text(f"{total} of {total} variants")
    await page.screenshot(path=Path(output_path) / "results-bad-locus.png", full_page=True)
    # What a person sees there: the filters, the message, the count and the pager above.
    await page.locator("#filters").scroll_into_view_if_needed()
    await page.screenshot(path=Path(output_path) / "table-top-bad-locus.png")
    assert await accessibility_violations(page) == []

    await locus.fill("chr1")
    await locus.press("Enter")
    await page.get_by_label("Region class", exact=True).select_option("noncoding_exon")
    await expect(page).to_have_url(re.compile(r"locus=chr1&.*region=noncoding_exon"))
    await page.get_by_role("link", name="Clear filters").click()
    await expect(page.locator("#result-count")).to_contain_text(f"{total} of {total} variants")
    await expect(locus).to_have_value("")
    await expect(page.get_by_label("Region class", exact=True)).to_have_value("")
    await expect(page.get_by_role("link", name="Clear filters")).to_have_count(0)
    assert "locus" not in page.url and "region" not in page.url
