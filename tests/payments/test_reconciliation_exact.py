"""Reconciliation made exact: each posting set records, when it is posted, the gateway's balance
transaction id (read from Stripe's charge, refund and dispute objects) and the branch of its
account, and the report pairs payout lines by that id and counts money in that branch. Sets
posted before this change have neither and reconcile as they did, with a note saying so.

Every expected figure is worked out here by hand from the events the test sends."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from shared.money import Money
from shared.payments.facts import ChargebackOpened, ChargebackReversed, EventRejected, PaymentReceived, RefundIssued
from shared.payments.ledger import PostingSet, payment_postings, reversal_postings
from shared.payments.ledger_command import check_ledger
from shared.payments.ledger_service import PaymentLedger
from shared.payments.payouts import PayoutLine
from shared.payments.reconciliation import Period, match_lines, movements, reconcile
from shared.payments.reconciliation_service import PayoutStore, ReconciliationService, render
from shared.payments.stripe_events import facts_from_payload
from shared.resources import ACCOUNTS, PAYMENTS
from tests.payments.support import (
    charge_refunded,
    charge_succeeded,
    dispute_event,
    issue_invoice,
    payment_intent_succeeded,
)

OCTOBER = Period(date(2026, 10, 1), date(2026, 11, 1), "Australia/Sydney")
SEPTEMBER = Period(date(2026, 9, 1), date(2026, 10, 1), "Australia/Sydney")
NOVEMBER = Period(date(2026, 11, 1), date(2026, 12, 1), "Australia/Sydney")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def aud(text: str) -> Money:
    return Money.of(text, "AUD")


def with_fields(raw: bytes, *, created: str | None = None, **fields: Any) -> bytes:
    """A support event with fields of its ``data.object`` set, and its time when given."""
    event = json.loads(raw)
    event["data"]["object"].update(fields)
    if created is not None:
        event["created"] = int(at(created).timestamp())
    return json.dumps(event).encode()


def one(raw: bytes) -> Any:
    [fact] = facts_from_payload(raw)
    return fact


# -- reading the balance transaction from Stripe's objects ------------------------------------------


def test_a_charge_names_its_balance_transaction_as_an_id_or_expanded():
    charge = charge_succeeded("evt_1", "ch_1", "pi_1", 5000, "r1")
    assert one(with_fields(charge, balance_transaction="txn_1")).balance_transaction_id == "txn_1"
    expanded = {"id": "txn_2", "object": "balance_transaction", "amount": 5000, "fee": 118}
    assert one(with_fields(charge, balance_transaction=expanded)).balance_transaction_id == "txn_2"
    assert one(charge).balance_transaction_id is None  # an event without it: reconciliation falls back


def test_an_authorised_charge_has_no_balance_transaction_until_captured():
    authorised = charge_succeeded("evt_1", "ch_1", "pi_1", 10000, "r1", captured=0)
    assert "not captured" in one(authorised).reason
    captured = charge_succeeded("evt_2", "ch_1", "pi_1", 10000, "r1", captured=6000, event_type="charge.captured")
    fact = one(with_fields(captured, balance_transaction="txn_cap"))
    assert (fact.amount, fact.balance_transaction_id) == (Money.from_minor(6000, "AUD"), "txn_cap")


def test_a_payment_intent_names_it_only_through_an_expanded_or_listed_charge():
    intent = payment_intent_succeeded("evt_1", "pi_1", 5000, "r1", charge="ch_1")
    assert one(intent).balance_transaction_id is None  # latest_charge is a bare id: it names none
    expanded = {"id": "ch_1", "object": "charge", "balance_transaction": "txn_1"}
    fact = one(with_fields(intent, latest_charge=expanded))
    assert (fact.charge_id, fact.balance_transaction_id) == ("ch_1", "txn_1")
    # API versions before 2022-11-15 list the charges, newest first, each with its balance transaction.
    listed = {"object": "list", "data": [{"id": "ch_2", "balance_transaction": {"id": "txn_2"}}, {"id": "ch_0"}]}
    fact = one(with_fields(intent, latest_charge=None, charges=listed))
    assert (fact.charge_id, fact.balance_transaction_id) == ("ch_2", "txn_2")
    # Both: the bare latest_charge id picks its charge in the list, not the first one listed.
    fact = one(with_fields(intent, latest_charge="ch_0", charges=listed))
    assert (fact.charge_id, fact.balance_transaction_id) == ("ch_0", None)


def test_each_refund_carries_its_own_balance_transaction():
    raw = json.loads(
        charge_refunded("evt_1", "ch_1", "pi_1", 5000, [("re_2", 2500), ("re_1", 1000)], amount_refunded=3500)
    )
    refunds = raw["data"]["object"]["refunds"]["data"]
    refunds[0]["balance_transaction"] = "txn_re2"
    refunds[1]["balance_transaction"] = {"id": "txn_re1", "object": "balance_transaction"}
    facts = facts_from_payload(json.dumps(raw).encode())
    assert [(f.reversal_id, f.balance_transaction_id) for f in facts] == [("re_2", "txn_re2"), ("re_1", "txn_re1")]


WITHDRAWAL = {"id": "txn_w", "object": "balance_transaction", "amount": -5000, "reporting_category": "dispute"}
REINSTATED = {"id": "txn_r", "object": "balance_transaction", "amount": 5000, "reporting_category": "dispute_reversal"}


def dispute(event_type: str, status: str, transactions: list[dict[str, Any]]) -> Any:
    raw = dispute_event("evt_1", event_type, "dp_1", "ch_1", "pi_1", 5000, status)
    return one(with_fields(raw, balance_transactions=transactions))


def test_a_dispute_names_the_withdrawal_for_the_chargeback_and_the_reinstatement_for_the_win():
    opened = dispute("charge.dispute.created", "needs_response", [WITHDRAWAL])
    assert isinstance(opened, ChargebackOpened) and opened.balance_transaction_id == "txn_w"
    won = dispute("charge.dispute.closed", "won", [WITHDRAWAL, REINSTATED])
    assert isinstance(won, ChargebackReversed) and won.balance_transaction_id == "txn_r"
    # Told apart by category or sign, never by position when either is there.
    assert dispute("charge.dispute.closed", "won", [REINSTATED, WITHDRAWAL]).balance_transaction_id == "txn_r"
    by_sign = [{"id": "txn_a", "amount": 5000}, {"id": "txn_b", "amount": -5000}]
    assert dispute("charge.dispute.created", "needs_response", by_sign).balance_transaction_id == "txn_b"
    assert dispute("charge.dispute.closed", "won", by_sign).balance_transaction_id == "txn_a"
    # Bare ids: Stripe lists the withdrawal first.
    bare = [{"id": "txn_1"}, {"id": "txn_2"}]
    assert dispute("charge.dispute.closed", "won", bare).balance_transaction_id == "txn_2"
    # A win whose reinstatement is not listed yet names none (the report falls back), never the withdrawal.
    assert dispute("charge.dispute.closed", "won", [WITHDRAWAL]).balance_transaction_id is None
    assert dispute("charge.dispute.created", "needs_response", []).balance_transaction_id is None


CHARGE = charge_succeeded("e", "ch_1", "pi_1", 5000, "r1")
INTENT = payment_intent_succeeded("e", "pi_1", 5000, "r1")
OPENED = dispute_event("e", "charge.dispute.created", "dp_1", "ch_1", None, 5000, "needs_response")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (with_fields(CHARGE, balance_transaction="txn 1"), "balance_transaction"),
        (with_fields(CHARGE, balance_transaction={"object": "x"}), "balance_transaction"),
        (with_fields(OPENED, balance_transactions=[{"amount": -5000}]), "balance_transactions.0.id"),
        (with_fields(OPENED, balance_transactions={"id": "txn_1"}), "balance_transactions"),
        (
            with_fields(INTENT, latest_charge={"id": "ch_1", "balance_transaction": 7}),
            "latest_charge.balance_transaction",
        ),
    ],
)
def test_a_malformed_balance_transaction_is_refused_naming_the_field(raw, field):
    with pytest.raises(EventRejected) as refused:
        facts_from_payload(raw)
    assert (refused.value.code, refused.value.field) == ("invalid_event", f"data.object.{field}")


# -- on the posting set ------------------------------------------------------------------------------


def test_the_posting_set_keeps_its_id_from_the_payment_and_records_the_new_fields_in_its_json():
    fact = PaymentReceived(
        "stripe",
        "pi_1",
        aud("50"),
        at("2026-10-02T10:00:00+10:00"),
        "r1",
        charge_id="ch_1",
        balance_transaction_id="txn_1",
    )
    payment = payment_postings(fact, account_id="A", named_invoice_id=None, event_id="evt_1", branch="north")
    assert payment.posting_id == "payment:stripe:pi_1"  # never the balance transaction
    doc = payment.to_json()
    assert (doc["balanceTransactionId"], doc["branch"]) == ("txn_1", "north")
    assert PostingSet.from_json(doc) == payment
    refund = RefundIssued("stripe", "re_1", "pi_1", aud("10"), fact.occurred_at, "ch_1", balance_transaction_id="txn_r")
    posted = reversal_postings(refund, payment=payment, event_id=None, branch="south")
    assert (posted.posting_id, posted.balance_transaction_id, posted.branch) == ("refund:stripe:re_1", "txn_r", "south")
    suspense = payment_postings(fact, account_id="unallocated", named_invoice_id=None, event_id=None, branch="north")
    assert suspense.branch is None  # suspense has no branch, whatever the caller says
    old = {k: v for k, v in doc.items() if k not in ("balanceTransactionId", "branch")}
    assert PostingSet.from_json(old) == replace(payment, balance_transaction_id=None, branch=None)


# -- through the ledger and the report ----------------------------------------------------------------


def seed(documents, account_id: str, reference: str, branch: str | None) -> None:
    doc = {"id": account_id, "accountId": account_id, "paymentReference": reference}
    documents.container(ACCOUNTS.name).create(doc if branch is None else {**doc, "branch": branch})
    issue_invoice(
        documents,
        account_id=account_id,
        number=f"INV-{account_id}",
        total_cents=20_000,
        issue_date=date(2026, 9, 15),
        reference=reference,
    )


def post(ledger: PaymentLedger, raw: bytes, event_id: str) -> list[str]:
    """What the bus handler does with a verified event, posted at the event's own time."""
    now = datetime.fromtimestamp(json.loads(raw)["created"], UTC)
    return [ledger.record(fact, event_id=event_id, now=now).status for fact in facts_from_payload(raw)]


