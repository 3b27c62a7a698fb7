"""``deploy/``: the whole-system CloudFormation template, the hypercorn config, the
systemd units and the boot script, checked by the tools that will run them."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from cfnlint.api import lint
from cfnlint.decode import decode_str
from click.testing import CliRunner
from hypercorn.config import Config

from app.accounts import users
from app.config import Settings
from app.infra.db import connect
from app.jobs.job import Job, input_key, utcnow
from app.jobs.lifecycle import queue_specs
from app.ports.jobs.local import PostgresJobStore
from gas.cli import main

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
GAS = DEPLOY / "gas.yaml"
DATA_PLANE = DEPLOY / "data-plane.yaml"
UNITS = DEPLOY / "systemd"

# What moto's CloudFormation (5.2.5) cannot make. The moto test leaves them out and
# makes the secrets through Secrets Manager's API instead, so the rest can use them.
NOT_IN_MOTO = frozenset({
    "AWS::AutoScaling::ScalingPolicy", "AWS::SES::EmailIdentity", "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::SecretsManager::Secret",
    "AWS::SecretsManager::SecretTargetAttachment",
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


# -- the template -----------------------------------------------------------------------


@pytest.mark.parametrize("template", sorted(DEPLOY.glob("*.yaml")), ids=lambda p: p.name)
def test_cfn_lint_passes(template: Path) -> None:
    """cfn-lint finds nothing in any template in deploy/ (errors, warnings or notes)."""
    matches = lint(template.read_text(), regions=["us-east-1"])
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
    assert len(queues) == 2 * len(queue_specs(Settings()))


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
    """The annotator group's policy is target tracking on visible job requests of both
    lanes divided by the instances in service (metric math), and the group publishes
    the latter."""
    resources = parse(GAS)["Resources"]
    policy = resources["AnnotatorBacklogScaling"]["Properties"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    specification = policy["TargetTrackingConfiguration"]["CustomizedMetricSpecification"]
    metrics = {m["Id"]: m for m in specification["Metrics"]}
    [returned] = [m for m in metrics.values() if m.get("ReturnData")]
    assert returned["Expression"] == "(large + small) / annotators"
    for lane, queue in (("large", "JobRequestsQueue"), ("small", "JobRequestsSmallQueue")):
        waiting = metrics[lane]["MetricStat"]["Metric"]
        assert waiting["Namespace"] == "AWS/SQS"
        assert waiting["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert waiting["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]}
    in_service = metrics["annotators"]["MetricStat"]["Metric"]
    assert in_service["MetricName"] == "GroupInServiceInstances"
    collected = resources["AnnotatorGroup"]["Properties"]["MetricsCollection"]
    assert "GroupInServiceInstances" in collected[0]["Metrics"]
    assert "NumberOfMessagesSent" not in GAS.read_text().replace("NumberOfMessagesSent alarms", "")


# -- the template in moto's CloudFormation ------------------------------------------------


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
           "secrets": stand_ins}


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
    on /health at hypercorn's port; plain HTTP answers with a redirect to HTTPS; the
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
    assert (group["HealthCheckPath"], group["Port"]) == ("/health", 8000)
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

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"}:
                return physical.get(node["Ref"]) or float(parse(GAS)["Parameters"][node["Ref"]]["Default"])
            if set(node) == {"Fn::GetAtt"}:
                queue, attribute = node["Fn::GetAtt"]
                assert attribute == "QueueName"
                return queues[queue]
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    scaling = aws(moto_url, "autoscaling")
    for name in ("WebCpuScaling", "AnnotatorBacklogScaling"):
        properties = resolve(parse(GAS)["Resources"][name]["Properties"])
        scaling.put_scaling_policy(PolicyName=f"{stack['name']}-{name}", **properties)
    policies = scaling.describe_policies(AutoScalingGroupName=physical["AnnotatorGroup"])["ScalingPolicies"]
    [backlog] = [p for p in policies if p["PolicyName"].endswith("AnnotatorBacklogScaling")]
    metrics = backlog["TargetTrackingConfiguration"]["CustomizedMetricSpecification"]["Metrics"]
    assert [m["Id"] for m in metrics] == ["large", "small", "annotators", "backlog"]


# -- hypercorn, systemd, boot ---------------------------------------------------------------


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


def test_hypercorn_outlasts_the_balancer_and_stops_in_time() -> None:
    """hypercorn keeps idle connections longer than the balancer (which then closes
    first: no 502 from a reused dead connection), and its graceful shutdown ends
    within the unit's stop timeout and the target group's deregistration delay."""
    config = Config.from_toml(DEPLOY / "hypercorn.toml")
    assert config.keep_alive_timeout > seconds("idle_timeout.timeout_seconds")
    web = unit(UNITS / "gas-web.service")
    assert config.graceful_timeout < int(web["TimeoutStopSec"][0])
    assert config.graceful_timeout <= seconds("deregistration_delay.timeout_seconds")
    assert config.workers >= 2
    assert tomllib.loads((DEPLOY / "hypercorn.toml").read_text())["bind"] == config.bind


def test_units_run_gas_roles_that_exist() -> None:
    """Every unit restarts on failure, stops with SIGTERM in bounded time, reads the
    file boot.sh writes, and runs a `gas` command the CLI has (each daemon role)."""
    from gas.serve import DAEMONS

    boot = (DEPLOY / "boot.sh").read_text()
    units = sorted(UNITS.glob("*.service"))
    assert [u.name for u in units] == ["gas-annotator.service", "gas-daemon@.service", "gas-web.service"]
    commands: list[list[str]] = []
    for path in units:
        settings = unit(path)
        assert settings["Restart"] == ["on-failure"] and settings["KillSignal"] == ["SIGTERM"], path.name
        assert int(settings["TimeoutStopSec"][0]) > 0
        assert settings["EnvironmentFile"] == ["/etc/gas/gas.env"] and "/etc/gas/gas.env" in boot
        assert settings["User"] == ["gas"]
        for line in settings.get("ExecStartPre", []) + settings["ExecStart"]:
            program, *args = line.split()
            if program == "/opt/gas/venv/bin/gas":
                roles = DAEMONS if "%i" in args else [""]
                commands += [[role if a == "%i" else a for a in args] for role in roles]
            else:
                assert program == "/opt/gas/venv/bin/hypercorn"
                assert args == ["--config", "/etc/gas/hypercorn.toml", "app.asgi:app"]
                assert "deploy/hypercorn.toml /etc/gas/hypercorn.toml" in boot
    assert ["annotator"] in commands and ["daemon", "thaw"] in commands
    for command in commands:
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
    for name in ("gas-web.service", "gas-annotator.service", *(f"gas-daemon@{d}.service" for d in DAEMONS)):
        assert name in boot


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    """systemd itself accepts the units: a root with them, the programs they run and
    systemd's own units, verified with `systemd-analyze verify --root`."""
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    for path in UNITS.glob("*.service"):
        shutil.copy(path, tmp_path / "etc/systemd/system")
    bin_dir = tmp_path / "opt/gas/venv/bin"
    bin_dir.mkdir(parents=True)
    for program in ("gas", "hypercorn"):
        shutil.copy(Path(sys.executable).parent / program, bin_dir)
    (tmp_path / "bin").mkdir()
    shutil.copy(shutil.which("kill") or "/bin/kill", tmp_path / "bin")
    shutil.copytree("/usr/lib/systemd/system", tmp_path / "usr/lib/systemd/system", symlinks=True)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={tmp_path}", "gas-web.service",
         "gas-annotator.service", "gas-daemon@notify.service"],
        capture_output=True, text=True, timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, "")


