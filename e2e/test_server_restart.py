"""Stop ``gas serve`` (SIGTERM, and SIGKILL as a crash) while jobs are pending, running
and waiting to be archived; start it again: every job reaches its end state, and
nothing is lost or done twice."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

from e2e.jobs import (
    api_client,
    big_vcf,
    finished,
    half_written,
    job,
    mails_about,
    result_files,
    submit,
    until,
)
from e2e.server import Server, free_port
from e2e.test_api_flow import VCF

RETENTION = 10
VISIBILITY = 6
ENV = {
    "GAS_FREE_RETENTION_SECONDS": str(RETENTION),
    "GAS_QUEUE_VISIBILITY_SECONDS": str(VISIBILITY),
    "GAS_ANNOTATOR_CONCURRENCY": "1",
    "GAS_QUEUE_WAIT_SECONDS": "5",
    # One lane: the small pending jobs wait behind the big one instead of passing it.
    "GAS_SMALL_JOB_BYTES": "0",
}


def processes_writing_to(log: Path) -> list[int]:
    """Processes that hold ``log`` open: every process a ``gas serve`` started does."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) == str(log) for fd in (proc / "fd").iterdir()):
                found.append(int(proc.name))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_jobs_survive_a_server_stop(tmp_path: Path, sig: signal.Signals) -> None:
    """At the stop: a free user's job is completed and hot (archive pending), a big
    premium job is running, two more are pending behind it. After the restart all
    four complete, the free one goes cold, each has one email and one set of result
    objects, and no temporary file is left in the object store."""
    data = tmp_path / "var"
    data.mkdir()
    server = Server(data, free_port(), env=ENV)
    server.start()
    try:
        with api_client(server.url, data, "fay@example.org", role="free") as free, \
                api_client(server.url, data, "pat@example.org") as premium:
            archived = submit(free, VCF.encode(), "small.vcf")
            assert finished(free, archived)["status"] == "completed"
            running = submit(premium, big_vcf(3_000_000), "big.vcf.gz")
            pending = [submit(premium, VCF.encode(), f"p{n}.vcf") for n in range(2)]
            until(lambda: job(premium, running)["progress"] > 0, "the big job under way", every=0.1)
            at_stop = {job_id: job(premium, job_id)["status"] for job_id in [running, *pending]}
            free_at_stop = job(free, archived)
            code = server.kill(sig)
            stopped = time.monotonic()
        assert at_stop == {running: "running", pending[0]: "pending", pending[1]: "pending"}
        assert free_at_stop["status"] == "completed" and free_at_stop["storage"] == "hot"
        assert code == (0 if sig == signal.SIGTERM else -signal.SIGKILL)
        # Its engine processes (children of the forkserver, not of the server) end with it.
        until(lambda: not processes_writing_to(data / "serve.log"), "the old engine processes gone", 10)

        server.start()
        with api_client(server.url, data, "fay@example.org", None) as free, \
                api_client(server.url, data, "pat@example.org", None) as premium:
            for job_id in [running, *pending]:
                assert finished(premium, job_id)["status"] == "completed", job(premium, job_id)
            until(lambda: job(free, archived)["storage"] == "cold", "the free result archived")
            recovered = time.monotonic() - stopped
            everything = [archived, running, *pending]
            until(lambda: all(mails_about(data, j) for j in everything), "a mail for every job", 30)
            time.sleep(VISIBILITY + 2)  # any redelivery would have run by now
            assert free.get(f"/api/v1/jobs/{archived}/result").json()["error"]["code"] == "result_archived"
        names = {archived: "small.vcf", running: "big.vcf.gz"}
        names |= {j: f"p{n}.vcf" for n, j in enumerate(pending)}
        for job_id in everything:
            assert mails_about(data, job_id) == [f"{names[job_id]}: results ready"], job_id
        for job_id in [running, *pending]:
            assert len(result_files(data, job_id)) == 4, result_files(data, job_id)
        assert not half_written(data)
        # The killed server's scratch space was removed by the restarted one.
        assert not list((data / "work").glob("*/*")), list((data / "work").glob("*/*"))
        print(f"\nFIGURE server {sig.name}: 4 jobs at their end state {recovered:.1f}s after the stop "
              f"(restart included; retention {RETENTION}s, visibility {VISIBILITY}s)")
    finally:
        server.stop()

