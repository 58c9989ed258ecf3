"""The operators' bill preview, storing nothing::

    python -m shared.cli rate --tariff FILE --usage FILE --from DATE --to DATE [--tz ZONE] [--json]

Operators script against this command, so its output and exit status are kept stable.

``--tariff`` is a GridLedger tariff document (or a JSON list of versions of one tariff) or
a URDB rate (detected by content); ``--usage`` a CSV with the header ``start,kwh`` (see
preview.py for its rules); ``--from`` (inclusive) and ``--to`` (exclusive) are local dates
in ``--tz``, which defaults to the tariff's own ``timeZone`` and is required for a URDB rate.
Nothing is stored and no settings are read.

Exit status: 0 priced; 2 bad input, with one line on stderr naming the file (or option),
the usage line and the field: ``error: usage.csv: line 7: kwh: 0.0005 has more than 3 decimals...``.

With ``--json`` it prints one JSON document::

    {"tariff": "urdb-68c0...", "period": {"from": "2026-07-01", "to": "2026-07-02", "timeZone": "America/Los_Angeles"},
     "currency": "USD",
     "lines": [{"component", "description", "quantity", "unit", "rate", "amount"}],
     "subtotal": "88.48", "tax": "0.00", "total": "88.48"}

quantities, rates and amounts as decimal strings (amounts rounded half-up to cents, as
billed; ``subtotal`` is before tax). On bad input it prints
``{"error": "the same line as stderr", "file": path or null, "line": n or null, "field": path or null}``.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from shared.rating.preview import BillPreview, PreviewError, preview_bill, usage_rows_from_csv

EXIT_OK, EXIT_BAD_INPUT = 0, 2
_OPTIONS = {"timeZone": "--tz", "from": "--from", "to": "--to"}


def run_rate(
    *,
    tariff_file: str,
    usage_file: str,
    period_from: str,
    period_to: str,
    time_zone: str | None = None,
    as_json: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the command; print the preview (or the error); return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    files = {"tariff": tariff_file, "usage": usage_file}
    try:
        preview = preview_bill(
            tariff=_tariff_json(tariff_file),
            usage=usage_rows_from_csv(_text(usage_file, "usage")),
            period_from=_date(period_from, "from"),
            period_to=_date(period_to, "to"),
            time_zone=time_zone,
        )
    except PreviewError as error:
        label = files.get(error.subject) or _OPTIONS.get(error.subject, error.subject)
        message = f"{label}: {error.detail}"
        err.write(f"error: {message}\n")
        if as_json:
            file, field = files.get(error.subject), error.field or None
            out.write(json.dumps({"error": message, "file": file, "line": error.line, "field": field}, indent=2) + "\n")
        return EXIT_BAD_INPUT
    out.write(json.dumps(preview.to_json(), indent=2) + "\n" if as_json else human_summary(preview))
    return EXIT_OK


def human_summary(preview: BillPreview) -> str:
    data: dict[str, Any] = preview.to_json()
    period = data["period"]
    lines = [
        f"{data['tariff']}: {period['from']} to {period['to']} (exclusive), {period['timeZone']}, {data['currency']}"
    ]
    width = max(len(line["description"]) for line in data["lines"])
    for line in data["lines"]:
        priced = f"{line['quantity']} {line['unit']} x {line['rate']}"
        lines.append(f"  {line['description']:<{width}}  {priced:>32}  {line['amount']:>12}")
    for label in ("subtotal", "tax", "total"):
        lines.append(f"  {label.title():<{width}}  {'':>32}  {data[label]:>12}")
    return "\n".join(lines) + "\n"


def _text(path: str, subject: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise PreviewError(subject, "", f"cannot read the file: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise PreviewError(subject, "", f"not UTF-8 text (byte {error.start})") from None


def _tariff_json(path: str) -> object:
    try:
        return json.loads(_text(path, "tariff"))
    except json.JSONDecodeError as error:
        raise PreviewError(
            "tariff", "", f"not valid JSON: {error.msg} (column {error.colno})", line=error.lineno
        ) from None


def _date(value: str, subject: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PreviewError(subject, "", f"must be a date like 2026-07-01, got {value!r}") from None
