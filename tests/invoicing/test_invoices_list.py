"""``invoices list``: every issued invoice and credit note with the fields finance scripts
read, open amounts from the ledger, statuses as of today in the customer's time zone."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from shared.invoicing.credit_notes import CreditNotes
from shared.invoicing.delivery import InvoiceDelivery
from shared.invoicing.invoices_command import UnknownStatus, run_invoices_list
from shared.payments.facts import PaymentReceived
from shared.payments.ledger import payment_postings
from shared.payments.ledger_store import LedgerStore
from shared.resources import BLOB_INVOICES, INVOICES, SERVICE_POINTS
from tests.invoicing.test_credit_notes import ACCOUNT, ISSUED_AT, aud, draft_of, issue, october_draft, pay

REQUIRED = {
    "number", "series", "kind", "account", "period_start", "period_end", "subtotal", "tax", "total",
    "currency", "status", "open_amount", "payment_reference", "blob_path", "sha256",
}  # fmt: skip
FIRST_VERSION = {"number", "accountId", "periodStart", "periodEnd", "total", "currency", "status", "pdf"}
OTHER = "ACC-200002"


def sydney(platform) -> None:
    platform.documents.container(SERVICE_POINTS.name).upsert(
        {"id": "4102003311", "servicePointId": "4102003311", "timeZone": "Australia/Sydney"}
    )


@pytest.fixture
def book(platform):
    """October credited (and its credit note rendered), November open, another account's
    invoice, and a draft that must not be listed."""
    sydney(platform)
    october = issue(platform, october_draft())
    note = CreditNotes(platform.documents, platform.bus).credit(october, reason="wrong tariff", now=ISSUED_AT)
    delivery = InvoiceDelivery(platform.documents, platform.blobs, platform.mailer, sender="billing@example.com")
    delivery.deliver(invoice_id=note.credit_note.invoice_id, account_id=ACCOUNT, now=ISSUED_AT)
    issue(platform, draft_of("60.00", start=date(2026, 11, 1)))
    issue(platform, october_draft(OTHER))
    platform.documents.container(INVOICES.name).create(
        october_draft(account_id=ACCOUNT, start=date(2026, 12, 1)).to_json()
    )
    return platform


def test_every_issued_document_is_listed_with_the_stable_fields(book):
    rows, status = run_invoices_list(book, status=None, account=None, now=ISSUED_AT + timedelta(days=1))

    assert status == 0
    assert [r["number"] for r in rows] == ["CN-2026-000001", "INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
    for row in rows:
        assert set(row) >= REQUIRED | FIRST_VERSION
    note, october, november, other = rows
    assert {k: note[k] for k in ("series", "kind", "account", "subtotal", "tax", "total", "open_amount")} == {
        "series": "CN-2026",
        "kind": "credit_note",
        "account": ACCOUNT,
        "subtotal": "-129.87",
        "tax": "-12.99",
        "total": "-142.86",
        "open_amount": "0.00",
    }
    assert note["credits"] == "INV-2026-000001" and note["reason"] == "wrong tariff"
    assert note["status"] == "sent"  # rendered and e-mailed
    blob = book.blobs.get(BLOB_INVOICES, note["pdf"])
    assert note["blob_path"] == f"invoices/2026/{ACCOUNT}/CN-2026-000001.pdf"
    assert note["sha256"] == hashlib.sha256(blob.data).hexdigest()
    assert {k: october[k] for k in ("kind", "status", "total", "open_amount", "credited_by")} == {
        "kind": "invoice",
        "status": "credited",
        "total": "142.86",
        "open_amount": "0.00",
        "credited_by": ["CN-2026-000001"],
    }
    assert (october["period_start"], october["period_end"]) == ("2026-10-01", "2026-11-01")
    assert (october["blob_path"], october["sha256"]) == (None, None)  # not rendered yet
    assert (november["total"], november["tax"], november["open_amount"]) == ("60.00", "0.00", "60.00")
    assert (other["account"], other["status"], other["payment_reference"]) == (OTHER, "issued", "71000014")
    assert (october["accountId"], october["periodStart"], october["periodEnd"]) == (ACCOUNT, "2026-10-01", "2026-11-01")


def test_open_amounts_come_from_the_ledger_even_when_the_cache_on_the_invoice_lags(book):
    [november] = [r for r in run_invoices_list(book, status=None, account=ACCOUNT)[0] if r["number"].endswith("02")]
    # A payment posted, but the invoices' cached status not yet refreshed.
    fact = PaymentReceived("stripe", "pi_9", aud("25.50"), ISSUED_AT + timedelta(days=2), reference="71000014")
    LedgerStore(book.documents).add(
        payment_postings(fact, account_id=ACCOUNT, named_invoice_id=f"{ACCOUNT}:2026-11-01", event_id=None),
        posted_at=ISSUED_AT,
    )
    rows, _ = run_invoices_list(book, status=None, account=ACCOUNT, now=ISSUED_AT + timedelta(days=2))
    [after] = [r for r in rows if r["number"] == november["number"]]
    assert (after["status"], after["open_amount"]) == ("partly_paid", "34.50")  # 60.00 - 25.50


def test_overdue_is_derived_on_the_customers_local_day_and_filters_like_any_status(book):
    # Due 16 Nov. 13:30 UTC on 16 Nov is already 00:30 on 17 Nov in Sydney (AEDT, UTC+11).
    before = datetime(2026, 11, 16, 12, 30, tzinfo=UTC)
    after = datetime(2026, 11, 16, 13, 30, tzinfo=UTC)

    def statuses(now: datetime, **kw) -> dict[str, str]:
        rows, _ = run_invoices_list(book, now=now, **{"status": None, "account": None, **kw})
        return {r["number"]: r["status"] for r in rows}

    assert statuses(before)["INV-2026-000002"] == "issued"
    assert statuses(after) == {
        "CN-2026-000001": "sent",
        "INV-2026-000001": "credited",  # credited is never overdue
        "INV-2026-000002": "overdue",
        "INV-2026-000003": "overdue",
    }
    assert statuses(after, status="overdue", account=ACCOUNT) == {"INV-2026-000002": "overdue"}
    assert statuses(after, status="credited") == {"INV-2026-000001": "credited"}
    assert statuses(after, account="ACC-NOBODY") == {}

    pay(book, issue_of(book, "INV-2026-000002"), "60.00", at=after)
    assert statuses(after + timedelta(days=3), status="paid") == {"INV-2026-000002": "paid"}


def issue_of(platform, number: str):
    from shared.invoicing.invoice import Invoice

    [doc] = platform.documents.container(INVOICES.name).query({"number": number})
    return Invoice.from_json(doc)


def test_an_unknown_status_is_refused_naming_the_choices(book):
    choices = "issued, sent, partly_paid, paid, credited, overdue"
    with pytest.raises(UnknownStatus) as late:
        run_invoices_list(book, status="late", account=None)
    assert str(late.value) == f"--status 'late': use one of {choices}"
    with pytest.raises(UnknownStatus) as draft:  # drafts are not issued documents
        run_invoices_list(book, status="draft", account=None)
    assert str(draft.value) == f"--status 'draft': use one of {choices}"


def test_an_unreadable_document_is_named_and_every_other_one_still_listed(book, caplog):
    broken = {**october_draft(OTHER, start=date(2026, 9, 1)).to_json(), "status": "issued", "number": "INV-2026-000099"}
    del broken["total"]
    book.documents.container(INVOICES.name).create(broken)

    with caplog.at_level(logging.ERROR):
        rows, status = run_invoices_list(book, status=None, account=None)

    assert status == 1
    assert len(rows) == 4 and "INV-2026-000099" not in {r["number"] for r in rows}
    assert "INV-2026-000099" in caplog.text and OTHER in caplog.text
