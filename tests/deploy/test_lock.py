"""deploy/requirements.lock, what deploy/boot.sh installs: every runtime dependency of
pyproject.toml at its pinned version, each with the hashes of its files."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.template import DEPLOY

LOCK = DEPLOY / "requirements.lock"
PYPROJECT = DEPLOY.parent / "pyproject.toml"


def locked() -> dict[str, tuple[str, list[str]]]:
    """Each locked package: its version and the hashes that follow it."""
    entries = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text())
    found = {}
    for entry in entries:
        if entry.startswith("#"):
            continue
        pinned = re.match(r"([A-Za-z0-9_.-]+)==([^ ;\\\n]+)", entry)
        assert pinned is not None, entry
        name, version = pinned.groups()
        found[canonicalize_name(name)] = (version, re.findall(r"--hash=sha256:([0-9a-f]{64})", entry))
    return found


def test_the_lock_pins_every_runtime_dependency_at_its_version() -> None:
    """Every [project] dependency (and the build backend GAS installs itself with) is in
    the lock at the very version pyproject.toml pins, and every locked package carries
    at least one sha256: pip --require-hashes refuses anything else."""
    project = tomllib.loads(PYPROJECT.read_text())
    packages = locked()
    for line in project["project"]["dependencies"]:
        requirement = Requirement(line)
        [pin] = requirement.specifier
        assert pin.operator == "==", line
        version, _ = packages[canonicalize_name(requirement.name)]
        assert version == pin.version, (line, version)
    for line in project["build-system"]["requires"]:
        requirement = Requirement(line)
        assert requirement.specifier.contains(packages[canonicalize_name(requirement.name)][0]), line
    assert all(hashes for _, hashes in packages.values()), [k for k, (_, h) in packages.items() if not h]
    assert canonicalize_name("gas") not in packages  # installed from the release itself


def test_boot_installs_the_lock_then_gas_without_resolving() -> None:
    """boot.sh installs the lock with hashes required and nothing beyond it, then GAS
    from the release with no dependency or build environment fetched (no unpinned pip)."""
    script = (DEPLOY / "boot.sh").read_text()
    installs = [line.strip().removeprefix("/opt/gas/venv/bin/pip install --quiet ")
                for line in script.splitlines() if "pip install" in line]
    assert installs == [
        "--require-hashes --no-deps -r /opt/gas/src/deploy/requirements.lock",
        "--no-deps --no-build-isolation /opt/gas/src",
    ]


def test_make_lock_writes_this_file() -> None:
    """The lock says how it was made, and the Makefile's `lock` target makes it with the
    pinned generator (the test extra's uv)."""
    assert "#    make lock\n" in LOCK.read_text()
    makefile = (DEPLOY.parent / "Makefile").read_text()
    assert "uv pip compile pyproject.toml - --generate-hashes" in makefile
    assert "-o deploy/requirements.lock" in makefile
    test_extra = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["test"]
    assert any(Requirement(r).name == "uv" and "==" in str(Requirement(r).specifier) for r in test_extra)