PI_2_CHARGE = {
    "id": "ch_2",
    "object": "charge",
    "balance_transaction": {"id": "txn_c2", "object": "balance_transaction"},
}


@pytest.fixture
def october(platform):
    """Account A (north) and B (south) owe 200.00 each. In October, through Stripe's events:
    pi_1 (A, charge.succeeded), pi_2 (B, payment_intent.succeeded with its charge expanded) and
    pi_3 (A) each pay 50.00; re_1 refunds 10.00 of pi_1; dp_2 disputes pi_2 and is lost; dp_3
    disputes pi_3 and is won."""
    documents = platform.documents
    seed(documents, "A", "71000019", "north")
    seed(documents, "B", "71000027", "south")
    ledger = PaymentLedger(documents, platform.bus)
    events = [
        (
            charge_succeeded("evt_c1", "ch_1", "pi_1", 5000, "71000019"),
            "2026-10-02T10:00:00+10:00",
            {"balance_transaction": "txn_c1"},
        ),
        (
            payment_intent_succeeded("evt_c2", "pi_2", 5000, "71000027", charge="ch_2"),
            "2026-10-03T10:00:00+10:00",
            {"latest_charge": PI_2_CHARGE},
        ),
        (
            charge_succeeded("evt_c3", "ch_3", "pi_3", 5000, "71000019"),
            "2026-10-04T10:00:00+11:00",
            {"balance_transaction": "txn_c3"},
        ),
        (
            dispute_event("evt_d2", "charge.dispute.created", "dp_2", "ch_2", "pi_2", 5000, "needs_response"),
            "2026-10-06T10:00:00+11:00",
            {"balance_transactions": [WITHDRAWAL | {"id": "txn_d2"}]},
        ),
        (
            dispute_event("evt_d3", "charge.dispute.created", "dp_3", "ch_3", "pi_3", 5000, "needs_response"),
            "2026-10-08T10:00:00+11:00",
            {"balance_transactions": [WITHDRAWAL | {"id": "txn_d3"}]},
        ),
        (
            dispute_event("evt_l2", "charge.dispute.closed", "dp_2", "ch_2", "pi_2", 5000, "lost"),
            "2026-10-19T10:00:00+11:00",
            {"balance_transactions": [WITHDRAWAL | {"id": "txn_d2"}]},
        ),
        (
            dispute_event("evt_w3", "charge.dispute.closed", "dp_3", "ch_3", "pi_3", 5000, "won"),
            "2026-10-20T10:00:00+11:00",
            {"balance_transactions": [WITHDRAWAL | {"id": "txn_d3"}, REINSTATED | {"id": "txn_w3"}]},
        ),
    ]
    refund = json.loads(charge_refunded("evt_r1", "ch_1", "pi_1", 5000, [("re_1", 1000)], amount_refunded=1000))
    refund["data"]["object"]["refunds"]["data"][0]["balance_transaction"] = "txn_r1"
    refund["created"] = int(at("2026-10-05T10:00:00+11:00").timestamp())
    statuses = [post(ledger, with_fields(raw, created=when, **fields), raw_id(raw)) for raw, when, fields in events]
    statuses.append(post(ledger, json.dumps(refund).encode(), "evt_r1"))
    assert statuses == [["posted"]] * 5 + [["no-effect"], ["posted"], ["posted"]]
    return platform


