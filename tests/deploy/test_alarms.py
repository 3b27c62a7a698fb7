"""gas.yaml's alarms: every dead-letter queue has one, the job-request lanes alarm on their
oldest request's age, the load balancer on its 5xx rate and RDS on CPU, free storage and
connections; each publishes to the alarm topic, at the threshold its parameter says; and
each is a request CloudWatch's PutMetricAlarm takes (moto's CloudFormation cannot make
alarms, so they are sent through the API)."""

from __future__ import annotations

from typing import Any

from app.config import Settings
from tests.deploy.template import GAS, aws, parse

RESOURCES = parse(GAS)["Resources"]
PARAMETERS = parse(GAS)["Parameters"]
ALARMS = {k: r for k, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}

# The alarm on each thing watched, and the parameter its threshold is.
THRESHOLDS = {
    "JobRequestsAgeAlarm": "JobRequestMaxAgeSeconds",
    "JobRequestsSmallAgeAlarm": "JobRequestMaxAgeSeconds",
    "Http5xxAlarm": "Http5xxAlarmPercent",
    "DatabaseCpuAlarm": "DatabaseCpuAlarmPercent",
    "DatabaseFreeStorageAlarm": "DatabaseFreeStorageAlarmPercent",
    "DatabaseConnectionsAlarm": "DatabaseConnectionsAlarmCount",
}


def _metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm reads: its one metric, or each of its metric math's."""
    properties = alarm["Properties"]
    if "MetricName" in properties:
        return [properties]
    return [m["MetricStat"]["Metric"] for m in properties["Metrics"] if "MetricStat" in m]


def test_every_dead_letter_queue_has_its_alarm() -> None:
    dead_letter_queues = {
        r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for r in RESOURCES.values() if "RedrivePolicy" in r.get("Properties", {})
    }
    assert dead_letter_queues
    for queue in dead_letter_queues:
        [alarm] = [a["Properties"] for a in ALARMS.values()
                   if a["Properties"].get("Dimensions") == [
                       {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
        assert alarm["TreatMissingData"] == "notBreaching"


def test_each_watched_thing_has_its_alarm_at_its_parameter() -> None:
    assert set(THRESHOLDS) <= set(ALARMS)
    for name, parameter in THRESHOLDS.items():
        assert ALARMS[name]["Properties"]["Threshold"] == {"Ref": parameter}, name
        assert parameter in PARAMETERS
    for lane in ("JobRequestsQueue", "JobRequestsSmallQueue"):
        [metric] = _metrics(ALARMS[f"{lane.removesuffix('Queue')}AgeAlarm"])
        assert metric["MetricName"] == "ApproximateAgeOfOldestMessage"
        assert metric["Dimensions"][0]["Value"] == {"Fn::GetAtt": [lane, "QueueName"]}
    # A request stays on its queue while its job runs: the default must not call the
    # longest allowed job late.
    assert int(PARAMETERS["JobRequestMaxAgeSeconds"]["Default"]) > Settings().premium_max_job_seconds
    http = {m["MetricName"] for m in _metrics(ALARMS["Http5xxAlarm"])}
    assert http == {"HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "RequestCount"}
    for name, metric in (("DatabaseCpuAlarm", "CPUUtilization"),
                         ("DatabaseFreeStorageAlarm", "FreeStorageSpace"),
                         ("DatabaseConnectionsAlarm", "DatabaseConnections")):
        assert [m["MetricName"] for m in _metrics(ALARMS[name])] == [metric]
        # No alarm on a database the stack does not make (DatabaseUrlSecretArn).
        assert ALARMS[name]["Condition"] == "CreateDatabase"


def test_every_alarm_tells_the_topic_and_the_topic_mails_the_operator() -> None:
    for name, alarm in ALARMS.items():
        properties = alarm["Properties"]
        assert properties["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert properties["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert properties["AlarmDescription"], name
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}
    assert PARAMETERS["AlarmEmail"]["Default"] == ""


def test_alarms_are_valid_put_metric_alarm_requests(moto_url: str, stack: dict[str, Any]) -> None:
    physical = {k: r["PhysicalResourceId"] for k, r in stack["resources"].items()}
    [balancer] = aws(moto_url, "elbv2").describe_load_balancers(
        LoadBalancerArns=[physical["LoadBalancer"]])["LoadBalancers"]
    full_name = balancer["LoadBalancerArn"].split(":loadbalancer/")[1]  # app/<name>/<id>
    attributes = {("LoadBalancer", "LoadBalancerFullName"): full_name}
    for logical, resource in RESOURCES.items():
        if resource["Type"] == "AWS::SQS::Queue":  # a queue's physical id is its URL
            attributes[(logical, "QueueName")] = physical[logical].rsplit("/", 1)[1]
    values = {**{k: p.get("Default") for k, p in PARAMETERS.items()}, **stack["parameters"],
              "AWS::StackName": stack["name"]}

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"}:
                name = node["Ref"]
                value = physical[name] if name in physical else values[name]
                return float(value) if PARAMETERS.get(name, {}).get("Type") == "Number" else value
            if set(node) == {"Fn::GetAtt"}:
                return attributes[tuple(node["Fn::GetAtt"])]
            if set(node) == {"Fn::Sub"}:
                text = node["Fn::Sub"]
                for name, value in values.items():
                    text = text.replace("${" + name + "}", str(value))
                assert "${" not in text, text
                return text
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    cloudwatch = aws(moto_url, "cloudwatch")
    for alarm in ALARMS.values():
        cloudwatch.put_metric_alarm(**resolve(alarm["Properties"]))
    made = cloudwatch.describe_alarms(AlarmNamePrefix=f"{stack['name']}-")["MetricAlarms"]
    assert len(made) == len(ALARMS)
    assert {a["AlarmActions"][0] for a in made} == {physical["AlarmTopic"]}
