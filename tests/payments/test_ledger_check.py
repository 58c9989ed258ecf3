"""`ledger check`: the counts on a sound ledger, and each kind of damage found and named."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from shared.money import Money
from shared.payments.facts import PaymentReceived, RefundIssued
from shared.payments.ledger import payment_postings, reversal_postings
from shared.payments.ledger_command import check_ledger, run_ledger_check_command
from shared.payments.processing import EventProcessor
from shared.payments.stripe_webhook import StripeWebhook
from shared.resources import INVOICES, PAYMENTS
from shared.runtime import use_platform
from tests.payments.support import (
    charge_refunded,
    issue_invoice,
    ledger_platform,
    payment_intent_succeeded,
    seed_account,
    stripe_signature,
)

T = datetime(2026, 11, 2, tzinfo=UTC)
KEYS = ["balanced", "postings", "payments", "accounts", "problems"]


@pytest.fixture
def books(tmp_path, clock):
    platform = ledger_platform(tmp_path, clock)
    use_platform(platform)
    yield platform
    use_platform(None)
    platform.close()


def deliver(books, raw: bytes) -> None:
    webhook = StripeWebhook(
        books.documents, books.bus, secrets=books.settings.stripe_webhook_secrets, tolerance_seconds=300
    )
    webhook.receive(raw, stripe_signature(raw), now=books.clock())
    books.bus.drain()


@pytest.fixture
def trading(books):
    """ACC-1: two invoices, a payment and a partial refund; and money nobody claimed."""
    seed_account(books.documents, "ACC-1", "71000019")
    for number, cents, month in (("INV-1", 10000, 9), ("INV-2", 5000, 10)):
        issue_invoice(
            books.documents,
            account_id="ACC-1",
            number=number,
            total_cents=cents,
            issue_date=date(2026, month, 1),
            reference="71000019",
        )
    deliver(books, payment_intent_succeeded("evt_1", "pi_1", 12000, "71000019", charge="ch_1"))
    deliver(books, charge_refunded("evt_2", "ch_1", "pi_1", 12000, [("re_1", 4000)], amount_refunded=4000))
    deliver(books, payment_intent_succeeded("evt_3", "pi_9", 700, "00000000"))
    return books


def test_a_sound_ledger_is_balanced_and_counted(trading):
    report = check_ledger(trading.documents)
    # 2 invoices + 2 payments + 1 refund; the unclaimed payment's suspense is not an account.
    assert report.to_json() == {"balanced": True, "postings": 5, "payments": 2, "accounts": 1, "problems": []}


def test_an_empty_ledger_is_balanced(books):
    assert check_ledger(books.documents).to_json() == {
        "balanced": True,
        "postings": 0,
        "payments": 0,
        "accounts": 0,
        "problems": [],
    }


def test_the_command_prints_exactly_the_documented_json_and_exits_0(trading, capsys):
    assert run_ledger_check_command(trading, as_json=True) == 0
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == KEYS and printed["balanced"] is True


def put(books, doc: dict) -> None:
    books.documents.container(PAYMENTS.name).create(doc)


def payment_doc(pi: str, cents: int, account: str = "ACC-1") -> dict:
    fact = PaymentReceived("stripe", pi, Money.from_minor(cents, "AUD"), T, reference="71000019")
    return payment_postings(fact, account_id=account, named_invoice_id=None, event_id=None).to_json()


def test_an_unbalanced_posting_set_is_named_and_the_command_exits_1(trading, capsys):
    doc = payment_doc("pi_bad", 5000)
    doc["postings"][1]["amount"] = Money.from_minor(4999, "AUD").to_json()
    put(trading, doc)

    assert run_ledger_check_command(trading, as_json=False) == 1
    out = capsys.readouterr().out
    assert "NOT balanced" in out
    assert "payment:stripe:pi_bad does not balance: debits AUD 50.00, credits AUD 49.99" in out


def test_a_payment_posted_in_two_accounts_is_found(trading):
    put(trading, payment_doc("pi_1", 12000, account="ACC-2"))
    report = check_ledger(trading.documents)
    assert not report.balanced
    assert "payment:stripe:pi_1 is posted 2 times (accounts ACC-1, ACC-2)" in report.problems


def test_a_refund_beyond_its_payment_is_found(trading):
    payment = payment_postings(
        PaymentReceived("stripe", "pi_1", Money.from_minor(12000, "AUD"), T, reference="71000019"),
        account_id="ACC-1",
        named_invoice_id=None,
        event_id=None,
    )
    refund = RefundIssued("stripe", "re_big", "pi_1", Money.from_minor(9000, "AUD"), T)
    put(trading, reversal_postings(refund, payment=payment, event_id=None).to_json())
    problems = check_ledger(trading.documents).problems
    # 120.00 paid; 40.00 + 90.00 refunded: 10.00 too much, and 10.00 no invoice can absorb.
    assert "account ACC-1: payment:stripe:pi_1 is reversed AUD 10.00 more than it paid" in problems
    assert "account ACC-1: AUD 10.00 of reversals exceed what their payments covered" in problems


def test_a_refund_whose_payment_is_elsewhere_is_found(trading):
    stray = reversal_postings(
        RefundIssued("stripe", "re_x", "pi_7", Money.from_minor(100, "AUD"), T),
        payment=payment_postings(
            PaymentReceived("stripe", "pi_7", Money.from_minor(100, "AUD"), T, reference="r"),
            account_id="ACC-3",
            named_invoice_id=None,
            event_id=None,
        ),
        event_id=None,
    )
    put(trading, stray.to_json())
    assert (
        "account ACC-3: refund:stripe:re_x reverses stripe:pi_7, not here" in check_ledger(trading.documents).problems
    )


def test_an_unreadable_posting_set_and_an_inconsistent_invoice_are_found(trading):
    put(trading, {"id": "payment:stripe:pi_junk", "accountId": "ACC-1", "kind": "posting-set", "type": "payment"})
    invoices = trading.documents.container(INVOICES.name)
    [doc] = invoices.query({"number": "INV-2"})
    invoices.replace({**doc, "taxTotal": Money.from_minor(1, "AUD").to_json()}, etag=None)
    problems = check_ledger(trading.documents).problems
    assert any(p.startswith("posting set payment:stripe:pi_junk (account ACC-1) is unreadable") for p in problems)
    assert any(p.startswith("invoice INV-2 (account ACC-1):") and "does not balance" in p for p in problems)


def test_processing_every_accepted_event_again_adds_nothing(trading):
    processor = EventProcessor(trading.documents, trading.bus)
    for event_id in ("evt_1", "evt_2", "evt_3"):
        assert processor.process(provider="stripe", event_id=event_id, now=trading.clock()) == "applied"
    report = check_ledger(trading.documents)
    assert (report.postings, report.balanced) == (5, True)
