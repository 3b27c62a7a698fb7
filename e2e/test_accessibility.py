"""Every page of the app, anonymous and signed in, checked in a real browser at a
desktop size and a phone size: axe-core finds no serious or critical WCAG A/AA
violation, nothing is wider than the window, and a screenshot of each goes to the
test's output folder."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

from e2e.server import Server
from e2e.test_browser import VCF, sign_up, upload

RETENTION_SECONDS = 3
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Moderate and minor findings are advice; these two are what locks people out.
BLOCKING = {"serious", "critical"}
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture(autouse=True)
def _archive_soon(monkeypatch: pytest.MonkeyPatch) -> None:
    """``gas serve`` (started after this) archives a free user's result within seconds,
    so the test has an archived job to look at."""
    monkeypatch.setenv("GAS_FREE_RETENTION_SECONDS", str(RETENTION_SECONDS))


@dataclass(frozen=True)
class Finding:
    page: str
    size: str
    what: str


async def check(page: Page, name: str, shots: Path) -> list[Finding]:
    """The page as it is now, at each size: its blocking axe violations and whether
    it overflows the window; a full-page screenshot at each size."""
    found: list[Finding] = []
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        await page.wait_for_timeout(100)  # the layout settles at the new width
        await page.screenshot(path=shots / f"{name}-{size}.png", full_page=True)
        violations = (await Axe().run(page, options=WCAG)).response["violations"]
        for v in violations:
            if v["impact"] in BLOCKING:
                targets = [n["target"] for n in v["nodes"]]
                found.append(Finding(name, size, f"axe {v['impact']} {v['id']}: {targets}"))
        width = await page.evaluate("document.documentElement.scrollWidth")
        print(f"{name:>16} {size:>7}: scrollWidth {width} of {viewport['width']}, "
              f"{len(violations)} axe violation(s) of any impact")
        if width > viewport["width"]:
            wide = await page.evaluate(WIDEST, viewport["width"])
            found.append(Finding(name, size, f"{width}px wide in {viewport['width']}px: {wide}"))
    return found


# What sticks out past the window's right edge, itself or by its text: the innermost
# such elements, so a failure names the culprit rather than every ancestor of it.
# What a scrolling container clips (the variant table in its wrapper) does not count.
WIDEST = """(limit) => {
  const clipped = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
      if (getComputedStyle(a).overflowX !== "visible") return true;
    return false;
  };
  const sticksOut = (e) => e.getBoundingClientRect().right > limit + 0.5 ||
    (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === "visible");
  const out = [...document.querySelectorAll("body *")].filter((e) => sticksOut(e) && !clipped(e));
  return out.filter((e) => !out.some((o) => o !== e && e.contains(o))).slice(0, 5).map(
    (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
           (e.className && typeof e.className === "string" ? "." + e.className.split(" ").join(".") : "") +
           " right=" + Math.round(e.getBoundingClientRect().right) + " scrollWidth=" + e.scrollWidth);
}"""


async def finished(page: Page, server: Server, path: Path, status: str) -> str:
    """Upload ``path``, wait on its job page for ``status``; the job page's URL."""
    await page.goto(f"{server.url}/annotate")
    await upload(page, path)
    await expect(page.locator("#status")).to_contain_text(status, timeout=90_000)
    return page.url


