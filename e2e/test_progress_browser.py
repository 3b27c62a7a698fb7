"""A large job's page shows its progress climbing through every phase of the job, named, in a real
browser: it does not sit at 99 % while the results table is built and the result stored."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from e2e.jobs import api_client, big_vcf, submit
from e2e.server import Server

# Each change of the job's status cell, as the page shows it: "running 41% · building the results table".
RECORDER = """
(() => {
  window.__shown = [];
  const look = () => {
    const cell = document.getElementById("status");
    const text = cell ? cell.textContent.replace(/\\s+/g, " ").trim() : "";
    if (text && window.__shown[window.__shown.length - 1] !== text) window.__shown.push(text);
  };
  document.addEventListener("DOMContentLoaded", () => {
    look();
    new MutationObserver(look).observe(document.body, {childList: true, subtree: true, characterData: true});
  });
})();
"""
SHOWN = re.compile(r"^running (\d+)% (\d+)% · (.+)$")


async def test_job_page_names_each_phase_and_climbs_to_the_end(page: Page, server: Server) -> None:
    with api_client(server.url, server.data_dir, "big@example.org") as client:
        job_id = submit(client, big_vcf(600_000), "big.vcf.gz")
    await page.goto(f"{server.url}/login")
    await page.get_by_label("Email").fill("big@example.org")
    await page.get_by_label("Password").fill("correct horse")
    await page.get_by_role("button", name="Log in").click()
    await page.context.add_init_script(RECORDER)
    await page.goto(f"{server.url}/annotations/{job_id}")
    await expect(page.locator("#status .badge")).to_have_text("completed", timeout=180_000)
    shown: list[str] = await page.evaluate("window.__shown")
    running = [m for text in shown if (m := SHOWN.match(text))]
    print("FIGURE progress shown:", " | ".join(shown))
    phases = [m[3] for m in running]
    seen = [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p]
    assert "annotating" in seen and "building the results table" in seen, shown
    assert seen.index("annotating") < seen.index("building the results table"), shown
    values = [int(m[1]) for m in running]
    assert values == sorted(values), shown
    table = [int(m[1]) for m in running if m[3] == "building the results table"]
    assert min(table) < 90, shown  # the table's part of the bar is not pinned at the end
