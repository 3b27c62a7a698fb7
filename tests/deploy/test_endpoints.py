"""gas.yaml's gateway endpoints: S3 and DynamoDB reached from the private subnets'
route tables without the NAT gateway, each endpoint allowing what GAS's instances use
(their buckets and table, the release, Amazon Linux's repositories) and no more."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from tests.deploy.template import GAS, aws, listed, parse

ENDPOINTS = {"S3Endpoint": "s3", "DynamoDbEndpoint": "dynamodb"}


def arn_text(node: Any) -> str:
    """A template's ARN, as text to compare: ``${Logical.Arn}`` for a GetAtt, a Sub's
    string, ``${Name}`` for a Ref."""
    if isinstance(node, str):
        return node
    if "Fn::GetAtt" in node:
        return "${" + ".".join(node["Fn::GetAtt"]) + "}"
    if "Fn::Sub" in node:
        body = node["Fn::Sub"]
        return str(body if isinstance(body, str) else body[0])
    return "${" + str(node["Ref"]) + "}"


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return list(policy["Statement"])


def endpoint_policy(logical_id: str) -> list[dict[str, Any]]:
    return statements(parse(GAS)["Resources"][logical_id]["Properties"]["PolicyDocument"])


def role_uses(service: str) -> list[tuple[str, str, str]]:
    """(role, action, resource) for every ``service`` action a role is allowed."""
    resources = parse(GAS)["Resources"]
    found = []
    for name, role in resources.items():
        if role["Type"] != "AWS::IAM::Role":
            continue
        for policy in role["Properties"]["Policies"]:
            for statement in statements(policy["PolicyDocument"]):
                for action in listed(statement["Action"]):
                    if action.startswith(f"{service}:"):
                        found += [(name, action, arn_text(r)) for r in listed(statement["Resource"])]
    return found


def endpoint_allows(logical_id: str, action: str, resource: str) -> bool:
    return any(
        statement["Effect"] == "Allow" and action in listed(statement["Action"])
        and any(fnmatch.fnmatchcase(resource, arn_text(r)) for r in listed(statement["Resource"]))
        for statement in endpoint_policy(logical_id)
    )


@pytest.mark.parametrize(("logical_id", "service"), ENDPOINTS.items())
def test_gateway_endpoints_on_the_private_route_tables(logical_id: str, service: str) -> None:
    """Each endpoint is a gateway (no hourly charge, no data charge) for its service in
    the stack's region, in GAS's VPC, on the private subnets' route tables."""
    endpoint = parse(GAS)["Resources"][logical_id]
    assert endpoint["Type"] == "AWS::EC2::VPCEndpoint"
    properties = endpoint["Properties"]
    assert properties["VpcEndpointType"] == "Gateway"
    assert properties["ServiceName"] == {"Fn::Sub": f"com.amazonaws.${{AWS::Region}}.{service}"}
    assert properties["VpcId"] == {"Ref": "VpcId"}
    assert properties["RouteTableIds"] == {"Ref": "PrivateRouteTableIds"}
    assert parse(GAS)["Parameters"]["PrivateRouteTableIds"]["Type"] == "CommaDelimitedList"


@pytest.mark.parametrize(("logical_id", "service"), ENDPOINTS.items())
def test_each_endpoint_lets_through_what_the_roles_do(logical_id: str, service: str) -> None:
    """Every S3 or DynamoDB call a role may make, on the resource it may make it on, is
    allowed through the endpoint: a restrictive endpoint policy that missed one would
    break that process in the private subnets (AccessDenied from the endpoint)."""
    uses = role_uses(service)
    assert uses
    blocked = [use for use in uses if not endpoint_allows(logical_id, use[1], use[2])]
    assert blocked == []


@pytest.mark.parametrize(("logical_id", "service"), ENDPOINTS.items())
def test_each_endpoint_allows_only_named_resources(logical_id: str, service: str) -> None:
    """No wildcard action or resource: the endpoints cannot reach other buckets or
    tables (another account's, say) however an instance's credentials allow."""
    for statement in endpoint_policy(logical_id):
        assert statement["Principal"] == "*" and statement["Effect"] == "Allow"
        assert all(not action.endswith("*") for action in listed(statement["Action"]))
        for resource in listed(statement["Resource"]):
            text = arn_text(resource)
            assert text != "*" and not text.startswith(f"arn:${{AWS::Partition}}:{service}:::*"), text


def test_amazon_linux_repositories_are_reachable() -> None:
    """dnf on Amazon Linux 2023 fetches from an S3 bucket named per region: the S3
    endpoint lets instances read it, or no package installs at boot."""
    repositories = "arn:${AWS::Partition}:s3:::al2023-repos-${AWS::Region}-de612dc2/repodata.xml"
    assert endpoint_allows("S3Endpoint", "s3:GetObject", repositories)
    assert not endpoint_allows("S3Endpoint", "s3:PutObject", repositories)
    assert not endpoint_allows("S3Endpoint", "s3:GetObject", "arn:aws:s3:::someone-elses-bucket/x")


def test_moto_makes_the_endpoints_on_the_route_tables(stack: dict[str, Any], moto_url: str) -> None:
    """In moto's CloudFormation both endpoints are made on the route tables given."""
    ids = [stack["resources"][logical_id]["PhysicalResourceId"] for logical_id in ENDPOINTS]
    made = aws(moto_url, "ec2").describe_vpc_endpoints(VpcEndpointIds=ids)["VpcEndpoints"]
    assert sorted(e["ServiceName"] for e in made) == [
        "com.amazonaws.us-east-1.dynamodb", "com.amazonaws.us-east-1.s3"]
    for endpoint in made:
        assert endpoint["VpcEndpointType"] == "Gateway"
        assert sorted(endpoint["RouteTableIds"]) == sorted(stack["route_tables"])
