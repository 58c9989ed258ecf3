"""GET /v1/accounts/{id}/statement: the hand-worked account as JSON and as a kept PDF."""

from __future__ import annotations

import subprocess

import pytest
from fastapi.testclient import TestClient

from shared.api import statement_routes
from shared.api.app import create_app
from shared.resources import BLOB_STATEMENTS, INVOICES
from tests.invoicing.test_statement_pdf import ACCOUNT, seed_history

URL = f"/v1/accounts/{ACCOUNT}/statement"
OCTOBER = {"from": "2026-10-01", "to": "2026-10-31"}


@pytest.fixture
def client(platform):
    app = create_app(max_request_bytes=64 * 1024)
    app.include_router(statement_routes.router)
    seed_history(platform.documents)
    with TestClient(app) as test_client:
        yield test_client


def amounts(body: dict, *path: str) -> str:
    for key in path:
        body = body[key]
    return body["amount"]


def test_the_statement_as_json_worked_by_hand(client):
    response = client.get(URL, params=OCTOBER)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"], body["currency"], body["locale"]) == ("2026-10-01", "2026-10-31", "AUD", "en-AU")
    assert amounts(body, "openingBalance") == "70.00"
    rows = [
        (e["date"], e["kind"], e["reference"], e["amount"]["amount"], e["balance"]["amount"]) for e in body["entries"]
    ]
    assert rows == [
        ("2026-10-15", "invoice", "INV-2", "80.00", "150.00"),
        ("2026-10-20", "payment", "pi_2", "200.00", "-50.00"),
        ("2026-10-25", "refund", "pi_2", "30.00", "-20.00"),
    ]  # fmt: skip
    assert {k: v["amount"] for k, v in body["totals"].items()} == {
        "invoices": "80.00",
        "creditNotes": "0",
        "payments": "200.00",
        "refunds": "30.00",
        "chargebacks": "0",
    }
    assert amounts(body, "closingBalance") == "-20.00"
    assert amounts(body, "aging", "unappliedCredit") == "20.00"
    assert all(v["minor"] == 0 for v in body["aging"]["buckets"].values())
    assert body["balanceState"] == "in_credit"


def test_september_shows_the_part_paid_invoice_overdue(client):
    body = client.get(URL, params={"from": "2026-09-01", "to": "2026-09-30"}).json()
    assert amounts(body, "openingBalance") == "0" and amounts(body, "closingBalance") == "70.00"
    assert amounts(body, "aging", "buckets", "1-30") == "70.00"  # INV-1 due 29 Sep: 1 day past
    assert body["aging"]["openItems"] == [
        {"number": "INV-1", "dueDate": "2026-09-29", "open": {"amount": "70.00", "minor": 7000, "currency": "AUD"},
         "daysPastDue": 1, "bucket": "1-30"}
    ]  # fmt: skip
    assert body["balanceState"] == "overdue"


def test_a_credit_note_in_the_invoices_container_is_a_credit(client, platform):
    platform.documents.container(INVOICES.name).create(
        {"id": "cn-1", "accountId": ACCOUNT, "kind": "credit_note", "number": "CN-2026-000001",
         "credits": {"invoiceId": f"{ACCOUNT}:INV-2", "number": "INV-2", "issueDate": "2026-10-15"},
         "series": "CN-2026", "status": "issued", "issueDate": "2026-10-28", "currency": "AUD",
         "total": {"amount": "-12.50", "minor": -1250, "currency": "AUD"}}
    )  # fmt: skip
    body = client.get(URL, params=OCTOBER).json()
    assert body["entries"][-1] == {
        "date": "2026-10-28",
        "kind": "credit_note",
        "reference": "CN-2026-000001",
        "amount": {"amount": "12.50", "minor": 1250, "currency": "AUD"},
        "balance": {"amount": "-32.50", "minor": -3250, "currency": "AUD"},
        "dueDate": None,
        "credits": "INV-2",
    }
    assert amounts(body, "totals", "creditNotes") == "12.50" and amounts(body, "closingBalance") == "-32.50"


def test_the_pdf_is_kept_and_asking_again_returns_the_same_version(client, platform):
    first = client.get(URL, params={**OCTOBER, "format": "pdf"})
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
    assert first.headers["X-Statement-Version"] == "1"
    blob = platform.blobs.get(BLOB_STATEMENTS, first.headers["X-Statement-Blob"])
    assert blob.data == first.content and f'"{blob.metadata["sha256"]}"' == first.headers["ETag"]
    text = subprocess.run(["pdftotext", "-", "-"], input=first.content, capture_output=True, check=True).stdout
    assert "-$20.00" in text.decode()
    again = client.get(URL, params={**OCTOBER, "format": "pdf"})
    assert again.headers["X-Statement-Version"] == "1" and again.content == first.content


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-10-31", "to": "2026-10-01"}, "to"),
        ({"to": "2026-10-31"}, "from"),
        ({"from": "2026-10-01", "to": "31/10/2026"}, "to"),
        ({**OCTOBER, "format": "docx"}, "format"),
        ({"from": "2020-01-01", "to": "2026-10-31"}, "to"),
    ],
)
def test_bad_queries_are_refused_naming_the_parameter(client, params, field):
    response = client.get(URL, params=params)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == field


def test_an_unknown_account_is_404_and_a_broken_record_is_named(client, platform):
    assert client.get("/v1/accounts/ACC-404/statement", params=OCTOBER).status_code == 404
    platform.documents.container(INVOICES.name).create(
        {"id": "broken-1", "accountId": ACCOUNT, "number": "INV-9", "status": "issued", "issueDate": "2026-10-02"}
    )
    response = client.get(URL, params=OCTOBER)
    assert response.status_code == 409
    assert "'broken-1'" in response.json()["message"] and "total" in response.json()["message"]
    assert platform.blobs.list(BLOB_STATEMENTS) == []
