"""A person in a real browser: sign up, upload, watch the job finish, download."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page, expect

from e2e.server import Server

VCF = (
    "##fileformat=VCFv4.2\n##reference=GRCh37\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    "17\t41245466\t.\tG\tA\t50\tPASS\t.\n"
    "MT\t750\t.\tA\tG\t50\tPASS\t.\n"
)


async def test_sign_up_upload_watch_and_download(page: Page, server: Server, tmp_path: Path) -> None:
    """The whole browser flow: the upload goes straight to the store, the job page
    updates itself to 'completed', the log opens and the annotated VCF downloads."""
    sample = tmp_path / "browser sample.vcf"
    sample.write_text(VCF)
    await page.goto(server.url)
    await page.get_by_role("link", name="Sign up").first.click()
    await page.get_by_label("Name").fill("Grace")
    await page.get_by_label("Email").fill("grace@example.org")
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Sign up").click()
    await expect(page).to_have_url(re.compile(r"/annotate$"))

    await page.get_by_label("VCF file (plain or gzipped)").set_input_files(sample)
    await page.get_by_role("button", name="Upload and annotate").click()
    await expect(page).to_have_url(re.compile(r"/annotations/[0-9a-f-]{36}$"))
    await expect(page.locator("#status")).to_contain_text("completed", timeout=90_000)

    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Download results").click()
    download = await download_info.value
    saved = tmp_path / "result.vcf"
    await download.save_as(saved)
    text = saved.read_text()
    assert "BRCA1" in text and "MT-RNR1" in text

    await page.get_by_role("link", name="View the log").click()
    await expect(page.locator("pre.log")).to_be_visible()
    await page.get_by_role("link", name="My jobs").click()
    await expect(page.get_by_role("cell", name="browser_sample.vcf")).to_be_visible()


async def test_free_user_oversize_file_is_refused_before_upload(
    page: Page, server: Server, tmp_path: Path
) -> None:
    """A free user's file over 150 KB is refused in the browser: message, upgrade
    link, submit disabled."""
    big = tmp_path / "big.vcf"
    big.write_text(VCF + "#" * 160_000)
    await page.goto(f"{server.url}/signup")
    await page.get_by_label("Email").fill("big@example.org")
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Sign up").click()
    await page.get_by_label("VCF file (plain or gzipped)").set_input_files(big)
    await expect(page.get_by_role("alert")).to_contain_text("larger than the 153,600 bytes")
    await expect(page.get_by_role("link", name="Upgrade to Premium")).to_be_visible()
    await expect(page.get_by_role("button", name="Upload and annotate")).to_be_disabled()
