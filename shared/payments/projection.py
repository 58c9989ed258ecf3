"""An account's position read from the ledger, and each invoice's paid amount and status
written back onto the invoice as a cache.

Invoices carry ``status``, ``amountPaid``, ``appliedPayments``, ``amountCredited`` and
``creditedBy`` so that lists, e-mails and the PDF can show them without reading the ledger.
A credit note is in the ledger like any issued document (a negative invoice); the invoice it
``credits`` is what allocation takes it off first, and that invoice's status becomes
``credited``. Those fields are rebuilt from the
postings each time (``allocation.account_position``), never edited on their own, so a
replay or a second worker recomputes the same values.

Ordering matters for a cache written by racing workers: the invoices (with their ETags)
are read before the posting sets. A worker that read old postings therefore also holds
old ETags, and its write fails against any newer one instead of overwriting it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.invoicing.invoice import Invoice, InvoiceStatus
from shared.money import Money
from shared.payments.allocation import AccountPosition, account_position
from shared.payments.ledger import PostingSet, invoice_postings
from shared.payments.ledger_store import LedgerStore
from shared.platform.documents import ConcurrencyConflict, DocumentStore
from shared.resources import INVOICES

MAX_ATTEMPTS = 10


def in_ledger(doc: dict[str, Any]) -> bool:
    """Issued invoices are in the books; drafts (and anything voided) are not."""
    status = str(doc.get("status", ""))
    return status != InvoiceStatus.DRAFT.value and "void" not in status and bool(doc.get("number"))


def credit_targets(invoices: list[Invoice]) -> dict[str, str]:
    """Each issued credit note's id and the id of the invoice it credits: what allocation
    needs to take a credit note off its own invoice first."""
    return {
        invoice.invoice_id: invoice.credits.invoice_id
        for invoice in invoices
        if invoice.is_credit_note and invoice.credits is not None
    }


def ledger_position(account_id: str, invoices: list[Invoice], stored: list[PostingSet]) -> AccountPosition | None:
    """The account's position from its issued documents and its stored posting sets."""
    sets = [*(invoice_postings(invoice) for invoice in invoices), *stored]
    if not sets:
        return None
    return account_position(account_id, sets, currency=sets[0].currency, credits=credit_targets(invoices))


@dataclass(frozen=True)
class DueItem:
    """Something open on the account and the day it fell due: what dunning chases."""

    item_id: str  # the invoice's id, or the opening balance's posting set id
    number: str | None  # the invoice's number; None for an opening balance
    due_date: date
    open: Money


def due_items(position: AccountPosition, invoices: list[Invoice]) -> list[DueItem]:
    """The open invoices by their due dates and, when the account was migrated owing money
    and it is not paid yet, its opening balance, due on its ``asOf`` day (already billed
    in the old system; dunning counts it overdue from the day after, like any invoice)."""
    items = [
        DueItem(position_.invoice_id, None, position_.due_date, position_.open)
        for position_ in position.invoices
        if position_.opening_balance and position_.due_date is not None and position_.open.amount > 0
    ]
    for invoice in invoices:
        open_amount = position.invoice(invoice.invoice_id).open
        if invoice.due_date is not None and open_amount.amount > 0:
            items.append(DueItem(invoice.invoice_id, invoice.number, invoice.due_date, open_amount))
    return items


class InvoiceProjection:
    def __init__(self, documents: DocumentStore, store: LedgerStore) -> None:
        self._invoices = documents.container(INVOICES.name)
        self._store = store

    def issued(self, account_id: str) -> list[tuple[dict[str, Any], Invoice]]:
        docs = self._invoices.query(partition=account_id)
        return [(doc, Invoice.from_json(doc)) for doc in docs if in_ledger(doc)]

    def posting_sets(self, account_id: str, invoices: list[Invoice]) -> list[PostingSet]:
        """The account's whole ledger: each issued invoice's set and every stored set."""
        return [*(invoice_postings(inv) for inv in invoices), *self._store.account_sets(account_id)]

    def position(self, account_id: str) -> AccountPosition | None:
        invoices = [invoice for _, invoice in self.issued(account_id)]
        return self._position(account_id, invoices)

    def due_items(self, account_id: str) -> tuple[AccountPosition | None, list[DueItem]]:
        """The account's position and what is open on it with due dates (``due_items``)."""
        invoices = [invoice for _, invoice in self.issued(account_id)]
        position = self._position(account_id, invoices)
        return position, due_items(position, invoices) if position is not None else []

    def _position(self, account_id: str, invoices: list[Invoice]) -> AccountPosition | None:
        return ledger_position(account_id, invoices, self._store.account_sets(account_id))

    def refresh(self, account_id: str) -> AccountPosition | None:
        """Write what the ledger says onto each of the account's invoices that disagrees."""
        for _ in range(MAX_ATTEMPTS):
            issued = self.issued(account_id)  # ETags first: see the module's note
            position = self._position(account_id, [invoice for _, invoice in issued])
            if position is None:
                return None
            try:
                for doc, invoice in issued:
                    derived = position.invoice(invoice.invoice_id)
                    updated = invoice.settle(
                        paid=derived.paid,
                        payments=derived.paid_by,
                        credited=derived.credited,
                        credit_notes=derived.credited_by,
                    )
                    if updated != invoice:
                        self._invoices.replace(updated.to_json(), etag=doc["_etag"])
                return position
            except ConcurrencyConflict:
                continue  # someone changed an invoice meanwhile: read everything again
        raise ConcurrencyConflict(INVOICES.name, f"invoices of {account_id}", account_id)


def settle_account(documents: DocumentStore, account_id: str) -> AccountPosition | None:
    """Re-derive one account's invoice statuses from the ledger. For billing to call after it
    issues an invoice, so existing account credit shows on the new invoice at once (the
    ledger itself already counts it: the cache is what lags)."""
    return InvoiceProjection(documents, LedgerStore(documents)).refresh(account_id)
