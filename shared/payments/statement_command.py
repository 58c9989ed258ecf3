"""``python -m shared.cli payments import-statement FILE [--format auto|csv|camt053] [--account ACCT] [--json]``.

Imports a bank statement through the same service as ``POST /v1/bank-statements`` and
returns the report with the exit status: 0 every line posted (or posted before, or a debit
that is no payment), 1 some lines rejected or unmatched, 2 the file refused (unreadable,
unsafe XML, no header) or not found. With ``as_json`` the document is the whole report, each
line's outcome included; without it, the counts, the lines that need someone, and ``text``
(a summary to print).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.payments.bank_statements import FORMATS, BankStatements, StatementReport

EXIT_REFUSED = 2


def run_import_statement(
    platform: Any, path: str | Path, *, fmt: str = "auto", as_json: bool = False, account: str | None = None
) -> tuple[dict[str, Any], int]:
    file = Path(path)
    if fmt not in FORMATS:
        return _refused(file, "format", f"--format {fmt!r}: use one of {', '.join(FORMATS)}"), EXIT_REFUSED
    try:
        data = file.read_bytes()
    except OSError as exc:
        return _refused(file, "file", f"{file}: cannot read the file: {exc.strerror or exc}"), EXIT_REFUSED
    report = BankStatements(platform.documents, platform.bus).import_file(
        data, fmt=fmt, account=account, file_name=file.name, now=platform.clock()
    )
    doc = report.to_json() if as_json else _summary(report)
    return {"file": str(file), **doc}, report.exit_code


def _refused(file: Path, field: str, message: str) -> dict[str, Any]:
    error = {"line": None, "field": field, "message": message}
    return {"file": str(file), "statementId": None, "status": "refused", "error": error, "text": message}


def _summary(report: StatementReport) -> dict[str, Any]:
    counts = report.counts()
    if report.status == "refused":
        error = report.error or {}
        where = f"line {error.get('line')}, " if error.get("line") else ""
        text = f"refused: {where}{error.get('field')}: {error.get('message')}"
    else:
        text = f"{report.status}: " + ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    problems = [line.to_json() for line in report.lines if line.status in ("rejected", "unmatched")]
    for line in problems:
        text += f"\n  {line['where']}: {line['status']}: {line['message']}"
    return {
        "statementId": report.statement_id,
        "status": report.status,
        "counts": counts,
        "problems": problems,
        "error": report.error,
        "text": text,
    }