async def test_every_page_is_accessible_and_fits_a_phone(
    page: Page, server: Server, tmp_path: Path, output_path: str
) -> None:
    """The anonymous pages (home, log in and its refusal, sign up, a 404) and a free
    user's (annotate, the job list, a completed job, its results, a failed job with its
    reason and its log, an archived job and its results, the profile showing a new
    token, subscribe): each at 1280x800 and 390x844 has no serious or critical axe-core
    violation and a document no wider than the window; on the phone the results page's
    filters start on the first screen (on the desktop they stay below the summary).
    Prints each page's width and violation count, and where the filters start."""
    shots = Path(output_path)
    shots.mkdir(parents=True, exist_ok=True)
    findings: list[Finding] = []

    async def visit(name: str, url: str, ready: Callable[[], Awaitable[None]] | None = None) -> None:
        await page.set_viewport_size(DESKTOP)
        await page.goto(url)
        if ready is not None:
            await ready()
        findings.extend(await check(page, name, shots))

    for name, path in (("home", "/"), ("login", "/login"), ("signup", "/signup"),
                       ("not-found", "/no-such-page")):
        await visit(name, server.url + path)
    await page.set_viewport_size(DESKTOP)
    await page.goto(f"{server.url}/login")
    await page.get_by_label("Email").fill("nobody@example.org")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_contain_text("incorrect")
    findings.extend(await check(page, "login-refused", shots))

    # The archived job first: only its retention of seconds may pass before the others
    # are looked at, so the server is restarted with a long one after it is cold.
    # A file name is one long word to the browser, in headings, facts and table cells alike.
    names = ("patient-0041_exome_GRCh37_archived.vcf", "patient-0042_exome_GRCh37_filtered_calls.vcf",
             "patient-0043_exome_GRCh37_unreadable_calls.vcf")
    archived_vcf, good_vcf, broken_vcf = (tmp_path / n for n in names)
    archived_vcf.write_text(VCF)
    good_vcf.write_text(VCF)
    broken_vcf.write_text(VCF + "17\tnot-a-position\t.\tA\tG\t.\t.\t.\n")
    await sign_up(page, server, "pages@example.org")
    archived = await finished(page, server, archived_vcf, "completed")
    upgrade = page.get_by_role("link", name=re.compile("upgrade to Premium"))
    for _ in range(120):  # a completed job's page is not told when its result goes cold
        if await upgrade.count():
            break
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(upgrade).to_be_visible()
    server.stop()
    server.env["GAS_FREE_RETENTION_SECONDS"] = "86400"
    server.start()

    await visit("annotate", f"{server.url}/annotate")
    completed = await finished(page, server, good_vcf, "completed")
    failed = await finished(page, server, broken_vcf, "failed")
    await visit("jobs", f"{server.url}/annotations",
                lambda: expect(page.locator("#job-rows tr")).to_have_count(3))
    await visit("job", completed)
    await visit("results", f"{completed}/results",
                lambda: expect(page.locator("#result-count")).to_contain_text("3 of 3 variants"))
    # On a phone the filters are what a person came to use: they start on the first
    # screen. A desktop keeps the summary and its plots above them.
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        filters = await page.locator("#filters").bounding_box()
        summary = await page.locator("#summary-heading").bounding_box()
        assert filters is not None and summary is not None
        print(f"results {size}: the filters start {filters['y']:.0f}px down a "
              f"{viewport['height']}px screen, the summary {summary['y']:.0f}px")
        if size == "phone" and filters["y"] >= viewport["height"]:
            findings.append(Finding("results", size, f"the filters start {filters['y']:.0f}px down"))
        if size == "desktop" and summary["y"] > filters["y"]:
            findings.append(Finding("results", size, "the summary moved below the filters"))
    await visit("failed-job", failed,
                lambda: expect(page.locator("#job-status")).to_contain_text("line 7"))
    await visit("failed-log", f"{failed}/log")
    await visit("archived-job", archived)
    # The sentence reads as one: its text, link and full stop are not flex items apart.
    said = await page.locator("#job-status .actions").first.inner_text()
    print(f"archived job says: {said!r}")
    if "Results archived — upgrade to Premium to restore them." not in said:
        findings.append(Finding("archived-job", "phone", f"the archive notice falls apart: {said!r}"))
    await visit("archived-results", f"{archived}/results")
    await visit("subscribe", f"{server.url}/subscribe")

    await page.set_viewport_size(DESKTOP)
    await page.goto(f"{server.url}/profile")
    await page.get_by_label("Token name").fill("laptop")
    await page.get_by_role("button", name="Create token").click()
    await expect(page.get_by_label("New API token")).to_be_visible()
    findings.extend(await check(page, "profile-token", shots))

    assert findings == [], "\n".join(f"{f.page} ({f.size}): {f.what}" for f in findings)
