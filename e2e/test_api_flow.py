"""The whole JSON API flow against a real ``gas serve`` process."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from e2e.server import Server, gas

# Three real GRCh37 positions with known answers: inside BRCA1 (17q21.31), inside
# TP53 (17p13.1), and MT-RNR1 on the rCRS mitochondrion.
VCF = """##fileformat=VCFv4.2
##reference=GRCh37
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
17\t41245466\t.\tG\tA\t50\tPASS\t.
17\t7577120\t.\tC\tT\t50\tPASS\t.
MT\t750\t.\tA\tG\t50\tPASS\t.
"""


def wait_for(client: httpx.Client, job_url: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(job_url).json()
        if job["status"] in ("completed", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job not finished in {timeout}s: {job}")


def test_api_flow_end_to_end_and_after_restart(server: Server, tmp_path: Path) -> None:
    """A user made with the CLI uploads a VCF with a presigned POST, the job runs
    to completion, the result carries real gene and cytoband annotations, and the
    job is still there after the server restarts."""
    created = json.loads(gas(server.data_dir, "users", "create", "ada@example.org",
                             "--password", "correct horse", "--name", "Ada"))
    token = gas(server.data_dir, "users", "token", "ada@example.org").strip()
    assert token and "\n" not in token
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=30) as client:
        me = client.get("/api/v1/me").json()
        assert me == {"user_id": created["user_id"], "email": "ada@example.org",
                      "name": "Ada", "role": "free", "institution": "", "email_verified": False}

        upload = client.post("/api/v1/uploads")
        assert upload.status_code == 201, upload.text
        policy = upload.json()
        assert policy["max_bytes"] == 153600
        stored = httpx.post(policy["url"], data=policy["fields"],
                            files={"file": ("sample.vcf", VCF.encode(), "text/plain")})
        assert stored.status_code == 201, stored.text

        made = client.post("/api/v1/jobs", json={"key": policy["key"], "file_name": "sample.vcf"})
        assert made.status_code == 201, made.text
        job = wait_for(client, made.json()["links"]["self"])
        assert job["status"] == "completed", job
        assert job["variant_count"] == 3 and job["storage"] == "hot"

        result = client.get(f"/api/v1/jobs/{job['job_id']}/result")
        assert result.status_code == 303
        vcf = httpx.get(result.headers["location"]).text
        records = [line.split("\t") for line in vcf.splitlines() if not line.startswith("#")]
        assert len(records) == 3
        info = {r[1]: r[7] for r in records}
        assert "BRCA1" in info["41245466"] and "17q21.31" in info["41245466"]
        assert "TP53" in info["7577120"] and "17p13.1" in info["7577120"]
        assert "MT-RNR1" in info["750"]
        assert "##INFO=<ID=" in vcf

        log = client.get(f"/api/v1/jobs/{job['job_id']}/log")
        assert log.status_code == 200 and log.headers["content-type"].startswith("text/plain")
        assert [j["job_id"] for j in client.get("/api/v1/jobs").json()["jobs"]] == [job["job_id"]]

    assert server.stop() == 0
    # Ctrl-C stopped the embedded PostgreSQL too: no server left on the data dir.
    assert not (server.data_dir / "postgres" / "postmaster.pid").exists()
    server.start()
    with httpx.Client(base_url=server.url, headers=auth, timeout=30) as client:
        again = client.get(f"/api/v1/jobs/{job['job_id']}")
        assert again.status_code == 200 and again.json()["status"] == "completed"
        assert client.get(f"/api/v1/jobs/{job['job_id']}/result").status_code == 303