def raw_id(raw: bytes) -> str:
    return str(json.loads(raw)["id"])


# Stripe's report for those, without the optional charge_id, payment_intent_id and source_id
# columns: only the balance transaction id ties a line to its posting, and three charges of 50.00
# look alike. Fees: 1.18 a charge; 15.00 a dispute, given back when it is won.
HEADER = "automatic_payout_id,balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category\r\n"
LINES = {
    "txn_c1": "po_1,txn_c1,2026-10-02 00:00:00,aud,50.00,1.18,48.82,charge",
    "txn_c2": "po_1,txn_c2,2026-10-03 00:00:00,aud,50.00,1.18,48.82,charge",
    "txn_c3": "po_1,txn_c3,2026-10-03 23:00:00,aud,50.00,1.18,48.82,charge",
    "txn_r1": "po_2,txn_r1,2026-10-04 23:00:00,aud,-10.00,0.00,-10.00,refund",
    "txn_d2": "po_2,txn_d2,2026-10-05 23:00:00,aud,-50.00,15.00,-65.00,dispute",
    "txn_d3": "po_2,txn_d3,2026-10-07 23:00:00,aud,-50.00,15.00,-65.00,dispute",
    "txn_w3": "po_3,txn_w3,2026-10-19 23:00:00,aud,50.00,-15.00,65.00,dispute_reversal",
}


