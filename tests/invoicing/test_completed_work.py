"""A completed installation is invoiced at once, from the catalog's price on the day."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from shared.catalog.product import new_product
from shared.catalog.service import CatalogService
from shared.demo.sample_utility import seed_sample_utility
from shared.resources import BLOB_INVOICES, INVOICES

INSTALL = {
    "workId": "WO-2026-0412",
    "kind": "installation",
    "completedOn": "2026-11-20",
    "items": [
        {"productId": "HWS-HP-270", "quantity": "1"},
        {"productId": "LAB-HOUR", "quantity": "3.5", "note": "two technicians"},
        {"productId": "PERMIT-PLUMB", "quantity": "1"},
    ],
}


@pytest.fixture
def utility(platform):
    seed_sample_utility(platform.documents)
    catalog = CatalogService(platform.documents, clock=platform.clock)
    common = {"active_from": date(2026, 1, 1), "currency": "AUD"}
    catalog.create(
        new_product(
            product_id="HWS-HP-270",
            name="Heat pump hot water 270 L",
            kind="hardware",
            unit="each",
            tax_code="GST",
            price="3890.00",
            stock_item_id="STK-HP270",
            **common,
        ),
        by="test",
    )
    catalog.create(
        new_product(
            product_id="LAB-HOUR",
            name="Installation labour",
            kind="service",
            unit="hour",
            tax_code="GST",
            price="95.00",
            **common,
        ),
        by="test",
    )
    catalog.create(
        new_product(
            product_id="PERMIT-PLUMB",
            name="Plumbing permit fee",
            kind="service",
            unit="each",
            tax_code="GST-FREE",
            price="45.10",
            **common,
        ),
        by="test",
    )
    # A price rise next year must not reach back to November's installation.
    _, etag = catalog.get("HWS-HP-270")
    catalog.update("HWS-HP-270", {"price": "4100.00", "priceValidFrom": date(2027, 1, 1)}, etag=etag, by="test")
    return platform


def invoices(platform) -> list[dict]:
    return [d for d in platform.documents.container(INVOICES.name).query() if d["status"] != "draft"]


def test_an_installation_is_invoiced_at_once_at_the_day_s_prices(utility, api):
    response = api.post("/v1/accounts/ACC-100002/completed-work", json=INSTALL)
    assert response.status_code == 201, response.text
    body = response.json()
    # 1 x 3890.00 + 3.5 h x 95.00 = 332.50 (GST) and 45.10 (GST-free): subtotal 4267.60;
    # GST 10 % of 4222.50 = 422.25; total 4689.85.
    assert (body["invoiceNumber"], body["total"]) == ("INV-2026-000001", "4689.85")
    [invoice] = invoices(utility)
    assert [(line["quantity"], line["rate"], line["amount"]["amount"]) for line in invoice["lines"]] == [
        ("1", "3890.00", "3890.00"),
        ("3.5", "95.00", "332.50"),
        ("1", "45.10", "45.10"),
    ]
    assert [(t["taxCode"], t["base"]["amount"], t["tax"]["amount"]) for t in invoice["taxes"]] == [
        ("GST", "4222.50", "422.25"),
        ("GST-FREE", "45.10", "0.00"),
    ]
    assert Decimal(invoice["subtotal"]["amount"]) + Decimal(invoice["taxTotal"]["amount"]) == Decimal("4689.85")

    utility.bus.drain()
    [invoice] = invoices(utility)
    pdf = utility.blobs.get(BLOB_INVOICES, invoice["pdfBlob"])
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "INV-2026-000001" in text and "Heat pump hot water 270 L" in text and "4,689.85" in text


def test_the_same_completion_reported_twice_is_one_invoice(utility, api):
    first = api.post("/v1/accounts/ACC-100002/completed-work", json=INSTALL).json()
    again = api.post("/v1/accounts/ACC-100002/completed-work", json=INSTALL).json()
    assert first == again
    utility.bus.drain()
    assert len(invoices(utility)) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"items": [{"productId": "HWS-HP-270", "quantity": "1"}, {"productId": "NOPE", "quantity": "1"}]},
            "items.1.productId",
        ),
        ({"completedOn": "2025-12-31"}, "items.0.productId"),  # before the product was sold
        ({"items": [{"productId": "LAB-HOUR", "quantity": "0"}]}, "items.0.quantity"),
        ({"items": [{"productId": "LAB-HOUR", "quantity": "1", "price": "1"}]}, "items.0.price"),
        ({"total": "1.00"}, "total"),
    ],
)
def test_work_that_cannot_be_priced_is_refused_and_takes_no_number(utility, api, change, field):
    response = api.post("/v1/accounts/ACC-100002/completed-work", json={**INSTALL, **change})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert invoices(utility) == []
    ok = api.post("/v1/accounts/ACC-100002/completed-work", json={**INSTALL, "workId": "WO-2"}).json()
    assert ok["invoiceNumber"] == "INV-2026-000001"  # the refusal left no gap


def test_an_unknown_account_is_a_404(utility, api):
    assert api.post("/v1/accounts/ACC-999999/completed-work", json=INSTALL).status_code == 404
