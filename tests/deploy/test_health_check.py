"""The load balancer checks liveness, boot waits for readiness: an RDS failover does not
get the web group replaced, and a release that cannot reach its database is not signalled
(tests/web/test_health.py has what each route answers when the database is down)."""

from __future__ import annotations

import re

from app.config import Settings
from app.web import create_app
from tests.deploy.template import DEPLOY, GAS, parse


def _endpoint(path: str) -> str:
    adapter = create_app(Settings(secret_key="x")).url_map.bind("gas.example.org")
    endpoint, _ = adapter.match(path, method="GET")
    return str(endpoint)


def test_the_target_group_checks_liveness() -> None:
    resources = parse(GAS)["Resources"]
    group = resources["WebTargetGroup"]["Properties"]
    assert _endpoint(group["HealthCheckPath"]) == "pages.live"
    # Failed checks replace instances only because the group trusts the balancer's.
    assert resources["WebGroup"]["Properties"]["HealthCheckType"] == "ELB"


def test_a_web_instance_signals_once_ready() -> None:
    boot = (DEPLOY / "boot.sh").read_text()
    assert _endpoint("/health") == "pages.health"
    asked = re.findall(r"curl -fsS http://127\.0\.0\.1:8000(\S+)", boot)
    assert asked and set(asked) == {"/health"}
