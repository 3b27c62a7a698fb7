"""People in a real browser (Debian's chromium) against a real ``gas serve``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

from app import variant_table
from e2e.jobs import result_files
from e2e.server import SAMPLES, Server, gas
from tests.annotated import ANNOTATED_VCF, SUMMARY, plain_input

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


async def accessibility_violations(page: Page) -> list[str]:
    """axe-core's WCAG A/AA rules on the page as it is: each violation's rule and
    the elements it names."""
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    found = (await Axe().run(page, options=options)).response["violations"]
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in found]


def seed_annotated_result(data_dir: Path, job_id: str) -> None:
    """Replace a completed job's result with the hand-written annotated VCF
    (tests/annotated.py), its table built by ``variant_table.build`` as the annotator
    builds it and its summary given the engine's consequence and ClinVar counts:
    the engine does not write CSQ, GAS_CONSEQUENCE or GAS_CLN* yet."""
    stored = {path.name.split("~", 1)[1]: path for path in result_files(data_dir, job_id)}
    result = next(path for name, path in stored.items() if name.endswith(".annot.vcf"))
    shutil.copyfile(ANNOTATED_VCF, result)
    built = stored["variants.arrow"].with_name("seeded.arrow.part")
    variant_table.build(ANNOTATED_VCF, built)
    built.replace(stored["variants.arrow"])
    summary = json.loads(stored["summary.json"].read_text()) | SUMMARY
    stored["summary.json"].write_text(json.dumps(summary))


async def test_consequence_impact_and_clinvar_filters(
    page: Page, server: Server, tmp_path: Path, output_path: str
) -> None:
    """The new columns, plots and filters in a browser: each filter control sends its
    value to the server (checked on the requests the page made), the count and rows
    follow, the URL keeps the filters so a reload shows the same rows, the TSV
    export has the filtered rows with their HGVS, and axe-core finds no WCAG A/AA
    violation on the page with the new controls."""
    sample = tmp_path / "consequences.vcf"
    sample.write_text(plain_input())
    await sign_up(page, server, "clinic@example.org")
    await upload(page, sample, build="GRCh37")
    await expect(page.locator("#status")).to_contain_text("completed", timeout=90_000)
    seed_annotated_result(server.data_dir, page.url.rsplit("/", 1)[1])
    sent: list[dict[str, list[str]]] = []
    page.on("request", lambda r: sent.append(parse_qs(urlsplit(r.url).query))
            if r.headers.get("hx-request") and "/results" in r.url else None)

    await page.get_by_role("link", name="View results").click()
    await expect(page.locator("#result-count")).to_contain_text("6 of 6 variants")
    await expect(page.locator("figcaption", has_text="Variants per consequence")).to_be_visible()
    await expect(page.locator("figcaption", has_text="Variants per impact")).to_be_visible()
    await expect(page.locator("#clinvar-note")).to_contain_text("absence from this subset means nothing")
    terms = await page.get_by_label("Consequence", exact=True).locator("option").all_inner_texts()
    assert terms == ["All", "stop_gained", "frameshift_variant", "synonymous_variant",
                     "non_coding_transcript_exon_variant", "intergenic_variant"]

    await page.get_by_label("Impact", exact=True).select_option("LOW")
    await expect(page.locator("#result-count")).to_contain_text("3 of 6 variants")
    assert sent[-1].get("impact") == ["LOW"]
    await expect(page.get_by_role("cell", name="ENSP00000350283.3:p.Ser694=")).to_be_visible()
    await page.get_by_label("Impact", exact=True).select_option("")
    await expect(page.locator("#result-count")).to_contain_text("6 of 6 variants")

    await page.get_by_label("ClinVar", exact=True).select_option("pathogenic")
    await expect(page.locator("#result-count")).to_contain_text("2 of 6 variants")
    assert sent[-1].get("clinvar") == ["pathogenic"] and "impact" not in sent[-1]
    await expect(page.get_by_role("cell", name="Li-Fraumeni syndrome")).to_be_visible()
    await page.get_by_label("Consequence", exact=True).select_option("frameshift_variant")
    await expect(page.locator("#result-count")).to_contain_text("1 of 6 variants")
    assert sent[-1].get("consequence") == ["frameshift_variant"]
    assert sent[-1].get("clinvar") == ["pathogenic"]
    await expect(page.get_by_role("cell", name="ENST00000380152.8:c.5946del")).to_be_visible()
    await page.screenshot(path=Path(output_path) / "results-consequences.png", full_page=True)
    assert await accessibility_violations(page) == []

    await page.reload()
    await expect(page.locator("#result-count")).to_contain_text("1 of 6 variants")
    await expect(page.get_by_label("ClinVar", exact=True)).to_have_value("pathogenic")
    await expect(page.get_by_label("Consequence", exact=True)).to_have_value("frameshift_variant")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Export these rows as TSV").click()
    saved = tmp_path / "rows.tsv"
    await (await download_info.value).save_as(saved)
    header, *rows = [line.split("\t") for line in saved.read_text().splitlines()]
    assert len(rows) == 1
    record = dict(zip(header, rows[0], strict=True))
    assert record["hgvsp"] == "ENSP00000369497.3:p.Ser1982ArgfsTer22"
    assert (record["consequence"], record["impact"], record["clinvar"]) == (
        "frameshift_variant", "HIGH", "Pathogenic")


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


def submit_through_api(server: Server, email: str, name: str) -> None:
    """Another client of the same user (a script) submits a job."""
    token = gas(server.data_dir, "users", "token", email).strip()
    headers = {"Authorization": f"Bearer {token}"}
    policy = httpx.post(f"{server.url}/api/v1/uploads", headers=headers).json()
    httpx.post(policy["url"], data=policy["fields"], files={"file": (name, VCF.encode())})
    made = httpx.post(f"{server.url}/api/v1/jobs", headers=headers,
                      json={"key": policy["key"], "file_name": name})
    assert made.status_code == 201, made.text


async def test_job_list_updates_itself_over_the_event_stream(page: Page, server: Server) -> None:
    """A job submitted elsewhere appears on an open job list without a reload, and
    while the stream is up the page makes no polling requests."""
    fragment_requests: list[str] = []
    page.on("request", lambda r: fragment_requests.append(r.url)
            if r.headers.get("hx-request") and "/annotations" in r.url else None)
    await sign_up(page, server, "live@example.org")
    await page.goto(f"{server.url}/annotations")
    await page.wait_for_timeout(1000)  # the stream connects
    submit_through_api(server, "live@example.org", "from-a-script.vcf")
    await expect(page.get_by_role("cell", name="from-a-script.vcf")).to_be_visible(timeout=10_000)
    await expect(page.locator("#job-rows .badge")).to_have_text("completed", timeout=30_000)
    polled_before = len(fragment_requests)
    await page.wait_for_timeout(6000)
    assert len(fragment_requests) == polled_before, "polled although the stream was up"


async def test_polling_takes_over_when_the_event_stream_is_down(page: Page, server: Server) -> None:
    """With /events unreachable, the job list still shows a new job by polling."""
    await page.route("**/events", lambda route: route.abort())
    await sign_up(page, server, "offline@example.org")
    await page.goto(f"{server.url}/annotations")
    submit_through_api(server, "offline@example.org", "while-offline.vcf")
    await expect(page.get_by_role("cell", name="while-offline.vcf")).to_be_visible(timeout=15_000)
    await expect(page.locator("#job-rows .badge")).to_have_text("completed", timeout=30_000)


async def test_premium_user_uploads_a_large_file_with_progress(
    page: Page, server: Server, tmp_path: Path
) -> None:
    """A premium user's file over 150 KB is accepted, uploaded with a progress bar,
    and annotated."""
    gas(server.data_dir, "users", "create", "pat@example.org", "--password", "correct horse battery",
        "--role", "premium")
    big = tmp_path / "big premium.vcf"
    rows = "".join(f"17\t{41_200_000 + i * 7}\t.\tA\tG\t50\tPASS\t.\n" for i in range(12_000))
    big.write_text(VCF.split("17\t")[0] + rows)
    assert big.stat().st_size > 300_000
    await page.goto(f"{server.url}/login")
    await page.get_by_label("Email").fill("pat@example.org")
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Log in").click()
    await page.goto(f"{server.url}/annotate")
    await expect(page.get_by_text("Premium: any size.")).to_be_visible()
    await page.get_by_label("VCF file (plain or gzipped)").set_input_files(big)
    await expect(page.get_by_role("button", name="Upload and annotate")).to_be_enabled()
    await page.get_by_role("button", name="Upload and annotate").click()
    await expect(page).to_have_url(re.compile(r"/annotations/[0-9a-f-]{36}$"))
    await expect(page.locator("#status")).to_contain_text("completed", timeout=90_000)
    await expect(page.get_by_text("12,000", exact=True)).to_be_visible()