def boot_function(name: str, given: str) -> str:
    """Run one function of deploy/boot.sh (sourcing it only defines them)."""
    return subprocess.run(["bash", "-c", f'source "$0"; {name}', str(DEPLOY / "boot.sh")],
                          input=given, capture_output=True, text=True, check=True).stdout


def test_boot_script_writes_settings_gas_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """boot.sh is valid bash; the DATABASE_URL it makes from RDS's secret (password
    escaped) or takes from an existing one is what GAS reads, and of a Stripe secret
    it keeps the three STRIPE_* settings only."""
    subprocess.run(["bash", "-n", str(DEPLOY / "boot.sh")], check=True)
    account = {"username": "gas", "password": "a/b@c", "host": "db.internal", "port": 5432, "dbname": "gas"}
    line = boot_function("database_url", json.dumps(account))
    assert line == "DATABASE_URL=postgresql://gas:a%2Fb%40c@db.internal:5432/gas\n"
    name, value = line.strip().split("=", 1)
    monkeypatch.setenv(name, value)
    assert Settings().database_url == "postgresql://gas:a%2Fb%40c@db.internal:5432/gas"
    existing = "postgresql://u:p@elsewhere:6432/gas?sslmode=require"
    assert boot_function("database_url", existing) == f"DATABASE_URL={existing}\n"
    stripe = {"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_PRICE_ID": "price_1", "PATH": "/tmp"}
    assert boot_function("stripe_settings", json.dumps(stripe)).splitlines() == [
        "STRIPE_SECRET_KEY=sk_live_x", "STRIPE_PRICE_ID=price_1"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _user_with_a_job(database_url: str) -> tuple[str, str]:
    db = await connect(database_url, max_size=1)
    try:
        user = await users.create(db, f"{uuid.uuid4().hex[:10]}@example.org", "password123")
        token = await users.create_token(db, user.user_id, "test")
        job_id = str(uuid.uuid4())
        await PostgresJobStore(db).create(Job(
            job_id=job_id, user_id=user.user_id, input_file_name="in.vcf", input_bucket="gas-inputs",
            input_key=input_key(user.user_id, job_id, "in.vcf"), input_size=1, submitted_at=utcnow()))
    finally:
        await db.disconnect()
    return token, job_id


async def test_hypercorn_serves_gas_with_the_deploy_config(database_url: str, tmp_path: Path) -> None:
    """`hypercorn --config deploy/hypercorn.toml app.asgi:app`, as gas-web.service runs
    it (bound here to 127.0.0.1), serves /health from its workers, names itself by
    GAS_PUBLIC_URL whatever Host the request came with (tests/web/test_proxy.py has the
    proxy hop it trusts), and on SIGTERM stops cleanly within the unit's timeout."""
    port = free_port()
    env = {**os.environ, "GAS_DATABASE_URL": database_url, "GAS_DATA_DIR": str(tmp_path),
           "GAS_SECRET_KEY": "test-secret", "GAS_TRUSTED_PROXY_HOPS": "1",
           "GAS_PUBLIC_URL": "https://gas.example.org"}
    server = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "hypercorn"), "--config", str(DEPLOY / "hypercorn.toml"),
        "--bind", f"127.0.0.1:{port}", "app.asgi:app", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        # Its own process group: on failure the workers are stopped with it.
        start_new_session=True,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(300):
                try:
                    health = await client.get("/health")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            assert (health.status_code, health.json()) == (200, {"status": "ok"})
            # Behind the balancer, the API's links name the public address, never the Host sent.
            token, job_id = await _user_with_a_job(database_url)
            job = await client.get(f"/api/v1/jobs/{job_id}", headers={
                "Authorization": f"Bearer {token}", "Host": "evil.example",
                "X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.7"})
            assert job.json()["links"]["self"] == f"https://gas.example.org/api/v1/jobs/{job_id}"
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        stop_timeout = int(unit(UNITS / "gas-web.service")["TimeoutStopSec"][0])
        code = await asyncio.wait_for(server.wait(), stop_timeout)
        assert code == 0
        assert time.monotonic() - started < stop_timeout
    finally:
        if server.returncode is None:
            os.killpg(server.pid, signal.SIGKILL)
            await server.wait()
