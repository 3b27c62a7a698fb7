"""``kill -9`` an annotator in the middle of a job: another annotator finishes the job,
exactly once (one result written, one email)."""

from __future__ import annotations

import time
from pathlib import Path

from e2e.jobs import (
    api_client,
    big_vcf,
    finished,
    half_written,
    job,
    log_lines,
    mails_about,
    result_files,
    submit,
    until,
)
from e2e.server import Server, Worker, free_port

VISIBILITY = 6  # seconds a dead worker's message stays hidden before it reappears
VARIANTS = 3_000_000
ENV = {"GAS_QUEUE_VISIBILITY_SECONDS": str(VISIBILITY), "GAS_ANNOTATOR_CONCURRENCY": "1",
       "GAS_QUEUE_WAIT_SECONDS": "5"}


def test_killed_annotator_job_is_finished_by_another_exactly_once(tmp_path: Path) -> None:
    """Web and daemons in ``gas serve --roles``, annotators as their own processes. The
    first is SIGKILLed (with its engine processes) while the job is running with
    progress; the job stays running, its message reappears after the visibility
    timeout, a second annotator resumes and completes it: one completion in the logs,
    one set of result objects never rewritten, no temporary file left, one email."""
    data = tmp_path / "var"
    data.mkdir()
    server = Server(data, free_port(), roles="notify,archive,restore,thaw", env=ENV)
    first = Worker(data, "annotator-1", env=ENV)
    second = Worker(data, "annotator-2", env=ENV)
    server.start()
    try:
        first.start()
        with api_client(server.url, data, "kim@example.org") as client:
            job_id = submit(client, big_vcf(VARIANTS), "big.vcf.gz")
            until(lambda: (j := job(client, job_id))["status"] == "running" and j["progress"] > 0,
                  "the job running with progress", every=0.1)
            first.crash()
            killed = time.monotonic()
            orphaned = job(client, job_id)
            assert orphaned["status"] == "running" and 0 < orphaned["progress"] < 100, orphaned

            second.start()
            done = finished(client, job_id)
            recovered = time.monotonic() - killed
            assert done["status"] == "completed" and done["variant_count"] == VARIANTS // 22 * 22, done
            until(lambda: mails_about(data, job_id), "the completion mail", timeout=30)
            written = {path: path.stat().st_mtime_ns for path in result_files(data, job_id)}
            # Long enough for any second delivery of the request to have run.
            time.sleep(VISIBILITY + 2)
            assert {path: path.stat().st_mtime_ns for path in result_files(data, job_id)} == written
        assert len(written) == 4, written  # result, log, summary, table: once each
        assert not half_written(data)
        assert mails_about(data, job_id) == ["big.vcf.gz: results ready"]
        completions = [line for worker in (first, second)
                       for line in log_lines(worker.log_path, "job completed", job_id)]
        assert len(completions) == 1 and completions[0] in log_lines(second.log_path, job_id)
        assert log_lines(second.log_path, "resuming a job whose worker stopped", job_id)
        print(f"\nFIGURE annotator crash: progress {orphaned['progress']}% at kill, "
              f"completed by the second annotator {recovered:.1f}s after the kill "
              f"(visibility timeout {VISIBILITY}s)")
    finally:
        first.stop()
        second.stop()
        server.stop()
