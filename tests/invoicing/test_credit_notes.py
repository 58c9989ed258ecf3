"""Credit notes: an issued invoice taken back in full by a numbered document of its own, which
the ledger counts as a credit, the API issues once, and the customer can read."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from shared.api import credit_note_routes
from shared.api.app import create_app
from shared.invoicing.credit_notes import CreditNotes, NotCreditable, credit_note_draft, credit_note_id_for
from shared.invoicing.delivery import InvoiceDelivery, pdf_blob_name
from shared.invoicing.invoice import DocumentKind, Invoice, InvoiceStatus, Party
from shared.invoicing.issuing import InvoiceIssuer
from shared.invoicing.numbering import InvoiceNumbering
from shared.money import Money
from shared.payments.facts import PaymentReceived
from shared.payments.ledger import payment_postings
from shared.payments.ledger_command import check_ledger
from shared.payments.ledger_store import LedgerStore
from shared.payments.projection import InvoiceProjection, settle_account
from shared.platform.blobs import BlobAlreadyExists
from shared.rating.lines import ChargeLine, TaxLine
from shared.resources import BLOB_INVOICES, INVOICES, NUMBERING

ACCOUNT = "ACC-200001"
SUPPLIER = Party("Harbour Energy Pty Ltd", ("Level 4, 1 Energy Way", "Sydney NSW 2000"), tax_id="12 345 678 901")
CUSTOMER = Party("Olivia Nguyen", ("14 Wattle Street", "Newtown NSW 2042"), email="olivia@example.com.au")
ISSUED_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def aud(amount: str) -> Money:
    return Money(Decimal(amount), "AUD")


def line(component: str, quantity: str, unit: str, rate: str, amount: str, start: date, end: date) -> ChargeLine:
    return ChargeLine(
        description={"supply": "Daily supply charge", "usage": "General usage"}[component],
        component_id=component,
        tariff_id="res-flat-2026",
        tariff_version="2026-07-01",
        period_start=start,
        period_end=end,
        quantity=Decimal(quantity),
        unit=unit,
        rate=Decimal(rate),
        amount=aud(amount),
        tax_code="GST",
        tax_rate=Decimal("0.10"),
    )


def october_draft(account_id: str = ACCOUNT, *, start: date = date(2026, 10, 1)) -> Invoice:
    """The sample flat-rate bill, by hand: 31 days x $1.0450 = $32.395 -> $32.40; 312 kWh x
    $0.3124 = $97.4688 -> $97.47; subtotal $129.87; GST 10 % = $12.987 -> $12.99; $142.86."""
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return Invoice(
        invoice_id=f"{account_id}:{start.isoformat()}",
        account_id=account_id,
        series="INV-2026",
        supplier=SUPPLIER,
        customer=CUSTOMER,
        service_point_id="4102003311",
        service_address="14 Wattle Street, Newtown NSW 2042",
        period_start=start,
        period_end=end,
        currency="AUD",
        lines=(
            line("supply", "31", "day", "1.0450", "32.40", start, end),
            line("usage", "312", "kWh", "0.3124", "97.47", start, end),
        ),
        taxes=(TaxLine("GST", Decimal("0.10"), aud("129.87"), aud("12.99")),),
        subtotal=aud("129.87"),
        tax_total=aud("12.99"),
        total=aud("142.86"),
        payment_reference="71000014",
    )


def draft_of(total: str, *, start: date, account_id: str = ACCOUNT) -> Invoice:
    """A one-line bill of ``total`` including no tax, for ledger arithmetic."""
    end = start + timedelta(days=30)
    return replace(
        october_draft(account_id, start=start),
        period_end=end,
        lines=(replace(line("supply", "1", "day", total, total, start, end), tax_code="FREE", tax_rate=Decimal(0)),),
        taxes=(TaxLine("FREE", Decimal(0), aud(total), aud("0")),),
        subtotal=aud(total),
        tax_total=aud("0"),
        total=aud(total),
    )


def issue(platform, draft: Invoice, *, at: datetime = ISSUED_AT) -> Invoice:
    invoices = platform.documents.container(INVOICES.name)
    issuer = InvoiceIssuer(invoices, InvoiceNumbering(platform.documents.container(NUMBERING.name)), platform.bus)
    issued = issuer.issue(draft, now=at, local_today=at.date(), payment_terms_days=14)
    settle_account(platform.documents, draft.account_id)
    return issued


def pay(platform, invoice: Invoice, amount: str, *, at: datetime, payment_id: str = "pi_1") -> None:
    fact = PaymentReceived("stripe", payment_id, aud(amount), at, reference=invoice.payment_reference)
    posting = payment_postings(fact, account_id=invoice.account_id, named_invoice_id=invoice.invoice_id, event_id=None)
    assert LedgerStore(platform.documents).add(posting, posted_at=at)
    settle_account(platform.documents, invoice.account_id)


def stored(platform, invoice_id: str, account_id: str = ACCOUNT) -> Invoice:
    return Invoice.from_json(platform.documents.container(INVOICES.name).get(invoice_id, account_id))


def position(platform, account_id: str = ACCOUNT):
    return InvoiceProjection(platform.documents, LedgerStore(platform.documents)).position(account_id)


def credit(platform, invoice: Invoice, *, reason: str = "Meter read corrected", at: datetime | None = None):
    return CreditNotes(platform.documents, platform.bus).credit(invoice, reason=reason, now=at or ISSUED_AT)


# --- the document ---------------------------------------------------------------------------


def test_a_credit_note_takes_back_every_line_negated_and_names_the_invoice_by_number_and_date():
    original = october_draft().issue(
        number="INV-2026-000007", issue_date=date(2026, 11, 2), due_date=date(2026, 11, 16), issued_at=ISSUED_AT
    )
    note = credit_note_draft(original, reason="  Meter   read corrected ", issue_day=date(2027, 1, 3))

    assert note.invoice_id == f"{ACCOUNT}:2026-10-01:credit" == credit_note_id_for(original.invoice_id)
    assert note.kind is DocumentKind.CREDIT_NOTE and note.status is InvoiceStatus.DRAFT and note.number is None
    assert note.series == "CN-2027"  # the year it is issued, not the year it credits
    assert (note.credits.number, note.credits.issue_date) == ("INV-2026-000007", date(2026, 11, 2))
    assert note.reason == "Meter read corrected"
    assert [(x.quantity, x.rate, x.amount) for x in note.lines] == [
        (Decimal(-31), Decimal("1.0450"), aud("-32.40")),
        (Decimal(-312), Decimal("0.3124"), aud("-97.47")),
    ]
    assert (note.taxes[0].base, note.taxes[0].tax) == (aud("-129.87"), aud("-12.99"))
    assert (note.subtotal, note.tax_total, note.total) == (aud("-129.87"), aud("-12.99"), aud("-142.86"))
    assert (note.period_start, note.period_end, note.payment_reference) == (
        original.period_start,
        original.period_end,
        original.payment_reference,
    )


@pytest.mark.parametrize(
    ("make", "reason", "field", "says"),
    [
        (lambda: october_draft(), "fix", "invoiceId", "is a draft"),
        (
            lambda: replace(
                october_draft().issue(
                    number="CN-2026-000001",
                    issue_date=date(2026, 11, 2),
                    due_date=date(2026, 11, 2),
                    issued_at=ISSUED_AT,
                ),
                kind=DocumentKind.CREDIT_NOTE,
            ),
            "fix",
            "invoiceId",
            "is a credit note itself",
        ),
        (
            lambda: replace(
                october_draft().issue(
                    number="INV-2026-000001",
                    issue_date=date(2026, 11, 2),
                    due_date=date(2026, 11, 9),
                    issued_at=ISSUED_AT,
                ),
                credited_by=("CN-2026-000004",),
            ),
            "fix",
            "invoiceId",
            "already credited by CN-2026-000004",
        ),
        (
            lambda: october_draft().issue(
                number="INV-2026-000001", issue_date=date(2026, 11, 2), due_date=date(2026, 11, 9), issued_at=ISSUED_AT
            ),
            "   ",
            "reason",
            "say why",
        ),
        (
            lambda: october_draft().issue(
                number="INV-2026-000001", issue_date=date(2026, 11, 2), due_date=date(2026, 11, 9), issued_at=ISSUED_AT
            ),
            "x" * 501,
            "reason",
            "501 characters",
        ),
    ],
    ids=["draft", "credit note", "already credited", "no reason", "reason too long"],
)
def test_what_cannot_be_credited_is_refused_naming_the_field(make, reason, field, says):
    with pytest.raises(NotCreditable) as refused:
        credit_note_draft(make(), reason=reason, issue_day=date(2026, 11, 20))
    assert refused.value.field == field and says in refused.value.message


# --- numbering and retries ------------------------------------------------------------------


def test_credit_notes_are_numbered_gaplessly_in_their_own_series_and_a_retry_finds_the_same_one(platform):
    first = issue(platform, october_draft(start=date(2026, 8, 1)))
    second = issue(platform, october_draft(start=date(2026, 9, 1)))
    third = issue(platform, october_draft(start=date(2026, 10, 1)))
    assert [first.number, second.number, third.number] == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]

    a = credit(platform, third)
    b = credit(platform, first)
    again = credit(platform, stored(platform, third.invoice_id), reason="asked twice")

    assert (a.credit_note.number, b.credit_note.number) == ("CN-2026-000001", "CN-2026-000002")
    assert a.created and b.created and not again.created
    assert again.credit_note.number == "CN-2026-000001" and again.credit_note.reason == "Meter read corrected"
    register = InvoiceNumbering(platform.documents.container(NUMBERING.name))
    assert [e["number"] for e in register.register("CN-2026")] == ["CN-2026-000001", "CN-2026-000002"]
    assert len(register.register("INV-2026")) == 3  # the invoice series is untouched
    notes = platform.documents.container(INVOICES.name).query({"kind": "credit_note"}, partition=ACCOUNT)
    assert len(notes) == 2


def test_a_worker_killed_after_taking_the_number_leaves_no_gap_when_the_retry_finishes(platform, monkeypatch):
    original = issue(platform, october_draft())
    real_claim = InvoiceNumbering.claim
    deaths: list[str] = []

    def dies_once(self, **kwargs):
        claimed = real_claim(self, **kwargs)
        if kwargs["series"] == "CN-2026" and not deaths:
            deaths.append(claimed.number)
            raise RuntimeError("worker killed after taking a number, before saving the credit note")
        return claimed

    monkeypatch.setattr(InvoiceNumbering, "claim", dies_once)
    notes = CreditNotes(platform.documents, platform.bus)
    with pytest.raises(RuntimeError):
        notes.credit(original, reason="wrong tariff", now=ISSUED_AT, message_id="m1", delivery=1)
    assert stored(platform, credit_note_id_for(original.invoice_id)).status is InvoiceStatus.DRAFT

    retried = notes.credit(original, reason="wrong tariff", now=ISSUED_AT, message_id="m1", delivery=2)

    assert retried.credit_note.number == deaths[0] == "CN-2026-000001"
    register = InvoiceNumbering(platform.documents.container(NUMBERING.name)).register("CN-2026")
    assert [e["invoiceId"] for e in register] == [credit_note_id_for(original.invoice_id)]


# --- the ledger -----------------------------------------------------------------------------


def test_an_open_invoice_credited_is_credited_not_paid_and_the_account_owes_nothing(platform):
    original = issue(platform, october_draft())
    assert position(platform).balance == aud("142.86")

    outcome = credit(platform, original)

    after = outcome.original
    assert after.status is InvoiceStatus.CREDITED and after.credited_by == ("CN-2026-000001",)
    assert after.amount_credited == aud("142.86") and after.amount_paid is None
    assert after.amount_due == aud("0")
    books = position(platform)
    assert books.balance == aud("0") and books.credit == aud("0")
    assert books.invoice(original.invoice_id).open == aud("0")
    assert books.invoice(original.invoice_id).paid == aud("0")
    report = check_ledger(platform.documents)
    assert report.balanced, report.problems
    assert report.postings == 2  # the invoice and the credit note


def test_a_paid_invoice_credited_becomes_account_credit_that_pays_the_next_invoice(platform):
    october = issue(platform, draft_of("100.00", start=date(2026, 10, 1)))
    pay(platform, october, "100.00", at=ISSUED_AT + timedelta(days=3))
    assert stored(platform, october.invoice_id).status is InvoiceStatus.PAID

    credit(platform, stored(platform, october.invoice_id), at=ISSUED_AT + timedelta(days=10))

    after = stored(platform, october.invoice_id)
    assert after.status is InvoiceStatus.CREDITED and after.amount_paid == aud("100.00")  # it was paid
    books = position(platform)
    assert (books.balance, books.credit) == (aud("-100.00"), aud("100.00"))  # the customer is in credit

    november = issue(platform, draft_of("60.00", start=date(2026, 11, 1)), at=ISSUED_AT + timedelta(days=30))

    books = position(platform)
    assert books.invoice(november.invoice_id).open == aud("0")
    assert books.invoice(november.invoice_id).paid_by == ("CN-2026-000001",)
    assert (books.balance, books.credit) == (aud("-40.00"), aud("40.00"))
    assert stored(platform, november.invoice_id).status is InvoiceStatus.PAID
    assert check_ledger(platform.documents).balanced


def test_a_credit_note_takes_its_own_invoice_off_not_an_older_open_one(platform):
    september = issue(platform, draft_of("50.00", start=date(2026, 9, 1)))
    october = issue(platform, draft_of("70.00", start=date(2026, 10, 1)), at=ISSUED_AT + timedelta(days=1))

    credit(platform, october, at=ISSUED_AT + timedelta(days=2))

    books = position(platform)
    assert books.invoice(september.invoice_id).open == aud("50.00")  # still owed
    assert books.invoice(october.invoice_id).open == aud("0")
    assert books.invoice(october.invoice_id).credited == aud("70.00")
    assert (books.balance, books.credit) == (aud("50.00"), aud("0"))
    assert stored(platform, september.invoice_id).status is InvoiceStatus.ISSUED
    assert check_ledger(platform.documents).balanced


def test_a_partly_paid_invoice_credited_leaves_what_was_paid_as_credit(platform):
    october = issue(platform, draft_of("80.00", start=date(2026, 10, 1)))
    pay(platform, october, "30.00", at=ISSUED_AT + timedelta(days=1))

    credit(platform, stored(platform, october.invoice_id), at=ISSUED_AT + timedelta(days=2))

    books = position(platform)
    # 80 owed, 30 paid: the credit note takes the open 50 off and the other 30 is credit.
    assert books.invoice(october.invoice_id).credited == aud("50.00")
    assert books.invoice(october.invoice_id).paid == aud("30.00")
    assert (books.balance, books.credit) == (aud("-30.00"), aud("30.00"))


# --- the API --------------------------------------------------------------------------------


@pytest.fixture
def client(platform):
    app = create_app(max_request_bytes=64 * 1024)
    app.include_router(credit_note_routes.router)
    with TestClient(app) as http:
        yield http


def test_the_api_credits_an_invoice_once_however_the_request_is_retried(platform, client):
    original = issue(platform, october_draft())
    url = f"/v1/accounts/{ACCOUNT}/invoices/{original.number}/credit-notes"

    first = client.post(url, json={"reason": "Wrong tariff"}, headers={"Idempotency-Key": "k1"})
    replayed = client.post(url, json={"reason": "Wrong tariff"}, headers={"Idempotency-Key": "k1"})
    other_key = client.post(url, json={"reason": "Asked again"}, headers={"Idempotency-Key": "k2"})
    reused = client.post(url, json={"reason": "Something else"}, headers={"Idempotency-Key": "k1"})

    assert first.status_code == 201, first.text
    body = first.json()
    assert body["creditNoteNumber"] == "CN-2026-000001" and body["total"] == "-142.86"
    assert body["credits"] == {"number": "INV-2026-000001", "status": "credited"}
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == body
    assert other_key.status_code == 200 and other_key.json()["creditNoteNumber"] == "CN-2026-000001"
    assert reused.status_code == 409
    assert len(platform.documents.container(INVOICES.name).query({"kind": "credit_note"})) == 1


@pytest.mark.parametrize(
    ("number", "body", "headers", "status", "error"),
    [
        ("INV-2026-000099", {"reason": "x"}, {"Idempotency-Key": "a"}, 404, "not_found"),
        ("INV-2026-000001", {"reason": "x"}, {}, 400, "idempotency_key_required"),
        ("INV-2026-000001", {"reason": ""}, {"Idempotency-Key": "b"}, 422, "validation_failed"),
        ("INV-2026-000001", {"reason": "x", "amount": "5"}, {"Idempotency-Key": "c"}, 422, "validation_failed"),
        ("CN-2026-000001", {"reason": "x"}, {"Idempotency-Key": "d"}, 422, "not_creditable"),
    ],
    ids=["unknown invoice", "no key", "empty reason", "unknown field", "a credit note"],
)
def test_the_api_refuses_what_it_cannot_credit_and_credits_nothing(
    platform, client, number, body, headers, status, error
):
    original = issue(platform, october_draft())
    credit(platform, issue(platform, october_draft(start=date(2026, 9, 1))))  # CN-2026-000001 exists
    answer = client.post(f"/v1/accounts/{ACCOUNT}/invoices/{number}/credit-notes", json=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == error
    assert stored(platform, original.invoice_id).status is InvoiceStatus.ISSUED
    assert len(platform.documents.container(INVOICES.name).query({"kind": "credit_note"})) == 1


def test_another_accounts_invoice_is_not_found(platform, client):
    original = issue(platform, october_draft())
    answer = client.post(
        f"/v1/accounts/ACC-999999/invoices/{original.number}/credit-notes",
        json={"reason": "x"},
        headers={"Idempotency-Key": "e"},
    )
    assert answer.status_code == 404
    assert stored(platform, original.invoice_id).status is InvoiceStatus.ISSUED


# --- the PDF --------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def test_a_credit_note_pdf_says_credit_note_names_the_original_and_prints_minus_signs(platform):
    original = issue(platform, october_draft())
    note = credit(platform, original, reason="Meter read corrected <b>by MDP</b>").credit_note
    delivery = InvoiceDelivery(platform.documents, platform.blobs, platform.mailer, sender="billing@example.com")

    delivered = delivery.deliver(invoice_id=note.invoice_id, account_id=ACCOUNT, now=ISSUED_AT)

    blob = platform.blobs.get(BLOB_INVOICES, delivered.pdf_blob)
    assert delivered.pdf_blob == pdf_blob_name(note) == f"2026/{ACCOUNT}/CN-2026-000001.pdf"
    assert delivered.sha256 == hashlib.sha256(blob.data).hexdigest()
    text = pdf_text(blob.data)
    assert "Adjustment note" in text and "CN-2026-000001" in text  # the ATO's words
    assert "INV-2026-000001" in text and "2 Nov 2026" in text  # the original's number and date
    assert "takes back invoice INV-2026-000001 of 2 Nov 2026 in full" in text
    assert "Meter read corrected <b>by MDP</b>" in text  # printed as text, not markup
    assert "-$142.86" in text and "-$97.47" in text and "-$12.99" in text
    assert "No payment needed" in text
    assert "Payment slip" not in text and "Please pay by" not in text
    mail = sorted(platform.settings.mail_dir.glob("*.eml"))
    assert len(mail) == 1 and "Credit note CN-2026-000001" in mail[0].read_text()


def test_a_stored_pdf_keeps_its_first_hash_when_the_render_runs_again(platform, monkeypatch):
    original = issue(platform, october_draft())
    delivery = InvoiceDelivery(platform.documents, platform.blobs, platform.mailer, sender="billing@example.com")
    name = pdf_blob_name(original)
    # A racing worker stored its render first; ours must not replace it or take its own hash.
    platform.blobs.put(BLOB_INVOICES, name, b"%PDF-1.7 first render", content_type="application/pdf")
    monkeypatch.setattr(platform.blobs, "exists", lambda container, blob: False)

    first = delivery.deliver(invoice_id=original.invoice_id, account_id=ACCOUNT, now=ISSUED_AT)
    again = delivery.deliver(invoice_id=original.invoice_id, account_id=ACCOUNT, now=ISSUED_AT)

    expected = hashlib.sha256(b"%PDF-1.7 first render").hexdigest()
    assert first.sha256 == again.sha256 == expected
    assert platform.blobs.get(BLOB_INVOICES, name).data == b"%PDF-1.7 first render"
    with pytest.raises(BlobAlreadyExists):
        platform.blobs.put(BLOB_INVOICES, name, b"other", content_type="application/pdf", overwrite=False)
