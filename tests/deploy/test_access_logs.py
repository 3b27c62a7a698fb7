"""The load balancer's access logs: on, into a logs bucket of their own (SSE-S3, the only
encryption log delivery takes; no public access; expired after AccessLogDays) whose policy
lets Elastic Load Balancing deliver in every Region: as its service principal, and as its
own account in the Regions that opened before August 2022; and refuses plain HTTP."""

from __future__ import annotations

from typing import Any

from tests.deploy.template import GAS, aws, parse

TEMPLATE = parse(GAS)
RESOURCES = TEMPLATE["Resources"]
LOG_OBJECTS = {"Fn::Sub": "${LogsBucket.Arn}/load-balancer/AWSLogs/${AWS::AccountId}/*"}


def _attributes(resource: str, key: str) -> dict[str, Any]:
    return {a["Key"]: a["Value"] for a in RESOURCES[resource]["Properties"][key]}


def _equals_regions(condition: Any) -> set[str]:
    """The Regions a tree of Fn::Or over Fn::Equals [AWS::Region, ...] accepts."""
    if "Fn::Or" in condition:
        return set().union(*(_equals_regions(c) for c in condition["Fn::Or"]))
    [ref, region] = condition["Fn::Equals"]
    assert ref == {"Ref": "AWS::Region"}
    return {region}


def test_the_load_balancer_logs_to_the_logs_bucket() -> None:
    attributes = _attributes("LoadBalancer", "LoadBalancerAttributes")
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == {"Ref": "LogsBucket"}
    assert attributes["access_logs.s3.prefix"] == "load-balancer"
    assert "LogsBucketPolicy" in RESOURCES["LoadBalancer"]["DependsOn"]


def test_the_logs_bucket_is_private_encrypted_and_expires_its_logs() -> None:
    bucket = RESOURCES["LogsBucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    properties = bucket["Properties"]
    [encryption] = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    rules = {r["Id"]: r for r in properties["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-access-logs"]["ExpirationInDays"] == {"Ref": "AccessLogDays"}
    assert "Prefix" not in rules["expire-access-logs"]  # every object of the bucket
    assert int(TEMPLATE["Parameters"]["AccessLogDays"]["Default"]) >= 1


def test_log_delivery_is_allowed_in_every_region() -> None:
    policy = RESOURCES["LogsBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "LogsBucket"}
    service, by_account, tls = policy["PolicyDocument"]["Statement"]
    # Regions opened since August 2022: the service principal (granted in every Region).
    assert service["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert (service["Effect"], service["Action"]) == ("Allow", "s3:PutObject")
    assert service["Resource"] == LOG_OBJECTS
    # Older Regions: ELB's account there, only where the mapping has one.
    condition, statement, otherwise = by_account["Fn::If"]
    assert otherwise == {"Ref": "AWS::NoValue"}
    accounts = TEMPLATE["Mappings"]["ElbLogDeliveryAccount"]
    assert _equals_regions(TEMPLATE["Conditions"][condition]) == set(accounts)
    assert accounts["us-east-1"]["AccountId"] == "127311923021" and len(accounts) == 26
    assert all(len(a["AccountId"]) == 12 and a["AccountId"].isdigit() for a in accounts.values())
    [_, names] = statement["Principal"]["AWS"]["Fn::Sub"]
    lookup = ["ElbLogDeliveryAccount", {"Ref": "AWS::Region"}, "AccountId"]
    assert names["Account"] == {"Fn::FindInMap": lookup}
    assert (statement["Action"], statement["Resource"]) == ("s3:PutObject", LOG_OBJECTS)
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_attributes_are_ones_elb_takes(moto_url: str, stack: dict[str, Any]) -> None:
    """moto's CloudFormation makes the bucket but not the balancer's attributes: they are
    sent as a ModifyLoadBalancerAttributes request (moto refuses keys ELB does not have)."""
    physical = {k: r["PhysicalResourceId"] for k, r in stack["resources"].items()}
    aws(moto_url, "s3").head_bucket(Bucket=physical["LogsBucket"])
    elb = aws(moto_url, "elbv2")
    attributes = {k: physical[v["Ref"]] if isinstance(v, dict) else v
                  for k, v in _attributes("LoadBalancer", "LoadBalancerAttributes").items()}
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=physical["LoadBalancer"],
        Attributes=[{"Key": k, "Value": v} for k, v in attributes.items()])
    described = elb.describe_load_balancer_attributes(LoadBalancerArn=physical["LoadBalancer"])
    made = {a["Key"]: a["Value"] for a in described["Attributes"]}
    assert made["access_logs.s3.enabled"] == "true"
    assert made["access_logs.s3.bucket"] == physical["LogsBucket"]