PAYMENT_OF = {
    "txn_c1": "pi_1",
    "txn_c2": "pi_2",
    "txn_c3": "pi_3",
    "txn_r1": "pi_1",
    "txn_d2": "pi_2",
    "txn_d3": "pi_3",
    "txn_w3": "pi_3",
}


def import_lines(platform, *names: str, payment_column: bool = False) -> None:
    """Those lines of the report; ``payment_column`` adds Stripe's optional payment_intent_id."""
    if payment_column:
        rows = [HEADER.replace("\r\n", ",payment_intent_id\r\n")]
        rows += [f"{LINES[name]},{PAYMENT_OF[name]}\r\n" for name in names]
    else:
        rows = [HEADER, *(LINES[name] + "\r\n" for name in names)]
    raw = "".join(rows).encode()
    imported = PayoutStore(platform.documents).import_stripe_csv(
        raw, file_name="october.csv", time_zone="UTC", now=at("2026-11-02T09:00:00+00:00")
    )
    assert imported.status == "accepted"


def stored_sets(platform) -> list[PostingSet]:
    return [PostingSet.from_json(d) for d in platform.documents.container(PAYMENTS.name).query({"kind": "posting-set"})]


def test_every_stripe_posting_records_its_balance_transaction_and_branch(october):
    recorded = {s.posting_id: (s.balance_transaction_id, s.branch) for s in stored_sets(october)}
    assert recorded == {
        "payment:stripe:pi_1": ("txn_c1", "north"),
        "payment:stripe:pi_2": ("txn_c2", "south"),
        "payment:stripe:pi_3": ("txn_c3", "north"),
        "refund:stripe:re_1": ("txn_r1", "north"),
        "chargeback:stripe:dp_2": ("txn_d2", "south"),
        "chargeback:stripe:dp_3": ("txn_d3", "north"),
        "chargeback-reversed:stripe:dp_3": ("txn_w3", "north"),
    }


