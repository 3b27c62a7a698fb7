"""``gas aws provision``: the data-plane stack, made through CloudFormation (moto's)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import lint
from cfnlint.decode import decode_str
from click.testing import CliRunner

from app.config import Settings
from app.jobs.lifecycle import (
    JOB_REQUESTS_SMALL,
    JOB_RESULTS,
    JOB_RESULTS_ARCHIVE,
    JOB_RESULTS_NOTIFY,
    RESTORE_COMPLETE,
    TOPICS,
    RestoreCompleted,
    queue_specs,
)
from app.ops.provision import TEMPLATE
from app.ports.cold.aws import S3ColdTier
from app.ports.jobs.aws import table_definition
from gas.cli import main
from tests.conftest import MOTO_CREDENTIALS


def template() -> dict[str, Any]:
    parsed, errors = decode_str(TEMPLATE.read_text())
    assert not errors and parsed is not None
    return dict(parsed)


@pytest.fixture
def names() -> dict[str, str]:
    """Settings naming resources of this test's own (moto is shared by the session)."""
    tag = uuid.uuid4().hex[:8]
    return {
        "GAS_AWS_NAME_PREFIX": f"gas{tag}-",
        "GAS_INPUTS_BUCKET": f"gas-{tag}-inputs",
        "GAS_RESULTS_BUCKET": f"gas-{tag}-results",
        "GAS_JOBS_TABLE": f"gas-{tag}-jobs",
        "GAS_FREE_RETENTION_SECONDS": "1",
        "GAS_QUEUE_MAX_RECEIVES": "3",
    }


