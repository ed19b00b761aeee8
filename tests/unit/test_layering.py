"""Imports point downward only (ARCHITECTURE.md: layout and layering)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIRS = {
    "core": ROOT / "packages/core/src/ecomdw/core",
    "etl": ROOT / "packages/etl/src/ecomdw/etl",
    "warehouse": ROOT / "packages/warehouse/src/ecomdw/warehouse",
    "infra": ROOT / "packages/infra/src/ecomdw/infra",
    "emulation": ROOT / "emulation/src/ecomdw/emulation",
}
ALLOWED = {
    "core": {"core"},
    "etl": {"core", "etl"},
    "warehouse": {"core", "warehouse"},
    "infra": {"core", "etl", "warehouse", "infra"},
    "emulation": {"core", "etl", "warehouse", "emulation"},
}


def ecomdw_imports(path: Path) -> set[str]:
    """The `ecomdw.<package>` names a module imports, lazily or not."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "ecomdw" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(PACKAGE_DIRS))
def test_imports_point_downward(package: str) -> None:
    modules = sorted(PACKAGE_DIRS[package].rglob("*.py"))
    assert modules, f"no modules found for {package}"
    wrong = {
        str(path.relative_to(ROOT)): sorted(ecomdw_imports(path) - ALLOWED[package])
        for path in modules
        if ecomdw_imports(path) - ALLOWED[package]
    }
    assert not wrong, f"{package} imports what it may not: {wrong}"


def test_the_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from ecomdw.etl.spark import local_spark\n")
    assert ecomdw_imports(module) == {"etl"}
