"""Reliability items 26-28: an issued invoice is never edited, its number is never set by a
caller, and its PDF is written once."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from shared.demo.sample_utility import seed_sample_utility
from shared.invoicing.delivery import InvoiceDelivery
from shared.resources import BLOB_INVOICES, INVOICES, NUMBERING
from tests.invoicing.test_bill_runs import issued, load_month_data

AS_OF = "2026-11-02T09:00:00+00:00"


@pytest.fixture
def billed(platform, api):
    seed_sample_utility(platform.documents)
    load_month_data(platform, first=date(2026, 9, 30), months=[date(2026, 10, 1), date(2026, 11, 1)])
    assert api.post("/v1/bill-runs", json={"asOf": AS_OF, "accountIds": ["ACC-100001"]}).status_code == 202
    platform.bus.drain()
    [invoice] = issued(platform)
    return invoice


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_changing_or_deleting_an_issued_invoice_is_a_409_and_changes_nothing(platform, api, billed, method):
    url = f"/v1/accounts/ACC-100001/invoices/{billed['number']}"
    body = {"total": {"amount": "0.01", "currency": "AUD"}, "number": "INV-2026-999999", "status": "paid"}
    response = api.request(method.upper(), url, json=body)
    assert response.status_code == 409
    assert response.json()["error"] == "invoice_immutable" and "credit note" in response.json()["message"]
    assert api.get(url).json() == {k: v for k, v in billed.items() if not k.startswith("_")}


def test_another_accounts_invoice_is_not_found_rather_than_refused(api, billed):
    # No oracle: ACC-100002 cannot learn that ACC-100001 has this number.
    assert api.delete(f"/v1/accounts/ACC-100002/invoices/{billed['number']}").status_code == 404


@pytest.mark.parametrize("method", ["put", "post", "delete"])
def test_an_issued_invoices_pdf_cannot_be_replaced(platform, api, billed, method):
    url = f"/v1/accounts/ACC-100001/invoices/{billed['number']}/pdf"
    before = api.get(url).content
    response = api.request(method.upper(), url, content=b"%PDF-1.7 forged", headers={"Content-Type": "application/pdf"})
    assert response.status_code == 409
    assert api.get(url).content == before and before.startswith(b"%PDF")


def test_rendering_again_never_overwrites_the_stored_pdf(platform, billed):
    stored = platform.blobs.get(BLOB_INVOICES, billed["pdfBlob"]).data
    delivery = InvoiceDelivery(platform.documents, platform.blobs, platform.mailer, sender="billing@example.test")
    # Eight workers redelivering the render message at once: one PDF, the first one.
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda _: delivery.deliver(invoice_id=billed["id"], account_id="ACC-100001", now=platform.clock()),
                range(8),
            )
        )
    again = platform.blobs.get(BLOB_INVOICES, billed["pdfBlob"]).data
    assert hashlib.sha256(again).digest() == hashlib.sha256(stored).digest()
    # The customer got one e-mail: the sample account has an address, the folder mailer one file per mail.
    assert len(list(platform.settings.mail_dir.rglob("*.eml"))) == 1


def test_no_api_path_sets_a_number(platform, api, billed):
    # A completed-work invoice cannot be given a number (or a total) by its caller.
    work = {"workId": "W-1", "kind": "sale", "completedOn": "2026-11-02", "items": [], "number": "INV-2026-000001"}
    response = api.post("/v1/accounts/ACC-100001/completed-work", json=work)
    assert response.status_code == 422
    assert "number" in {e["field"] for e in response.json()["errors"]}
    # The register holds exactly the one number issued, for the invoice that holds it.
    register = platform.documents.container(NUMBERING.name).query()
    claims = [d for d in register if d.get("invoiceId")]
    assert [(d["number"], d["invoiceId"]) for d in claims] == [(billed["number"], billed["id"])]
    assert len(platform.documents.container(INVOICES.name).query()) == 1
