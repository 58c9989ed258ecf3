"""The invoice lifecycle: draft, issued, sent, partly paid, paid, overdue, credited. What is
stored, what is derived, and that an issued invoice's content never changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from shared.invoicing.credit_notes import CreditNotes
from shared.invoicing.delivery import InvoiceDelivery
from shared.invoicing.invoice import DocumentKind, Invoice, InvoiceStatus
from tests.invoicing.test_credit_notes import ACCOUNT, ISSUED_AT, aud, issue, october_draft, pay, stored

DUE = date(2026, 11, 16)  # issued 2 Nov on 14 days' terms


def issued() -> Invoice:
    return october_draft().issue(
        number="INV-2026-000001", issue_date=date(2026, 11, 2), due_date=DUE, issued_at=ISSUED_AT
    )


def test_overdue_is_the_due_date_passed_with_something_open_and_nothing_else():
    invoice = issued()
    assert invoice.status_on(DUE) is InvoiceStatus.ISSUED  # due today is not late
    assert invoice.status_on(DUE + timedelta(days=1)) is InvoiceStatus.OVERDUE
    sent = replace(invoice, status=InvoiceStatus.SENT, emailed_at=ISSUED_AT)
    assert sent.status_on(DUE + timedelta(days=1)) is InvoiceStatus.OVERDUE

    part = invoice.settle(paid=aud("40.00"), payments=("pi_1",))
    assert (part.status, part.amount_due) == (InvoiceStatus.PARTLY_PAID, aud("102.86"))
    assert part.status_on(DUE + timedelta(days=1)) is InvoiceStatus.OVERDUE

    paid = invoice.settle(paid=aud("142.86"), payments=("pi_1",))
    assert paid.status_on(DUE + timedelta(days=400)) is InvoiceStatus.PAID

    credited = invoice.settle(paid=aud("0"), payments=(), credited=aud("142.86"), credit_notes=("CN-2026-000001",))
    assert (credited.status, credited.amount_due) == (InvoiceStatus.CREDITED, aud("0"))
    assert credited.status_on(DUE + timedelta(days=30)) is InvoiceStatus.CREDITED


def test_overdue_is_never_stored():
    late = issued().status_on(DUE + timedelta(days=5))
    assert late is InvoiceStatus.OVERDUE
    assert issued().to_json()["status"] == "issued"
    # Whatever the ledger says, settling writes a stored status, never the derived one.
    for paid in ("0", "1.00", "142.86"):
        assert issued().settle(paid=aud(paid), payments=()).status is not InvoiceStatus.OVERDUE


def test_a_credit_note_is_never_paid_never_due_and_never_overdue():
    note = replace(issued(), kind=DocumentKind.CREDIT_NOTE, total=aud("-142.86"))
    settled = note.settle(paid=aud("-142.86"), payments=("x",))
    assert settled.status is InvoiceStatus.ISSUED and settled.amount_paid is None
    assert settled.amount_due == aud("0")
    assert settled.status_on(DUE + timedelta(days=365)) is InvoiceStatus.ISSUED
    sent = replace(note, emailed_at=ISSUED_AT).settle(paid=aud("0"), payments=())
    assert sent.status is InvoiceStatus.SENT


def test_a_settled_status_falls_back_to_sent_or_issued_when_a_refund_reopens_it():
    paid = issued().settle(paid=aud("142.86"), payments=("pi_1",))
    assert paid.settle(paid=aud("0"), payments=()).status is InvoiceStatus.ISSUED
    mailed = replace(paid, emailed_at=ISSUED_AT)
    assert mailed.settle(paid=aud("0"), payments=()).status is InvoiceStatus.SENT


def test_a_draft_is_neither_paid_nor_credited():
    with pytest.raises(ValueError, match="draft"):
        october_draft().settle(paid=aud("1.00"), payments=())


def test_a_document_stored_before_credit_notes_existed_reads_as_an_invoice():
    old = issued().to_json()
    for key in ("kind", "credits", "reason", "sha256", "amountCredited", "creditedBy"):
        del old[key]
    invoice = Invoice.from_json(old)
    assert invoice.kind is DocumentKind.INVOICE and not invoice.is_credit_note
    assert (invoice.credits, invoice.reason, invoice.sha256, invoice.amount_credited) == (None, None, None, None)
    assert invoice.credited_by == ()
    assert invoice == issued()


def test_every_new_field_survives_storage(platform):
    original = issue(platform, october_draft())
    note = CreditNotes(platform.documents, platform.bus).credit(original, reason="wrong tariff", now=ISSUED_AT)
    again = stored(platform, note.credit_note.invoice_id)
    assert again == note.credit_note
    assert Invoice.from_json(again.to_json()) == again
    assert again.to_json()["kind"] == "credit_note"
    assert again.to_json()["credits"] == {
        "invoiceId": original.invoice_id,
        "number": "INV-2026-000001",
        "issueDate": "2026-11-02",
    }


def content(invoice: Invoice) -> dict:
    """Everything printed as the invoice's content: what issuing fixes for good."""
    kept = ("lines", "taxes", "subtotal", "taxTotal", "total", "number", "issueDate", "dueDate", "issuedAt", "customer")
    return {k: invoice.to_json()[k] for k in kept}


def test_an_invoice_walks_its_lifecycle_and_its_content_never_changes(platform):
    draft = october_draft()
    assert draft.status is InvoiceStatus.DRAFT

    invoice = issue(platform, draft)
    assert invoice.status is InvoiceStatus.ISSUED and invoice.due_date == DUE
    first = content(invoice)

    delivery = InvoiceDelivery(platform.documents, platform.blobs, platform.mailer, sender="billing@example.com")
    sent = delivery.deliver(invoice_id=invoice.invoice_id, account_id=ACCOUNT, now=ISSUED_AT + timedelta(minutes=5))
    assert sent.status is InvoiceStatus.SENT and sent.sha256 and sent.pdf_blob

    pay(platform, invoice, "42.86", at=ISSUED_AT + timedelta(days=3))
    assert stored(platform, invoice.invoice_id).status is InvoiceStatus.PARTLY_PAID
    assert stored(platform, invoice.invoice_id).status_on(DUE + timedelta(days=1)) is InvoiceStatus.OVERDUE

    pay(platform, invoice, "100.00", at=ISSUED_AT + timedelta(days=20), payment_id="pi_2")
    paid = stored(platform, invoice.invoice_id)
    assert paid.status is InvoiceStatus.PAID and paid.amount_due == aud("0")
    assert paid.status_on(DUE + timedelta(days=1)) is InvoiceStatus.PAID

    CreditNotes(platform.documents, platform.bus).credit(
        paid, reason="moved out", now=datetime(2026, 12, 1, tzinfo=UTC)
    )
    credited = stored(platform, invoice.invoice_id)
    assert credited.status is InvoiceStatus.CREDITED and credited.amount_paid == aud("142.86")
    assert content(credited) == first
    assert (credited.sha256, credited.pdf_blob) == (sent.sha256, sent.pdf_blob)
