"""Dependencies point inward: the domain cores import no SDK, web framework or storage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

DOMAIN_MODULES = [
    "shared/money.py",
    "shared/rating",
    "shared/readings/model.py",
    "shared/readings/nem12.py",
    "shared/readings/mobile.py",
    "shared/readings/units.py",
    "shared/readings/validation.py",
    "shared/readings/estimation.py",
    "shared/payments/facts.py",
    "shared/payments/ledger.py",
    "shared/payments/allocation.py",
    "shared/payments/stripe_events.py",
    "shared/payments/payouts.py",
    "shared/payments/reconciliation.py",
    "shared/invoicing/invoice.py",
    "shared/invoicing/bill_cycle.py",
    "shared/invoicing/statements.py",
    "shared/invoicing/text_blocks.py",
    "shared/payments/signature.py",
    "shared/customers/records.py",
    "shared/customers/record_rules.py",
    "shared/collections/policy.py",
    "shared/collections/dunning.py",
]
FORBIDDEN = ("azure", "fastapi", "starlette", "uvicorn", "httpx", "jinja2", "weasyprint", "sqlite3", "shared.platform")


def python_files(entry: str) -> list[Path]:
    path = ROOT / entry
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", [p for entry in DOMAIN_MODULES for p in python_files(entry)], ids=str)
def test_domain_modules_import_no_sdk(path):
    bad = {m for m in imported_modules(path) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_triggers_hold_no_business_logic():
    # A trigger module's functions are one call each; the logic lives in shared/.
    for path in (ROOT / "functions").glob("*.py"):
        tree = ast.parse(path.read_text())
        for fn in [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.decorator_list]:
            body = [s for s in fn.body if not isinstance(s, ast.Expr) or not isinstance(s.value, ast.Constant)]
            assert len(body) <= 1 or isinstance(body[0], ast.With), f"{path.name}:{fn.name} does more than delegate"
