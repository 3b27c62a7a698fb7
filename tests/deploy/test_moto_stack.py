"""gas.yaml created in moto's CloudFormation: what it made, and how it is wired."""

from __future__ import annotations

import base64
import subprocess
from typing import Any

import pytest
from hypercorn.config import Config

from app.config import Settings
from tests.deploy.template import DEPLOY, GAS, NOT_IN_MOTO, aws, parse


def test_moto_creates_every_resource_it_supports(stack: dict[str, Any]) -> None:
    """Every resource of gas.yaml that moto's CloudFormation supports is created,
    and the ones it does not are exactly NOT_IN_MOTO's types."""
    from moto.cloudformation.parsing import get_model_map

    whole = parse(GAS)["Resources"]
    assert {r["Type"] for r in whole.values()} - set(get_model_map()) == NOT_IN_MOTO
    kept = set(stack["template"]["Resources"])
    assert kept == {k for k, r in whole.items() if r["Type"] not in NOT_IN_MOTO}
    assert set(stack["resources"]) == kept
    assert {r["ResourceStatus"] for r in stack["resources"].values()} == {"CREATE_COMPLETE"}


def test_https_load_balancer_in_front_of_the_web_group(moto_url: str, stack: dict[str, Any]) -> None:
    """HTTPS with the given certificate forwards to the web group's targets, checked
    on /health/live at hypercorn's port; plain HTTP answers with a redirect to HTTPS; the
    web group keeps two instances or more across both private subnets."""
    elb = aws(moto_url, "elbv2")
    physical = {k: r["PhysicalResourceId"] for k, r in stack["resources"].items()}
    described = elb.describe_listeners(LoadBalancerArn=physical["LoadBalancer"])["Listeners"]
    listeners = {listener["Port"]: listener for listener in described}
    assert listeners[443]["Protocol"] == "HTTPS"
    assert listeners[443]["Certificates"][0]["CertificateArn"] == stack["certificate"]
    assert listeners[443]["DefaultActions"][0]["TargetGroupArn"] == physical["WebTargetGroup"]
    redirect = listeners[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect" and redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    [group] = elb.describe_target_groups(TargetGroupArns=[physical["WebTargetGroup"]])["TargetGroups"]
    assert (group["HealthCheckPath"], group["Port"]) == ("/health/live", 8000)
    assert Config.from_toml(DEPLOY / "hypercorn.toml").bind == [f"0.0.0.0:{group['Port']}"]

    scaling = aws(moto_url, "autoscaling")
    groups = scaling.describe_auto_scaling_groups(AutoScalingGroupNames=[physical["WebGroup"]])
    [web] = groups["AutoScalingGroups"]
    assert web["MinSize"] >= 2 and web["TargetGroupARNs"] == [physical["WebTargetGroup"]]
    assert set(web["VPCZoneIdentifier"].split(",")) == set(stack["subnets"][2:])
    assert web["HealthCheckType"] == "ELB"


def test_each_group_boots_its_role(moto_url: str, stack: dict[str, Any]) -> None:
    """Each group's launch template runs under its own instance profile, requires
    IMDSv2, and its user data is valid bash that hands deploy/boot.sh its role."""
    ec2, iam = aws(moto_url, "ec2"), aws(moto_url, "iam")
    physical = {k: r["PhysicalResourceId"] for k, r in stack["resources"].items()}
    for prefix, role in (("Web", "web"), ("Annotator", "annotator"), ("Daemons", "daemons")):
        [version] = ec2.describe_launch_template_versions(
            LaunchTemplateId=physical[f"{prefix}LaunchTemplate"])["LaunchTemplateVersions"]
        data = version["LaunchTemplateData"]
        assert data["MetadataOptions"]["HttpTokens"] == "required"
        assert data["ImageId"] == stack["parameters"]["ImageId"]
        profile = iam.get_instance_profile(InstanceProfileName=physical[f"{prefix}InstanceProfile"])
        assert data["IamInstanceProfile"]["Arn"] == profile["InstanceProfile"]["Arn"]
        assert [r["RoleName"] for r in profile["InstanceProfile"]["Roles"]] == [physical[f"{prefix}Role"]]
        script = base64.b64decode(data["UserData"]).decode()
        assert f"GAS_ROLE={role} " in script and f"SIGNAL_RESOURCE={prefix}Group" in script
        assert "${" not in script  # every ${...} was substituted
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)
        assert f"s3://{stack['parameters']['ArtifactBucket']}/releases/gas.tar.gz" in script
        assert f"DATABASE_SECRET={stack['secrets']['DatabaseSecret']}\n" in script
        assert (f"SECRET_KEY_SECRET={stack['secrets']['SecretKey']} " in script) == (role == "web")


