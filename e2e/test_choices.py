"""The build and skip-bad-lines choices in a real browser (Debian's chromium) against a
real ``gas serve``: what is chosen on /annotate is what the job runs with, and a job
that failed on a bad line can be run again skipping it, without a new upload."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from playwright.async_api import Page, Route, expect

from e2e import test_aws_flow
from e2e.server import Server, free_port, gas
from e2e.test_browser import sign_up

HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
# Line 5's position is not a number: the job fails there unless bad lines are skipped.
BAD_LINE = 5
RECORDS = (
    "17\t7676154\t.\tG\tC\t50\tPASS\t.\n"
    "17\t43045712\t.\tT\tC\t50\tPASS\t.\n"
    "17\tnot-a-position\t.\tA\tG\t50\tPASS\t.\n"
    "MT\t750\t.\tA\tG\t50\tPASS\t.\n"
)
# moto, and the aws backend pointed at it, for the native post to S3.
aws_env = test_aws_flow.aws_env
JOB_PAGE = re.compile(r"/annotations/([0-9a-f-]{36})$")


def api_job(server: Server, email: str, job_id: str) -> dict[str, object]:
    """The job as the JSON API returns it: what reached the server, not what a page says."""
    token = gas(server.data_dir, "users", "token", email).strip()
    answer = httpx.get(f"{server.url}/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    job: dict[str, object] = answer.json()
    return job


def job_id_of(page: Page) -> str:
    found = JOB_PAGE.search(page.url)
    assert found, page.url
    return found.group(1)


async def test_chosen_build_and_skip_reach_the_job_and_its_page(
    page: Page, server: Server, tmp_path: Path
) -> None:
    """GRCh38 chosen and skip checked on /annotate, for a file whose header names no
    build and that has one bad line: the API's job has build GRCh38 and skip on, the
    job completes on GRCh38 (not the GRCh37 GAS assumes for such a file) with the line
    skipped, and the job page and the job list say so."""
    sample = tmp_path / "choices.vcf"
    sample.write_text(HEADER + RECORDS)
    email = "choices@example.org"
    await sign_up(page, server, email)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/annotate/fields" in r.url else None)

    await page.get_by_label("Genome build").select_option("GRCh38")
    await page.get_by_label("Skip lines that cannot be read").check()
    await page.get_by_label("VCF file (plain or gzipped)").set_input_files(sample)
    # No wait here: the button holds until the policy carrying the choices is in the form.
    await page.get_by_role("button", name="Upload and annotate").click()
    await expect(page).to_have_url(JOB_PAGE)
    job_id = job_id_of(page)
    print("policy requests:", asked)

    job = api_job(server, email, job_id)
    print("the job as the API returns it:", {k: job[k] for k in ("build", "skip_bad_lines", "status")})
    assert (job["build"], job["skip_bad_lines"]) == ("GRCh38", True)
    await expect(page.locator("#job-build")).to_have_text("GRCh38 (chosen)")
    await expect(page.locator("#status")).to_contain_text("completed", timeout=90_000)
    await expect(page.locator("#job-build")).to_have_text("GRCh38 (chosen)")
    await expect(page.locator("#skip-bad-lines")).to_have_text("Skipped: 1 line left out (see the log)")
    print("job page:", await page.locator("#job-build").inner_text(), "|",
          await page.locator("#skip-bad-lines").inner_text())

    await page.get_by_role("link", name="View the log").click()
    await expect(page.locator("pre.log")).to_contain_text("annotating on GRCh38")
    await expect(page.locator("pre.log")).to_contain_text(f"first at line {BAD_LINE}")
    await page.get_by_role("link", name="My jobs").click()
    row = page.get_by_role("row").filter(has_text="choices.vcf")
    await expect(row.get_by_role("cell", name="GRCh38 (chosen)")).to_be_visible()


async def test_failed_job_resubmitted_skipping_bad_lines_completes(
    page: Page, server: Server, tmp_path: Path
) -> None:
    """A file with one bad line, uploaded without skip, fails with the line's number;
    "Resubmit skipping bad lines" makes a new job from the same stored file (no upload),
    which completes with that one line skipped and the build detected from the header."""
    broken = tmp_path / "broken.vcf"
    broken.write_text(HEADER.replace("\n", "\n##reference=GRCh37\n", 1) + RECORDS)
    email = "resubmit@example.org"
    await sign_up(page, server, email)
    await page.get_by_label("VCF file (plain or gzipped)").set_input_files(broken)
    await page.get_by_role("button", name="Upload and annotate").click()
    await expect(page).to_have_url(JOB_PAGE)
    failed_id = job_id_of(page)
    await expect(page.locator("#status")).to_contain_text("failed", timeout=60_000)
    await expect(page.get_by_role("alert")).to_contain_text(f"line {BAD_LINE + 1}")
    await expect(page.locator("#skip-bad-lines")).to_have_text(
        "Not skipped: the job stops at the first line it cannot read"
    )

    uploads: list[str] = []
    page.on("request", lambda r: uploads.append(r.url) if "/objects/" in r.url else None)
    await page.get_by_role("button", name="Resubmit skipping bad lines").click()
    await expect(page).to_have_url(JOB_PAGE)
    new_id = job_id_of(page)
    assert new_id != failed_id
    await expect(page.locator("#status")).to_contain_text("completed", timeout=90_000)
    await expect(page.locator("#skip-bad-lines")).to_have_text("Skipped: 1 line left out (see the log)")
    await expect(page.locator("#job-build")).to_have_text("GRCh37 (detected from the file)")
    assert uploads == [], uploads

    failed, again = api_job(server, email, failed_id), api_job(server, email, new_id)
    print("failed:", {k: failed[k] for k in ("status", "skip_bad_lines", "error")})
    print("resubmitted:", {k: again[k] for k in ("status", "skip_bad_lines", "build", "input_file_name")})
    assert (failed["status"], again["status"], again["skip_bad_lines"]) == ("failed", "completed", True)
    assert again["input_file_name"] == failed["input_file_name"] == "broken.vcf"


async def test_upload_waits_for_the_policy_that_carries_a_new_choice(
    page: Page, server: Server, tmp_path: Path
) -> None:
    """The build changed just before "Upload and annotate", with the new policy slow to
    come (held 1.5 s): the button is disabled meanwhile, and the job gets the build
    chosen last, never the one the page's first policy carried (auto)."""
    sample = tmp_path / "late choice.vcf"
    sample.write_text(HEADER.replace("\n", "\n##reference=GRCh37\n", 1) + RECORDS.replace(
        "17\tnot-a-position\t.\tA\tG\t50\tPASS\t.\n", ""))
    email = "late@example.org"
    await sign_up(page, server, email)

    async def slow(route: Route) -> None:
        await asyncio.sleep(1.5)
        await route.continue_()

    await page.route("**/annotate/fields*", slow)
    await page.get_by_label("VCF file (plain or gzipped)").set_input_files(sample)
    await page.get_by_label("Genome build").select_option("GRCh38")
    button = page.get_by_role("button", name="Upload and annotate")
    await expect(button).to_be_disabled()
    await button.click()
    await expect(page).to_have_url(JOB_PAGE)
    job = api_job(server, email, job_id_of(page))
    print("chosen while its policy was on the way; the job as the API returns it:", job["build"])
    assert job["build"] == "GRCh38"


