"""``python -m shared.cli payments reconcile --from DATE --to DATE [--tz ZONE] [--branch B]
[--channel C] [--format json|csv|xlsx] [--out FILE]``.

Returns the report as JSON (and writes the chosen format to ``--out``; CSV and XLSX need it) and
the exit status: 0 when the period reconciles with no difference, 1 when differences are listed,
2 when the arguments are wrong (nothing is written then).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from shared.payments.reconciliation import Period
from shared.payments.reconciliation_service import FORMATS, ReconciliationService, render


def run_reconciliation(
    platform: Any,
    *,
    date_from: str | date,
    date_to: str | date,
    fmt: str = "json",
    out: str | Path | None = None,
    tz: str = "UTC",
    branch: str | None = None,
    channel: str | None = None,
) -> tuple[dict[str, Any], int]:
    try:
        period = Period(_date(date_from, "--from"), _date(date_to, "--to"), tz)
    except ValueError as exc:
        return {"error": "invalid_arguments", "message": str(exc)}, 2
    if fmt not in FORMATS:
        return {"error": "invalid_arguments", "message": f"--format {fmt!r} is not one of {', '.join(FORMATS)}"}, 2
    if fmt != "json" and out is None:
        return {"error": "invalid_arguments", "message": f"--format {fmt} writes a file: give --out FILE"}, 2
    report = ReconciliationService(platform.documents).report(period, branch=branch, channel=channel)
    document = report.to_json()
    if out is not None:
        rendered = render(report, fmt)  # type: ignore[arg-type]
        Path(out).write_bytes(rendered.body)
        document["out"] = {"path": str(out), "format": fmt, "bytes": len(rendered.body)}
    return document, 0 if report.balanced else 1


def _date(value: str | date, option: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{option} {value!r} is not a date like 2026-10-01") from None
