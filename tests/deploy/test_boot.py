"""deploy/boot.sh: the settings it writes are the ones GAS reads."""

from __future__ import annotations

import json
import subprocess

import pytest

from app.config import Settings
from tests.deploy.template import DEPLOY


def boot_function(name: str, given: str) -> str:
    """Run one function of deploy/boot.sh (sourcing it only defines them)."""
    return subprocess.run(["bash", "-c", f'source "$0"; {name}', str(DEPLOY / "boot.sh")],
                          input=given, capture_output=True, text=True, check=True).stdout


def test_boot_script_writes_settings_gas_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """boot.sh is valid bash; the DATABASE_URL it makes from RDS's secret (password
    escaped, the server's certificate and name verified against RDS's CA bundle) or
    takes from an existing one is what GAS reads, and of a Stripe secret it keeps the
    three STRIPE_* settings only."""
    subprocess.run(["bash", "-n", str(DEPLOY / "boot.sh")], check=True)
    account = {"username": "gas", "password": "a/b@c", "host": "db.internal", "port": 5432, "dbname": "gas"}
    line = boot_function("database_url", json.dumps(account))
    rds = ("postgresql://gas:a%2Fb%40c@db.internal:5432/gas"
           "?sslmode=verify-full&sslrootcert=/etc/gas/rds-ca-bundle.pem")
    assert line == f"DATABASE_URL={rds}\n"
    name, value = line.strip().split("=", 1)
    monkeypatch.setenv(name, value)
    assert Settings().database_url == rds
    existing = "postgresql://u:p@elsewhere:6432/gas?sslmode=require"
    assert boot_function("database_url", existing) == f"DATABASE_URL={existing}\n"
    stripe = {"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_PRICE_ID": "price_1", "PATH": "/tmp"}
    assert boot_function("stripe_settings", json.dumps(stripe)).splitlines() == [
        "STRIPE_SECRET_KEY=sk_live_x", "STRIPE_PRICE_ID=price_1"]
