"""People in a real browser (Debian's chromium) against a real ``gas serve``."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page, expect

from e2e.server import SAMPLES, Server

VCF = (
    "##fileformat=VCFv4.2\n##reference=GRCh37\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    "17\t41245466\t.\tG\tA\t50\tPASS\t.\n"
    "17\t7577120\t.\tC\tT\t50\tPASS\t.\n"
    "MT\t750\t.\tA\tG\t50\tPASS\t.\n"
)


async def sign_up(page: Page, server: Server, email: str) -> None:
    await page.goto(f"{server.url}/signup")
    await page.get_by_label("Name").fill("Grace")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Sign up").click()
    await expect(page).to_have_url(re.compile(r"/annotate$"))


async def upload(page: Page, path: Path, build: str | None = None) -> None:
    await page.goto(page.url.split("/annotate")[0] + "/annotate")
    if build:
        await page.get_by_label("Genome build").select_option(build)
        await page.wait_for_timeout(300)  # the policy for that build is swapped in
    await page.get_by_label("VCF file (plain or gzipped)").set_input_files(path)
    await page.get_by_role("button", name="Upload and annotate").click()
    await expect(page).to_have_url(re.compile(r"/annotations/[0-9a-f-]{36}$"))


async def test_upload_watch_results_filter_download(
    page: Page, server: Server, tmp_path: Path, output_path: str
) -> None:
    """The whole browser flow: the upload goes straight to the store, the job page
    turns 'completed' by itself, the results viewer filters, the annotated VCF
    downloads, the log opens and the job list shows the job. Screenshots of each
    page go to the test's output folder."""
    shots = Path(output_path)
    sample = tmp_path / "browser sample.vcf"
    sample.write_text(VCF)
    await page.goto(server.url)
    await page.screenshot(path=shots / "home.png", full_page=True)
    await sign_up(page, server, "grace@example.org")
    await page.screenshot(path=shots / "annotate.png", full_page=True)

    await upload(page, sample, build="GRCh37")
    await expect(page.locator("#status")).to_contain_text("completed", timeout=90_000)
    await page.screenshot(path=shots / "job.png", full_page=True)

    await page.get_by_role("link", name="View results").click()
    await expect(page.locator("#result-count")).to_contain_text("3 of 3 variants")
    await page.get_by_label("Gene", exact=True).fill("BRCA1")
    await expect(page.locator("#result-count")).to_contain_text("1 of 3 variants")
    await expect(page.get_by_role("cell", name="17q21.31")).to_be_visible()
    await page.get_by_label("Gene", exact=True).fill("")
    await page.get_by_label("Chromosome", exact=True).select_option("MT")
    await expect(page.locator("#result-count")).to_contain_text("1 of 3 variants")
    await page.get_by_label("Chromosome", exact=True).select_option("")
    await page.get_by_role("link", name="Position").click()
    await expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    await page.screenshot(path=shots / "results.png", full_page=True)

    await page.go_back()
    await page.goto(page.url.split("/results")[0])
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Download results").click()
    saved = tmp_path / "result.vcf"
    await (await download_info.value).save_as(saved)
    text = saved.read_text()
    assert "BRCA1" in text and "MT-RNR1" in text and "##INFO=<ID=GAS_GENE" in text

    await page.get_by_role("link", name="View the log").click()
    await expect(page.locator("pre.log")).to_contain_text("3 variants")
    await page.screenshot(path=shots / "log.png", full_page=True)
    await page.get_by_role("link", name="My jobs").click()
    await expect(page.get_by_role("cell", name="browser_sample.vcf")).to_be_visible()
    await page.screenshot(path=shots / "jobs.png", full_page=True)
    await page.get_by_role("link", name="Profile").click()
    await page.screenshot(path=shots / "profile.png", full_page=True)


async def test_free_user_200kb_file_is_refused_before_upload(
    page: Page, server: Server, tmp_path: Path
) -> None:
    """A free user's 200 KB file is refused in the browser: message, upgrade link,
    submit disabled."""
    big = tmp_path / "big.vcf"
    big.write_text(VCF + "#" * 200_000)
    await sign_up(page, server, "big@example.org")
    await page.get_by_label("VCF file (plain or gzipped)").set_input_files(big)
    await expect(page.get_by_role("alert")).to_contain_text("larger than the 153,600 bytes")
    await expect(page.get_by_role("link", name="Upgrade to Premium")).to_be_visible()
    await expect(page.get_by_role("button", name="Upload and annotate")).to_be_disabled()


async def test_failed_job_shows_its_reason_and_others_cannot_see_it(
    page: Page, server: Server, tmp_path: Path, output_path: str
) -> None:
    """A broken file fails with the line that is wrong; another user gets a 404 page
    for that job, not its contents."""
    broken = tmp_path / "broken.vcf"
    broken.write_text(VCF + "17\tnot-a-position\t.\tA\tG\t.\t.\t.\n")
    await sign_up(page, server, "ada@example.org")
    await upload(page, broken)
    await expect(page.locator("#status")).to_contain_text("failed", timeout=60_000)
    await expect(page.get_by_role("alert")).to_contain_text("line 7")
    await page.screenshot(path=Path(output_path) / "failed-job.png", full_page=True)
    job_url = page.url

    await page.get_by_role("button", name="Log out").click()
    await sign_up(page, server, "eve@example.org")
    response = await page.goto(job_url)
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_contain_text("404")
    assert "not-a-position" not in await page.content()


async def test_real_sample_free_1(page: Page, server: Server) -> None:
    """The seeds' free_1.vcf (rCRS mitochondrial variants) annotates in the browser."""
    sample = SAMPLES / "free_1.vcf"
    if not sample.exists():
        sample = None
    await sign_up(page, server, "mito@example.org")
    if sample is None:
        return
    await upload(page, sample)
    await expect(page.locator("#status")).to_contain_text("completed", timeout=90_000)
    await page.get_by_role("link", name="View results").click()
    await expect(page.locator("#result-count")).to_contain_text("of 1,141 variants")
    await page.get_by_label("Gene", exact=True).fill("MT-RNR1")
    await expect(page.get_by_role("cell", name="MT-RNR1").first).to_be_visible()
