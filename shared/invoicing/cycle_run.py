"""The daily bill-cycle kick-off: find every account with a period due and fan out one
``bill-requested`` message per account and period.

The message id is the account and period, so a second kick-off on the same day (a timer
that fires twice, an operator who starts a run by hand) sends nothing new, and the bill
handler's own idempotency covers a duplicate that slips past the bus's window.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.customers.contract import Contract
from shared.customers.records import Account, ServicePoint
from shared.invoicing.bill_cycle import BillingPeriod, FeeCycles, due_periods
from shared.observability import log_event
from shared.platform.documents import Container, DocumentAlreadyExists, DocumentStore
from shared.platform.messaging import MessageSender
from shared.resources import ACCOUNTS, BILL_RUNS, CONTRACTS, QUEUE_BILL_REQUESTED, SERVICE_POINTS

log = logging.getLogger(__name__)


@dataclass
class KickOff:
    run_id: str
    as_of: datetime
    requested: list[tuple[str, BillingPeriod]] = field(default_factory=list)
    accounts_checked: int = 0


def bill_message_id(account_id: str, period: BillingPeriod) -> str:
    return f"bill:{account_id}:{period.start.isoformat()}:{period.end.isoformat()}"


def kick_off_bill_cycle(
    documents: DocumentStore,
    bus: MessageSender,
    *,
    as_of: datetime,
    account_ids: list[str] | None = None,
    branch: str | None = None,
    billing_cycle: str | None = None,
    run_id: str | None = None,
) -> KickOff:
    """Request a bill for every period due on the selected accounts (all by default).

    The timer's run is named by its UTC date; an operator's run may name itself. Either way
    a bill already requested for an account and period is not requested again.
    """
    accounts = documents.container(ACCOUNTS.name)
    service_points = documents.container(SERVICE_POINTS.name)
    contracts = documents.container(CONTRACTS.name)
    runs = documents.container(BILL_RUNS.name)
    run_id = run_id or f"cycle-{as_of.astimezone(ZoneInfo('UTC')).date().isoformat()}"
    kick_off = KickOff(run_id, as_of)
    where: dict[str, str] = {}
    if branch:
        where["branch"] = branch
    if billing_cycle:
        where["billingCycle"] = billing_cycle
    wanted = set(account_ids) if account_ids is not None else None
    for doc in accounts.query(where or None, order_by="accountId"):
        if wanted is not None and doc["accountId"] not in wanted:
            continue
        if not Account.is_billable(doc):
            continue  # no supply contract yet: nothing to bill
        account = Account.from_document(doc)
        kick_off.accounts_checked += 1
        sp = ServicePoint.from_document(service_points.get(account.service_point_id, account.service_point_id))
        # "Today" is the service point's local date: a period ends at local midnight.
        today: date = as_of.astimezone(ZoneInfo(sp.time_zone)).date()
        supplied, anchor, supply_ends, months = _supply(contracts, account)
        if not supplied:
            continue  # moved out and finally billed: nothing more is due
        due = due_periods(
            billed_through=account.billed_through,
            today=today,
            months_per_period=months,
            anchor_day=anchor,
            supply_ends=supply_ends,
        )
        for period in due:
            bus.send(
                QUEUE_BILL_REQUESTED,
                {
                    "accountId": account.account_id,
                    "periodStart": period.start.isoformat(),
                    "periodEnd": period.end.isoformat(),
                    "runId": run_id,
                },
                message_id=bill_message_id(account.account_id, period),
            )
            kick_off.requested.append((account.account_id, period))
            _note_requested(runs, run_id, account, period)
    runs.upsert(
        {
            "id": "summary",
            "runId": run_id,
            "kind": "summary",
            "asOf": as_of.isoformat(),
            "accountsChecked": kick_off.accounts_checked,
            "requested": len(kick_off.requested),
        }
    )
    log_event(log, "bill cycle kicked off", runId=run_id, requested=len(kick_off.requested))
    return kick_off


def _supply(contracts: Container, account: Account) -> tuple[bool, int | None, date | None, int]:
    """Whether anything is left to bill, the cycle's anchor day, where supply ends and the
    months per bill (the shorter of the contract's variable and fixed fee cycles).

    The account is billed under the latest cycle-billed contract covering its billed-through
    day: its first day anchors the cycle (a move-in on the 31st bills on each month's last
    day) and its end, if any, is the move-out the final bill stops at. An account whose
    contracts all ended by its billed-through day has had its final bill. An account billed
    without a contract (records loaded before contracts existed) bills on its own day."""
    docs = contracts.query({"kind": "contract", "accountId": account.account_id}, partition=account.service_point_id)
    billed = [c for c in map(Contract.from_document, docs) if c.cycle_billed]
    if not billed:
        return True, None, None, 1
    covering = [c for c in billed if c.covers_day(account.billed_through)]
    if not covering:
        later = [c for c in billed if c.start > account.billed_through]
        return bool(later), None, None, 1  # a gap before a later contract: as before contracts ended
    latest = max(covering, key=lambda c: c.start)
    cycles = FeeCycles.of(latest.start, dict(latest.billing_cycles or {}))
    return True, latest.start.day, latest.end, cycles.bill_months


def _note_requested(runs: Container, run_id: str, account: Account, period: BillingPeriod) -> None:
    # "requested" until the bill handler records what happened: the report's pending count.
    with contextlib.suppress(DocumentAlreadyExists):
        runs.create(
            {
                "id": f"{account.account_id}:{period.start.isoformat()}",
                "runId": run_id,
                "kind": "outcome",
                "accountId": account.account_id,
                "periodStart": period.start.isoformat(),
                "periodEnd": period.end.isoformat(),
                "status": "requested",
                "reason": "",
                "invoiceNumber": None,
                "tariffId": account.tariff_id,
                "branch": account.branch,
            }
        )
