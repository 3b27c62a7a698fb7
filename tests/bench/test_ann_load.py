"""bench/ann_load.py against a live ``gas serve``: it submits through the API, follows the
jobs until they drain, and its report's figures agree with each other."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import ann_load
from e2e.server import Server, serving
from e2e.test_api_flow import VCF


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """``gas serve`` (web, annotator, daemons) on a free port, and a Premium user's token."""
    with serving(tmp_path_factory.mktemp("ann_load") / "var", "load@example.org", "premium") as live:
        yield live


async def test_three_jobs_drain_and_the_report_adds_up(live: tuple[Server, str], tmp_path: Path) -> None:
    """Three jobs submitted two at a time all complete; every sample counts no more jobs than
    were submitted, finished never goes down and the last sample has nothing left; the
    throughput is the jobs over the time to drain, which no job's own time exceeds."""
    server, token = live
    vcf = tmp_path / "sample.vcf"
    vcf.write_text(VCF)
    run = ann_load.run(server.url, token, vcf, jobs=3, concurrency=2, interval=0.3)
    report = await asyncio.wait_for(run, 120)

    assert report.statuses == {"completed": 3} and report.finished == 3
    for sample in report.samples:
        assert sample.pending + sample.running + sample.finished <= sample.submitted <= 3
    assert [s.finished for s in report.samples] == sorted(s.finished for s in report.samples)
    assert [s.seconds for s in report.samples] == sorted(s.seconds for s in report.samples)
    last = report.samples[-1]
    assert (last.submitted, last.pending, last.running, last.finished) == (3, 0, 0, 3)
    assert 0 < report.submit_seconds <= last.seconds + 0.1
    assert len(report.latencies) == 3
    assert 0 < max(report.latencies) <= report.drain_seconds
    assert report.jobs_per_minute == pytest.approx(60 * 3 / report.drain_seconds)

    table = ann_load.render(report)
    assert len(table.splitlines()) == 1 + len(report.samples) + 6
    assert f"throughput          {report.jobs_per_minute:.1f} jobs/min" in table
    assert "jobs                3 (3 completed)" in table
