"""A new annotator fetches the published reference index at boot (deploy/boot.sh,
deploy/gas.yaml) instead of building it, and builds it when that fails."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.deploy.template import DEPLOY, GAS, listed, parse


def test_boot_fetches_the_reference_as_gas_and_falls_back_to_building(tmp_path: Path) -> None:
    """boot.sh's fetch runs `gas reference fetch` from the artifact bucket as the gas user,
    into the reference dir the annotator unit reads; when it fails the boot goes on (the
    unit's ExecStartPre builds the index) and says so. The annotator role fetches it
    before starting its unit."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, code in (("install", 0), ("runuser", 1)):
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{tmp_path}/calls"\nexit {code}\n')
        stub.chmod(0o755)
    environment = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "AWS_REGION": "eu-west-1",
                   "ARTIFACT_BUCKET": "my-releases"}
    done = subprocess.run(["bash", "-c", 'source "$0"; set -e; fetch_reference', str(DEPLOY / "boot.sh")],
                          env=environment, capture_output=True, text=True, check=True)
    assert "the annotator builds its own" in done.stderr
    calls = (tmp_path / "calls").read_text()
    assert "install -d -o gas -g gas -m 750 /var/lib/gas/reference" in calls
    assert ("runuser -u gas -- env GAS_DATA_DIR=/var/lib/gas GAS_REFERENCE_DIR=/var/lib/gas/reference "
            "GAS_AWS_REGION=eu-west-1 /opt/gas/venv/bin/gas reference fetch --bucket my-releases") in calls
    script = (DEPLOY / "boot.sh").read_text()
    assert "annotator)\n      fetch_reference\n      systemctl enable --now gas-annotator.service" in script
    unit = (DEPLOY / "systemd" / "gas-annotator.service").read_text()
    assert "ExecStartPre=/opt/gas/venv/bin/gas reference install --build all" in unit


def test_annotators_may_read_the_published_reference() -> None:
    """The annotators' launch template names the artifact bucket; their role may read the
    reference prefix there (and list the bucket: a missing archive is then a 404)."""
    resources = parse(GAS)["Resources"]
    user_data = resources["AnnotatorLaunchTemplate"]["Properties"]["LaunchTemplateData"]["UserData"]
    assert "export ARTIFACT_BUCKET=${ArtifactBucket}\n" in user_data["Fn::Base64"]["Fn::Sub"][0]
    [boot] = [p for p in resources["AnnotatorRole"]["Properties"]["Policies"] if p["PolicyName"] == "boot"]
    allowed = {(action, resource["Fn::Sub"]) for statement in boot["PolicyDocument"]["Statement"]
               for action in listed(statement["Action"]) for resource in listed(statement["Resource"])
               if isinstance(resource, dict) and "Fn::Sub" in resource}
    assert ("s3:GetObject", "arn:${AWS::Partition}:s3:::${ArtifactBucket}/reference/*") in allowed
    assert ("s3:ListBucket", "arn:${AWS::Partition}:s3:::${ArtifactBucket}") in allowed