async def test_a_choice_whose_policy_cannot_be_had_is_not_uploaded_without_it(
    page: Page, server: Server, tmp_path: Path
) -> None:
    """The request for the new choice's policy fails (the network drops it): the page
    says so and the store refuses the form, rather than annotating with the old choice."""
    sample = tmp_path / "dropped.vcf"
    sample.write_text(HEADER + RECORDS)
    await sign_up(page, server, "dropped@example.org")
    await page.route("**/annotate/fields*", lambda route: route.abort())
    await page.get_by_label("Skip lines that cannot be read").check()
    await expect(page.get_by_role("alert")).to_contain_text("Your choice could not be saved")
    await page.get_by_label("VCF file (plain or gzipped)").set_input_files(sample)
    await page.get_by_role("button", name="Upload and annotate").click()
    await expect(page.locator("#upload-error")).to_contain_text("The upload was refused")
    await expect(page).to_have_url(re.compile(r"/annotate$"))


async def test_choices_reach_the_job_through_a_native_post_to_s3(
    page: Page, aws_env: dict[str, str], tmp_path: Path
) -> None:
    """With the aws backend (moto) the form posts itself to S3, another origin, and
    S3's redirect brings the choices back: they are in the signed policy's
    success_action_redirect, so nothing the page does after the post can lose them."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    gas(data_dir, "aws", "provision", "--stack-name", "gas-e2e-choices")
    server = Server(data_dir, free_port())
    server.start()
    try:
        sample = tmp_path / "to s3.vcf"
        sample.write_text(HEADER + RECORDS)
        email = "s3@example.org"
        await sign_up(page, server, email)
        store_posts: list[str] = []
        page.on("request", lambda r: store_posts.append(r.url)
                if r.method == "POST" and r.url.startswith(aws_env["GAS_AWS_ENDPOINT_URL"]) else None)
        await page.get_by_label("Genome build").select_option("GRCh38")
        await page.get_by_label("Skip lines that cannot be read").check()
        await page.get_by_label("VCF file (plain or gzipped)").set_input_files(sample)
        await page.get_by_role("button", name="Upload and annotate").click()
        await expect(page).to_have_url(JOB_PAGE)
        assert len(store_posts) == 1, store_posts
        job = api_job(server, email, job_id_of(page))
        print("posted to", store_posts, "; the job as the API returns it:",
              {k: job[k] for k in ("build", "skip_bad_lines")})
        assert (job["build"], job["skip_bad_lines"]) == ("GRCh38", True)
        await expect(page.locator("#job-build")).to_have_text("GRCh38 (chosen)")
        await expect(page.locator("#skip-bad-lines")).to_contain_text("Skipped")
    finally:
        print(server.log_tail(80))  # shown by pytest only when the test fails
        server.stop()