def test_the_stacks_settings_are_gas_settings(moto_url: str, stack: dict[str, Any],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings parameter every instance writes into /etc/gas/gas.env names only
    real GAS settings and, read by GAS, gives the stack's own resource names."""
    physical = {k: r["PhysicalResourceId"] for k, r in stack["resources"].items()}
    text = aws(moto_url, "ssm").get_parameter(Name=physical["Settings"])["Parameter"]["Value"]
    lines = dict(line.split("=", 1) for line in text.splitlines() if line)
    known = {f"GAS_{name.upper()}" for name in Settings.model_fields}
    assert set(lines) <= known, set(lines) - known
    for name, value in lines.items():
        monkeypatch.setenv(name, value.strip('"'))
    settings = Settings()
    tag = stack["tag"]
    assert (settings.backend, settings.trusted_proxy_hops, settings.cookie_secure) == ("aws", 1, True)
    assert (settings.inputs_bucket, settings.results_bucket, settings.jobs_table) == (
        f"gas-{tag}-inputs", f"gas-{tag}-results", f"gas-{tag}-jobs")
    assert settings.aws_name_prefix == f"gas{tag}-"
    assert settings.public_url == "https://gas.example.org"
    assert settings.mail_from == "GAS <gas@example.org>"


def test_scaling_policies_are_valid_api_requests(moto_url: str, stack: dict[str, Any]) -> None:
    """moto's CloudFormation cannot make scaling policies, so the template's are sent
    as PutScalingPolicy requests (botocore checks their shape) for the stack's groups."""
    physical = {k: r["PhysicalResourceId"] for k, r in stack["resources"].items()}
    queues = {"JobRequestsQueue": f"gas{stack['tag']}-job-requests",
              "JobRequestsSmallQueue": f"gas{stack['tag']}-job-requests-small"}

    # What GetAtt gives of the load balancer and target group: their ARNs' last part.
    full_names = {
        "LoadBalancerFullName": physical["LoadBalancer"].split(":loadbalancer/")[-1],
        "TargetGroupFullName": "targetgroup/" + physical["WebTargetGroup"].split(":targetgroup/")[-1],
    }

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"}:
                return physical.get(node["Ref"]) or float(parse(GAS)["Parameters"][node["Ref"]]["Default"])
            if set(node) == {"Fn::GetAtt"}:
                resource, attribute = node["Fn::GetAtt"]
                return queues[resource] if attribute == "QueueName" else full_names[attribute]
            if set(node) == {"Fn::Join"}:
                separator, parts = node["Fn::Join"]
                return separator.join(resolve(parts))
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    scaling = aws(moto_url, "autoscaling")
    for name in ("WebRequestScaling", "AnnotatorBacklogScaling"):
        properties = resolve(parse(GAS)["Resources"][name]["Properties"])
        scaling.put_scaling_policy(PolicyName=f"{stack['name']}-{name}", **properties)
    policies = scaling.describe_policies(AutoScalingGroupName=physical["AnnotatorGroup"])["ScalingPolicies"]
    [backlog] = [p for p in policies if p["PolicyName"].endswith("AnnotatorBacklogScaling")]
    metrics = backlog["TargetTrackingConfiguration"]["CustomizedMetricSpecification"]["Metrics"]
    assert [m["Id"] for m in metrics] == ["large", "small", "large_running", "small_running", "annotators",
                                          "backlog"]
    [requests] = scaling.describe_policies(AutoScalingGroupName=physical["WebGroup"])["ScalingPolicies"]
    predefined = requests["TargetTrackingConfiguration"]["PredefinedMetricSpecification"]
    assert predefined["PredefinedMetricType"] == "ALBRequestCountPerTarget"
    assert predefined["ResourceLabel"] == "/".join(full_names.values())
