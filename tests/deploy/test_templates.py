"""deploy/*.yaml read as templates: cfn-lint, the data plane inside the whole, the
queues, the roles' permissions, the scaling policy's shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from cfnlint.api import lint
from cfnlint.config import ManualArgs

from app.config import Settings
from app.jobs.lifecycle import queue_specs
from app.ports.mail.aws import MAIL_EVENTS
from tests.deploy.template import DATA_PLANE, DEPLOY, GAS, listed, parse


@pytest.mark.parametrize("template", sorted(DEPLOY.glob("*.yaml")), ids=lambda p: p.name)
def test_cfn_lint_passes(template: Path) -> None:
    """cfn-lint finds nothing in any template in deploy/: errors, warnings, nor the
    informational rules it leaves out unless asked (`cfn-lint -c I`), such as I3011's
    explicit deletion policies; a rule waived for a resource says why in its Metadata."""
    matches = lint(template.read_text(), config=ManualArgs(regions=["us-east-1"], include_checks=["I"]))
    assert [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches] == []


def test_the_data_plane_is_part_of_the_whole() -> None:
    """Every resource of data-plane.yaml (what `gas aws provision` makes) is in gas.yaml
    under the same logical id with the same properties, and every parameter they use
    is there with the same type: the two stacks name things alike."""
    part, whole = parse(DATA_PLANE), parse(GAS)
    for logical_id, resource in part["Resources"].items():
        assert whole["Resources"].get(logical_id) == resource, logical_id
    for name, parameter in part["Parameters"].items():
        assert whole["Parameters"][name]["Type"] == parameter["Type"], name
        if name != "UploadOrigin":  # the whole system's must be its https address
            assert whole["Parameters"][name].get("Default") == parameter.get("Default"), name


def test_queue_delays_and_redrive_follow_the_settings() -> None:
    """The template's queues are app/services.py's: each has its dead-letter queue and
    the receives before it; only job-results-archive is delayed, by the retention."""
    resources = parse(GAS)["Resources"]
    queues = {r["Properties"]["QueueName"]["Fn::Sub"].removeprefix("${NamePrefix}"): r["Properties"]
              for r in resources.values() if r["Type"] == "AWS::SQS::Queue"}
    for spec in queue_specs(Settings()):
        queue = queues[spec.name]
        assert spec.dead_letter_queue in queues
        assert queue["RedrivePolicy"]["maxReceiveCount"] == {"Ref": "MaxReceives"}
        expected = {"Ref": "ArchiveDelaySeconds"} if spec.delay_seconds else 0
        assert queue["DelaySeconds"] == expected, spec.name
    # Besides the consumers' queues, only the one of mail events, which the operator reads.
    consumed = {name for spec in queue_specs(Settings()) for name in (spec.name, spec.dead_letter_queue)}
    assert set(queues) - {MAIL_EVENTS} == consumed


def test_each_process_gets_only_named_resources() -> None:
    """No role allows every action of a service or every resource: each statement
    names the buckets' prefixes, the table, the topics and queues its process uses
    (SES's identities only for the one From address)."""
    resources = parse(GAS)["Resources"]
    roles = {k: r for k, r in resources.items() if r["Type"] == "AWS::IAM::Role"}
    assert sorted(roles) == ["AnnotatorRole", "DaemonsRole", "WebRole"]
    for name, role in roles.items():
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = listed(statement["Action"])
                assert all("*" not in action for action in actions), (name, actions)
                assert statement["Resource"] != "*", (name, actions)
                if "ses:SendRawEmail" in actions:
                    only_ours = {"StringEquals": {"ses:FromAddress": {"Ref": "MailFrom"}}}
                    assert statement["Condition"] == only_ours

    def allowed(role: str) -> set[str]:
        found: set[str] = set()
        for policy in roles[role]["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                found |= set(listed(statement["Action"]))
        return found

    # Only the consumers receive; only the web signs uploads; only the daemons mail and restore.
    assert "sqs:ReceiveMessage" not in allowed("WebRole")
    assert "s3:DeleteObject" not in allowed("AnnotatorRole") | allowed("DaemonsRole")
    assert {"ses:SendRawEmail", "s3:RestoreObject"} & (allowed("WebRole") | allowed("AnnotatorRole")) == set()


def test_annotators_scale_on_backlog_per_instance() -> None:
    """The annotator group's policy is target tracking on the job requests of both
    lanes, waiting (visible) and being annotated (in flight, not visible), divided by
    the instances in service (metric math), and the group publishes the latter: a busy
    group with an empty queue does not read as idle."""
    resources = parse(GAS)["Resources"]
    policy = resources["AnnotatorBacklogScaling"]["Properties"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    specification = policy["TargetTrackingConfiguration"]["CustomizedMetricSpecification"]
    metrics = {m["Id"]: m for m in specification["Metrics"]}
    [returned] = [m for m in metrics.values() if m.get("ReturnData")]
    assert returned["Expression"] == "(large + small + large_running + small_running) / annotators"
    for lane, queue in (("large", "JobRequestsQueue"), ("small", "JobRequestsSmallQueue")):
        for metric_id, name in ((lane, "ApproximateNumberOfMessagesVisible"),
                                (f"{lane}_running", "ApproximateNumberOfMessagesNotVisible")):
            counted = metrics[metric_id]["MetricStat"]["Metric"]
            assert counted["Namespace"] == "AWS/SQS"
            assert counted["MetricName"] == name
            assert counted["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]}
    in_service = metrics["annotators"]["MetricStat"]["Metric"]
    assert in_service["MetricName"] == "GroupInServiceInstances"
    collected = resources["AnnotatorGroup"]["Properties"]["MetricsCollection"]
    assert "GroupInServiceInstances" in collected[0]["Metrics"]
    assert "NumberOfMessagesSent" not in GAS.read_text().replace("NumberOfMessagesSent alarms", "")
