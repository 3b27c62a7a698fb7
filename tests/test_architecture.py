"""The import graph: no cycle among GAS's modules, and the layers pyproject.toml names.

A cycle makes a module's meaning depend on import order (a name missing from a
half-imported module), and no layer can be read, or tested, without the others.
Imports inside functions count: one that only hides a cycle is still one.
"""

from __future__ import annotations

import graphlib
import subprocess
import sys
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("gas", "annotator", "daemons", "app")


def test_no_module_imports_itself_round_a_cycle() -> None:
    """Every import at any depth (in a function too), TYPE_CHECKING's left out."""
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)
    imports = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    try:
        graphlib.TopologicalSorter(imports).prepare()
    except graphlib.CycleError as error:
        # Each module in the cycle is imported by the one after it: read backwards, each imports the next.
        raise AssertionError(f"import cycle: {' -> '.join(reversed(error.args[1]))}") from None


def test_layers_are_kept() -> None:
    """pyproject.toml's contracts: gas above annotator and daemons above app, app's
    layers, no cycle between the annotator's packages (`make lint` runs the same command)."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run([lint_imports, "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_app_module_has_a_layer() -> None:
    """import-linter checks only the modules a layer names: a new module of app left out of
    pyproject.toml's list would be free to import anything."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    [app] = [c for c in config["contracts"] if c["type"] == "layers" and c["layers"][0].startswith("app.")]
    named = {name.strip() for layer in app["layers"] for name in layer.replace("|", ":").split(":")}
    graph = grimp.build_graph("app", cache_dir=None)
    # Packages are checked through their modules; app.migrations holds SQL files, no code.
    skipped = {m for m in graph.modules if graph.find_children(m)} | {"app.migrations"}
    unnamed = sorted(
        m for m in graph.modules - skipped
        if not any(m == n or m.startswith(f"{n}.") for n in named)
    )
    assert not unnamed, f"modules of app in no layer of pyproject.toml: {unnamed}"
