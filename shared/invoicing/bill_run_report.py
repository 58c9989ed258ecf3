"""What a bill run did, account by account, for the billing operator: billed, skipped with
the reason, failed with the error, still pending; totals by tariff and by branch; and a
retry of the failed accounts.

The report is read from the run's outcome records, which the kick-off writes as
"requested" and the bill handler overwrites with what happened, so it is right while a
run is still going and after any number of redeliveries.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from shared.invoicing.bill_cycle import BillingPeriod
from shared.invoicing.cycle_run import bill_message_id
from shared.platform.documents import DocumentStore
from shared.platform.messaging import MessageSender
from shared.resources import BILL_RUNS, QUEUE_BILL_REQUESTED

# "already-billed" is a success: the account's invoice for the period exists (from this run
# or an earlier one), which is what a re-run is expected to find.
OUTCOMES = ("billed", "already-billed", "skipped", "failed", "requested")


class UnknownBillRun(LookupError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"no bill run {run_id!r}")
        self.run_id = run_id


def bill_run_report(documents: DocumentStore, run_id: str) -> dict[str, Any]:
    runs = documents.container(BILL_RUNS.name)
    summary = runs.find("summary", run_id)
    if summary is None:
        raise UnknownBillRun(run_id)
    outcomes = runs.query({"kind": "outcome"}, partition=run_id, order_by="accountId")
    counts = Counter(o["status"] for o in outcomes)
    return {
        "runId": run_id,
        "asOf": summary.get("asOf"),
        "accountsChecked": summary.get("accountsChecked", 0),
        "requested": len(outcomes),
        "counts": {status: counts.get(status, 0) for status in OUTCOMES},
        "complete": counts.get("requested", 0) == 0,
        "totals": {
            "byTariff": _totals(outcomes, "tariffId"),
            "byBranch": _totals(outcomes, "branch"),
        },
        "skipped": [_row(o) for o in outcomes if o["status"] == "skipped"],
        "failed": [_row(o) for o in outcomes if o["status"] == "failed"],
        "pending": [_row(o) for o in outcomes if o["status"] == "requested"],
        "billed": [_row(o) for o in outcomes if o["status"] in ("billed", "already-billed")],
    }


def retry_failed(documents: DocumentStore, bus: MessageSender, run_id: str, *, attempt: str) -> list[str]:
    """Send the failed accounts' bills again. ``attempt`` makes the message ids new (the bus
    would drop a repeat of the original id); billing itself still bills each period once."""
    report = bill_run_report(documents, run_id)
    retried = []
    for row in report["failed"]:
        period = BillingPeriod(date.fromisoformat(row["periodStart"]), date.fromisoformat(row["periodEnd"]))
        bus.send(
            QUEUE_BILL_REQUESTED,
            {
                "accountId": row["accountId"],
                "periodStart": row["periodStart"],
                "periodEnd": row["periodEnd"],
                "runId": run_id,
            },
            message_id=f"{bill_message_id(row['accountId'], period)}:retry:{attempt}",
        )
        retried.append(row["accountId"])
    return retried


def _row(outcome: dict[str, Any]) -> dict[str, Any]:
    return {
        "accountId": outcome["accountId"],
        "periodStart": outcome["periodStart"],
        "periodEnd": outcome["periodEnd"],
        "status": outcome["status"],
        "reason": outcome.get("reason") or "",
        "invoiceNumber": outcome.get("invoiceNumber"),
        "total": outcome.get("total"),
        "currency": outcome.get("currency"),
    }


def _totals(outcomes: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Invoiced totals per tariff (or branch) and currency; amounts as decimal strings."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    invoices: Counter[tuple[str, str]] = Counter()
    for outcome in outcomes:
        if outcome.get("total") is None:
            continue
        group = (str(outcome.get(key) or "unknown"), outcome["currency"])
        sums[group] += Decimal(outcome["total"])
        invoices[group] += 1
    return [
        {key: name, "currency": currency, "invoices": invoices[(name, currency)], "total": str(sums[(name, currency)])}
        for name, currency in sorted(sums)
    ]
