"""The results plots and exports in a real browser (Debian's chromium) against a
real ``gas serve``: a plot bar sets its filter (the table, the other plots, the
URL and the filter control follow), a filter control changes the plots, and both
exports download under the input's name with the filtered rows.

What the page should show is worked out here from the engine's own output (the
same input annotated with ``annotate_file`` against the server's reference) with
plain Python, none of ``app``'s code.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import subprocess
from collections import Counter
from pathlib import Path

from playwright.async_api import Page, expect

from annotator.engine import annotate_file
from e2e.server import Server, reference_dir
from e2e.test_browser import plotted, sign_up, upload
from e2e.test_results_table import VCF


def records(annotated: Path) -> list[list[str]]:
    return [line.split("\t") for line in annotated.read_text().splitlines() if not line.startswith("#")]


def region(record: list[str]) -> str:
    info = dict(item.partition("=")[::2] for item in record[7].split(";"))
    return info.get("GAS_REGION", "")


def bcftools_records(path: Path) -> list[str]:
    view = subprocess.run(["bcftools", "view", "-H", str(path)], capture_output=True, text=True, check=False)
    assert view.returncode == 0, view.stderr
    return view.stdout.splitlines()


async def download(page: Page, link: str, path: Path) -> str:
    """Click the page's link named ``link``; the downloaded file's suggested name."""
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name=link).click()
    download = await download_info.value
    await download.save_as(path)
    return download.suggested_filename


async def completed(page: Page) -> None:
    """Wait for the job page to say the job completed, reloading it now and then: the
    live status is another part's concern (it has been seen to stop at "storing")."""
    for _ in range(18):
        try:
            await expect(page.locator("#status")).to_contain_text("completed", timeout=5_000)
            return
        except AssertionError:
            await page.reload()
    await expect(page.locator("#status")).to_contain_text("completed")


async def test_plot_bar_filters_and_exports_download_the_filtered_rows(
    page: Page, server: Server, tmp_path: Path, output_path: str
) -> None:
    """Clicking chromosome 17's bar (a link named for its filter and count) shows
    chromosome 17's rows: the count, the URL and the Chromosome control say so and
    the other plots count only those rows; choosing a region class in its control
    changes the plots again. The TSV downloads as table.variants.tsv and the VCF as
    table.filtered.vcf.gz, each holding exactly the filtered rows (the VCF's records
    as the engine wrote them, which bcftools reads)."""
    sample = tmp_path / "table.vcf"
    sample.write_text(VCF)
    annotated = tmp_path / "expected.vcf"
    await asyncio.to_thread(annotate_file, sample, annotated, reference_root=reference_dir())
    every = records(annotated)
    total = len(every)
    chr17 = [r for r in every if r[0] == "17"]
    per_chrom = Counter(r[0] for r in every)
    assert 1 < len(chr17) < total and len(per_chrom) > 2

    await sign_up(page, server, "plotter@example.org")
    await upload(page, sample, build="GRCh37")
    await completed(page)
    await page.get_by_role("link", name="View results").click()
    await expect(page.locator("#result-count")).to_contain_text(f"{total} of {total} variants")
    assert await plotted(page, "Variants per chromosome") == dict(per_chrom)
    assert await plotted(page, "Variants per region class") == dict(Counter(map(region, every)))

    bar = page.get_by_role("link", name=f"Filter to chromosome 17 ({len(chr17)} variants)")
    await bar.click()
    await expect(page.locator("#result-count")).to_contain_text(f"{len(chr17)} of {total} variants")
    await expect(page).to_have_url(re.compile(r"chrom=17"))
    await expect(page.get_by_label("Chromosome", exact=True)).to_have_value("17")
    assert await plotted(page, "Variants per chromosome") == {"17": len(chr17)}
    by_region = Counter(map(region, chr17))
    print("chromosome 17 by region class:", dict(by_region))
    assert await plotted(page, "Variants per region class") == dict(by_region)
    await page.screenshot(path=Path(output_path) / "results-plot-filtered.png", full_page=True)

    tsv = tmp_path / "rows.tsv"
    assert await download(page, "Export these rows as TSV", tsv) == "table.variants.tsv"
    header, *rows = [line.split("\t") for line in tsv.read_text().splitlines()]
    assert [(r[header.index("chrom")], r[header.index("pos")]) for r in rows] == [(r[0], r[1]) for r in chr17]
    vcf = tmp_path / "rows.vcf.gz"
    assert await download(page, "Export these rows as VCF (bgzipped)", vcf) == "table.filtered.vcf.gz"
    lines = gzip.decompress(vcf.read_bytes()).decode().splitlines()
    assert [line for line in lines if not line.startswith("#")] == ["\t".join(r) for r in chr17]
    assert len(await asyncio.to_thread(bcftools_records, vcf)) == len(chr17)

    # A filter control's change swaps the plots with the table.
    await page.get_by_role("link", name="Clear filters").click()
    await expect(page.locator("#result-count")).to_contain_text(f"{total} of {total} variants")
    regions = Counter(map(region, every))
    chosen = next(name for name, _ in regions.most_common()
                  if len({r[0] for r in every if region(r) == name}) > 1)
    await page.get_by_label("Region class", exact=True).select_option(chosen)
    await expect(page.locator("#result-count")).to_contain_text(f"{regions[chosen]} of {total} variants")
    await expect(page.locator("figure", has_text="Variants per region class").locator(".chart-label")
                 ).to_have_text([chosen])
    expected = Counter(r[0] for r in every if region(r) == chosen)
    print(f"region {chosen} by chromosome:", dict(expected))
    assert await plotted(page, "Variants per chromosome") == dict(expected) != dict(per_chrom)

    # A bar is reached and followed from the keyboard too; the region filter stays.
    chrom, n = expected.most_common(1)[0]
    bar = page.get_by_role("link", name=f"Filter to chromosome {chrom} ({n} variant{'s' if n != 1 else ''})")
    await bar.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#result-count")).to_contain_text(f"{n} of {total} variants")
    await expect(page.get_by_label("Chromosome", exact=True)).to_have_value(chrom)
    await expect(page.get_by_label("Region class", exact=True)).to_have_value(chosen)
    assert await plotted(page, "Variants per chromosome") == {chrom: n}