def test_each_line_is_matched_by_its_balance_transaction_and_the_month_balances(october):
    import_lines(october, *LINES)
    report = ReconciliationService(october.documents).report(OCTOBER)
    assert report.differences == () and report.balanced and report.notes == ()
    stripe = next(r for r in report.channels if r.name == "stripe")
    # received 150.00; refunded 10.00; charged back 100.00; won back 50.00: net 90.00.
    assert (stripe["received"], stripe["netReceived"]) == (aud("150.00"), aud("90.00"))
    # Fees 3 x 1.18 + 15.00 + 15.00 - 15.00 = 18.54; Stripe paid out 90.00 - 18.54.
    assert (stripe["gatewayFees"], stripe["payoutNet"], stripe["difference"]) == (
        aud("18.54"),
        aud("71.46"),
        aud("0.00"),
    )
    north = next(r for r in report.branches if r.name == "north")
    south = next(r for r in report.branches if r.name == "south")
    assert (north["netReceived"], south["netReceived"]) == (aud("90.00"), aud("0.00"))  # 100 - 10 - 50 + 50; 50 - 50
    pairs = match_lines(
        [m for m in movements(stored_sets(october), {}, OCTOBER, []) if m.channel == "stripe"],
        [line for line in PayoutStore(october.documents).lines("stripe")],
    )
    assert sorted((m.movement.posting.posting_id, m.line.balance_transaction_id, m.matched_by) for m in pairs) == [
        ("chargeback-reversed:stripe:dp_3", "txn_w3", "balance-transaction"),
        ("chargeback:stripe:dp_2", "txn_d2", "balance-transaction"),
        ("chargeback:stripe:dp_3", "txn_d3", "balance-transaction"),
        ("payment:stripe:pi_1", "txn_c1", "balance-transaction"),
        ("payment:stripe:pi_2", "txn_c2", "balance-transaction"),
        ("payment:stripe:pi_3", "txn_c3", "balance-transaction"),
        ("refund:stripe:re_1", "txn_r1", "balance-transaction"),
    ]


def test_a_missing_line_is_named_exactly_even_when_another_payment_has_the_same_amount(october):
    import_lines(october, *(name for name in LINES if name != "txn_c2"))  # pi_2's charge is not paid out yet
    report = ReconciliationService(october.documents).report(OCTOBER)
    assert [(d.kind, d.posting_id, d.account_id, d.balance_transaction_id, d.amount) for d in report.differences] == [
        ("ledger-without-payout", "payment:stripe:pi_2", "B", "txn_c2", aud("-50.00")),
    ]
    assert "txn_c2 is in none imported" in report.differences[0].detail


