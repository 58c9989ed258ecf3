"""Posting sets: what each source does to the books, always balanced, refused when not."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from shared.money import Money
from shared.payments.facts import ChargebackOpened, ChargebackReversed, EventRejected, PaymentReceived, RefundIssued
from shared.payments.ledger import (
    RECEIVABLE,
    SUSPENSE,
    UNALLOCATED,
    Posting,
    PostingSet,
    PostingType,
    Side,
    UnbalancedPostings,
    invoice_postings,
    payment_postings,
    reversal_postings,
    still_reversible,
)
from tests.payments.support import issue_invoice

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def aud(cents: int) -> Money:
    return Money.from_minor(cents, "AUD")


def lines(posting_set: PostingSet) -> list[tuple[str, str, str]]:
    return [(p.side.value, p.ledger_account, str(p.amount.amount)) for p in posting_set.postings]


def paid(cents: int, *, pi: str = "pi_1", provider: str = "stripe") -> PaymentReceived:
    return PaymentReceived(provider, pi, aud(cents), T, reference="71000019", charge_id="ch_1")


@pytest.fixture
def invoice(tmp_path):
    from shared.platform.documents.sqlite_store import SqliteDocumentStore

    store = SqliteDocumentStore(tmp_path / "docs.sqlite3")
    yield issue_invoice(
        store, account_id="ACC-1", number="INV-1", total_cents=14286, issue_date=date(2026, 11, 2), reference="r1"
    )
    store.close()


def test_an_invoice_debits_the_receivable_with_its_total_and_credits_revenue_and_tax(invoice):
    # 142.86 including GST of 14286 // 11 = 1298 cents: net 142.86 - 12.98 = 129.88
    posting_set = invoice_postings(invoice)
    assert posting_set.posting_id == f"invoice:{invoice.invoice_id}"
    assert lines(posting_set) == [
        ("debit", "receivable", "142.86"),
        ("credit", "revenue", "129.88"),
        ("credit", "tax", "12.98"),
    ]
    assert posting_set.problems() == []
    assert posting_set.change(RECEIVABLE) == aud(14286)


def test_a_draft_posts_nothing(invoice):
    with pytest.raises(ValueError, match="not issued"):
        invoice_postings(replace(invoice, number=None))


def test_a_payment_moves_money_from_the_customers_debt_to_the_gateway():
    posting_set = payment_postings(paid(5000), account_id="ACC-1", named_invoice_id=None, event_id="evt_1")
    assert posting_set.posting_id == "payment:stripe:pi_1"
    assert lines(posting_set) == [("debit", "clearing:stripe", "50.00"), ("credit", "receivable", "50.00")]
    assert (posting_set.event_id, posting_set.payment_key) == ("evt_1", "stripe:pi_1")


def test_money_from_an_unknown_payer_waits_in_suspense():
    posting_set = payment_postings(paid(5000), account_id=UNALLOCATED, named_invoice_id=None, event_id=None)
    assert lines(posting_set) == [("debit", "clearing:stripe", "50.00"), ("credit", "suspense", "50.00")]


def test_refund_chargeback_and_won_dispute_move_money_back_and_forth_against_the_payment():
    payment = payment_postings(paid(5000), account_id="ACC-1", named_invoice_id=None, event_id=None)
    refund = reversal_postings(RefundIssued("stripe", "re_1", "pi_1", aud(1000), T), payment=payment, event_id="e2")
    chargeback = reversal_postings(
        ChargebackOpened("stripe", "dp_1", "pi_1", aud(4000), T), payment=payment, event_id="e3"
    )
    won = reversal_postings(ChargebackReversed("stripe", "dp_1", "pi_1", aud(4000), T), payment=payment, event_id="e4")

    assert (refund.posting_id, refund.type) == ("refund:stripe:re_1", PostingType.REFUND)
    assert lines(refund) == [("debit", "receivable", "10.00"), ("credit", "clearing:stripe", "10.00")]
    assert chargeback.posting_id == "chargeback:stripe:dp_1"
    assert lines(chargeback) == [("debit", "receivable", "40.00"), ("credit", "clearing:stripe", "40.00")]
    assert won.posting_id == "chargeback-reversed:stripe:dp_1"
    assert lines(won) == [("debit", "clearing:stripe", "40.00"), ("credit", "receivable", "40.00")]
    assert all(s.payment_key == "stripe:pi_1" and s.account_id == "ACC-1" for s in (refund, chargeback, won))


def test_a_refund_of_money_in_suspense_comes_out_of_suspense():
    payment = payment_postings(paid(5000), account_id=UNALLOCATED, named_invoice_id=None, event_id=None)
    refund = reversal_postings(RefundIssued("stripe", "re_1", "pi_1", aud(5000), T), payment=payment, event_id=None)
    assert lines(refund) == [("debit", SUSPENSE, "50.00"), ("credit", "clearing:stripe", "50.00")]


def test_a_refund_in_another_currency_is_refused():
    payment = payment_postings(paid(5000), account_id="ACC-1", named_invoice_id=None, event_id=None)
    usd = RefundIssued("stripe", "re_1", "pi_1", Money.from_minor(1000, "USD"), T)
    with pytest.raises(EventRejected, match="USD") as refused:
        reversal_postings(usd, payment=payment, event_id=None)
    assert refused.value.code == "currency_mismatch"


def test_what_is_left_to_reverse_counts_refunds_and_open_chargebacks_only():
    payment = payment_postings(paid(5000), account_id="ACC-1", named_invoice_id=None, event_id=None)

    def reversal(fact):
        return reversal_postings(fact, payment=payment, event_id=None)

    refund = reversal(RefundIssued("stripe", "re_1", "pi_1", aud(1000), T))
    chargeback = reversal(ChargebackOpened("stripe", "dp_1", "pi_1", aud(4000), T))
    won = reversal(ChargebackReversed("stripe", "dp_1", "pi_1", aud(4000), T))
    other = payment_postings(paid(9900, pi="pi_2"), account_id="ACC-1", named_invoice_id=None, event_id=None)
    assert still_reversible(payment, [payment, refund, other]) == aud(4000)  # 50 - 10
    assert still_reversible(payment, [payment, refund, chargeback]) == aud(0)  # 50 - 10 - 40
    assert still_reversible(payment, [payment, refund, chargeback, won]) == aud(4000)  # the 40 came back


def broken(*postings: Posting, currency: str = "AUD") -> PostingSet:
    return PostingSet("payment:stripe:pi_x", "ACC-1", PostingType.PAYMENT, T, currency, postings)


@pytest.mark.parametrize(
    ("posting_set", "problem"),
    [
        (
            broken(Posting("clearing:stripe", Side.DEBIT, aud(100)), Posting(RECEIVABLE, Side.CREDIT, aud(99))),
            "does not balance",
        ),
        (broken(), "has no postings"),
        (
            broken(
                Posting("clearing:stripe", Side.DEBIT, aud(100)),
                Posting(RECEIVABLE, Side.CREDIT, Money.from_minor(100, "NZD")),
            ),
            "mixes currencies",
        ),
        (
            broken(Posting("clearing:stripe", Side.DEBIT, aud(-100)), Posting(RECEIVABLE, Side.CREDIT, aud(-100))),
            "not positive",
        ),
        (
            broken(
                Posting("clearing:stripe", Side.DEBIT, Money.of("1.005", "AUD")),
                Posting(RECEIVABLE, Side.CREDIT, Money.of("1.005", "AUD")),
            ),
            "whole minor units",
        ),
        (
            broken(Posting("petty-cash", Side.DEBIT, aud(100)), Posting(RECEIVABLE, Side.CREDIT, aud(100))),
            "unknown ledger account",
        ),
    ],
    ids=["unbalanced", "empty", "two currencies", "negative", "fraction of a cent", "unknown account"],
)
def test_an_unsound_posting_set_says_what_is_wrong_with_it(posting_set, problem):
    assert any(problem in p and "payment:stripe:pi_x" in p for p in posting_set.problems())


def test_the_builders_refuse_to_make_an_unbalanced_set(invoice):
    lopsided = replace(invoice, tax_total=aud(1))  # total no longer net + tax
    with pytest.raises(UnbalancedPostings, match="does not balance"):
        invoice_postings(lopsided)


def test_a_posting_set_survives_storage_exactly(invoice):
    for posting_set in (
        invoice_postings(invoice),
        payment_postings(paid(5000), account_id="ACC-1", named_invoice_id="ACC-1:INV-1", event_id="evt_1"),
    ):
        assert PostingSet.from_json(posting_set.to_json()) == posting_set
    assert invoice_postings(invoice).issue_date == date(2026, 11, 2)
