"""Logs on AWS: every unit appends its JSON lines to a file of its role, the CloudWatch
agent's configuration (deploy/cloudwatch-agent.json, as deploy/boot.sh writes it) ships
each file to the log group gas.yaml makes for that role, and each instance role may write
to its own groups only."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from gas.serve import DAEMONS
from tests.deploy.template import DEPLOY, GAS, UNITS, parse, unit

RESOURCES = parse(GAS)["Resources"]
GROUPS = {k: r for k, r in RESOURCES.items() if r["Type"] == "AWS::Logs::LogGroup"}


def _unit_files() -> dict[str, str]:
    """The file each GAS role's unit writes, by role."""
    files = {}
    for path in UNITS.glob("*.service"):
        settings = unit(path)
        assert settings["StandardError"] == ["inherit"], path.name  # with stdout, into the file
        [output] = settings["StandardOutput"]
        assert output.startswith("append:/var/log/gas/"), path.name
        roles = DAEMONS if "%i" in output else [path.name.removeprefix("gas-").removesuffix(".service")]
        files |= {role: output.removeprefix("append:").replace("%i", role) for role in roles}
    return files


def _agent_config(stack_name: str) -> dict[str, Any]:
    """deploy/cloudwatch-agent.json as boot.sh's agent_config writes it for a stack."""
    text = subprocess.run(
        ["bash", "-c", 'source "$0"; agent_config', str(DEPLOY / "boot.sh")],
        input=(DEPLOY / "cloudwatch-agent.json").read_text(), capture_output=True, text=True,
        check=True, env={**os.environ, "STACK_NAME": stack_name}).stdout
    return dict(json.loads(text))


def test_the_agent_ships_each_units_file_to_its_roles_group() -> None:
    files = _unit_files()
    assert set(files) == {"web", "annotator", *DAEMONS}
    collected = _agent_config("gas-prod")["logs"]["logs_collected"]["files"]["collect_list"]
    shipped = {entry["file_path"]: entry["log_group_name"] for entry in collected}
    assert shipped == {path: f"/gas-prod/{role}" for role, path in files.items()}
    assert {entry["log_stream_name"] for entry in collected} == {"{instance_id}"}
    names = {g["Properties"]["LogGroupName"]["Fn::Sub"].replace("${AWS::StackName}", "gas-prod")
             for g in GROUPS.values()}
    assert names == set(shipped.values())


def test_log_groups_keep_logs_as_long_as_the_parameter_says() -> None:
    for name, group in GROUPS.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Delete", name
    retention = parse(GAS)["Parameters"]["LogRetentionDays"]
    assert retention["Default"] in retention["AllowedValues"]


def test_each_instance_role_writes_to_its_own_groups_only() -> None:
    by_role: dict[str, set[str]] = {}
    for resource in RESOURCES.values():
        if resource["Type"] == "AWS::IAM::Role":
            statements = [s for p in resource["Properties"]["Policies"]
                          for s in p["PolicyDocument"]["Statement"]]
            assert not any("logs:" in str(s["Action"]) for s in statements)  # only in the policies below
        if resource["Type"] == "AWS::IAM::Policy" and "logs:" in str(resource["Properties"]):
            [role] = resource["Properties"]["Roles"]
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                assert sorted(statement["Action"]) == [
                    "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
                by_role.setdefault(role["Ref"], set()).update(
                    r["Fn::GetAtt"][0] for r in statement["Resource"])
    assert by_role == {
        "WebRole": {"WebLogGroup"}, "AnnotatorRole": {"AnnotatorLogGroup"},
        "DaemonsRole": {"NotifyLogGroup", "ArchiveLogGroup", "RestoreLogGroup", "ThawLogGroup"},
    }


def test_boot_installs_and_starts_the_agent_before_the_units() -> None:
    boot = (DEPLOY / "boot.sh").read_text()
    main = boot[boot.index("main() {"):]
    assert main.index("ship_logs") < main.index("systemctl enable")
    assert "dnf install -y -q amazon-cloudwatch-agent" in boot
    assert "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s" in boot
    assert "install -m 644 /opt/gas/src/deploy/logrotate-gas.conf /etc/logrotate.d/gas" in boot
    assert "/var/log/gas/*.log {" in (DEPLOY / "logrotate-gas.conf").read_text()
