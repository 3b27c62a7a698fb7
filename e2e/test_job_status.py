"""A job's end shows on its page and on the job list within 3 s of it, with the event
stream and with ``/events`` blocked (the pages poll), and a page that saw the job
unfinished says so with the notice the stream would have sent."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, expect

from e2e.jobs import api_client, job, submit
from e2e.server import Server, Worker, free_port
from e2e.test_browser import VCF

JOBS = 20
# Job pages open at once beside the list, so jobs submitted at once: a premium user
# runs 2 at a time (a third is put off 5 s), and each page holds an event stream of
# the 6 connections Chromium opens to a host.
TABS = 2
MOST_LAG_SECONDS = 3.0
ENDED = re.compile(r"^(completed|failed)$")
PASSWORD = "correct horse"

# In every page: when it first showed each job ended (the job page's status, each row
# of the list), and whether the event stream opened.
RECORDER = """
(() => {
  window.__ended = {}; window.__streamOpened = false;
  document.addEventListener("htmx:sseOpen", () => { window.__streamOpened = true; });
  const look = () => {
    const now = Date.now();
    document.querySelectorAll("#job-status, #job-rows tr").forEach((shown) => {
      // The job page shows the id; a row of the list links the job's page.
      const code = shown.querySelector("code"), link = shown.querySelector("a[href^='/annotations/']");
      const id = code ? code.textContent : link ? link.getAttribute("href").split("/").pop() : null;
      const badge = shown.querySelector(".badge");
      if (id && badge && /^(completed|failed)$/.test(badge.textContent.trim())
          && !(id in window.__ended)) window.__ended[id] = now;
    });
  };
  document.addEventListener("DOMContentLoaded", () => {
    look();
    new MutationObserver(look).observe(document.body, {childList: true, subtree: true, characterData: true});
  });
})();
"""


async def log_in(page: Page, server: Server, email: str) -> None:
    await page.goto(f"{server.url}/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).not_to_have_url(re.compile(r"/login"))


def ended_at(record: dict[str, Any]) -> float:
    """The job's end as the job record has it, in seconds since the epoch."""
    return datetime.fromisoformat(record["completed_at"]).timestamp()


async def watch_jobs(
    context: BrowserContext, page: Page, server: Server, email: str, streamed: bool
) -> dict[str, float]:
    """Submit ``JOBS`` small jobs through the API, each job's page opened in a tab as soon
    as it is submitted and closed once it shows the job ended, the job list open
    throughout. The lag of each page and of the list's row: seconds from the job's end
    (its record) to the first time the page showed it."""
    await log_in(page, server, email)
    await page.goto(f"{server.url}/annotations")
    tabs = asyncio.Semaphore(TABS)
    with api_client(server.url, server.data_dir, email, role=None) as client:

        async def one(n: int) -> tuple[str, float]:
            async with tabs:
                job_id = await asyncio.to_thread(submit, client, VCF.encode(), f"quick-{n}.vcf")
                tab = await context.new_page()
                await tab.goto(f"{server.url}/annotations/{job_id}")
                await expect(tab.locator("#status .badge")).to_have_text(ENDED, timeout=30_000)
                seen = await tab.evaluate("window.__ended")
                if streamed:  # the page may have loaded showing the end, its stream opening after
                    await tab.wait_for_function("window.__streamOpened", timeout=10_000)
                else:
                    assert not await tab.evaluate("window.__streamOpened"), job_id
                await tab.close()
                return job_id, seen[job_id] / 1000

        seen_on_pages = dict(await asyncio.gather(*(one(n) for n in range(JOBS))))
        records = {job_id: await asyncio.to_thread(job, client, job_id) for job_id in seen_on_pages}
    assert {r["status"] for r in records.values()} == {"completed"}, records
    await expect(page.locator("#job-rows .badge")).to_have_text(["completed"] * JOBS, timeout=10_000)
    assert await page.evaluate("window.__streamOpened") == streamed
    seen_on_list = {k: v / 1000 for k, v in (await page.evaluate("window.__ended")).items()}
    lags = {f"page {job_id}": seen - ended_at(records[job_id]) for job_id, seen in seen_on_pages.items()}
    lags |= {f"list {job_id}": seen_on_list[job_id] - ended_at(records[job_id]) for job_id in records}
    return lags


def report(mode: str, lags: dict[str, float]) -> None:
    worst = max(lags, key=lambda k: lags[k])
    print(f"\nFIGURE job status lag ({mode}, {JOBS} jobs): worst {lags[worst]:.2f}s ({worst}), "
          f"pages' worst {max(v for k, v in lags.items() if k.startswith('page')):.2f}s, "
          f"list's worst {max(v for k, v in lags.items() if k.startswith('list')):.2f}s")
    late = {k: round(v, 2) for k, v in lags.items() if v > MOST_LAG_SECONDS}
    assert not late, f"shown more than {MOST_LAG_SECONDS}s after the job ended: {late}"


