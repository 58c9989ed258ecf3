"""Delivering an issued invoice or credit note: its PDF into blob storage, then by e-mail.

Runs as the ``invoice-render`` handler. The PDF is written put-if-absent, so a
redelivery can never replace the document a customer already received; the e-mail
carries a key derived from the invoice number, so the mail folder (and a Message-ID aware
mail client) sees one mail however often the message is delivered.

The record keeps the stored PDF's SHA-256 beside its blob path, set once: the hash of the
bytes in storage, which are the first render's (a racing or later render that finds the
blob there hashes what is there, never its own bytes).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from shared.invoicing.invoice import DocumentKind, Invoice, InvoiceStatus
from shared.invoicing.pdf import PaymentDetails
from shared.invoicing.pdf_stamp import render_invoice_pdf_fast
from shared.invoicing.text_block_store import TextBlockStore
from shared.invoicing.text_blocks import RenderedText
from shared.invoicing.texts import DEFAULT_LOCALE, LOCALES
from shared.observability import log_event
from shared.platform.blobs import BlobAlreadyExists, BlobStore
from shared.platform.documents import ConcurrencyConflict, Container, DocumentStore
from shared.platform.mail import Attachment, Mailer, OutgoingMail
from shared.resources import ACCOUNTS, BLOB_INVOICES, CUSTOMERS, INVOICES

log = logging.getLogger(__name__)


class NotIssued(Exception):
    pass


def now_utc() -> datetime:
    return datetime.now(UTC)


def pdf_blob_name(invoice: Invoice) -> str:
    assert invoice.number and invoice.issue_date
    return f"{invoice.issue_date.year}/{invoice.account_id}/{invoice.number}.pdf"


# A customer without a stated language reads the language of the country they are billed in.
COUNTRY_LOCALES = {"AU": "en-AU", "PL": "pl-PL", "NO": "nb-NO"}
CURRENCY_LOCALES = {"AUD": "en-AU", "PLN": "pl-PL", "NOK": "nb-NO"}


class InvoiceDelivery:
    def __init__(
        self,
        documents: DocumentStore,
        blobs: BlobStore,
        mailer: Mailer,
        *,
        sender: str,
        payment: PaymentDetails | None = None,
    ) -> None:
        self._documents = documents
        self._invoices = documents.container(INVOICES.name)
        self._blobs = blobs
        self._mailer = mailer
        self._sender = sender
        self._payment = payment

    def locale_for(self, invoice: Invoice) -> str:
        """The customer's preferred language (customer record), else their country's, else
        the invoice currency's: how a Polish customer gets a Polish invoice."""
        account = self._documents.container(ACCOUNTS.name).find(invoice.account_id, invoice.account_id) or {}
        customer_id = account.get("customerId")
        customer = self._documents.container(CUSTOMERS.name).find(customer_id, customer_id) if customer_id else None
        language = (customer or {}).get("language")
        if language in LOCALES:
            return str(language)
        return COUNTRY_LOCALES.get(account.get("country", ""), CURRENCY_LOCALES.get(invoice.currency, DEFAULT_LOCALE))

    def texts_for(self, invoice: Invoice) -> list[RenderedText]:
        """The personalised blocks (text_blocks.py) chosen for this account on the issue date;
        a credit note carries none (it is no occasion for a message)."""
        if invoice.kind is DocumentKind.CREDIT_NOTE or not TextBlockStore(self._documents).all():
            return []
        from shared.invoicing.statement_service import StatementService  # late: it imports this module's peers

        statements = StatementService(self._documents, self._blobs, supplier=invoice.supplier, clock=lambda: now_utc())
        return statements.texts_for(invoice.account_id, None, on=invoice.issue_date)

    def deliver(self, *, invoice_id: str, account_id: str, now: datetime) -> Invoice:
        invoice = Invoice.from_json(self._invoices.get(invoice_id, account_id))
        if invoice.status is InvoiceStatus.DRAFT or not invoice.number:
            raise NotIssued(f"invoice {invoice_id} is a draft; only issued invoices are rendered")
        name = pdf_blob_name(invoice)
        stored: bytes | None = None
        if not self._blobs.exists(BLOB_INVOICES, name):
            pdf = render_invoice_pdf_fast(
                invoice,
                history=usage_history(self._invoices, invoice),
                locale=self.locale_for(invoice),
                payment=self._payment,
                texts=self.texts_for(invoice),
            )
            try:
                self._blobs.put(
                    BLOB_INVOICES,
                    name,
                    pdf,
                    content_type="application/pdf",
                    metadata={"invoiceNumber": invoice.number, "accountId": invoice.account_id},
                    overwrite=False,
                )
                stored = pdf
            except BlobAlreadyExists:
                pass  # a racing delivery stored it first; that one is the document of record
        if invoice.pdf_blob != name or invoice.sha256 is None:
            data = stored if stored is not None else self._blobs.get(BLOB_INVOICES, name).data
            digest = hashlib.sha256(data).hexdigest()
            invoice = self._update(
                invoice_id, account_id, lambda inv: replace(inv, pdf_blob=name, sha256=inv.sha256 or digest)
            )
        if invoice.emailed_at is None and invoice.customer.email:
            pdf = self._blobs.get(BLOB_INVOICES, name).data
            self._mailer.send(self._mail(invoice, pdf))
            invoice = self._update(invoice_id, account_id, lambda inv: _mark_sent(inv, now))
            log_event(log, "invoice e-mailed", invoice=invoice.number, to=invoice.customer.email)
        return invoice

    def _mail(self, invoice: Invoice, pdf: bytes) -> OutgoingMail:
        assert invoice.number and invoice.due_date
        period = f"{invoice.period_start:%-d %b %Y} to {invoice.last_day:%-d %b %Y}"
        if invoice.credits is not None:
            return self._credit_note_mail(invoice, pdf, period)
        text = (
            f"Dear {invoice.customer.name},\n\n"
            f"Your electricity bill {invoice.number} for {period} is attached.\n"
            f"Amount due: {invoice.amount_due} by {invoice.due_date:%-d %B %Y}.\n"
            f"Payment reference: {invoice.payment_reference}\n\n"
            f"{invoice.supplier.name}\n"
        )
        return OutgoingMail(
            to=invoice.customer.email or "",
            subject=f"Your bill {invoice.number} from {invoice.supplier.name}",
            text=text,
            sender=self._sender,
            message_key=f"invoice-{invoice.number}",
            attachments=(Attachment(f"{invoice.number}.pdf", "application/pdf", pdf),),
        )

    def _credit_note_mail(self, note: Invoice, pdf: bytes, period: str) -> OutgoingMail:
        assert note.number and note.credits
        text = (
            f"Dear {note.customer.name},\n\n"
            f"Credit note {note.number} for {period} is attached. It takes back invoice "
            f"{note.credits.number} of {note.credits.issue_date:%-d %B %Y} in full"
            + (f" ({note.reason})" if note.reason else "")
            + f".\nAmount credited to your account: {-note.total}. There is nothing to pay.\n\n"
            f"{note.supplier.name}\n"
        )
        return OutgoingMail(
            to=note.customer.email or "",
            subject=f"Credit note {note.number} from {note.supplier.name}",
            text=text,
            sender=self._sender,
            message_key=f"invoice-{note.number}",
            attachments=(Attachment(f"{note.number}.pdf", "application/pdf", pdf),),
        )

    def _update(self, invoice_id: str, account_id: str, change) -> Invoice:  # type: ignore[no-untyped-def]
        for _ in range(10):
            doc = self._invoices.get(invoice_id, account_id)
            updated = change(Invoice.from_json(doc))
            try:
                self._invoices.replace(updated.to_json(), etag=doc["_etag"])
                return updated
            except ConcurrencyConflict:
                continue
        raise ConcurrencyConflict(INVOICES.name, invoice_id, account_id)


