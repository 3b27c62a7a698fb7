"""What the tests of ``deploy/`` share: where its files are, a template read as plain
data, a client of moto's server, a unit file's settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from cfnlint.decode import decode_str

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
GAS = DEPLOY / "gas.yaml"
DATA_PLANE = DEPLOY / "data-plane.yaml"
UNITS = DEPLOY / "systemd"

# What moto's CloudFormation (5.2.5) cannot make. The moto test leaves them out and
# makes the secrets through Secrets Manager's API instead, so the rest can use them.
NOT_IN_MOTO = frozenset({
    "AWS::AutoScaling::ScalingPolicy", "AWS::SES::EmailIdentity", "AWS::SES::ConfigurationSet",
    "AWS::SES::ConfigurationSetEventDestination", "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::SecretsManager::Secret",
    "AWS::SecretsManager::SecretTargetAttachment",
    "AWS::S3::BucketPolicy",
    "AWS::CloudWatch::Alarm",
})


def parse(path: Path) -> dict[str, Any]:
    """The template as plain data, short-form tags (!Ref, !Sub) in their long form."""
    parsed, errors = decode_str(path.read_text())
    assert not errors and parsed is not None, errors
    return dict(json.loads(json.dumps(parsed, default=str)))


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def aws(moto_url: str, service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", endpoint_url=moto_url,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def unit(path: Path) -> dict[str, list[str]]:
    """A unit file's settings (every value of a repeated key, in order)."""
    found: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def seconds(attribute: str) -> int:
    resources = parse(GAS)["Resources"]
    pairs = [*resources["LoadBalancer"]["Properties"]["LoadBalancerAttributes"],
             *resources["WebTargetGroup"]["Properties"]["TargetGroupAttributes"]]
    return int(next(p["Value"] for p in pairs if p["Key"] == attribute))
