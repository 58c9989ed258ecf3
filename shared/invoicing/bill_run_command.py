"""The billing operator's bill-run commands, as finance scripts call them:

    python -m shared.cli bill-run start [--as-of ISO] [--branch B] [--cycle C] [--account A ...]
                                        [--run-id R] [--no-wait] --json
    python -m shared.cli bill-run report RUN --json
    python -m shared.cli bill-run retry-failed RUN [--no-wait] --json

``start`` requests a bill for every period due on the selected accounts (the same kick-off
as the daily timer and ``POST /v1/bill-runs``), and on the in-process bus delivers them
before printing the run's report, so the command answers with what was billed. On Service
Bus the bills are delivered by the Functions host and ``report`` shows the progress.

The JSON document is the run report of ``GET /v1/bill-runs/{run}`` (runId, counts,
complete, totals by tariff and branch, billed, skipped with reasons, failed with errors,
pending). Exit status: 0 when nothing failed, 1 when some account failed or is still
pending after delivery, 2 for an unknown run or bad options.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from shared.invoicing.bill_run_report import UnknownBillRun, bill_run_report, retry_failed
from shared.invoicing.cycle_run import kick_off_bill_cycle


def run_bill_run_start(
    platform: Any,
    *,
    as_of: str | None,
    branch: str | None,
    billing_cycle: str | None,
    account_ids: list[str] | None,
    run_id: str | None,
    wait: bool,
) -> tuple[dict[str, Any], int]:
    when = platform.clock()
    if as_of:
        try:
            when = datetime.fromisoformat(as_of)
        except ValueError:
            return _refused("as-of", f"--as-of {as_of!r} is not an ISO date-time")
        if when.tzinfo is None:
            return _refused("as-of", "--as-of needs a UTC offset, e.g. 2026-11-02T09:00:00+11:00")
    kick_off = kick_off_bill_cycle(
        platform.documents,
        platform.bus,
        as_of=when,
        account_ids=account_ids,
        branch=branch,
        billing_cycle=billing_cycle,
        run_id=run_id,
    )
    return _report_after(platform, kick_off.run_id, wait=wait)


def run_bill_run_report(platform: Any, run_id: str) -> tuple[dict[str, Any], int]:
    return _report_after(platform, run_id, wait=False)


def run_bill_run_retry(platform: Any, run_id: str, *, wait: bool) -> tuple[dict[str, Any], int]:
    try:
        retried = retry_failed(platform.documents, platform.bus, run_id, attempt=uuid.uuid4().hex[:12])
    except UnknownBillRun as unknown:
        return _refused("run", str(unknown))
    report, status = _report_after(platform, run_id, wait=wait)
    return {**report, "retried": retried}, status


def _report_after(platform: Any, run_id: str, *, wait: bool) -> tuple[dict[str, Any], int]:
    drain = getattr(platform.bus, "drain", None)
    if wait and drain is not None:
        drain()
    try:
        report = bill_run_report(platform.documents, run_id)
    except UnknownBillRun as unknown:
        return _refused("run", str(unknown))
    counts = report["counts"]
    return report, 0 if counts["failed"] == 0 and counts["requested"] == 0 else 1


def _refused(field: str, message: str) -> tuple[dict[str, Any], int]:
    return {"error": message, "field": field}, 2
