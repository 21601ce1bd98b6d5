"""The layout's import rules (ARCHITECTURE.md): storage and prompts import nothing of ours
but themselves; recovery never imports bot."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

OURS = {"bot", "recovery", "prompts", "storage"}
ALLOWED = {
    "storage": {"storage"},
    "prompts": {"prompts"},
    "recovery": {"recovery", "storage", "prompts"},
    "bot": OURS,
}


def imported_packages(path: Path) -> set[str]:
    """Our top-level packages a module imports (anywhere in it, lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & OURS
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_layout_allows(package: str) -> None:
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(imported_packages(path) - ALLOWED[package])
        for path in (REPO_ROOT / package).rglob("*.py")
        if imported_packages(path) - ALLOWED[package]
    }
    assert offenders == {}