def test_today_s_inference_cannot_tell_the_three_charges_of_50_apart(october):
    """The same books as posted before this change (no ids recorded) against the same report:
    without the payment columns, inference pairs nothing and lists 14 differences that cancel out."""
    import_lines(october, *LINES)
    old = [replace(s, balance_transaction_id=None, branch=None) for s in stored_sets(october)]
    report = reconcile(
        period=OCTOBER,
        posting_sets=old,
        branches={"A": "north", "B": "south"},
        payout_lines={"stripe": PayoutStore(october.documents).lines("stripe")},
        reconciled_channels=("stripe",),
    )
    kinds = [d.kind for d in report.differences]
    assert (kinds.count("ledger-without-payout"), kinds.count("payout-without-ledger"), len(kinds)) == (7, 7, 14)
    assert next(r for r in report.channels if r.name == "stripe")["difference"] == aud("0.00")


def test_a_posting_with_its_id_never_takes_a_look_alike_line():
    """pi_1 pays 60.00 and is refunded 10.00 twice (re_a on 28 September, re_b on 4 October).
    Only re_b's line (txn_rb) is in the payouts imported; it names the payment but no source id.
    Inference gives txn_rb to the earlier re_a (same payment, same amount): September looks
    settled and October shows re_b as never paid out. The recorded ids put each where it is."""
    fact = PaymentReceived(
        "stripe",
        "pi_1",
        aud("60"),
        at("2026-09-20T10:00:00+10:00"),
        "r",
        charge_id="ch_1",
        balance_transaction_id="txn_1",
    )
    payment = payment_postings(fact, account_id="A", named_invoice_id=None, event_id=None, branch="north")
    refunds = [
        reversal_postings(
            RefundIssued("stripe", rid, "pi_1", aud("10"), at(when), "ch_1", balance_transaction_id=txn),
            payment=payment,
            event_id=None,
            branch="north",
        )
        for rid, when, txn in (
            ("re_a", "2026-09-28T10:00:00+10:00", "txn_ra"),
            ("re_b", "2026-10-04T10:00:00+11:00", "txn_rb"),
        )
    ]
    lines = [
        _line("txn_1", "charge", aud("60.00"), "2026-09-20T00:00:00+00:00"),
        _line("txn_rb", "refund", aud("-10.00"), "2026-10-04T00:00:00+00:00"),
    ]
    exact = [payment, *refunds]
    inferred = [replace(s, balance_transaction_id=None) for s in exact]

    def differences(sets: list[PostingSet], period: Period) -> list[tuple[str, str | None]]:
        report = reconcile(
            period=period,
            posting_sets=sets,
            branches={},
            payout_lines={"stripe": lines},
            reconciled_channels=("stripe",),
        )
        return [(d.kind, d.posting_id) for d in report.differences]

    assert differences(inferred, SEPTEMBER) == []  # wrong: re_a was never paid out
    assert differences(inferred, OCTOBER) == [("ledger-without-payout", "refund:stripe:re_b")]  # wrong: it was
    assert differences(exact, SEPTEMBER) == [("ledger-without-payout", "refund:stripe:re_a")]
    assert differences(exact, OCTOBER) == []


def _line(txn: str, category: str, gross: Money, when: str) -> PayoutLine:
    return PayoutLine(
        "stripe", txn, "po_1", category, at(when), gross, Money.zero("AUD"), gross, payment_intent_id="pi_1"
    )


# -- the branch at posting time -----------------------------------------------------------------------


def move_branch(platform, account_id: str, branch: str) -> None:
    accounts = platform.documents.container(ACCOUNTS.name)
    doc = accounts.get(account_id, account_id)
    accounts.replace({**doc, "branch": branch}, etag=doc["_etag"])