def usage_history(invoices: Container, invoice: Invoice, *, periods: int = 13) -> list[tuple[date, Decimal]]:
    """The account's energy per billed period, oldest first, ending with ``invoice``'s: the
    chart customers compare months by. Read from the account's issued cycle invoices (the kWh
    they were billed for, so the chart and the bills agree); a period billed again after a
    correction counts once, at its latest invoice, and credited invoices not at all. Empty
    for a document with no energy on it, such as a completed sale or a credit note."""
    if invoice.is_credit_note or metered_kwh(invoice) is None:
        return []
    by_period: dict[date, Decimal] = {}
    for doc in invoices.query(partition=invoice.account_id, order_by="periodStart"):
        not_billed = doc["status"] in ("draft", InvoiceStatus.VOID.value, InvoiceStatus.CREDITED.value)
        if not_billed or doc.get("kind") == DocumentKind.CREDIT_NOTE:
            continue
        if doc["periodStart"] > invoice.period_start.isoformat() or doc["id"] == invoice.invoice_id:
            continue
        earlier = Invoice.from_json(doc)
        kwh = metered_kwh(earlier)
        if kwh is not None:
            by_period[earlier.period_start] = kwh
    own = metered_kwh(invoice)
    assert own is not None
    by_period[invoice.period_start] = own  # this invoice's own period is its own figure
    return sorted(by_period.items())[-periods:]


def metered_kwh(invoice: Invoice) -> Decimal | None:
    # The retail tariff's energy lines (the first kWh line's tariff): network pass-through
    # lines bill the same kWh again, and export credits are not consumption.
    energy = [line for line in invoice.lines if line.unit == "kWh"]
    if not energy:
        return None
    retail = energy[0].tariff_id
    return sum((line.quantity for line in energy if line.tariff_id == retail and line.amount.amount >= 0), Decimal(0))


def _mark_sent(invoice: Invoice, now: datetime) -> Invoice:
    status = InvoiceStatus.SENT if invoice.status is InvoiceStatus.ISSUED else invoice.status
    return replace(invoice, emailed_at=now, status=status)
