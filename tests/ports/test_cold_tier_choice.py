"""The S3 cold tier's restore tiers, on moto: GLACIER (the default class) is asked for
Expedited restores and falls back to Standard when S3 has no Expedited capacity;
DEEP_ARCHIVE, which has no Expedited tier, is only ever asked for Standard."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from app.config import Settings
from app.jobs.job import Job
from app.jobs.storage import request_restore
from app.ports.aws import AwsSession
from app.ports.bus.aws import SnsSqsBus
from app.ports.cold.aws import S3ColdTier
from app.ports.objects.aws import S3ObjectStore

KEY = "results/u/j~a.annot.vcf"


@dataclass
class RestoreCalls:
    """The tiers RestoreObject was called with, in order; without Expedited capacity S3
    answers an Expedited one as it does then (moto itself never runs out)."""
    tiers: list[str] = field(default_factory=list)
    expedited_capacity: bool = True


@pytest.fixture
async def calls(aws_session: AwsSession, monkeypatch: pytest.MonkeyPatch) -> RestoreCalls:
    recorded = RestoreCalls()
    s3 = await aws_session.client("s3")
    real = s3.restore_object

    async def restore_object(**kwargs: Any) -> Any:
        tier = kwargs["RestoreRequest"]["GlacierJobParameters"]["Tier"]
        recorded.tiers.append(tier)
        if tier == "Expedited" and not recorded.expedited_capacity:
            raise ClientError({
                "Error": {"Code": "GlacierExpeditedRetrievalNotAvailable",
                          "Message": "Glacier expedited retrievals are currently not available"},
                "ResponseMetadata": {"HTTPStatusCode": 503}}, "RestoreObject")
        return await real(**kwargs)

    monkeypatch.setattr(s3, "restore_object", restore_object)
    return recorded


@pytest.fixture
async def bucket(aws_session: AwsSession) -> AsyncIterator[str]:
    name = f"gas-tiers-{uuid.uuid4().hex[:8]}"
    await (await aws_session.client("s3")).create_bucket(Bucket=name)
    await S3ObjectStore(aws_session).put_bytes(name, KEY, b"result", "text/plain")
    yield name


async def archive_then_restore(cold: S3ColdTier, bucket: str) -> str:
    """Archive the result, then ask for it back as the restorer does; the tier S3 took."""
    await cold.archive(bucket, KEY)
    job = Job(job_id="j", user_id="u", input_file_name="a.vcf", input_bucket="in", input_key="k",
              input_size=1, submitted_at=datetime.now(UTC), result_bucket=bucket, result_key=KEY)
    return (await request_restore(SimpleNamespace(cold=cold), job)).tier  # type: ignore[arg-type]


def test_the_default_cold_class_is_glacier() -> None:
    """GLACIER (Flexible Retrieval) by default: restores in minutes, as the seeds promise."""
    assert Settings().aws_cold_storage_class == "GLACIER"


async def test_glacier_is_asked_for_expedited(aws_session: AwsSession, bucket: str, calls: RestoreCalls
                                              ) -> None:
    """The tier's default class is GLACIER; its restore is asked for Expedited, once."""
    cold = S3ColdTier(aws_session, SnsSqsBus(aws_session, "gas-tiers-"))
    assert await archive_then_restore(cold, bucket) == "Expedited"
    head = await (await aws_session.client("s3")).head_object(Bucket=bucket, Key=KEY)
    assert head["StorageClass"] == "GLACIER"
    assert calls.tiers == ["Expedited"]


async def test_glacier_falls_back_to_standard_without_expedited_capacity(
        aws_session: AwsSession, bucket: str, calls: RestoreCalls) -> None:
    """S3's GlacierExpeditedRetrievalNotAvailable makes the restore go Standard, which S3 takes."""
    calls.expedited_capacity = False
    cold = S3ColdTier(aws_session, SnsSqsBus(aws_session, "gas-tiers-"), "GLACIER")
    assert await archive_then_restore(cold, bucket) == "Standard"
    assert calls.tiers == ["Expedited", "Standard"]
    assert (await (await aws_session.client("s3")).head_object(Bucket=bucket, Key=KEY)).get("Restore")


async def test_deep_archive_is_never_asked_for_expedited(
        aws_session: AwsSession, bucket: str, calls: RestoreCalls) -> None:
    """DEEP_ARCHIVE has no Expedited tier: S3 is asked for Standard only, which the job
    page gives as 12 hours (GLACIER's Standard: 5 hours; Expedited: 5 minutes)."""
    bus = SnsSqsBus(aws_session, "gas-tiers-")
    cold = S3ColdTier(aws_session, bus, "DEEP_ARCHIVE")
    assert await archive_then_restore(cold, bucket) == "Standard"
    assert calls.tiers == ["Standard"]
    assert cold.expected_seconds("Standard") == 12 * 3600
    assert S3ColdTier(aws_session, bus, "GLACIER").expected_seconds("Standard") == 5 * 3600
    assert S3ColdTier(aws_session, bus, "GLACIER").expected_seconds("Expedited") == 5 * 60
