"""The data dir fills up: an upload that does not fit is refused with 507 and a message,
a job whose output does not fit fails saying the disk is full, nothing half-written
is left or served, and the server carries on serving."""

from __future__ import annotations

import resource
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from e2e.database import Database
from e2e.jobs import api_client, finished, half_written, mails_about, result_files, submit, upload
from e2e.server import Server, free_port
from e2e.test_api_flow import VCF

DISK = 4 << 20  # bytes of the data dir's file system


@pytest.fixture
def small_data_dir(tmp_path: Path) -> Iterator[tuple[Path, bool]]:
    """A data dir on a tmpfs of DISK bytes, and True; or, where mounting is not
    allowed, a plain dir and False: the test then caps the server's file size with
    RLIMIT_FSIZE instead, which fails writes past DISK bytes with EFBIG."""
    data = tmp_path / "var"
    data.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(data)],
                             capture_output=True).returncode == 0
    try:
        yield data, mounted
    finally:
        if mounted:
            # The server's log outlives the file system, for whoever reads a failure.
            if (data / "serve.log").exists():
                shutil.copy(data / "serve.log", tmp_path / "serve.log")
            subprocess.run(["umount", "-l", str(data)], check=True)


def vcf_of(size: int) -> bytes:
    """A plain GRCh37 VCF of about ``size`` bytes, of variants in genes on chromosome 17."""
    header = "##fileformat=VCFv4.2\n##reference=GRCh37\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    line = "17\t{}\t.\tA\tG\t50\tPASS\t.\n"
    count = (size - len(header)) // len(line.format(41_196_312)) + 1
    return (header + "".join(line.format(41_196_312 + 7 * n) for n in range(count))).encode()


def test_full_disk_refuses_uploads_and_fails_jobs_cleanly(
    small_data_dir: tuple[Path, bool], database: Database
) -> None:
    """On a data dir of 4 MiB: a 6 MiB upload answers 507 with a message and stores
    nothing; a 1.5 MB input is stored, but its annotated output does not fit, so the
    job fails with "ran out of disk space" (and a mail says so), with no result and
    no temporary file left; then a small job completes on the same server."""
    data, mounted = small_data_dir
    server = Server(data, free_port(), database_url=database.url)
    server.start()
    try:
        if not mounted:
            assert server.process is not None
            resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE, (DISK, DISK))
        with api_client(server.url, data, "ida@example.org", database_url=database.url) as client:
            refused = upload(client, vcf_of(6 << 20), "huge.vcf")
            assert refused.status_code == 507, refused.text
            assert "<Code>InsufficientStorage</Code>" in refused.text
            assert "run out of disk space" in refused.text
            assert not list((data / "objects" / "gas-inputs").rglob("*huge*"))
            assert not list((data / "objects" / ".staging").iterdir())

            failed_id = submit(client, vcf_of(1_500_000), "big.vcf")
            failed = finished(client, failed_id)
            assert failed["status"] == "failed", failed
            assert "ran out of disk space" in failed["error"]
            assert client.get(f"/api/v1/jobs/{failed_id}/result").status_code == 409
            assert result_files(data, failed_id) == []
            assert not half_written(data)
            assert not list((data / "work").glob("*/*"))  # the job's scratch space is freed

            assert httpx.get(f"{server.url}/health").status_code == 200
            fine = submit(client, VCF.encode(), "small.vcf")
            assert finished(client, fine)["status"] == "completed"
        assert mails_about(data, failed_id) == ["big.vcf: annotation failed"]
        print(f"\nFIGURE disk full ({'tmpfs' if mounted else 'RLIMIT_FSIZE'} of {DISK >> 20} MiB): "
              f"upload 507, job failed: {failed['error']!r}; next job completed")
    finally:
        server.stop()