def provision(moto_url: str, names: dict[str, str], stack: str, tmp_path: Path) -> dict[str, Any]:
    env = {
        **names, "GAS_BACKEND": "aws", "GAS_AWS_ENDPOINT_URL": moto_url, "GAS_DATA_DIR": str(tmp_path),
        "AWS_ACCESS_KEY_ID": MOTO_CREDENTIALS["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": MOTO_CREDENTIALS["secret_access_key"],
    }
    result = CliRunner().invoke(main, ["aws", "provision", "--stack-name", stack], env=env)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def client(moto_url: str, service: str) -> Any:
    return boto3.client(
        service, region_name="us-east-1", endpoint_url=moto_url,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )


def test_provision_makes_a_working_data_plane(moto_url: str, names: dict[str, str],
                                              tmp_path: Path) -> None:
    """The stack is created from the settings' names; then the topics fan out by raw
    delivery to queues with delays and redrive, and S3's restore event reaches the
    restore-complete queue. Provisioning again changes nothing."""
    stack = f"gas-{uuid.uuid4().hex[:8]}"
    first = provision(moto_url, names, stack, tmp_path)
    assert first["status"] == "CREATE_COMPLETE"
    # What moto's CloudFormation lacks was made through the APIs, and said so.
    assert "notification" in " ".join(first["made_through_api"])
    assert first["outputs"]["ResultsBucket"] == names["GAS_RESULTS_BUCKET"]
    assert first["outputs"]["JobsTable"] == names["GAS_JOBS_TABLE"]

    table = client(moto_url, "dynamodb").describe_table(TableName=names["GAS_JOBS_TABLE"])["Table"]
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "user_id-submitted_at"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["user_id", "submitted_at"]

    prefix = names["GAS_AWS_NAME_PREFIX"]
    sqs, sns = client(moto_url, "sqs"), client(moto_url, "sns")
    url = {q: sqs.get_queue_url(QueueName=f"{prefix}{q}")["QueueUrl"]
           for q in (JOB_REQUESTS_SMALL, JOB_RESULTS_NOTIFY, JOB_RESULTS_ARCHIVE, RESTORE_COMPLETE)}
    archive = sqs.get_queue_attributes(QueueUrl=url[JOB_RESULTS_ARCHIVE], AttributeNames=["All"])
    attributes = archive["Attributes"]
    assert attributes["DelaySeconds"] == "1"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(f":{prefix}{JOB_RESULTS_ARCHIVE}-dlq")
    assert int(redrive["maxReceiveCount"]) == 3

    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"]
                 if t["TopicArn"].endswith(f":{prefix}{JOB_RESULTS}"))
    sns.publish(TopicArn=topic, Message='{"job_id": "1"}')
    for queue in (JOB_RESULTS_NOTIFY, JOB_RESULTS_ARCHIVE):
        got = sqs.receive_message(QueueUrl=url[queue], WaitTimeSeconds=3)["Messages"]
        assert [m["Body"] for m in got] == ['{"job_id": "1"}'], queue  # raw: no SNS envelope

    small = next(t["TopicArn"] for t in sns.list_topics()["Topics"]
                 if t["TopicArn"].endswith(f":{prefix}{JOB_REQUESTS_SMALL}"))
    sns.publish(TopicArn=small, Message='{"job_id": "2"}')
    got = sqs.receive_message(QueueUrl=url[JOB_REQUESTS_SMALL], WaitTimeSeconds=3)["Messages"]
    assert [m["Body"] for m in got] == ['{"job_id": "2"}']  # the small lane's own topic and queue

    s3 = client(moto_url, "s3")
    bucket, key = names["GAS_RESULTS_BUCKET"], "results/u/j~a b.vcf"
    s3.put_object(Bucket=bucket, Key=key, Body=b"x", StorageClass="GLACIER")
    s3.restore_object(Bucket=bucket, Key=key, RestoreRequest={"Days": 1})
    # moto finishes a restore when its state is next read, and only then sends the event.
    assert 'ongoing-request="false"' in s3.head_object(Bucket=bucket, Key=key)["Restore"]
    bodies: list[dict[str, Any]] = []
    while not any("Records" in b for b in bodies):
        received = sqs.receive_message(QueueUrl=url[RESTORE_COMPLETE], MaxNumberOfMessages=10,
                                       WaitTimeSeconds=3).get("Messages", [])
        assert received, bodies
        bodies += [json.loads(m["Body"]) for m in received]
    # As on S3, setting the notification sent a test event first: not a completion.
    assert [b.get("Event") for b in bodies if "Records" not in b] in ([], ["s3:TestEvent"])
    [event] = [b for b in bodies if "Records" in b]
    cold = S3ColdTier.__new__(S3ColdTier)  # completed() reads the message only
    assert cold.completed(event) == RestoreCompleted(bucket, key)
    with pytest.raises(ValueError):
        cold.completed({"Service": "Amazon S3", "Event": "s3:TestEvent"})

    again = provision(moto_url, names, stack, tmp_path)
    # AWS answers "no updates"; moto updates in place. Either way nothing is added.
    assert again["status"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    assert again["made_through_api"] == []
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 2


def test_template_declares_the_whole_data_plane() -> None:
    """What moto's CloudFormation skips is still declared for AWS: subscriptions with raw
    delivery and queue policies for every topic's queues, lifecycle rules, the restore
    notification; the table matches the adapter's; cfn-lint finds nothing."""
    resources = template()["Resources"]
    subscriptions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"]
    # Every topic's queues, and mail-events' own queue (the operator's, not in TOPICS).
    subscribed = sum(len(queues) for queues in TOPICS.values()) + 1
    assert len(subscriptions) == subscribed and all(s["RawMessageDelivery"] is True for s in subscriptions)
    assert sum(r["Type"] == "AWS::SQS::QueuePolicy" for r in resources.values()) == subscribed
    queues = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::SQS::Queue"]
    specs = len(queue_specs(Settings()))
    assert sum("RedrivePolicy" in q for q in queues) == specs and len(queues) == 2 * specs + 1
    results = resources["ResultsBucket"]["Properties"]
    [notification] = results["NotificationConfiguration"]["TopicConfigurations"]
    assert notification["Event"] == "s3:ObjectRestore:Completed"
    for bucket in ("InputsBucket", "ResultsBucket"):
        rules = resources[bucket]["Properties"]["LifecycleConfiguration"]["Rules"]
        assert any("AbortIncompleteMultipartUpload" in rule for rule in rules)
    table = resources["JobsTable"]["Properties"]
    expected = table_definition("x")
    for key in ("KeySchema", "AttributeDefinitions", "BillingMode"):
        assert table[key] == expected[key]
    [index] = table["GlobalSecondaryIndexes"]
    assert index == expected["GlobalSecondaryIndexes"][0]
    assert lint(TEMPLATE.read_text(), regions=["us-east-1"]) == []
