"""Allocation, worked by hand: named invoice first, then oldest first; overpayments become
credit for the next invoice; refunds and chargebacks reopen what they reverse."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from shared.money import Money
from shared.payments.allocation import account_position
from shared.payments.facts import ChargebackOpened, ChargebackReversed, PaymentReceived, RefundIssued
from shared.payments.ledger import (
    RECEIVABLE,
    REVENUE,
    Posting,
    PostingSet,
    PostingType,
    Side,
    payment_postings,
    reversal_postings,
)

START = datetime(2026, 11, 1, tzinfo=UTC)


def aud(cents: int) -> Money:
    return Money.from_minor(cents, "AUD")


def invoice(number: str, cents: int, month: int) -> PostingSet:
    issued = date(2026, month, 1)
    return PostingSet(
        posting_id=f"invoice:ACC-1:{number}",
        account_id="ACC-1",
        type=PostingType.INVOICE,
        occurred_at=datetime.combine(issued, datetime.min.time(), tzinfo=UTC),
        currency="AUD",
        postings=(Posting(RECEIVABLE, Side.DEBIT, aud(cents)), Posting(REVENUE, Side.CREDIT, aud(cents))),
        invoice_id=f"ACC-1:{number}",
        invoice_number=number,
        issue_date=issued,
    )


class Book:
    """Posting sets for account ACC-1, each a minute after the last."""

    def __init__(self, *invoices: PostingSet) -> None:
        self.sets = list(invoices)
        self.payments: dict[str, PostingSet] = {}
        self.minute = 0

    def _at(self) -> datetime:
        self.minute += 1
        return START + timedelta(minutes=self.minute)

    def pay(self, pi: str, cents: int, named: str | None = None) -> Book:
        fact = PaymentReceived("stripe", pi, aud(cents), self._at(), reference="r1")
        named_id = f"ACC-1:{named}" if named else None
        self.payments[pi] = payment_postings(fact, account_id="ACC-1", named_invoice_id=named_id, event_id=None)
        self.sets.append(self.payments[pi])
        return self

    def reverse(self, kind: type, pi: str, cents: int, reversal_id: str) -> Book:
        fact = kind("stripe", reversal_id, pi, aud(cents), self._at())
        self.sets.append(reversal_postings(fact, payment=self.payments[pi], event_id=None))
        return self

    def position(self):
        return account_position("ACC-1", self.sets, currency="AUD")


def opens(position) -> dict[str, str]:
    return {p.number: str(p.open.amount) for p in position.invoices}


@pytest.fixture
def two_bills() -> Book:
    # September's 100.00 and October's 50.00 are both open: 150.00 owed.
    return Book(invoice("INV-2", 5000, 10), invoice("INV-1", 10000, 9))


def test_nothing_paid_leaves_every_invoice_open_and_the_balance_is_their_sum(two_bills):
    position = two_bills.position()
    assert opens(position) == {"INV-1": "100.00", "INV-2": "50.00"}  # oldest first, whatever the input order
    assert position.balance == aud(15000) and position.credit == aud(0)


def test_a_part_payment_goes_to_the_oldest_open_invoice(two_bills):
    position = two_bills.pay("pi_1", 3000).position()
    assert opens(position) == {"INV-1": "70.00", "INV-2": "50.00"}
    assert position.invoice("ACC-1:INV-1").paid_by == ("pi_1",)
    assert position.balance == aud(12000)


def test_a_payment_spills_from_the_oldest_into_the_next(two_bills):
    position = two_bills.pay("pi_1", 12000).position()
    assert opens(position) == {"INV-1": "0.00", "INV-2": "30.00"}
    assert [p.paid_by for p in position.invoices] == [("pi_1",), ("pi_1",)]


def test_a_payment_naming_an_invoice_pays_that_one_first(two_bills):
    # 60.00 naming October's bill: 50.00 settles it, the other 10.00 goes to the oldest.
    position = two_bills.pay("pi_1", 6000, named="INV-2").position()
    assert opens(position) == {"INV-1": "90.00", "INV-2": "0.00"}


def test_an_overpayment_is_credit_and_pays_the_next_invoice_when_it_comes(two_bills):
    overpaid = two_bills.pay("pi_1", 20000)
    position = overpaid.position()
    assert opens(position) == {"INV-1": "0.00", "INV-2": "0.00"}
    assert position.credit == aud(5000) and position.balance == aud(-5000)

    overpaid.sets.append(invoice("INV-3", 8000, 11))  # November's 80.00: 50.00 of it is already paid
    position = overpaid.position()
    assert opens(position) == {"INV-1": "0.00", "INV-2": "0.00", "INV-3": "30.00"}
    assert position.credit == aud(0) and position.balance == aud(3000)
    assert position.invoice("ACC-1:INV-3").paid_by == ("pi_1",)


def test_a_refund_reopens_what_its_payment_covered_last_first(two_bills):
    # pi_1 covered INV-1 100.00 then INV-2 20.00; a 40.00 refund takes back INV-2's 20.00, then 20.00 of INV-1.
    position = two_bills.pay("pi_1", 12000).reverse(RefundIssued, "pi_1", 4000, "re_1").position()
    assert opens(position) == {"INV-1": "20.00", "INV-2": "50.00"}
    assert position.balance == aud(7000)


def test_refunding_an_overpayment_takes_the_unused_credit_first(two_bills):
    # pi_1: 200.00 = 100 + 50 + 50 credit; refund 60.00 = the 50 credit, then 10.00 of INV-2.
    position = two_bills.pay("pi_1", 20000).reverse(RefundIssued, "pi_1", 6000, "re_1").position()
    assert opens(position) == {"INV-1": "0.00", "INV-2": "10.00"}
    assert position.credit == aud(0)


def test_a_chargeback_reopens_and_a_won_dispute_pays_again(two_bills):
    book = two_bills.pay("pi_1", 15000).reverse(ChargebackOpened, "pi_1", 15000, "dp_1")
    assert opens(book.position()) == {"INV-1": "100.00", "INV-2": "50.00"}
    assert book.position().invoice("ACC-1:INV-1").paid_by == ()
    book.reverse(ChargebackReversed, "pi_1", 15000, "dp_1")
    assert opens(book.position()) == {"INV-1": "0.00", "INV-2": "0.00"}
    assert book.position().balance == aud(0)


def test_another_payments_credit_covers_an_invoice_a_refund_reopened(two_bills):
    # pi_1 100.00 -> INV-1; pi_2 80.00 -> INV-2 50.00 + 30.00 credit; refunding 40.00 of pi_1
    # reopens INV-1 by 40.00, of which pi_2's 30.00 credit pays 30.00.
    book = two_bills.pay("pi_1", 10000).pay("pi_2", 8000).reverse(RefundIssued, "pi_1", 4000, "re_1")
    position = book.position()
    assert opens(position) == {"INV-1": "10.00", "INV-2": "0.00"}
    assert position.credit == aud(0)
    assert position.invoice("ACC-1:INV-1").paid_by == ("pi_1", "pi_2")


def test_a_refund_dated_before_its_payment_still_waits_for_it(two_bills):
    book = two_bills.pay("pi_1", 10000)
    early = RefundIssued("stripe", "re_1", "pi_1", aud(2500), START - timedelta(days=1))
    book.sets.append(reversal_postings(early, payment=book.payments["pi_1"], event_id=None))
    assert opens(book.position()) == {"INV-1": "25.00", "INV-2": "50.00"}


def test_a_refund_beyond_what_its_payment_covered_is_unmatched_not_a_negative_invoice(two_bills):
    book = two_bills.pay("pi_1", 1000)
    book.sets.append(
        reversal_postings(
            RefundIssued("stripe", "re_1", "pi_1", aud(3000), START + timedelta(hours=1)),
            payment=book.payments["pi_1"],
            event_id=None,
        )
    )
    position = book.position()
    assert opens(position) == {"INV-1": "100.00", "INV-2": "50.00"}
    assert position.unmatched == aud(2000)
    assert position.balance == aud(17000)  # 150 - 10 + 30


def test_the_answer_does_not_depend_on_the_order_the_sets_were_read(two_bills):
    book = (
        two_bills.pay("pi_1", 12000)
        .pay("pi_2", 9000, named="INV-2")
        .reverse(RefundIssued, "pi_1", 1500, "re_1")
        .reverse(ChargebackOpened, "pi_2", 9000, "dp_1")
        .reverse(ChargebackReversed, "pi_2", 9000, "dp_1")
    )
    expected = book.position()
    for seed in range(20):
        random.Random(seed).shuffle(book.sets)
        assert book.position() == expected


def test_a_posting_set_in_another_currency_is_refused(two_bills):
    other = PaymentReceived("stripe", "pi_9", Money.from_minor(100, "NZD"), START, reference="r1")
    two_bills.sets.append(payment_postings(other, account_id="ACC-1", named_invoice_id=None, event_id=None))
    with pytest.raises(ValueError, match="NZD"):
        two_bills.position()
