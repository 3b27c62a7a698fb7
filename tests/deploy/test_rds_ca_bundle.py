"""deploy/boot.sh fetches RDS's CA bundle, which the database URL's
sslmode=verify-full checks the server against."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.deploy.template import DEPLOY

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def fetch_bundle(tmp_path: Path, served: str) -> tuple[subprocess.CompletedProcess[str], Path, str]:
    """Run rds_ca_bundle with a curl that serves ``served``; what it ran, where the
    bundle goes, and the curl arguments it was given."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    curl = bin_dir / "curl"
    curl.write_text('#!/bin/bash\necho "$@" > "$(dirname "$0")/args"\n'
                    'while [ "$1" != -o ]; do shift; done\nprintf %s "$SERVED" > "$2"\n')
    curl.chmod(0o755)
    bundle = tmp_path / "rds-ca-bundle.pem"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SERVED": served,
           "AWS_REGION": "eu-south-2"}
    ran = subprocess.run(
        ["bash", "-c", f'source "$0"; RDS_CA_BUNDLE={bundle} rds_ca_bundle', str(DEPLOY / "boot.sh")],
        env=env, capture_output=True, text=True)
    return ran, bundle, (bin_dir / "args").read_text()


def test_boot_fetches_the_regions_rds_ca_bundle(tmp_path: Path) -> None:
    """The bundle of the instance's region comes from AWS's trust store over HTTPS only,
    and lands where the database URL's sslrootcert points, readable by the gas user."""
    ran, bundle, args = fetch_bundle(tmp_path, PEM)
    assert ran.returncode == 0, ran.stderr
    assert "https://truststore.pki.rds.amazonaws.com/eu-south-2/eu-south-2-bundle.pem" in args
    assert "--proto =https" in args
    assert bundle.read_text() == PEM
    assert bundle.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("served", ["", "<html>Access denied</html>"])
def test_boot_fails_without_a_bundle(tmp_path: Path, served: str) -> None:
    """Anything but certificates fails the boot (the instance signals failure) rather than
    leaving the database unverifiable; no bundle is left behind."""
    ran, bundle, _ = fetch_bundle(tmp_path, served)
    assert ran.returncode != 0
    assert not bundle.exists()