def test_an_account_that_changes_branch_keeps_its_past_payments_in_the_old_branch(october):
    import_lines(october, *LINES)
    move_branch(october, "A", "west")
    ledger = PaymentLedger(october.documents, october.bus)
    # A redelivery of pi_1's event after the move adds nothing and changes no recorded branch.
    paid = charge_succeeded("evt_c1", "ch_1", "pi_1", 5000, "71000019")
    again = with_fields(paid, created="2026-10-02T10:00:00+10:00", balance_transaction="txn_c1")
    assert post(ledger, again, "evt_c1") == ["already-posted"]
    report = ReconciliationService(october.documents).report(OCTOBER)
    assert sorted(r.name for r in report.branches) == ["north", "south"] and report.notes == ()
    # A refund posted after the move is the new branch's money, in November.
    refund = json.loads(charge_refunded("evt_r2", "ch_3", "pi_3", 5000, [("re_2", 500)], amount_refunded=500))
    refund["data"]["object"]["refunds"]["data"][0]["balance_transaction"] = "txn_r2"
    refund["created"] = int(at("2026-11-03T10:00:00+11:00").timestamp())
    assert post(ledger, json.dumps(refund).encode(), "evt_r2") == ["posted"]
    november = ReconciliationService(october.documents).report(NOVEMBER)
    assert [(r.name, r["refunded"]) for r in november.branches] == [("west", aud("5.00"))]
    assert [r.name for r in ReconciliationService(october.documents).report(OCTOBER).branches] == ["north", "south"]


def test_old_posting_sets_without_the_new_fields_reconcile_as_before_and_the_report_says_so(october):
    """A's sets as stored before this change; the report has the payment column inference needs."""
    import_lines(october, *LINES, payment_column=True)
    payments = october.documents.container(PAYMENTS.name)
    for doc in payments.query({"kind": "posting-set", "accountId": "A"}):  # as stored before this change
        old = {k: v for k, v in doc.items() if k not in ("balanceTransactionId", "branch")}
        payments.replace(old, etag=doc["_etag"])
    move_branch(october, "A", "west")
    report = ReconciliationService(october.documents).report(OCTOBER)
    assert sorted(r.name for r in report.branches) == ["south", "west"]
    assert report.differences == ()  # A's five by category, payment and amount; B's two by their ids
    [branch_note, inferred_note] = report.to_json()["notes"]
    assert (branch_note["kind"], branch_note["postings"], branch_note["accounts"]) == (
        "branch-at-report-time",
        5,
        ["A"],
    )
    assert (inferred_note["kind"], inferred_note["postings"], inferred_note["accounts"]) == (
        "payout-lines-inferred",
        5,
        ["A"],
    )
    west = next(r for r in report.branches if r.name == "west")
    assert west["netReceived"] == aud("90.00")  # pi_1 + pi_3 - re_1 - dp_3 + dp_3 won, now in A's branch
    period_sheet = load_workbook(io.BytesIO(render(report, "xlsx").body))["Period"]
    assert ("note: branch-at-report-time", branch_note["detail"]) in period_sheet.iter_rows(values_only=True)
    south_only = ReconciliationService(october.documents).report(OCTOBER, branch="south")
    assert south_only.notes == ()  # the note counts what the filter keeps


def test_suspense_records_no_branch_and_an_assignment_records_the_account_s(platform):
    documents = platform.documents
    seed(documents, "A", "71000019", "north")
    ledger = PaymentLedger(documents, platform.bus)
    raw = with_fields(
        charge_succeeded("evt_s", "ch_9", "pi_9", 3000, "99999997"),
        created="2026-10-02T10:00:00+10:00",
        balance_transaction="txn_9",
    )
    assert post(ledger, raw, "evt_s") == ["posted"]
    now = at("2026-10-03T10:00:00+10:00")
    outcome = ledger.assign(
        provider="stripe", payment_key="stripe:pi_9", account_id="A", invoice_number=None, event_id="op-1", now=now
    )
    assert outcome.status == "posted"
    recorded = {(s.posting_id, s.account_id): (s.balance_transaction_id, s.branch) for s in stored_sets(platform)}
    assert recorded == {
        ("payment:stripe:pi_9", "unallocated"): ("txn_9", None),
        ("assignment:stripe:pi_9", "A"): (None, "north"),  # moves no Stripe money: no balance transaction
    }
    report = ReconciliationService(documents).report(OCTOBER)
    assert [r.name for r in report.branches] == ["unallocated"] and report.notes == ()


def test_the_ledger_check_reads_the_new_fields_and_judges_as_before(october):
    report = check_ledger(october.documents)
    assert report.to_json() == {"balanced": True, "postings": 9, "payments": 3, "accounts": 2, "problems": []}
