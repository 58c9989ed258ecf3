"""The tax invoice and its credit note: what the customer is asked to pay for one account and
billing period, and what a correction takes back.

A draft becomes an invoice when it is issued: it gets the next number of its series and
from then on its content (parties, lines, taxes, totals, number, dates) is never edited. A
correction is a credit note referencing it plus, where something is still owed, a new
invoice (``credit_notes.py``, ``rebill.py``).

The lifecycle, and which part of it is stored:
- ``draft`` -> ``issued`` (numbered) -> ``sent`` (e-mailed): stored, set once each;
- ``partly_paid``, ``paid`` and ``credited``: a cache of what the payments ledger derives
  (``shared/payments/projection.py`` rewrites them from the postings; ``credited`` once an
  issued credit note references the invoice);
- ``overdue``: never stored. It is the due date passed with something still open, which a
  stored flag would get wrong the day after it was written or the minute a payment arrives,
  so ``status_on(today)`` derives it when a list or a reminder asks.

A credit note is an ``Invoice`` of kind ``credit_note``: its own gapless series, ``credits``
naming the original, and the original's lines, taxes and totals negated (quantity x rate =
amount still holds on every line, and the sum of an account's documents is what it owes).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from shared.money import Money
from shared.rating.lines import ChargeLine, TaxLine
from shared.rating.results import DemandReading


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    SENT = "sent"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    # A draft that held a number but was never issued, voided by an operator: its number
    # stays in the register marked voided (never reused), the period is billed afresh.
    VOID = "void"
    CREDITED = "credited"
    OVERDUE = "overdue"  # derived by status_on(), never stored (see the module's note)


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceAlreadyIssued(Exception):
    pass


@dataclass(frozen=True)
class CreditedInvoice:
    """The invoice a credit note takes back, as the credit note prints it."""

    invoice_id: str
    number: str
    issue_date: date

    def to_json(self) -> dict[str, Any]:
        return {"invoiceId": self.invoice_id, "number": self.number, "issueDate": self.issue_date.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CreditedInvoice:
        return cls(data["invoiceId"], data["number"], date.fromisoformat(data["issueDate"]))


@dataclass(frozen=True)
class Party:
    name: str
    address_lines: tuple[str, ...]
    tax_id: str | None = None  # ABN for Australian parties
    email: str | None = None


@dataclass(frozen=True)
class Invoice:
    invoice_id: str  # stable per account and period, so a redelivered bill request finds it
    account_id: str
    series: str  # numbering series, e.g. "INV-2026" (legal entity, document type, year)
    supplier: Party
    customer: Party
    service_point_id: str  # NMI
    service_address: str
    period_start: date  # half-open [start, end) in the service point's local dates
    period_end: date
    currency: str
    lines: tuple[ChargeLine, ...]
    taxes: tuple[TaxLine, ...]
    subtotal: Money
    tax_total: Money
    total: Money
    payment_reference: str
    status: InvoiceStatus = InvoiceStatus.DRAFT
    number: str | None = None
    issue_date: date | None = None
    due_date: date | None = None
    issued_at: datetime | None = None
    # What the payments ledger derives (shared/payments/allocation.py), cached here by settle().
    amount_paid: Money | None = None
    applied_payments: tuple[str, ...] = field(default_factory=tuple)  # the payment ids covering it
    pdf_blob: str | None = None
    emailed_at: datetime | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    kind: DocumentKind = DocumentKind.INVOICE
    credits: CreditedInvoice | None = None  # a credit note: the invoice it takes back
    reason: str | None = None  # a credit note: why, as printed on it
    sha256: str | None = None  # of the stored PDF, set once by delivery.py with pdf_blob
    # What the ledger derives, cached by settle() like amount_paid: how much of this
    # invoice credit notes took back, and their numbers.
    amount_credited: Money | None = None
    credited_by: tuple[str, ...] = field(default_factory=tuple)
    # The measured monthly maximum of each demand charge, as rated: the history a later
    # bill's ratchet reads, from documents the customer already holds.
    demand: tuple[DemandReading, ...] = field(default_factory=tuple)

    @property
    def is_credit_note(self) -> bool:
        return self.kind is DocumentKind.CREDIT_NOTE

    @property
    def amount_due(self) -> Money:
        if self.is_credit_note:
            return Money.zero(self.currency)  # nothing to pay: its amount is credit on the account
        covered = (self.amount_paid or Money.zero(self.currency)) + (self.amount_credited or Money.zero(self.currency))
        return self.total - covered

    def status_on(self, today: date) -> InvoiceStatus:
        """The lifecycle status on the customer's local ``today``: overdue when the due date
        has passed and something is still open, else the stored status."""
        overdue = (
            self.status in (InvoiceStatus.ISSUED, InvoiceStatus.SENT, InvoiceStatus.PARTLY_PAID)
            and not self.is_credit_note
            and self.due_date is not None
            and self.due_date < today
            and self.amount_due.amount > 0
        )
        return InvoiceStatus.OVERDUE if overdue else self.status

    @property
    def last_day(self) -> date:
        """The period's last billed day, as printed ("1 Oct to 31 Oct")."""
        from datetime import timedelta

        return self.period_end - timedelta(days=1)

    def issue(self, *, number: str, issue_date: date, due_date: date, issued_at: datetime) -> Invoice:
        if self.status is not InvoiceStatus.DRAFT:
            raise InvoiceAlreadyIssued(f"invoice {self.invoice_id} is already {self.status} as {self.number}")
        return replace(
            self,
            status=InvoiceStatus.ISSUED,
            number=number,
            issue_date=issue_date,
            due_date=due_date,
            issued_at=issued_at,
        )

    def settle(
        self,
        *,
        paid: Money,
        payments: tuple[str, ...],
        credited: Money | None = None,
        credit_notes: tuple[str, ...] = (),
    ) -> Invoice:
        """The invoice with ``paid`` of its total covered by ``payments`` and ``credited`` by
        ``credit_notes``, as the ledger says: credited, paid in full, partly paid, or (nothing
        covered, e.g. after a refund) open again. A credit note itself is never paid: it stays
        issued or sent."""
        if self.status is InvoiceStatus.DRAFT:
            raise ValueError(f"invoice {self.invoice_id} is a draft: nothing is paid on a draft")
        delivered = InvoiceStatus.SENT if self.emailed_at else InvoiceStatus.ISSUED
        if self.is_credit_note:
            return replace(self, status=delivered, amount_paid=None, applied_payments=())
        credited = credited if credited is not None and not credited.is_zero() else None
        if credit_notes:
            status = InvoiceStatus.CREDITED
        elif not paid.is_zero() and self.total <= paid:
            status = InvoiceStatus.PAID
        elif not paid.is_zero():
            status = InvoiceStatus.PARTLY_PAID
        else:
            status = delivered
        return replace(
            self,
            status=status,
            amount_paid=None if paid.is_zero() else paid,
            applied_payments=payments,
            amount_credited=credited,
            credited_by=credit_notes,
        )

    def to_json(self) -> dict[str, Any]:
        def party(p: Party) -> dict[str, Any]:
            return {"name": p.name, "addressLines": list(p.address_lines), "taxId": p.tax_id, "email": p.email}

        return {
            "id": self.invoice_id,
            "accountId": self.account_id,
            "series": self.series,
            "supplier": party(self.supplier),
            "customer": party(self.customer),
            "servicePointId": self.service_point_id,
            "serviceAddress": self.service_address,
            "periodStart": self.period_start.isoformat(),
            "periodEnd": self.period_end.isoformat(),
            "currency": self.currency,
            "lines": [line.to_json() for line in self.lines],
            "taxes": [tax.to_json() for tax in self.taxes],
            "subtotal": self.subtotal.to_json(),
            "taxTotal": self.tax_total.to_json(),
            "total": self.total.to_json(),
            "paymentReference": self.payment_reference,
            "status": self.status.value,
            "number": self.number,
            "issueDate": self.issue_date.isoformat() if self.issue_date else None,
            "dueDate": self.due_date.isoformat() if self.due_date else None,
            "issuedAt": self.issued_at.isoformat() if self.issued_at else None,
            "amountPaid": self.amount_paid.to_json() if self.amount_paid else None,
            "appliedPayments": list(self.applied_payments),
            "pdfBlob": self.pdf_blob,
            "emailedAt": self.emailed_at.isoformat() if self.emailed_at else None,
            "notes": list(self.notes),
            "demand": [reading.to_json() for reading in self.demand],
            "kind": self.kind.value,
            "credits": self.credits.to_json() if self.credits else None,
            "reason": self.reason,
            "sha256": self.sha256,
            "amountCredited": self.amount_credited.to_json() if self.amount_credited else None,
            "creditedBy": list(self.credited_by),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Invoice:
        def party(p: dict[str, Any]) -> Party:
            return Party(p["name"], tuple(p["addressLines"]), p.get("taxId"), p.get("email"))

        def day(value: str | None) -> date | None:
            return date.fromisoformat(value) if value else None

        return cls(
            invoice_id=data["id"],
            account_id=data["accountId"],
            series=data["series"],
            supplier=party(data["supplier"]),
            customer=party(data["customer"]),
            service_point_id=data["servicePointId"],
            service_address=data["serviceAddress"],
            period_start=date.fromisoformat(data["periodStart"]),
            period_end=date.fromisoformat(data["periodEnd"]),
            currency=data["currency"],
            lines=tuple(ChargeLine.from_json(x) for x in data["lines"]),
            taxes=tuple(TaxLine.from_json(x) for x in data["taxes"]),
            subtotal=Money.from_json(data["subtotal"]),
            tax_total=Money.from_json(data["taxTotal"]),
            total=Money.from_json(data["total"]),
            payment_reference=data["paymentReference"],
            status=InvoiceStatus(data["status"]),
            number=data.get("number"),
            issue_date=day(data.get("issueDate")),
            due_date=day(data.get("dueDate")),
            issued_at=datetime.fromisoformat(data["issuedAt"]) if data.get("issuedAt") else None,
            amount_paid=Money.from_json(data["amountPaid"]) if data.get("amountPaid") else None,
            applied_payments=tuple(data.get("appliedPayments", ())),
            pdf_blob=data.get("pdfBlob"),
            emailed_at=datetime.fromisoformat(data["emailedAt"]) if data.get("emailedAt") else None,
            notes=tuple(data.get("notes", ())),
            demand=tuple(DemandReading.from_json(d) for d in data.get("demand", ())),
            # Documents stored before credit notes existed are invoices with none of these.
            kind=DocumentKind(data.get("kind") or DocumentKind.INVOICE.value),
            credits=CreditedInvoice.from_json(data["credits"]) if data.get("credits") else None,
            reason=data.get("reason"),
            sha256=data.get("sha256"),
            amount_credited=Money.from_json(data["amountCredited"]) if data.get("amountCredited") else None,
            credited_by=tuple(data.get("creditedBy", ())),
        )
