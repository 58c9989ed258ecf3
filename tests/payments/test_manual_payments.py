"""Cash and agent payments entered by operators: ``POST /v1/payments/manual``.

Books as in ``test_bank_statements.seed_books``: ACC-1 (CRN 71000012) owes INV-1 100.00 and
INV-2 50.00 AUD; ACC-NO (KID 12345678903) is billed in NOK.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.money import Money
from shared.payments.ledger_command import check_ledger
from shared.resources import UNMATCHED_PAYMENTS
from tests.payments.support import invoice_now, posting_docs
from tests.payments.test_bank_statements import bank_api, books  # noqa: F401 - fixtures

RECEIVED_AT = "2026-11-02T08:30:00+11:00"  # before the clock's 09:00 UTC


def cash(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "channel": "cash",
        "branch": "SYD",
        "receiptNumber": "R-1001",
        "amount": "120.00",
        "currency": "AUD",
        "paymentReference": "71000012",
        "receivedAt": RECEIVED_AT,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def post(api, body, key: str | None = "key-1"):
    headers = {"Idempotency-Key": key} if key else {}
    return api.post("/v1/payments/manual", json=body, headers=headers)


def test_a_cash_payment_posts_to_the_account_of_its_reference(bank_api, books):  # noqa: F811
    answer = post(bank_api, cash())

    assert answer.status_code == 201
    assert answer.json()["status"] == "posted" and answer.json()["accountId"] == "ACC-1"
    assert answer.json()["paymentKey"] == "cash:SYD:R-1001"
    # 120.00 pays INV-1 (100.00) and 20.00 of INV-2 (50.00).
    assert invoice_now(books.documents, books.invoices["INV-2"]).amount_paid == Money(Decimal("20.00"), "AUD")
    (payment,) = posting_docs(books.documents, type="payment")
    assert [(p["ledgerAccount"], p["side"]) for p in payment["postings"]] == [
        ("clearing:cash:SYD", "debit"),
        ("receivable", "credit"),
    ]
    assert check_ledger(books.documents).balanced


def test_an_agent_payment_is_the_agents_own_channel(bank_api, books):  # noqa: F811
    answer = post(bank_api, cash(channel="agent", agentId="AG-7", receiptNumber="A-55", amount="10"))

    assert answer.status_code == 201 and answer.json()["paymentKey"] == "agent:AG-7:A-55"
    (payment,) = posting_docs(books.documents, type="payment")
    assert payment["postings"][0]["ledgerAccount"] == "clearing:agent:AG-7"


def test_a_retry_is_answered_once_and_the_receipt_posts_once_whatever_the_key(bank_api, books):  # noqa: F811
    first = post(bank_api, cash())
    retry = post(bank_api, cash())
    other_key = post(bank_api, cash(), key="key-2")

    assert first.status_code == 201
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert other_key.status_code == 200 and other_key.json()["status"] == "already-posted"
    assert len(posting_docs(books.documents, type="payment")) == 1


def test_the_same_receipt_with_another_amount_is_a_conflict_naming_the_receipt(bank_api, books):  # noqa: F811
    post(bank_api, cash())
    answer = post(bank_api, cash(amount="12.00"), key="key-2")

    assert answer.status_code == 409
    assert answer.json()["errors"][0]["field"] == "receiptNumber"
    assert "AUD 120.00" in answer.json()["message"]
    assert len(posting_docs(books.documents, type="payment")) == 1


def test_the_same_key_with_another_body_is_refused(bank_api):  # noqa: F811
    post(bank_api, cash())
    answer = post(bank_api, cash(amount="1.00"))
    assert answer.status_code == 409 and answer.json()["error"] == "idempotency_key_reused"


def test_without_an_idempotency_key_nothing_is_posted(bank_api, books):  # noqa: F811
    answer = post(bank_api, cash(), key=None)
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "Idempotency-Key"
    assert posting_docs(books.documents) == []


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"channel": "cheque"}, 422, "channel"),
        ({"amount": "12,50"}, 422, "amount"),
        ({"amount": 12.5}, 422, "amount"),  # a float: money is a decimal string
        ({"amount": "0.00"}, 422, "amount"),
        ({"currency": "SEK"}, 422, "currency"),
        ({"branch": "SYD/1"}, 422, "branch"),
        ({"receiptNumber": None}, 422, "receiptNumber"),
        ({"receivedAt": "2026-11-02T08:30:00"}, 422, "receivedAt"),  # no UTC offset
        ({"receivedAt": "2026-11-03T08:30:00+00:00"}, 422, "receivedAt"),  # after now
        ({"channel": "agent"}, 422, "agentId"),
        ({"paymentReference": "71000013"}, 422, "paymentReference"),  # check digit should be 2
        ({"paymentReference": "ACC-1"}, 422, "paymentReference"),
        ({"currency": "NOK"}, 422, "currency"),  # ACC-1 is billed in AUD
        ({"invoiceNumber": "INV-9"}, 422, "invoiceNumber"),
        ({"surprise": 1}, 422, "surprise"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field_and_posts_nothing(bank_api, books, overrides, status, field):  # noqa: F811
    answer = post(bank_api, cash(**overrides))

    assert answer.status_code == status, answer.json()
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert posting_docs(books.documents) == []


def test_a_reference_naming_nobody_is_held_in_suspense_and_queued(bank_api, books):  # noqa: F811
    answer = post(bank_api, cash(paymentReference="12345674", payerName="C Stranger"))

    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "unmatched" and body["accountId"] == "unallocated"
    (item,) = books.documents.container(UNMATCHED_PAYMENTS.name).query(partition="cash")
    assert item["id"] == body["unmatchedId"]
    assert (item["reasonCode"], item["payerName"], item["amount"]["amount"]) == (
        "unknown_reference",
        "C Stranger",
        "120.00",
    )
    assert "cash receipt R-1001 at branch SYD" in item["source"]


def test_a_payment_without_a_reference_is_held_in_suspense(bank_api, books):  # noqa: F811
    answer = post(bank_api, cash(paymentReference=None))
    assert answer.status_code == 201 and answer.json()["status"] == "unmatched"
    assert "quotes no payment reference" in answer.json()["message"]


def test_a_named_invoice_is_paid_first(bank_api, books):  # noqa: F811
    answer = post(bank_api, cash(amount="50.00", invoiceNumber="INV-2"))

    assert answer.status_code == 201
    assert invoice_now(books.documents, books.invoices["INV-2"]).amount_paid == Money(Decimal("50.00"), "AUD")
    assert invoice_now(books.documents, books.invoices["INV-1"]).amount_paid is None
