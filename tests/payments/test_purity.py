"""The payments domain core stays pure: no cloud SDK, web framework or storage adapter."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import shared.payments

CORE = [
    "facts.py",
    "ledger.py",
    "allocation.py",
    "stripe_events.py",
    "signature.py",
    "gateway.py",
    "payouts.py",
    "reconciliation.py",
]
FORBIDDEN = ("azure", "fastapi", "starlette", "httpx", "sqlite3", "shared.platform", "shared.resources")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", CORE)
def test_the_payments_core_imports_no_infrastructure(module: str) -> None:
    path = Path(shared.payments.__file__).parent / module
    assert {name for name in imported_modules(path) if name.startswith(FORBIDDEN)} == set()
