"""Credit notes: taking an issued invoice back, in full, by a document of its own.

An issued invoice is never edited. Correcting one means issuing a credit note that names it
(number and date), numbered gaplessly in its own series ("CN-2026"), and, where something is
still owed, a new invoice (``rebill.py``). The credit note carries the original's lines,
taxes and totals negated: every line still reads quantity x rate = amount, the PDF prints
the minus signs, and the ledger books it as a credit (``invoice_postings`` of a negative
invoice credits the receivable and debits revenue and tax).

The credit note goes through ``InvoiceIssuer`` like every invoice, so it has the same
guarantees under retries and crashes. Its id is the credited invoice's id plus ``:credit``:
asking again for the same invoice finds the same credit note, never a second one, and one
invoice can be credited in full only once.

After issuing, the account's ledger cache is refreshed: allocation takes the credit note off
its own invoice first (what is still open on it), so that invoice's status becomes
``credited``; what the customer had already paid on it becomes account credit for the next
invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.invoicing.invoice import CreditedInvoice, DocumentKind, Invoice, InvoiceStatus
from shared.invoicing.issuing import InvoiceIssuer
from shared.invoicing.numbering import InvoiceNumbering
from shared.money import Money
from shared.payments.projection import settle_account
from shared.platform.documents import DocumentStore
from shared.platform.messaging import MessageSender
from shared.rating.lines import ChargeLine, TaxLine
from shared.resources import INVOICES, NUMBERING, SERVICE_POINTS

CREDIT_NOTE_SERIES_PREFIX = "CN"
MAX_REASON_CHARS = 500  # what the PDF prints in full


class NotCreditable(ValueError):
    """The invoice cannot be credited as asked; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CreditOutcome:
    credit_note: Invoice
    original: Invoice  # as the ledger leaves it: credited
    created: bool  # False when an earlier request already issued this credit note


def credit_note_id_for(invoice_id: str) -> str:
    return f"{invoice_id}:credit"


def credit_note_series(issue_day: date) -> str:
    return f"{CREDIT_NOTE_SERIES_PREFIX}-{issue_day.year}"


def _negated_line(line: ChargeLine) -> ChargeLine:
    return ChargeLine(
        description=line.description,
        component_id=line.component_id,
        tariff_id=line.tariff_id,
        tariff_version=line.tariff_version,
        period_start=line.period_start,
        period_end=line.period_end,
        quantity=-line.quantity,
        unit=line.unit,
        rate=line.rate,
        amount=-line.amount,
        tax_code=line.tax_code,
        tax_rate=line.tax_rate,
    )


def _negated_tax(tax: TaxLine) -> TaxLine:
    return TaxLine(tax.tax_code, tax.tax_rate, -tax.base, -tax.tax)


def check_creditable(original: Invoice) -> None:
    if original.is_credit_note:
        raise NotCreditable("invoiceId", f"{original.number or original.invoice_id} is a credit note itself")
    if original.status is InvoiceStatus.DRAFT or not original.number or not original.issue_date:
        raise NotCreditable("invoiceId", f"{original.invoice_id} is a draft: a draft is changed, not credited")
    if original.credited_by:
        raise NotCreditable("invoiceId", f"{original.number} is already credited by {', '.join(original.credited_by)}")


def credit_note_draft(original: Invoice, *, reason: str, issue_day: date) -> Invoice:
    """The credit note taking back all of ``original``: its content negated, its number and
    date referenced. Pure: nothing is stored or numbered here."""
    check_creditable(original)
    reason = " ".join(reason.split())
    if not reason:
        raise NotCreditable("reason", "say why the invoice is credited: it is printed on the credit note")
    if len(reason) > MAX_REASON_CHARS:
        raise NotCreditable("reason", f"{len(reason)} characters (at most {MAX_REASON_CHARS})")
    assert original.number and original.issue_date  # checked above
    zero = Money.zero(original.currency)
    return Invoice(
        invoice_id=credit_note_id_for(original.invoice_id),
        account_id=original.account_id,
        series=credit_note_series(issue_day),
        supplier=original.supplier,
        customer=original.customer,
        service_point_id=original.service_point_id,
        service_address=original.service_address,
        period_start=original.period_start,
        period_end=original.period_end,
        currency=original.currency,
        lines=tuple(_negated_line(line) for line in original.lines),
        taxes=tuple(_negated_tax(tax) for tax in original.taxes),
        subtotal=zero - original.subtotal,
        tax_total=zero - original.tax_total,
        total=zero - original.total,
        payment_reference=original.payment_reference,
        kind=DocumentKind.CREDIT_NOTE,
        credits=CreditedInvoice(original.invoice_id, original.number, original.issue_date),
        reason=reason,
    )


class CreditNotes:
    def __init__(self, documents: DocumentStore, bus: MessageSender) -> None:
        self._documents = documents
        self._invoices = documents.container(INVOICES.name)
        self._issuer = InvoiceIssuer(self._invoices, InvoiceNumbering(documents.container(NUMBERING.name)), bus)

    def find_invoice(self, account_id: str, *, number: str) -> Invoice | None:
        found = self._invoices.query({"number": number}, partition=account_id)
        return Invoice.from_json(found[0]) if found else None

    def credit(
        self, original: Invoice, *, reason: str, now: datetime, message_id: str = "", delivery: int = 1
    ) -> CreditOutcome:
        """Issue the credit note for all of ``original`` (or find the one already issued)."""
        earlier = self._issuer.existing(credit_note_id_for(original.invoice_id), original.account_id)
        if earlier is not None and earlier.status is not InvoiceStatus.DRAFT:
            self._issuer.request_pdf(earlier)
            return CreditOutcome(earlier, self._settled(original), created=False)
        if earlier is None:
            draft = credit_note_draft(original, reason=reason, issue_day=self._local_day(original, now))
        else:  # a crash after drafting: finish that draft, whose series is already chosen
            draft = earlier
        issued = self._issuer.issue(
            draft,
            now=now,
            local_today=self._local_day(original, now),
            payment_terms_days=0,  # nothing is due on a credit note
            message_id=message_id or f"credit:{original.invoice_id}",
            delivery=delivery,
        )
        return CreditOutcome(issued, self._settled(original), created=True)

    def _settled(self, original: Invoice) -> Invoice:
        # The ledger now counts the credit note; its cache on the invoices catches up here.
        settle_account(self._documents, original.account_id)
        return Invoice.from_json(self._invoices.get(original.invoice_id, original.account_id))

    def _local_day(self, original: Invoice, now: datetime) -> date:
        point = self._documents.container(SERVICE_POINTS.name).find(
            original.service_point_id, original.service_point_id
        )
        zone = ZoneInfo(point["timeZone"]) if point and point.get("timeZone") else ZoneInfo("UTC")
        return now.astimezone(zone).date()
