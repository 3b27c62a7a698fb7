"""People in a real browser (Debian's chromium) against a real ``gas serve``."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, expect

from annotator.engine import annotate_file
from e2e import engine_output
from e2e.jobs import result_files
from e2e.server import SAMPLES, Server, gas, reference_dir

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
    await expect(page.get_by_role("cell", name="browser_sample.vcf", exact=True)).to_be_visible()
    await page.screenshot(path=shots / "jobs.png", full_page=True)
    await page.get_by_role("link", name="Profile").click()
    await page.screenshot(path=shots / "profile.png", full_page=True)


async def accessibility_violations(page: Page) -> list[str]:
    """axe-core's WCAG A/AA rules on the page as it is: each violation's rule and
    the elements it names."""
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    found = (await Axe().run(page, options=options)).response["violations"]
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in found]


# Records the real engine annotates with a spread of consequences and ClinVar hits on
# GRCh37. Codon terms (missense, synonymous, stop_gained, ...) need a genome sequence,
# which the default install has for MT only (rCRS): the MT records are free_1.vcf's;
# elsewhere coding changes are only coding_sequence_variant, frameshift or splice terms.
CONSEQUENCE_VCF = (
    "##fileformat=VCFv4.2\n##reference=GRCh37\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    "1\t983155\t.\tG\tC\t50\tPASS\t.\n"  # AGRN splice acceptor, in ClinVar
    "1\t5000000\t.\tA\tG\t50\tPASS\t.\n"  # intergenic
    "13\t32900000\t.\tA\tG\t50\tPASS\t.\n"  # BRCA2 intron
    "13\t32914437\t.\tGT\tG\t50\tPASS\t.\n"  # BRCA2 frameshift, in ClinVar
    "17\t7577120\t.\tC\tT,A\t50\tPASS\t.\n"  # TP53 codon 273, both ALTs in ClinVar
    "17\t41245466\t.\tG\tA\t50\tPASS\t.\n"  # BRCA1 CDS
    "MT\t750\t.\tA\tG\t50\tPASS\t.\n"  # MT-RNR1
    "MT\t3308\t.\tT\tC\t50\tPASS\t.\n"  # MT-ND1 start codon
    "MT\t3316\t.\tG\tA\t50\tPASS\t.\n"
    "MT\t3345\t.\tT\tC\t50\tPASS\t.\n"
    "MT\t10126\t.\tG\tA\t50\tPASS\t.\n"
    "MT\t14149\t.\tC\tT\t50\tPASS\t.\n"  # MT-ND6 (minus strand) stop codon
)
# The new columns of the TSV export, and the ones that say which variant a row is.
TSV_COLUMNS = ("chrom", "pos", "ref", "alt", "consequence", "impact", "feature", "hgvsc", "hgvsp",
               "clinvar", "clinvar_disease", "clinvar_ids", "clinvar_review")


async def choose(page: Page, label: str, value: str) -> dict[str, list[str]]:
    """Select ``value`` in the filter labelled ``label``; the query the page sent for it."""
    async with page.expect_request(
        lambda r: bool(r.headers.get("hx-request")) and "/results" in r.url
    ) as request:
        await page.get_by_label(label, exact=True).select_option(value)
    return parse_qs(urlsplit((await request.value).url).query)


async def expect_rows(page: Page, rows: list[engine_output.Row], total: int) -> None:
    """The table shows exactly ``rows``, each with the consequence, impact, HGVS and
    ClinVar the engine wrote for it (its ids linked, every disease name present)."""
    await expect(page.locator("#result-count")).to_contain_text(f"{len(rows):,} of {total:,} variants")
    body = page.locator("#results-table tbody tr")
    await expect(body.locator("td:first-child")).to_have_text([r.position for r in rows])
    # The rows may already be the expected ones while HTMX still swaps in the same
    # rows anew (a filter that keeps them all): read them again until a read holds.
    deadline = time.monotonic() + 10
    while True:
        try:
            await _check_rows(page, body, rows)
            return
        except (AssertionError, KeyError, ValueError, PlaywrightError):
            if time.monotonic() > deadline:
                raise
            await page.wait_for_timeout(200)


async def _check_rows(page: Page, body: Locator, rows: list[engine_output.Row]) -> None:
    headings = [h.strip(" ▲▼") for h in await page.locator("#results-table th").all_inner_texts()]
    for tr, row in zip(await body.all(), rows, strict=True):
        cells = dict(zip(headings, await tr.locator("td").all(), strict=True))
        shown = {k: (await cells[k].inner_text()).strip()
                 for k in ("Ref", "Alt", "Consequence", "Impact", "HGVSc", "HGVSp")}
        assert shown == {"Ref": row.ref, "Alt": row.alt, "Consequence": row.consequence,
                         "Impact": row.impact, "HGVSc": row.hgvsc, "HGVSp": row.hgvsp}, row
        clinvar = " ".join((await cells["ClinVar"].text_content() or "").split())
        assert clinvar.startswith(row.clinvar), (clinvar, row)
        for name in filter(None, row.clinvar_disease.split("; ")):
            assert name in clinvar, (name, row)
        links = await cells["ClinVar"].get_by_role("link").all_inner_texts()
        assert links == [f"ClinVar {i}" for i in row.clinvar_ids.split("; ") if i], row
        assert (f"Review: {row.clinvar_review}" in clinvar) == bool(row.clinvar_review), (clinvar, row)


async def plotted(page: Page, caption: str) -> dict[str, int]:
    """The bars of the summary plot captioned ``caption``: label to value (SVG text has
    no innerText: its text content)."""
    figure = page.locator("figure", has=page.locator("figcaption", has_text=caption))
    labels = await figure.locator(".chart-label").all_text_contents()
    values = await figure.locator(".chart-value").all_text_contents()
    return {label: int(value.replace(",", "")) for label, value in zip(labels, values, strict=True)}


async def exported(page: Page, path: Path) -> list[dict[str, str]]:
    """The rows of the TSV export as the page links it now, the columns of TSV_COLUMNS."""
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Export these rows as TSV").click()
    await (await download_info.value).save_as(path)
    header, *rows = [line.split("\t") for line in path.read_text().splitlines()]
    return [{k: v for k, v in zip(header, row, strict=True) if k in TSV_COLUMNS} for row in rows]


def tsv_rows(rows: list[engine_output.Row]) -> list[dict[str, str]]:
    return [{k: str(getattr(r, k)) for k in TSV_COLUMNS} for r in rows]


def result_records(vcf: Path) -> list[str]:
    return [line for line in vcf.read_text().splitlines() if not line.startswith("#")]


async def test_consequence_impact_and_clinvar_filters(
    page: Page, server: Server, tmp_path: Path, output_path: str
) -> None:
    """The new columns, plots and filters in a browser, on a job the real engine
    annotated: what the page shows is what the engine wrote (the same input annotated
    here with ``annotate_file`` against the server's reference, read by
    ``e2e.engine_output``, not by the viewer's code): every row's consequence, impact,
    HGVS and ClinVar, the plots' counts, the consequence terms offered; each filter
    control sends its value to the server (checked on the requests the page made) and
    the rows follow; the URL keeps the filters so a reload shows the same rows; the
    TSV export has the filtered rows with their HGVS and ClinVar; and axe-core finds no
    WCAG A/AA violation on the page with the new controls."""
    sample = tmp_path / "consequences.vcf"
    sample.write_text(CONSEQUENCE_VCF)
    expected_vcf = tmp_path / "expected.vcf"
    await asyncio.to_thread(annotate_file, sample, expected_vcf, reference_root=reference_dir())
    rows = engine_output.read(expected_vcf)
    total = len(rows)
    pathogenic = [r for r in rows if r.pathogenic]
    frameshift = [r for r in pathogenic if r.consequence == "frameshift_variant"]
    # The input still exercises every control: codon terms, HIGH to MODIFIER, P and LP.
    assert {"missense_variant", "synonymous_variant", "stop_gained", "frameshift_variant",
            "intron_variant", "intergenic_variant"} <= set(engine_output.per_consequence(rows))
    assert set(engine_output.per_impact(rows)) == set(engine_output.IMPACTS)
    assert {"Pathogenic", "Likely_pathogenic"} <= set(engine_output.per_significance(rows))
    assert frameshift

    await sign_up(page, server, "clinic@example.org")
    await upload(page, sample, build="GRCh37")
    await expect(page.locator("#status")).to_contain_text("completed", timeout=90_000)
    job_id = page.url.rsplit("/", 1)[1]
    stored = next(p for p in result_files(server.data_dir, job_id) if p.name.endswith(".annot.vcf"))
    assert result_records(stored) == result_records(expected_vcf)

    await page.get_by_role("link", name="View results").click()
    await expect_rows(page, rows, total)
    await page.screenshot(path=Path(output_path) / "results-all-consequences.png", full_page=True)
    assert await plotted(page, "Variants per consequence") == engine_output.per_consequence(rows)
    assert await plotted(page, "Variants per impact") == engine_output.per_impact(rows)
    significances = await page.locator("dt:has-text('ClinVar') + dd").inner_text()
    for significance, n in engine_output.per_significance(rows).items():
        assert f"{significance.replace('_', ' ')}: {n:,}" in significances
    await expect(page.locator("#clinvar-note")).to_contain_text("absence from this subset means nothing")
    terms = await page.get_by_label("Consequence", exact=True).locator("option").all_inner_texts()
    assert terms == ["All", *sorted(engine_output.per_consequence(rows), key=engine_output.severity)]

    for impact in engine_output.IMPACTS:
        sent = await choose(page, "Impact", impact)
        assert sent.get("impact") == [impact]
        await expect_rows(page, engine_output.at_least(impact, rows), total)
    await choose(page, "Impact", "")
    await expect_rows(page, rows, total)

    sent = await choose(page, "ClinVar", "pathogenic")
    assert sent.get("clinvar") == ["pathogenic"] and "impact" not in sent
    await expect_rows(page, pathogenic, total)
    sent = await choose(page, "Consequence", "frameshift_variant")
    assert sent.get("consequence") == ["frameshift_variant"] and sent.get("clinvar") == ["pathogenic"]
    await expect_rows(page, frameshift, total)
    await page.screenshot(path=Path(output_path) / "results-consequences.png", full_page=True)
    assert await accessibility_violations(page) == []

    await page.reload()
    await expect(page.get_by_label("ClinVar", exact=True)).to_have_value("pathogenic")
    await expect(page.get_by_label("Consequence", exact=True)).to_have_value("frameshift_variant")
    await expect_rows(page, frameshift, total)
    assert await exported(page, tmp_path / "frameshift.tsv") == tsv_rows(frameshift)
    await choose(page, "Consequence", "")
    await expect_rows(page, pathogenic, total)
    assert await exported(page, tmp_path / "pathogenic.tsv") == tsv_rows(pathogenic)


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
    """The seeds' free_1.vcf (rCRS mitochondrial variants) annotates in the browser; skipped, and
    counted as skipped, where the shared samples are absent (it passed having tested nothing)."""
    sample = SAMPLES / "free_1.vcf"
    if not sample.exists():
        pytest.skip(f"{sample} is absent (the shared sample VCFs)")
    await sign_up(page, server, "mito@example.org")
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
    await expect(page.get_by_role("cell", name="from-a-script.vcf", exact=True)).to_be_visible(timeout=10_000)
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
    await expect(page.get_by_role("cell", name="while-offline.vcf", exact=True)).to_be_visible(timeout=15_000)
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
    # The bar lives on a page left as soon as the upload ends: what it showed is sent out.
    shown: list[str] = []
    await page.expose_function("uploadShown", lambda seen: shown.append(seen))
    await page.evaluate("""() => {
        const percent = document.getElementById("upload-percent");
        new MutationObserver(() => window.uploadShown(
            `${document.getElementById("upload-status").hidden ? "hidden" : "shown"} `
            + `${document.getElementById("upload-progress").value} ${percent.textContent}`,
        )).observe(percent, {childList: true, characterData: true, subtree: true});
    }""")
    await page.get_by_label("VCF file (plain or gzipped)").set_input_files(big)
    await expect(page.get_by_role("button", name="Upload and annotate")).to_be_enabled()
    await page.get_by_role("button", name="Upload and annotate").click()
    await expect(page).to_have_url(re.compile(r"/annotations/[0-9a-f-]{36}$"))
    assert shown and shown[-1] == "shown 100 100%", shown
    await expect(page.locator("#status")).to_contain_text("completed", timeout=90_000)
    await expect(page.get_by_text("12,000", exact=True)).to_be_visible()
