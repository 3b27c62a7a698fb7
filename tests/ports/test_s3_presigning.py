"""What S3 upload forms and download links are signed for on real AWS settings (no
endpoint_url): the bucket's regional virtual-hosted endpoint, an expiry within the
signing credentials' life, and a non-empty file. Signing needs no network, so fake
credentials do; end to end against moto (path style) is the contract suite's part."""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiobotocore.credentials import AioRefreshableCredentials

from app.ports.aws import AwsSession
from app.ports.objects.aws import S3ObjectStore

BUCKET = "gas-inputs"
KEY = "inputs/user-1/job-1~${filename}"


@pytest.fixture
async def session() -> AsyncIterator[AwsSession]:
    aws = AwsSession("eu-south-1", access_key_id="AKIAEXAMPLE", secret_access_key="fake")
    yield aws
    await aws.close()


def policy(fields: dict[str, str]) -> dict[str, object]:
    return dict(json.loads(base64.b64decode(fields["policy"])))


def role_credentials(expire_at: datetime) -> AioRefreshableCredentials:
    """Temporary credentials as an instance role's arrive (expiring at ``expire_at``)."""

    async def refresh() -> dict[str, str]:
        raise AssertionError("credentials this far from expiry are not refreshed")

    return AioRefreshableCredentials.create_from_metadata(
        metadata={"access_key": "ASIAEXAMPLE", "secret_key": "fake", "token": "token",
                  "expiry_time": expire_at.isoformat()},
        refresh_using=refresh, method="iam-role",
    )


@pytest.mark.parametrize("region", ["eu-south-1", "ap-east-1", "us-east-1"])
async def test_urls_name_the_regional_virtual_hosted_endpoint(region: str) -> None:
    """Upload forms and download links go to https://<bucket>.s3.<region>.amazonaws.com:
    the global endpoint answers a new bucket with a 307 and serves no opt-in region."""
    aws = AwsSession(region, access_key_id="AKIAEXAMPLE", secret_access_key="fake")
    try:
        store = S3ObjectStore(aws)
        post = await store.presign_post(BUCKET, KEY, max_bytes=100, expires_in=60)
        link = await store.presign_get("gas-results", "results/u/j~out.vcf", expires_in=60)
    finally:
        await aws.close()
    assert post.url == f"https://{BUCKET}.s3.{region}.amazonaws.com/"
    parts = urllib.parse.urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https", f"gas-results.s3.{region}.amazonaws.com", "/results/u/j~out.vcf")


async def test_a_custom_endpoint_is_addressed_by_path() -> None:
    """moto or LocalStack at one address: buckets are a path under it."""
    aws = AwsSession("eu-south-1", "http://127.0.0.1:5000",
                     access_key_id="AKIAEXAMPLE", secret_access_key="fake")
    try:
        store = S3ObjectStore(aws)
        post = await store.presign_post(BUCKET, KEY, max_bytes=100, expires_in=60)
        link = await store.presign_get(BUCKET, "inputs/u/j~in.vcf", expires_in=60)
    finally:
        await aws.close()
    assert post.url == f"http://127.0.0.1:5000/{BUCKET}"
    assert link.startswith(f"http://127.0.0.1:5000/{BUCKET}/inputs/u/j~in.vcf?")


async def test_an_upload_policy_never_outlives_the_role_credentials() -> None:
    """Asked for an hour with role credentials that expire in 20 minutes, the policy
    (and the expiry the API reports) ends with the credentials: S3 would refuse the
    form after that anyway, with an error about a token no user could act on."""
    aws = AwsSession("eu-south-1")  # no keys: the standard chain, here a role's
    expire_at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=20)
    aws.session._session._credentials = role_credentials(expire_at)
    try:
        post = await S3ObjectStore(aws).presign_post(BUCKET, KEY, max_bytes=100, expires_in=3600)
    finally:
        await aws.close()
    assert datetime.fromisoformat(str(policy(post.fields)["expiration"])) <= expire_at
    assert expire_at - timedelta(minutes=1) < post.expires_at <= expire_at
    assert post.fields["x-amz-security-token"] == "token"


async def test_static_keys_keep_the_asked_expiry(session: AwsSession) -> None:
    """Keys that never expire leave the policy its full life."""
    before = datetime.now(UTC).replace(microsecond=0)
    post = await S3ObjectStore(session).presign_post(BUCKET, KEY, max_bytes=100, expires_in=3600)
    assert post.expires_at >= before + timedelta(seconds=3600)


async def test_an_upload_policy_refuses_an_empty_file(session: AwsSession) -> None:
    """The size range starts at one byte: an empty input is refused by S3 at upload."""
    post = await S3ObjectStore(session).presign_post(BUCKET, KEY, max_bytes=100, expires_in=60)
    assert ["content-length-range", 1, 100] in policy(post.fields)["conditions"]  # type: ignore[operator]
