"""Account statements, worked by hand: opening balance, the period's entries with a running
balance, the closing balance, and the aging of what is open on the last day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.invoicing.statements import (
    BalanceState,
    Bucket,
    EntryKind,
    IssuedDocument,
    StatementError,
    bucket_for,
    build_statement,
)
from shared.money import Money
from shared.payments.facts import ChargebackOpened, ChargebackReversed, PaymentReceived, RefundIssued
from shared.payments.ledger import PostingSet, payment_postings, reversal_postings

ZONE = "Australia/Sydney"  # AEST +10 until 4 Oct 2026, AEDT +11 after


def aud(value: str) -> Money:
    return Money.of(value, "AUD")


def invoice(number: str, total: str, issued: date, due: date) -> IssuedDocument:
    return IssuedDocument(f"id-{number}", number, EntryKind.INVOICE, issued, due, aud(total))


def credit_note(number: str, total: str, issued: date, credits: str) -> IssuedDocument:
    return IssuedDocument(
        f"id-{number}",
        number,
        EntryKind.CREDIT_NOTE,
        issued,
        None,
        aud(total),
        credits=credits,
        credits_id=f"id-{credits}",
    )


def paid(payment_id: str, amount: str, at: datetime, account: str = "ACC-1") -> PostingSet:
    fact = PaymentReceived("stripe", payment_id, aud(amount), at, reference=None)
    return payment_postings(fact, account_id=account, named_invoice_id=None, event_id=None)


def refunded(payment: PostingSet, refund_id: str, amount: str, at: datetime) -> PostingSet:
    assert payment.payment_id is not None
    fact = RefundIssued("stripe", refund_id, payment.payment_id, aud(amount), at)
    return reversal_postings(fact, payment=payment, event_id=None)


def sydney(day: date, hour: int = 12) -> datetime:
    """Noon in Sydney, whatever the offset, as the UTC instant the ledger stores."""
    from zoneinfo import ZoneInfo

    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


def statement_for(documents, sets, start=date(2026, 10, 1), end=date(2026, 10, 31)):
    return build_statement(
        account_id="ACC-1",
        currency="AUD",
        period_start=start,
        period_end=end,
        time_zone=ZONE,
        documents=documents,
        posting_sets=sets,
    )


def test_two_invoices_a_part_payment_an_overpayment_and_a_refund_worked_by_hand():
    # September: INV-1 for 120.00, 50.00 paid on it    -> opening on 1 Oct: 70.00
    # 15 Oct INV-2 80.00                                -> 150.00
    # 20 Oct paid 200.00 (130.00 more than is owed)     -> -50.00
    # 25 Oct 30.00 of it refunded                       -> -20.00: 20.00 in credit
    pay_1 = paid("pi_1", "50.00", sydney(date(2026, 9, 20)))
    pay_2 = paid("pi_2", "200.00", sydney(date(2026, 10, 20)))
    documents = [
        invoice("INV-1", "120.00", date(2026, 9, 15), due=date(2026, 9, 29)),
        invoice("INV-2", "80.00", date(2026, 10, 15), due=date(2026, 10, 29)),
    ]
    sets = [pay_1, pay_2, refunded(pay_2, "re_1", "30.00", sydney(date(2026, 10, 25)))]

    statement = statement_for(documents, sets)

    assert statement.opening == aud("70.00")
    assert [(e.day, e.kind, e.reference, e.amount, e.balance) for e in statement.entries] == [
        (date(2026, 10, 15), EntryKind.INVOICE, "INV-2", aud("80.00"), aud("150.00")),
        (date(2026, 10, 20), EntryKind.PAYMENT, "pi_2", aud("200.00"), aud("-50.00")),
        (date(2026, 10, 25), EntryKind.REFUND, "pi_2", aud("30.00"), aud("-20.00")),
    ]
    totals = statement.totals
    assert (totals.invoices, totals.credit_notes, totals.payments, totals.refunds, totals.chargebacks) == (
        aud("80.00"),
        aud("0"),
        aud("200.00"),
        aud("30.00"),
        aud("0"),
    )
    assert statement.closing == aud("-20.00")
    # Both invoices are paid (50 + 70 of the 200 on INV-1, 80 on INV-2), 50 was left over and
    # the refund took 30 of that back: 20.00 of credit, nothing in any bucket.
    assert all(amount.is_zero() for _, amount in statement.aging.buckets)
    assert statement.aging.unapplied_credit == aud("20.00")
    assert statement.balance_state is BalanceState.IN_CREDIT


def test_a_part_paid_invoice_ages_by_its_due_date_and_the_state_is_overdue():
    # INV-1 120.00 due 29 Sep, 50.00 paid: 70.00 open, 32 days past due on 31 Oct (31-60).
    # INV-2 80.00 due 10 Nov: current.
    documents = [
        invoice("INV-1", "120.00", date(2026, 9, 15), due=date(2026, 9, 29)),
        invoice("INV-2", "80.00", date(2026, 10, 27), due=date(2026, 11, 10)),
    ]
    statement = statement_for(documents, [paid("pi_1", "50.00", sydney(date(2026, 9, 20)))])

    assert statement.closing == aud("150.00")
    assert statement.aging.amount(Bucket.DAYS_31_60) == aud("70.00")
    assert statement.aging.amount(Bucket.CURRENT) == aud("80.00")
    assert statement.aging.overdue == aud("70.00")
    assert [(i.number, i.days_past_due) for i in statement.aging.items] == [("INV-1", 32), ("INV-2", -10)]
    assert statement.balance_state is BalanceState.OVERDUE
    assert statement.next_due_date == date(2026, 11, 10)


@pytest.mark.parametrize(
    ("end", "bucket"),
    [
        (date(2026, 10, 1), Bucket.CURRENT),  # the due date itself: not yet overdue
        (date(2026, 10, 2), Bucket.DAYS_1_30),
        (date(2026, 10, 31), Bucket.DAYS_1_30),  # day 30
        (date(2026, 11, 1), Bucket.DAYS_31_60),  # day 31
        (date(2026, 11, 30), Bucket.DAYS_31_60),  # day 60
        (date(2026, 12, 1), Bucket.DAYS_61_90),  # day 61
        (date(2026, 12, 30), Bucket.DAYS_61_90),  # day 90
        (date(2026, 12, 31), Bucket.OVER_90),  # day 91
    ],
)
def test_aging_boundaries_count_days_past_the_due_date(end, bucket):
    documents = [invoice("INV-1", "99.95", date(2026, 9, 17), due=date(2026, 10, 1))]
    statement = statement_for(documents, [], start=date(2026, 9, 1), end=end)
    assert [b for b, amount in statement.aging.buckets if not amount.is_zero()] == [bucket]
    assert statement.aging.amount(bucket) == aud("99.95")


def test_bucket_edges_directly():
    assert [bucket_for(d) for d in (-5, 0, 1, 30, 31, 60, 61, 90, 91)] == [
        Bucket.CURRENT,
        Bucket.CURRENT,
        Bucket.DAYS_1_30,
        Bucket.DAYS_1_30,
        Bucket.DAYS_31_60,
        Bucket.DAYS_31_60,
        Bucket.DAYS_61_90,
        Bucket.DAYS_61_90,
        Bucket.OVER_90,
    ]


def test_a_payment_belongs_to_the_local_day_it_was_made():
    # 31 Oct 13:30 UTC is 1 Nov 00:30 in Sydney (AEDT): November's, not October's.
    # 30 Sep 14:30 UTC is 1 Oct 00:30 in Sydney (AEST): October's, not September's.
    documents = [invoice("INV-1", "100.00", date(2026, 9, 15), due=date(2026, 9, 29))]
    late = paid("pi_late", "10.00", datetime(2026, 10, 31, 13, 30, tzinfo=UTC))
    early = paid("pi_early", "25.00", datetime(2026, 9, 30, 14, 30, tzinfo=UTC))
    statement = statement_for(documents, [late, early])
    assert statement.opening == aud("100.00")
    assert [(e.reference, e.day) for e in statement.entries] == [("pi_early", date(2026, 10, 1))]
    assert statement.closing == aud("75.00")


def test_a_credit_note_takes_off_what_its_invoice_added():
    documents = [
        invoice("INV-1", "100.00", date(2026, 10, 1), due=date(2026, 10, 15)),
        credit_note("CN-1", "40.00", date(2026, 10, 10), credits="INV-1"),
    ]
    statement = statement_for(documents, [])
    assert [(e.kind, e.balance) for e in statement.entries] == [
        (EntryKind.INVOICE, aud("100.00")),
        (EntryKind.CREDIT_NOTE, aud("60.00")),
    ]
    assert statement.entries[1].credits == "INV-1"
    assert statement.totals.credit_notes == aud("40.00") and statement.closing == aud("60.00")
    assert statement.aging.amount(Bucket.DAYS_1_30) == aud("60.00")  # 16 days past 15 Oct


def test_a_credit_note_comes_off_the_invoice_it_names_not_the_oldest():
    # INV-1 50.00 (due 1 Sep) and INV-2 100.00 (due 15 Oct) both open; CN-1 40.00 credits INV-2.
    documents = [
        invoice("INV-1", "50.00", date(2026, 8, 18), due=date(2026, 9, 1)),
        invoice("INV-2", "100.00", date(2026, 10, 1), due=date(2026, 10, 15)),
        credit_note("CN-1", "40.00", date(2026, 10, 10), credits="INV-2"),
    ]
    aging = statement_for(documents, []).aging
    assert [(item.number, item.open) for item in aging.items] == [("INV-1", aud("50.00")), ("INV-2", aud("60.00"))]
    assert aging.amount(Bucket.DAYS_31_60) == aud("50.00")  # INV-1, 60 days past 1 Sep


def test_a_chargeback_and_its_reversal_net_out_in_the_chargebacks_total():
    documents = [invoice("INV-1", "100.00", date(2026, 9, 1), due=date(2026, 9, 15))]
    payment = paid("pi_1", "100.00", sydney(date(2026, 9, 10)))
    opened = ChargebackOpened("stripe", "dp_1", "pi_1", aud("100.00"), sydney(date(2026, 10, 5)))
    won = ChargebackReversed("stripe", "dp_1", "pi_1", aud("100.00"), sydney(date(2026, 10, 20)))
    sets = [
        payment,
        reversal_postings(opened, payment=payment, event_id=None),
        reversal_postings(won, payment=payment, event_id=None),
    ]
    statement = statement_for(documents, sets)
    assert [(e.kind, e.balance) for e in statement.entries] == [
        (EntryKind.CHARGEBACK, aud("100.00")),
        (EntryKind.CHARGEBACK_REVERSED, aud("0.00")),
    ]
    assert statement.totals.chargebacks == aud("0") and statement.closing == aud("0")


def test_bad_input_is_refused_by_name():
    documents = [invoice("INV-1", "100.00", date(2026, 10, 1), due=date(2026, 10, 15))]
    with pytest.raises(StatementError, match=r"ends .* before it starts"):
        statement_for(documents, [], start=date(2026, 10, 2), end=date(2026, 10, 1))
    nok = IssuedDocument("id-X", "INV-X", EntryKind.INVOICE, date(2026, 10, 1), date(2026, 10, 2), Money.of(5, "NOK"))
    with pytest.raises(StatementError, match="INV-X is in NOK"):
        statement_for([nok], [])
    with pytest.raises(StatementError, match="belongs to ACC-2"):
        statement_for(documents, [paid("pi_9", "1.00", sydney(date(2026, 10, 3)), account="ACC-2")])
    with pytest.raises(StatementError, match="has a due date"):
        IssuedDocument("id-Y", "INV-Y", EntryKind.INVOICE, date(2026, 10, 1), None, aud("1.00"))
    with pytest.raises(StatementError, match="negative"):
        credit_note("CN-1", "-1.00", date(2026, 10, 1), "INV-1")


# --- the identity, over random histories --------------------------------------------------

START = date(2026, 9, 1)


@st.composite
def histories(draw):
    """Invoices, credit notes, payments and reversals of those payments on random days over four
    months, at random times of day (so some fall on the next local day), and a random period."""
    documents, sets, model = [], [], []  # model: (local day, signed cents) as worked out here
    payments: list[tuple[PostingSet, int]] = []
    for index in range(draw(st.integers(0, 25))):
        day = START + timedelta(days=draw(st.integers(0, 120)))
        cents = draw(st.integers(1, 50_000))
        choice = draw(st.sampled_from(["invoice", "credit", "payment", "refund", "chargeback"]))
        if choice == "invoice":
            due = day + timedelta(days=draw(st.integers(0, 30)))
            documents.append(invoice(f"INV-{index:03}", str(Decimal(cents) / 100), day, due))
            model.append((day, cents))
        elif choice == "credit":
            documents.append(credit_note(f"CN-{index:03}", str(Decimal(cents) / 100), day, "INV-000"))
            model.append((day, -cents))
        elif choice == "payment" or not payments:
            at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 1439)))
            payment = paid(f"pi_{index}", str(Decimal(cents) / 100), at)
            payments.append((payment, cents))
            sets.append(payment)
            model.append((_sydney_day(at), -cents))
        else:
            payment, left = draw(st.sampled_from(payments))
            if left == 0:
                continue
            amount = min(cents, left)
            payments[payments.index((payment, left))] = (payment, left - amount)
            at = payment.occurred_at + timedelta(hours=draw(st.integers(1, 24 * 40)))
            money = aud(str(Decimal(amount) / 100))
            kind = RefundIssued if choice == "refund" else ChargebackOpened
            fact = kind("stripe", f"r_{index}", payment.payment_id, money, at)
            sets.append(reversal_postings(fact, payment=payment, event_id=None))
            model.append((_sydney_day(at), amount))
    start = START + timedelta(days=draw(st.integers(0, 120)))
    end = start + timedelta(days=draw(st.integers(0, 60)))
    return documents, sets, model, start, end


def _sydney_day(moment: datetime) -> date:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(ZONE)).date()


@settings(max_examples=150, deadline=None)
@given(histories())
def test_opening_plus_movements_is_the_closing_balance_exactly(history):
    documents, sets, model, start, end = history
    statement = statement_for(documents, sets, start=start, end=end)
    totals = statement.totals

    def cents(upto_excluding: date) -> Decimal:
        return sum((Decimal(c) for day, c in model if day < upto_excluding), Decimal(0)) / 100

    assert statement.opening.amount == cents(start)
    assert statement.closing.amount == cents(end + timedelta(days=1))
    assert (
        statement.opening
        + totals.invoices
        - totals.credit_notes
        - totals.payments
        + totals.refunds
        + totals.chargebacks
        == statement.closing
    )
    running = statement.entries[-1].balance if statement.entries else statement.opening
    assert running == statement.closing
    assert [e.day for e in statement.entries] == sorted(e.day for e in statement.entries)
    assert all(start <= e.day <= end for e in statement.entries)
    # What the buckets hold, less credit, plus unmatched reversals, is what the account owes.
    assert statement.aging.explained_balance == statement.closing
    assert all(amount.amount >= 0 for _, amount in statement.aging.buckets)
