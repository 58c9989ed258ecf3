"""Turning a draft into an issued tax invoice: store the draft once, take its number, issue.

Every kind of invoice goes through here (the bill cycle's, a completed sale's, a rebill's,
and credit notes, in their own series), so every one gets the same guarantees under
redelivery and crashes:
- the draft's id is derived from what it bills, so a second attempt finds the first's draft;
- the number comes from the series register, which remembers which invoice holds it, so a
  crash between claiming and saving leaves no gap and a retry no duplicate;
- the issued invoice is written with the draft's ETag, once; after that it is never edited.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from shared.invoicing.invoice import Invoice, InvoiceStatus
from shared.invoicing.numbering import InvoiceNumbering
from shared.observability import log_event
from shared.platform.documents import ConcurrencyConflict, Container, DocumentAlreadyExists
from shared.platform.messaging import MessageSender
from shared.resources import QUEUE_INVOICE_RENDER

log = logging.getLogger(__name__)


class DraftVoided(Exception):
    """The draft was voided by an operator: the period is billed under a new revision."""


class InvoiceIssuer:
    def __init__(self, invoices: Container, numbering: InvoiceNumbering, bus: MessageSender) -> None:
        self._invoices = invoices
        self._numbering = numbering
        self._bus = bus

    def existing(self, invoice_id: str, account_id: str) -> Invoice | None:
        stored = self._invoices.find(invoice_id, account_id)
        return Invoice.from_json(stored) if stored is not None else None

    def issue(
        self,
        draft: Invoice,
        *,
        now: datetime,
        local_today: date,
        payment_terms_days: int,
        message_id: str = "",
        delivery: int = 1,
    ) -> Invoice:
        """Issue ``draft`` (or find it issued by an earlier attempt) and ask for its PDF."""
        try:
            stored = self._invoices.create(draft.to_json())
        except DocumentAlreadyExists:  # an earlier or racing attempt drafted it first: use theirs
            stored = self._invoices.get(draft.invoice_id, draft.account_id)
        current = Invoice.from_json(stored)
        if current.status is InvoiceStatus.VOID:
            raise DraftVoided(f"draft {current.invoice_id} was voided; it is never issued")
        if current.status is not InvoiceStatus.DRAFT:
            self.request_pdf(current)
            return current
        claimed = self._numbering.claim(
            series=current.series,
            invoice_id=current.invoice_id,
            claimed_at=now,
            message_id=message_id,
            delivery=delivery,
        )
        issued = current.issue(
            number=claimed.number,
            issue_date=local_today,
            due_date=local_today + timedelta(days=payment_terms_days),
            issued_at=now,
        )
        try:
            self._invoices.replace(issued.to_json(), etag=stored["_etag"])
        except ConcurrencyConflict:
            # Only another attempt at this same invoice can have changed the draft, and it
            # used the same number (the register holds one per invoice): nothing to add.
            latest = self._invoices.get(current.invoice_id, current.account_id)
            if latest["status"] == InvoiceStatus.DRAFT:
                raise
            if latest["status"] == InvoiceStatus.VOID:
                # An operator voided it between our claim and our write: the number we
                # claimed is recorded as voided too, so the register explains it.
                self._numbering.void(
                    series=current.series,
                    invoice_id=current.invoice_id,
                    reason="the draft was voided while it was being issued",
                    by="system",
                    at=now,
                )
                raise DraftVoided(f"draft {current.invoice_id} was voided while being issued") from None
            issued = Invoice.from_json(latest)
        log_event(
            log,
            "invoice issued",
            accountId=issued.account_id,
            invoice=issued.number,
            kind=issued.kind.value,
            total=str(issued.total),
        )
        self.request_pdf(issued)
        return issued

    def request_pdf(self, invoice: Invoice) -> None:
        # Repeatable: the render handler stores the PDF put-if-absent and mails once.
        self._bus.send(
            QUEUE_INVOICE_RENDER,
            {"invoiceId": invoice.invoice_id, "accountId": invoice.account_id},
            message_id=f"render:{invoice.invoice_id}",
        )
