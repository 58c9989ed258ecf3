"""``python -m shared.cli collections run [--as-of DATE] --json`` and the daily timer's job.

The JSON document is the run report: ``{"asOf", "localDate", "accounts", "steps": [...],
"closed": [...], "waiting", "skipped": [...], "failed": [...]}``. Exit 0 when no account
failed, 1 otherwise (the others were still processed).

``--as-of`` takes a date (the local date every account is judged on, e.g. to replay a day
the timer missed) or an ISO date-time with its offset (each account's local date is that
instant in its service point's zone). Without it: now.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shared.bootstrap import Platform
from shared.collections.dunning_service import DunningService, RunReport
from shared.platform.documents import DocumentStore


class BadAsOf(ValueError):
    pass


def parse_as_of(value: str | date | datetime | None, *, now: datetime) -> tuple[datetime, date | None]:
    """(the instant the run is stamped with, the local date forced on every account or None)."""
    if value is None:
        return now, None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise BadAsOf(f"--as-of {value.isoformat()} has no UTC offset")
        return value, None
    if isinstance(value, date):
        return now, value
    try:
        if len(value) == 10:
            return now, date.fromisoformat(value)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadAsOf(f"--as-of {value!r} is neither a date (2026-11-30) nor a date-time with offset") from None
    if parsed.tzinfo is None:
        raise BadAsOf(f"--as-of {value!r} has no UTC offset (add Z or +10:00)")
    return parsed, None


def run_dunning(
    platform: Platform, *, as_of: str | date | datetime | None, as_json: bool
) -> tuple[dict[str, Any], int]:
    """The CLI's job: the run report and the exit status (2: a bad --as-of, nothing run).
    The report is the same document with or without ``as_json``; the CLI prints it as JSON
    either way (its steps are what an operator reads). A forced date judges every account on
    that local date; the steps are still stamped with the real time they were taken."""
    del as_json
    try:
        now, on = parse_as_of(as_of, now=platform.clock())
    except BadAsOf as error:
        return {"error": "bad_as_of", "message": str(error)}, 2
    report = DunningService.for_platform(platform).run(now=now, on=on)
    document = report.to_json()
    return document, 0 if not report.of("failed") else 1


def run_daily_dunning(platform: Platform) -> RunReport:
    """The daily timer's job. Safe at any hour and any number of times: each step fires once
    per case and at most one step per account per run (see ``dunning.decide``)."""
    return DunningService.for_platform(platform).run(now=platform.clock())


def settle_after_payment(documents: DocumentStore, account_id: str, *, now: datetime) -> None:
    """For the payment ledger to call after a posting: closes the account's case at once
    when the payment cleared the overdue debt (and orders the reconnection if it was cut
    off), instead of waiting for the next daily run. Needs only the documents: closing a
    case sends nothing. Idempotent, and never raises for collections' sake: a failure is
    logged and the next daily run closes the case instead."""
    DunningService(documents).settle(account_id, now=now)
