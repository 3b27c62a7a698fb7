"""The JSON API flow with ``GAS_BACKEND=aws`` against moto, after ``gas aws provision``:
submit → complete → download → archive → upgrade → restore → download again."""

from __future__ import annotations

import email
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from e2e.server import Server, free_port, gas
from e2e.test_api_flow import VCF

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto's server, started by the test, and the aws backend's settings pointing at it
    (set in the environment, which every ``gas`` process the test starts inherits)."""
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    tag = uuid.uuid4().hex[:8]
    env = {
        **CREDENTIALS,
        "GAS_BACKEND": "aws",
        "GAS_AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "GAS_AWS_REGION": "us-east-1",
        "GAS_AWS_NAME_PREFIX": f"gas{tag}-",
        "GAS_INPUTS_BUCKET": f"gas-{tag}-inputs",
        "GAS_RESULTS_BUCKET": f"gas-{tag}-results",
        "GAS_JOBS_TABLE": f"gas-{tag}-jobs",
        # GLACIER has Expedited restores; a short retention so the archive comes soon.
        "GAS_AWS_COLD_STORAGE_CLASS": "GLACIER",
        "GAS_FREE_RETENTION_SECONDS": "3",
        "GAS_QUEUE_WAIT_SECONDS": "2",
        "GAS_MAIL_FROM": "GAS <gas@example.org>",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        yield env
    finally:
        moto.stop()


def aws(env: dict[str, str], service: str) -> Any:
    return boto3.client(
        service, region_name="us-east-1", endpoint_url=env["GAS_AWS_ENDPOINT_URL"],
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )


def wait_for(client: httpx.Client, url: str, done: Any, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = client.get(url).json()
        if done(job):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job not there in {timeout}s: {job}")


def test_api_flow_on_aws(aws_env: dict[str, str], tmp_path: Path) -> None:
    """With the aws adapters on moto: the stack is provisioned, an upload goes straight
    to S3, the job runs and its result downloads from S3; an oversize upload that the
    store let through (moto enforces no policy) is refused by the app; the free result
    is archived to GLACIER, and an upgrade restores it through S3's restore event."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    provisioned = json.loads(gas(data_dir, "aws", "provision", "--stack-name", "gas-e2e"))
    assert provisioned["status"] == "CREATE_COMPLETE"

    server = Server(data_dir, free_port())
    server.start()
    try:
        gas(data_dir, "users", "create", "ada@example.org", "--password", "correct horse")
        token = gas(data_dir, "users", "token", "ada@example.org").strip()
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"},
                          timeout=30) as client:
            policy = client.post("/api/v1/uploads").json()
            assert policy["url"].startswith(aws_env["GAS_AWS_ENDPOINT_URL"])
            stored = httpx.post(policy["url"], data=policy["fields"],
                                files={"file": ("sample.vcf", VCF.encode(), "text/plain")})
            assert stored.status_code == 201, stored.text
            made = client.post("/api/v1/jobs", json={"key": policy["key"], "file_name": "sample.vcf"})
            assert made.status_code == 201, made.text
            job_url = made.json()["links"]["self"]
            job = wait_for(client, job_url, lambda j: j["status"] in ("completed", "failed"))
            assert job["status"] == "completed" and job["variant_count"] == 3, job

            result = client.get(f"/api/v1/jobs/{job['job_id']}/result")
            assert result.status_code == 303
            assert result.headers["location"].startswith(aws_env["GAS_AWS_ENDPOINT_URL"])
            assert "BRCA1" in httpx.get(result.headers["location"]).text

            big = client.post("/api/v1/uploads").json()
            assert httpx.post(big["url"], data=big["fields"],
                              files={"file": ("big.vcf", b"#" * 153_601)}).status_code == 201
            refused = client.post("/api/v1/jobs", json={"key": big["key"]})
            assert refused.status_code == 413, refused.text
            s3 = aws(aws_env, "s3")
            assert s3.list_objects_v2(Bucket=aws_env["GAS_INPUTS_BUCKET"],
                                      Prefix=big["key"])["KeyCount"] == 0

            job = wait_for(client, job_url, lambda j: j["storage"] == "cold")
            head = s3.head_object(Bucket=aws_env["GAS_RESULTS_BUCKET"], Key=_result_key(s3, aws_env))
            assert head["StorageClass"] == "GLACIER"
            assert client.get(f"/api/v1/jobs/{job['job_id']}/result").status_code == 409

            paid = client.post("/api/v1/subscription", json={"payment_method": "pm_card_visa"})
            assert paid.status_code == 200, paid.text
            wait_for(client, job_url, lambda j: j["storage"] == "hot")
            result = client.get(f"/api/v1/jobs/{job['job_id']}/result")
            assert result.status_code == 303
            assert "BRCA1" in httpx.get(result.headers["location"]).text
        # Provisioning made the sender's SES identity: the mails went out with no manual step.
        subjects = _mailed_subjects("ada@example.org")
        assert "sample.vcf: results ready" in subjects, subjects
        assert any("are back" in s for s in subjects), subjects
    finally:
        print(server.log_tail(120))  # shown by pytest only when the test fails
        server.stop()


def _result_key(s3: Any, env: dict[str, str]) -> str:
    listed = s3.list_objects_v2(Bucket=env["GAS_RESULTS_BUCKET"], Prefix="results/")
    [key] = [o["Key"] for o in listed["Contents"] if o["Key"].endswith(".vcf")]
    return str(key)


def _mailed_subjects(to: str, timeout: float = 30) -> list[str]:
    """Subjects SES (moto's, in this process) sent to ``to``, once the results-back mail is
    among them or after ``timeout``."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    deadline = time.monotonic() + timeout
    while True:
        sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        subjects = [str(email.message_from_string(m.raw_data)["Subject"]) for m in sent
                    if to in m.destinations]
        if any("are back" in s for s in subjects) or time.monotonic() > deadline:
            return subjects
        time.sleep(0.5)
