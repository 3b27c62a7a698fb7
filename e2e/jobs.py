"""What the fault tests do through the API again and again: make a user, upload and
submit a VCF, wait for a job, count the mail and result objects a job produced."""

from __future__ import annotations

import email
import email.policy
import gzip
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from e2e.server import gas


def api_client(
    base_url: str, data_dir: Path, address: str, role: str | None = "premium",
    database_url: str | None = None,
) -> httpx.Client:
    """A client signed in with a new API token, for a new account of ``role``, or for
    the existing account when ``role`` is None."""
    if role is not None:
        gas(data_dir, "users", "create", address, "--password", "correct horse", "--role", role,
            database_url=database_url)
    token = gas(data_dir, "users", "token", address, database_url=database_url).strip()
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def upload(client: httpx.Client, content: bytes, name: str) -> httpx.Response:
    """POST ``content`` to the object store with a fresh upload policy; the store's answer."""
    policy = client.post("/api/v1/uploads").json()
    response = httpx.post(policy["url"], data=policy["fields"],
                          files={"file": (name, content, "application/octet-stream")}, timeout=120)
    response.extensions["key"] = policy["key"]
    return response


def submit(client: httpx.Client, content: bytes, name: str) -> str:
    """Upload ``content`` and submit it; the new job's id."""
    stored = upload(client, content, name)
    assert stored.status_code == 201, stored.text
    made = client.post("/api/v1/jobs", json={"key": stored.extensions["key"], "file_name": name})
    assert made.status_code == 201, made.text
    job_id: str = made.json()["job_id"]
    return job_id


def job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/jobs/{job_id}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def until(check: Callable[[], Any], what: str, timeout: float = 120, every: float = 0.2) -> Any:
    """``check()``'s first truthy value, looked for every ``every`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout}s")


def finished(client: httpx.Client, job_id: str, timeout: float = 180) -> dict[str, Any]:
    return until(lambda: (j := job(client, job_id))["status"] in ("completed", "failed") and j,
                 f"job {job_id} finished", timeout)  # type: ignore[no-any-return]


def big_vcf(variants: int, seed: int = 7) -> bytes:
    """A gzipped GRCh37 VCF of ``variants`` SNVs spread over chromosomes 1-22, sorted:
    big enough that the annotator is still busy with it seconds later."""
    rnd = random.Random(seed)
    lines = ["##fileformat=VCFv4.2\n##reference=GRCh37\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"]
    per = variants // 22
    for chrom in range(1, 23):
        pos = 10_000
        for _ in range(per):
            pos += rnd.randint(1, 200)
            lines.append(f"{chrom}\t{pos}\t.\tA\tG\t50\tPASS\t.\n")
    return gzip.compress("".join(lines).encode(), compresslevel=1)


def mails_about(data_dir: Path, job_id: str) -> list[str]:
    """The subjects of every mail in the outbox that links to the job's page (subjects name the
    file, which several jobs may share)."""
    subjects = []
    for path in sorted((data_dir / "outbox").glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = parsed.get_body(("plain",))
        if body is not None and f"/annotations/{job_id}" in body.get_content():
            subjects.append(str(parsed["Subject"]))
    return subjects


def result_files(data_dir: Path, job_id: str) -> list[Path]:
    """The stored objects of a job's result, log, summary and table (hot tier)."""
    return sorted((data_dir / "objects" / "gas-results").glob(f"results/*/{job_id}~*"))


def half_written(data_dir: Path) -> list[Path]:
    """Temporary files the object store writes through; none may be left behind."""
    return sorted((data_dir / "objects").rglob("*.part"))


def log_lines(path: Path, *needles: str) -> list[str]:
    """Lines of a process's log that contain every one of ``needles``."""
    text = path.read_text(errors="replace") if path.exists() else ""
    return [line for line in text.splitlines() if all(n in line for n in needles)]
