"""The tree is the architecture: the engine knows no assignment, and no assignment knows another."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import autograder
from autograder.core import checks

PACKAGE = Path(autograder.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    """The autograder modules the file at `path` imports."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return _imported(path.read_text(), module.removesuffix(".__init__"), path.name == "__init__.py")


def _imported(source: str, module: str, is_package: bool) -> set[str]:
    """The absolute names of the autograder modules `source` (module `module`) imports."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in names if name == "autograder" or name.startswith("autograder.")}


def _files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_the_registry_finds_every_assignment_folder() -> None:
    folders = {p.name for p in (PACKAGE / "assignments").iterdir() if (p / "__init__.py").exists()}
    assert folders and set(checks.registry()) == folders


@pytest.mark.parametrize("topic", sorted(checks.registry()))
def test_an_assignment_imports_no_other_assignment(topic: str) -> None:
    own = f"autograder.assignments.{topic}"
    for path in _files(PACKAGE / "assignments" / topic):
        for name in _imports(path):
            if name.startswith("autograder.assignments."):
                assert name == own or name.startswith(own + "."), f"{path.relative_to(PACKAGE)} imports {name}"
            else:
                allowed = ("autograder.core", "autograder.models")
                assert name.startswith(allowed), f"{path.relative_to(PACKAGE)} imports {name}: only core and models"


@pytest.mark.parametrize("layer", ["core", "models"])
def test_the_engine_and_the_models_know_no_assignment(layer: str) -> None:
    allowed = ("autograder.core",) if layer == "core" else ("autograder.core", "autograder.models")
    for path in _files(PACKAGE / layer):
        for name in _imports(path):
            assert name.startswith(allowed), f"{path.relative_to(PACKAGE)} imports {name}"


def test_the_import_check_sees_a_cross_import() -> None:
    # The checks above must be able to fail: a sibling assignment imported relatively is seen as such.
    found = _imported("from ..landscape import judges\nfrom ...core import checks\n", "autograder.assignments.depth.x", False)
    assert {"autograder.assignments.landscape.judges", "autograder.core.checks"} <= found
    assert _imported("from . import inputs\n", "autograder.assignments.depth", True) >= {"autograder.assignments.depth.inputs"}


def test_every_import_inside_the_package_resolves() -> None:
    # Imports inside functions run late (in a worker, in nbgrader): a stale one must fail here, not there.
    import importlib

    broken = []
    for path in _files(PACKAGE):
        for name in sorted(_imports(path)):
            try:
                importlib.import_module(name)
            except ModuleNotFoundError:
                module, _, attribute = name.rpartition(".")
                try:
                    if not hasattr(importlib.import_module(module), attribute):
                        broken.append(f"{path.relative_to(PACKAGE)}: {name}")
                except ModuleNotFoundError:
                    broken.append(f"{path.relative_to(PACKAGE)}: {name}")
    assert broken == []
