"""deploy/: every GAS process of the three groups at their largest, each with its
pool (and a web process's LISTEN connection), stays well below the default database
class's max_connections; the connections alarm sits between the two."""

from __future__ import annotations

import math
import tomllib

from app.config import Settings
from gas.serve import DAEMONS
from tests.deploy.template import DEPLOY, GAS, UNITS, parse, unit

GIB = 1024**3
# Memory of RDS instance classes; max_connections is LEAST(DBInstanceClassMemory/9531392, 5000).
MEMORY_GIB = {
    "db.t4g.small": 2, "db.t4g.medium": 4, "db.t4g.large": 8,
    "db.m6g.large": 8, "db.m7g.large": 8, "db.m7g.xlarge": 16,
    "db.r6g.large": 16, "db.r7g.large": 16,
}
# A web process's live events (app/ports/listen.py) hold one connection outside the
# pool; annotators and daemons only publish (app/web/__init__.py starts the listener).
LISTEN = 1
# Room left for what is not a GAS pool: RDS's reserved and superuser slots, an operator's
# psql, migrations at start-up, and DBInstanceClassMemory being less than the class's
# memory (the operating system's share).
HEADROOM = 0.75


def max_connections(instance_class: str) -> int:
    return min(math.floor(MEMORY_GIB[instance_class] * GIB / 9531392), 5000)


def pool(unit_name: str) -> int:
    """The pool size a role's unit sets (else the setting's default)."""
    for line in unit(UNITS / unit_name).get("Environment", []):
        name, _, value = line.partition("=")
        if name == "GAS_DB_POOL_SIZE":
            return int(value)
    return Settings().db_pool_size


def connections_at_most() -> dict[str, int]:
    """Connections per role with every group at its template's largest size, plus one
    instance each for the one a rolling release starts before it stops an old one."""
    parameters = parse(GAS)["Parameters"]
    web = int(parameters["WebMaxSize"]["Default"]) + 1
    annotators = int(parameters["AnnotatorMaxSize"]["Default"]) + 1
    daemons = int(parameters["DaemonsCount"]["MaxValue"]) + 1
    workers = tomllib.loads((DEPLOY / "hypercorn.toml").read_text())["workers"]
    return {
        "web": web * workers * (pool("gas-web.service") + LISTEN),
        "annotator": annotators * pool("gas-annotator.service"),
        "daemons": daemons * len(DAEMONS) * pool("gas-daemon@.service"),
    }


def test_pools_fit_the_default_database_class() -> None:
    """The sum over roles stays below 75% of the default class's max_connections (and
    that class is not a burstable t-class)."""
    instance_class = parse(GAS)["Parameters"]["DatabaseInstanceClass"]["Default"]
    assert not instance_class.startswith("db.t"), instance_class
    used = connections_at_most()
    assert sum(used.values()) <= HEADROOM * max_connections(instance_class), (used, instance_class)


def test_each_role_sets_a_pool_that_holds_its_work() -> None:
    """An annotator's pool has a connection for each job it holds (both lanes); a daemon,
    which handles one message at a time, needs few; every role sets its own."""
    settings = Settings()
    annotator = pool("gas-annotator.service")
    assert annotator >= settings.annotator_concurrency + settings.annotator_small_concurrency
    assert 1 <= pool("gas-daemon@.service") < annotator <= pool("gas-web.service")
    for name in ("gas-web.service", "gas-annotator.service", "gas-daemon@.service"):
        assert any(line.startswith("GAS_DB_POOL_SIZE=") for line in unit(UNITS / name)["Environment"]), name


def test_the_connections_alarm_is_above_the_pools_and_below_the_limit() -> None:
    """The alarm fires on more connections than GAS's pools can open at the groups'
    largest (a leak, or something else connecting) and before the default class runs
    out; it never fires on a busy but healthy stack."""
    parameters = parse(GAS)["Parameters"]
    threshold = int(parameters["DatabaseConnectionsAlarmCount"]["Default"])
    limit = max_connections(parameters["DatabaseInstanceClass"]["Default"])
    assert sum(connections_at_most().values()) < threshold < limit
