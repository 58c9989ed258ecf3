"""The daily bill-cycle kick-off: find every account with a period due and fan out one
``bill-requested`` message per account and period.

The message id is the account and period, so a second kick-off on the same day (a timer
that fires twice, an operator who starts a run by hand) sends nothing new, and the bill
handler's own idempotency covers a duplicate that slips past the bus's window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.customers.records import Account, ServicePoint
from shared.invoicing.bill_cycle import BillingPeriod, due_periods
from shared.observability import log_event
from shared.platform.documents import DocumentStore
from shared.platform.messaging import MessageSender
from shared.resources import ACCOUNTS, BILL_RUNS, QUEUE_BILL_REQUESTED, SERVICE_POINTS

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
) -> KickOff:
    accounts = documents.container(ACCOUNTS.name)
    service_points = documents.container(SERVICE_POINTS.name)
    run_id = f"cycle-{as_of.astimezone(ZoneInfo('UTC')).date().isoformat()}"
    kick_off = KickOff(run_id, as_of)
    where = {"branch": branch} if branch else None
    for doc in accounts.query(where, order_by="accountId"):
        if account_ids is not None and doc["accountId"] not in account_ids:
            continue
        account = Account.from_document(doc)
        kick_off.accounts_checked += 1
        sp = ServicePoint.from_document(service_points.get(account.service_point_id, account.service_point_id))
        # "Today" is the service point's local date: a period ends at local midnight.
        today: date = as_of.astimezone(ZoneInfo(sp.time_zone)).date()
        for period in due_periods(billed_through=account.billed_through, today=today):
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
    documents.container(BILL_RUNS.name).upsert(
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
