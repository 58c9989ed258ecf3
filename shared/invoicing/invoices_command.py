"""``python -m shared.cli invoices list [--status S] [--account A] [--json]``: every issued
document, invoices and credit notes, as finance scripts read them. Keep the keys stable.

One JSON object per document, ordered by number (so each series reads in sequence):

- ``number``, ``series``, ``kind`` (``invoice`` | ``credit_note``), ``account``;
- ``period_start``, ``period_end``: the billing period's first day and the day after its last
  (half-open, local dates, as stored), ISO 8601;
- ``subtotal``, ``tax``, ``total``, ``open_amount``: decimal strings with two places. A credit
  note's amounts are negative, as its PDF prints them; its ``open_amount`` is ``"0.00"`` (there
  is nothing to pay on it; what it did not take off its own invoice is account credit, applied
  to the account's next open invoice);
- ``currency``, ``payment_reference``;
- ``status``: ``issued``, ``sent``, ``partly_paid``, ``paid``, ``overdue`` or ``credited``, as
  of today in the service point's time zone. Paid amounts and ``open_amount`` come from the
  payments ledger itself, not the cache on the invoice; ``overdue`` is derived (the due date
  passed with something open), never stored;
- ``blob_path``: the PDF in Blob storage, container first (``invoices/2026/ACC-1/INV-...pdf``),
  null until rendered; ``sha256``: the stored PDF's hash, null until rendered;
- also ``issue_date``, ``due_date``, ``credits`` (a credit note: the number it takes back),
  ``credited_by`` (an invoice: the credit notes taking it back), ``reason``;
- and, unchanged from the command's first version, ``accountId``, ``periodStart``,
  ``periodEnd`` and ``pdf`` (the blob name without the container).

Exit 0; 1 when a stored document cannot be read (every readable one is still listed, the
unreadable ones named on stderr).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.invoicing.invoice import Invoice, InvoiceStatus
from shared.money import Money
from shared.payments.allocation import AccountPosition
from shared.payments.ledger import PostingSet
from shared.payments.ledger_store import LedgerStore
from shared.payments.projection import in_ledger, ledger_position
from shared.platform.documents import DocumentStore
from shared.resources import BLOB_INVOICES, INVOICES, SERVICE_POINTS

log = logging.getLogger(__name__)

LISTED_STATUSES = tuple(s.value for s in InvoiceStatus if s not in (InvoiceStatus.DRAFT, InvoiceStatus.VOID))


class UnknownStatus(ValueError):
    pass


def decimal_text(value: Money) -> str:
    """Two places, half-up, never ``-0.00``."""
    amount = value.rounded().amount
    return str(abs(amount) if amount.is_zero() else amount)


def run_invoices_list(
    platform: Any, *, status: str | None = None, account: str | None = None, now: datetime | None = None
) -> tuple[list[dict[str, Any]], int]:
    if status is not None and status not in LISTED_STATUSES:
        raise UnknownStatus(f"--status {status!r}: use one of {', '.join(LISTED_STATUSES)}")
    documents = platform.documents
    now = now or platform.clock()
    exit_status = 0
    invoices: dict[str, list[Invoice]] = defaultdict(list)
    for doc in documents.container(INVOICES.name).query(partition=account, order_by="number"):
        if not in_ledger(doc):
            continue
        try:
            invoices[doc["accountId"]].append(Invoice.from_json(doc))
        except (KeyError, TypeError, ValueError, ArithmeticError) as error:
            log.error("invoice %s (account %s) is unreadable: %s", doc.get("number"), doc.get("accountId"), error)
            exit_status = 1
    stored = _posting_sets(LedgerStore(documents), account)
    today = _local_days(documents, now)
    rows = []
    for account_id, issued in invoices.items():
        position = ledger_position(account_id, issued, stored.get(account_id, []))
        rows += [_row(invoice, position, today(invoice.service_point_id)) for invoice in issued]
    rows.sort(key=lambda row: row["number"])
    return [row for row in rows if status is None or row["status"] == status], exit_status


def _posting_sets(store: LedgerStore, account: str | None) -> dict[str, list[PostingSet]]:
    if account is not None:
        return {account: store.account_sets(account)}
    by_account: dict[str, list[PostingSet]] = defaultdict(list)
    for doc in store.all_documents():  # one query for every account, not one per account
        by_account[doc["accountId"]].append(PostingSet.from_json(doc))
    return by_account


def _local_days(documents: DocumentStore, now: datetime) -> Callable[[str], date]:
    """Today in each service point's zone (UTC for one we cannot find), looked up once each."""
    points = documents.container(SERVICE_POINTS.name)
    cache: dict[str, date] = {}

    def today(point_id: str) -> date:
        if point_id not in cache:
            point = points.find(point_id, point_id)
            zone = ZoneInfo(point["timeZone"]) if point and point.get("timeZone") else ZoneInfo("UTC")
            cache[point_id] = now.astimezone(zone).date()
        return cache[point_id]

    return today


def _row(invoice: Invoice, position: AccountPosition | None, today: date) -> dict[str, Any]:
    current = invoice
    if position is not None:
        derived = position.invoice(invoice.invoice_id)
        current = invoice.settle(
            paid=derived.paid, payments=derived.paid_by, credited=derived.credited, credit_notes=derived.credited_by
        )
    blob_path = f"{BLOB_INVOICES}/{invoice.pdf_blob}" if invoice.pdf_blob else None
    return {
        "number": invoice.number,
        "series": invoice.series,
        "kind": invoice.kind.value,
        "account": invoice.account_id,
        "period_start": invoice.period_start.isoformat(),
        "period_end": invoice.period_end.isoformat(),
        "subtotal": decimal_text(invoice.subtotal),
        "tax": decimal_text(invoice.tax_total),
        "total": decimal_text(invoice.total),
        "currency": invoice.currency,
        "status": current.status_on(today).value,
        "open_amount": decimal_text(current.amount_due),
        "payment_reference": invoice.payment_reference,
        "blob_path": blob_path,
        "sha256": invoice.sha256,
        "issue_date": invoice.issue_date.isoformat() if invoice.issue_date else None,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "credits": invoice.credits.number if invoice.credits else None,
        "credited_by": list(current.credited_by),
        "reason": invoice.reason,
        # The first version's keys, kept for the scripts that read them.
        "accountId": invoice.account_id,
        "periodStart": invoice.period_start.isoformat(),
        "periodEnd": invoice.period_end.isoformat(),
        "pdf": invoice.pdf_blob,
    }
