"""The readings domain core stays pure: no cloud SDK, web framework or storage adapter."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import shared.readings

CORE = [
    "__init__.py",
    "model.py",
    "units.py",
    "nem12.py",
    "nem13.py",
    "spreadsheet.py",
    "importers.py",
    "mobile.py",
    "validation.py",
    "estimation.py",
]
FORBIDDEN = ("azure", "fastapi", "jinja2", "weasyprint", "shared.platform", "shared.readings.history")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", CORE)
def test_the_domain_core_imports_no_infrastructure(module: str) -> None:
    path = Path(shared.readings.__file__).parent / module

    offending = {name for name in imported_modules(path) if name.startswith(FORBIDDEN)}

    assert offending == set()
