"""gas.yaml made in moto's CloudFormation once per module (the ``stack`` fixture)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.deploy.template import GAS, NOT_IN_MOTO, aws, parse


def _without(template: dict[str, Any], stand_ins: dict[str, str]) -> dict[str, Any]:
    """The template without the resources moto cannot make; what referred to them
    refers to ``stand_ins`` (made through the service APIs) instead."""
    dropped = {k for k, r in template["Resources"].items() if r["Type"] in NOT_IN_MOTO}

    def swap(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in dropped:
                return stand_ins[node["Ref"]]
            if "Fn::Sub" in node:
                body = node["Fn::Sub"]
                text, names = (body, {}) if isinstance(body, str) else body
                for name in dropped:
                    text = text.replace("${" + name + "}", stand_ins.get(name, "${" + name + "}"))
                return {"Fn::Sub": text if not names else [text, swap(names)]}
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return node

    resources = {}
    for logical_id, resource in template["Resources"].items():
        if logical_id in dropped:
            continue
        resource = swap(resource)
        depends = resource.get("DependsOn")
        if depends is not None:
            kept = [d for d in ([depends] if isinstance(depends, str) else depends) if d not in dropped]
            resource.pop("DependsOn")
            if kept:
                resource["DependsOn"] = kept
        resources[logical_id] = resource
    return {**template, "Resources": resources, "Outputs": swap(template["Outputs"])}


@pytest.fixture(scope="module")
def stack(moto_url: str) -> Iterator[dict[str, Any]]:
    """gas.yaml created in moto's CloudFormation, in a VPC of two Availability Zones
    with a certificate and the secrets made through the APIs."""
    tag = uuid.uuid4().hex[:8]
    ec2 = aws(moto_url, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zones = ["us-east-1a", "us-east-1b", "us-east-1a", "us-east-1b"]  # public, then private
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(zones)
    ]
    certificate = aws(moto_url, "acm").request_certificate(DomainName="gas.example.org")["CertificateArn"]
    route_tables = [ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _ in subnets[2:]]
    secrets = aws(moto_url, "secretsmanager")
    stand_ins = {
        "SecretKey": secrets.create_secret(Name=f"gas-{tag}-secret-key", SecretString="k" * 64)["ARN"],
        "DatabaseSecret": secrets.create_secret(
            Name=f"gas-{tag}-database",
            SecretString=json.dumps({"username": "gas", "password": "p" * 40}))["ARN"],
    }
    stand_ins["DatabaseSecretAttachment"] = stand_ins["DatabaseSecret"]  # its Ref is the secret's ARN
    template = _without(parse(GAS), stand_ins)
    parameters = {
        "NamePrefix": f"gas{tag}-", "InputsBucketName": f"gas-{tag}-inputs",
        "ResultsBucketName": f"gas-{tag}-results", "JobsTableName": f"gas-{tag}-jobs",
        "UploadOrigin": "https://gas.example.org", "VpcId": vpc,
        "PublicSubnetIds": ",".join(subnets[:2]), "PrivateSubnetIds": ",".join(subnets[2:]),
        "CertificateArn": certificate, "ArtifactBucket": f"gas-{tag}-releases",
        "PrivateRouteTableIds": ",".join(route_tables),
        "ImageId": "ami-12c6146b",  # one of moto's images
    }
    cfn = aws(moto_url, "cloudformation")
    name = f"gas-{tag}"
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    summaries = cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
    resources = {r["LogicalResourceId"]: r for r in summaries}
    yield {"name": name, "tag": tag, "template": template, "resources": resources,
           "subnets": subnets, "certificate": certificate, "parameters": parameters,
           "secrets": stand_ins, "route_tables": route_tables}
