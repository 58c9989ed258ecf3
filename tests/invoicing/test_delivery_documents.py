"""What the render handler prints for whom: the customer's language, the retailer's payment
details from the settings, and the personalised text blocks chosen for the account."""

from __future__ import annotations

import subprocess
from datetime import date

import pytest

from shared.demo.sample_utility import seed_sample_utility
from shared.invoicing.text_block_store import TextBlockStore
from shared.invoicing.text_blocks import block_from_request
from shared.resources import BLOB_INVOICES, CUSTOMERS
from tests.invoicing.test_bill_runs import issued, load_month_data

AS_OF = "2026-11-02T09:00:00+00:00"


def text_of(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode()


@pytest.fixture
def utility(platform):
    seed_sample_utility(platform.documents)
    load_month_data(platform, first=date(2026, 9, 30), months=[date(2026, 10, 1), date(2026, 11, 1)])
    return platform


def bill_one(platform, api, account_id: str) -> dict:
    assert api.post("/v1/bill-runs", json={"asOf": AS_OF, "accountIds": [account_id]}).status_code == 202
    platform.bus.drain()
    [invoice] = [d for d in issued(platform) if d["accountId"] == account_id]
    return invoice


def pdf_text(platform, invoice: dict) -> str:
    return text_of(platform.blobs.get(BLOB_INVOICES, invoice["pdfBlob"]).data)


def test_a_customer_who_reads_polish_gets_the_invoice_in_polish(utility, api):
    customers = utility.documents.container(CUSTOMERS.name)
    doc = customers.get("CUS-100001", "CUS-100001")
    customers.replace({**doc, "language": "pl-PL"}, etag=doc["_etag"])
    text = pdf_text(utility, bill_one(utility, api, "ACC-100001"))
    # Polish words, Australian law: still titled a tax invoice for the ATO.
    assert "SPRZEDAWCA" in text and "Strona 2 z 2" in text and "Faktura (Tax invoice)" in text
    # The other customers keep English.
    english = pdf_text(utility, bill_one(utility, api, "ACC-100002"))
    assert "SPRZEDAWCA" not in english and "Page 2 of 2" in english


def test_the_biller_code_from_the_settings_is_printed(tmp_path, clock):
    from fastapi.testclient import TestClient

    from shared.api.app import create_app
    from shared.bootstrap import build_platform
    from shared.config import load_settings
    from shared.runtime import use_platform

    platform = build_platform(load_settings(data_dir=tmp_path / "var", bpay_biller_code="987654"), clock=clock)
    use_platform(platform)
    try:
        seed_sample_utility(platform.documents)
        load_month_data(platform, first=date(2026, 9, 30), months=[date(2026, 10, 1), date(2026, 11, 1)])
        with TestClient(create_app()) as api:
            text = pdf_text(platform, bill_one(platform, api, "ACC-100001"))
        assert "987654" in text
    finally:
        use_platform(None)
        platform.close()


def test_a_text_block_for_the_segment_is_printed_on_the_invoice_and_escaped(utility, api):
    store = TextBlockStore(utility.documents)
    store.create(
        block_from_request(
            "winter-tip",
            {
                "placement": "invoice-bottom",
                "texts": {"en-AU": "Winter is coming, {first_name}: ask about <b>hot water</b> timers."},
            },
        )
    )
    store.create(
        block_from_request("statement-only", {"placement": "statement", "texts": {"en-AU": "Statement words"}})
    )
    text = pdf_text(utility, bill_one(utility, api, "ACC-100001"))
    assert "ask about <b>hot water</b> timers." in " ".join(text.split())
    assert "Statement words" not in text
