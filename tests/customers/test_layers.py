"""The customer records' domain modules import no storage, SDK or web framework: they can be
read, and tested, as the business rules alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = [
    "account",
    "contract",
    "customer",
    "errors",
    "fields",
    "history",
    "meter",
    "metering_ids",
    "names",
    "payment_reference",
    "records",
    "service_point",
    "tax_ids",
]
FORBIDDEN = (
    "azure",
    "fastapi",
    "starlette",
    "pydantic",
    "sqlite3",
    "shared.platform",
    "shared.api",
    "shared.resources",
)


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_imports_no_infrastructure(module):
    path = ROOT / "shared" / "customers" / f"{module}.py"
    bad = {m for m in imports(path) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad, f"{path.name} imports {sorted(bad)}"