@pytest.mark.parametrize("mode", ["stream", "events-blocked"])
async def test_every_page_shows_the_end_within_3s(
    page: Page, server: Server, mode: str
) -> None:
    """20 quick jobs submitted one after another: each job's page, opened as it is
    submitted, and the job list show it completed within 3 s of its end (a final event
    sent before a page's stream opened is not lost: the page fetches its state when
    the stream opens); with /events blocked, the pages poll and keep the same promise.
    Prints the worst lag."""
    context = page.context
    if mode == "events-blocked":
        await context.route("**/events", lambda route: route.abort())
    api_client(server.url, server.data_dir, "quick@example.org").close()
    await context.add_init_script(RECORDER)
    report(mode, await watch_jobs(context, page, server, "quick@example.org", mode == "stream"))


BROKEN = VCF + "17\tnot-a-position\t.\tA\tG\t.\t.\t.\n"


@contextlib.contextmanager
def web_without_annotator(tmp_path: Path) -> Iterator[tuple[Server, Worker, Path]]:
    """``gas serve`` with no worker roles and an annotator of its data dir not started yet (jobs
    stay pending until the test starts it); both stopped at the end."""
    data = tmp_path / "var"
    data.mkdir()
    server = Server(data, free_port(), roles="")
    annotator = Worker(data, "annotator")
    server.start()
    try:
        yield server, annotator, data
    finally:
        annotator.stop()
        server.stop()


@pytest.mark.parametrize("mode", ["events-blocked", "stream"])
async def test_pages_show_the_end_with_one_notice(page: Page, tmp_path: Path, mode: str) -> None:
    """A job page and the job list showing jobs pending (no annotator yet) show each
    job's end once an annotator runs them, with the notice the stream sends: "finished"
    for one, "failed" and the reason for the broken one. With /events blocked the
    polled fragments bring the notice; with the stream up the notice comes twice (the
    stream's and the fragment's) and the page shows it once."""
    with web_without_annotator(tmp_path) as (server, annotator, data):
        with api_client(server.url, data, "notice@example.org") as client:
            good = submit(client, VCF.encode(), "good.vcf")
            bad = submit(client, BROKEN.encode(), "broken.vcf")
            context = page.context
            if mode == "events-blocked":
                await context.route("**/events", lambda route: route.abort())
            await log_in(page, server, "notice@example.org")
            jobs = await context.new_page()
            await jobs.goto(f"{server.url}/annotations")
            await expect(jobs.locator("#job-rows .badge")).to_have_text(["pending", "pending"])
            await page.goto(f"{server.url}/annotations/{bad}")
            other = await context.new_page()
            await other.goto(f"{server.url}/annotations/{good}")
            for tab in (page, other):
                await expect(tab.locator("#status .badge")).to_have_text("pending")

            annotator.start()
            await expect(page.locator("#status .badge")).to_have_text("failed", timeout=60_000)
            await expect(page.get_by_role("alert")).to_contain_text("line 7")
            failed = f'#notices [data-notice="{bad}:failed"]'
            await expect(page.locator(failed)).to_have_text("Job broken.vcf failed.", timeout=5_000)
            await expect(other.locator("#status .badge")).to_have_text("completed", timeout=60_000)
            finished = f'#notices [data-notice="{good}:completed"]'
            await expect(other.locator(finished)).to_have_text("Job good.vcf finished.", timeout=5_000)
            await expect(jobs.locator("#job-rows .badge")).to_have_text(["failed", "completed"],
                                                                       timeout=10_000)
            await expect(jobs.locator(failed)).to_be_visible(timeout=5_000)
            await expect(jobs.locator(finished)).to_be_visible(timeout=5_000)
            await page.wait_for_timeout(1000)  # time for a second copy of a notice to arrive
            for tab, notice in ((page, failed), (other, finished), (jobs, failed), (jobs, finished)):
                await expect(tab.locator(notice)).to_have_count(1)
            assert job(client, good)["status"] == "completed" and job(client, bad)["status"] == "failed"



# htmx processes a swapped-in section (its event listeners too) once it settles, 20 ms
# after the swap; the test widens that window to make the race it opens certain.
SLOW_SETTLE = """
document.addEventListener("DOMContentLoaded", () => { htmx.config.defaultSettleDelay = 1500; });
"""


async def test_job_page_hears_an_event_that_comes_as_it_settles(page: Page, tmp_path: Path) -> None:
    """A quick job's "completed" event comes right after the page swapped in what its
    "running" event fetched, while that settles (20 ms here, 1.5 s in this test). The
    page shows the end anyway: what listens for the job's events is not the section
    being replaced."""
    with web_without_annotator(tmp_path) as (server, annotator, data):
        with api_client(server.url, data, "settle@example.org") as client:
            job_id = submit(client, VCF.encode(), "settle.vcf")
            await page.context.add_init_script(RECORDER)
            await page.context.add_init_script(SLOW_SETTLE)
            await log_in(page, server, "settle@example.org")
            await page.goto(f"{server.url}/annotations/{job_id}")
            await expect(page.locator("#status .badge")).to_have_text("pending")
            await page.wait_for_function("window.__streamOpened")
            await page.wait_for_timeout(2000)  # the fetch on the stream's opening has settled

            annotator.start()
            await expect(page.locator("#status .badge")).to_have_text("completed", timeout=30_000)
            lag = (await page.evaluate("window.__ended"))[job_id] / 1000 - ended_at(job(client, job_id))
            print(f"\nFIGURE job page settling for 1.5 s: the end shown {lag:.2f}s after it")
            assert lag <= MOST_LAG_SECONDS
