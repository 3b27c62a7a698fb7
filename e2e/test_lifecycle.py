"""A free user's result through its whole life, against a real ``gas serve``:
completed → mailed → archived after the retention → upgrade → restored → mailed."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from e2e.server import Server, gas
from e2e.test_api_flow import VCF, wait_for

RETENTION, RESTORE = 4, 2


@pytest.fixture(autouse=True)
def _seconds_not_days(monkeypatch: pytest.MonkeyPatch) -> None:
    """``gas serve`` (e2e/conftest.py's, started after this) with a retention and a
    restore of seconds."""
    monkeypatch.setenv("GAS_FREE_RETENTION_SECONDS", str(RETENTION))
    monkeypatch.setenv("GAS_LOCAL_RESTORE_EXPEDITED_SECONDS", str(RESTORE))


def until(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {timeout}s")


def mail(server: Server, subject: str) -> Callable[[], email.message.EmailMessage | None]:
    def find() -> email.message.EmailMessage | None:
        for path in sorted((server.data_dir / "outbox").glob("*.eml")):
            parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if parsed["Subject"] == subject:
                assert isinstance(parsed, email.message.EmailMessage)
                return parsed
        return None

    return find


def test_free_result_archived_then_restored_on_upgrade(server: Server) -> None:
    """Free user submits → completes → email in the outbox → after the retention the
    result is cold and the API says result_archived (an earlier download link is dead
    too) → a declined card changes nothing → upgrade with pm_card_visa → restored →
    downloadable → a second email."""
    gas(server.data_dir, "users", "create", "grace@example.org", "--password", "correct horse")
    token = gas(server.data_dir, "users", "token", "grace@example.org").strip()
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"},
                      timeout=30) as client:
        policy = client.post("/api/v1/uploads").json()
        assert httpx.post(policy["url"], data=policy["fields"],
                          files={"file": ("s.vcf", VCF.encode(), "text/plain")}).status_code == 201
        made = client.post("/api/v1/jobs", json={"key": policy["key"], "file_name": "s.vcf"})
        job = wait_for(client, made.json()["links"]["self"])
        job_id = job["job_id"]
        assert job["status"] == "completed" and job["storage"] == "hot"
        early_link = client.get(f"/api/v1/jobs/{job_id}/result").headers["location"]
        assert httpx.get(early_link).status_code == 200

        done = until(mail(server, "s.vcf: results ready"), "completion mail")
        assert f"{server.url}/annotations/{job_id}" in done.get_body(("plain",)).get_content()

        until(lambda: client.get(f"/api/v1/jobs/{job_id}").json()["storage"] == "cold", "archive")
        archived = client.get(f"/api/v1/jobs/{job_id}/result")
        assert archived.status_code == 409 and archived.json()["error"]["code"] == "result_archived"
        assert httpx.get(early_link).status_code == 404

        declined = client.post("/api/v1/subscription", json={"payment_method": "pm_card_chargeDeclined"})
        assert declined.status_code == 402 and client.get("/api/v1/me").json()["role"] == "free"
        upgraded = client.post("/api/v1/subscription", json={"payment_method": "pm_card_visa"})
        assert upgraded.status_code == 200 and upgraded.json()["role"] == "premium"

        until(lambda: client.get(f"/api/v1/jobs/{job_id}").json()["storage"] == "hot", "restore")
        result = client.get(f"/api/v1/jobs/{job_id}/result")
        assert result.status_code == 303
        restored = httpx.get(result.headers["location"])
        assert restored.status_code == 200 and "BRCA1" in restored.text
        until(mail(server, "s.vcf: results are back"), "results-are-back mail")
    # Every line about the job names it: the archiver's and the thawer's among them.
    lines = (server.data_dir / "serve.log").read_text().splitlines()
    for said in ("result archived", "result restored to the hot tier"):
        assert any(said in line and f"job_id={job_id}" in line for line in lines), said
