"""app/ports/aws.py: the ARNs GAS builds (topics and queues, for subscriptions and
redrive policies) are in the partition of the account it runs in."""

from __future__ import annotations

from typing import Any

import pytest

from app.ports.aws import AwsSession


class _Sts:
    def __init__(self, caller_arn: str) -> None:
        self.caller_arn = caller_arn
        self.calls = 0

    async def get_caller_identity(self) -> dict[str, Any]:
        self.calls += 1
        return {"Account": "123456789012", "Arn": self.caller_arn, "UserId": "AIDEXAMPLE"}


@pytest.mark.parametrize(("region", "caller", "expected"), [
    ("us-east-1", "arn:aws:sts::123456789012:assumed-role/gas-web/i-0abc",
     "arn:aws:sns:us-east-1:123456789012:gas-job-results"),
    ("cn-north-1", "arn:aws-cn:sts::123456789012:assumed-role/gas-web/i-0abc",
     "arn:aws-cn:sns:cn-north-1:123456789012:gas-job-results"),
    ("us-gov-west-1", "arn:aws-us-gov:iam::123456789012:user/operator",
     "arn:aws-us-gov:sns:us-gov-west-1:123456789012:gas-job-results"),
])
async def test_arns_take_the_callers_partition(region: str, caller: str, expected: str) -> None:
    """arn() takes the partition from STS's caller ARN (China, GovCloud: not ``aws``),
    asking STS once for it and the account."""
    session = AwsSession(region)
    sts = _Sts(caller)

    async def client(service: str) -> Any:
        assert service == "sts"
        return sts

    session.client = client  # type: ignore[method-assign]
    assert await session.arn("sns", "gas-job-results") == expected
    partition = caller.split(":")[1]
    assert await session.arn("sqs", "gas-dlq") == f"arn:{partition}:sqs:{region}:123456789012:gas-dlq"
    assert sts.calls == 1
