"""deploy/systemd: the units run GAS roles that exist, and systemd accepts them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gas.cli import main
from tests.deploy.template import DEPLOY, UNITS, unit


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
