"""Stripe events through the webhook service and the bus into the ledger, on the SQLite store:
duplicates, any order, refunds keyed by their own ids, disputes, credit, suspense, crashes.

Two open invoices on account ACC-1 (reference 71000019): INV-1 of 100.00 (September) and
INV-2 of 50.00 (October), so 150.00 is owed before anything is paid.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from shared.payments.facts import EventRejected
from shared.payments.inbox import WebhookInbox
from shared.payments.ledger_command import check_ledger
from shared.payments.ledger_service import PaymentLedger
from shared.payments.processing import EventProcessor
from shared.payments.stripe_webhook import StripeWebhook
from shared.resources import QUEUE_PAYMENT_RECEIVED
from shared.runtime import use_platform
from tests.payments.support import (
    charge_refunded,
    charge_succeeded,
    dispute_event,
    event_doc,
    invoice_now,
    invoice_paid,
    issue_invoice,
    ledger_platform,
    payment_intent_succeeded,
    posting_docs,
    refused_docs,
    seed_account,
    stripe_signature,
)

REF = "71000019"


@pytest.fixture
def books(tmp_path, clock):
    platform = ledger_platform(tmp_path, clock)
    use_platform(platform)  # the pipeline's handlers, subscribed on the in-process bus
    seed_account(platform.documents, "ACC-1", REF)
    platform.inv1 = issue_invoice(
        platform.documents,
        account_id="ACC-1",
        number="INV-1",
        total_cents=10000,
        issue_date=date(2026, 9, 1),
        reference=REF,
    )
    platform.inv2 = issue_invoice(
        platform.documents,
        account_id="ACC-1",
        number="INV-2",
        total_cents=5000,
        issue_date=date(2026, 10, 1),
        reference=REF,
        emailed=True,
    )
    yield platform
    use_platform(None)
    platform.close()


def send(books, raw: bytes, *, drain: bool = True):
    webhook = StripeWebhook(
        books.documents, books.bus, secrets=books.settings.stripe_webhook_secrets, tolerance_seconds=300
    )
    receipt = webhook.receive(raw, stripe_signature(raw), now=books.clock())
    if drain:
        report = books.bus.drain()
        assert report.dead_lettered == 0
    return receipt


def state(books) -> dict[str, tuple[str, str]]:
    """Each invoice's cached status and amount due."""
    return {
        inv.number: (
            invoice_now(books.documents, inv).status.value,
            str(invoice_now(books.documents, inv).amount_due.amount),
        )
        for inv in (books.inv1, books.inv2)
    }


def sets(books, kind: str) -> dict[str, str]:
    return {d["id"]: d["postings"][0]["amount"]["amount"] for d in posting_docs(books.documents, type=kind)}


def balanced(books) -> None:
    report = check_ledger(books.documents)
    assert report.problems == () and report.balanced


THREE_EVENTS = {
    "payment_intent.succeeded": payment_intent_succeeded("evt_pi", "pi_1", 12000, REF, charge="ch_1"),
    "charge.succeeded": charge_succeeded("evt_ch", "ch_1", "pi_1", 12000, REF),
    "invoice.paid": invoice_paid("evt_in", "in_1", "pi_1", 12000, REF),
}


@pytest.mark.parametrize("order", list(itertools.permutations(THREE_EVENTS)), ids="|".join)
def test_the_three_events_of_one_payment_post_it_once_in_any_order(books, order):
    for event_type in order:
        send(books, THREE_EVENTS[event_type])
        send(books, THREE_EVENTS[event_type])  # and each delivered twice

    assert sets(books, "payment") == {"payment:stripe:pi_1": "120.00"}
    assert state(books) == {"INV-1": ("paid", "0.00"), "INV-2": ("partly_paid", "30.00")}
    outcomes = [event_doc(books.documents, f"evt_{t}")["outcomes"][0] for t in ("pi", "ch", "in")]
    assert sorted(o.split(":")[0] for o in outcomes) == ["already-posted", "already-posted", "posted"]
    balanced(books)


def test_a_refund_before_its_payment_is_held_then_applied_once_the_payment_arrives(books):
    refund = charge_refunded("evt_re", "ch_1", "pi_1", 12000, [("re_1", 4000)], amount_refunded=4000)
    send(books, refund)
    held = event_doc(books.documents, "evt_re")
    assert (held["status"], held["waitingFor"]) == ("held", "payment:stripe:pi_1")
    assert sets(books, "refund") == {}
    assert state(books) == {"INV-1": ("issued", "100.00"), "INV-2": ("sent", "50.00")}

    send(books, payment_intent_succeeded("evt_pi", "pi_1", 12000, REF, charge="ch_1"))

    assert event_doc(books.documents, "evt_re")["status"] == "applied"
    assert sets(books, "refund") == {"refund:stripe:re_1": "40.00"}
    # 120.00 paid INV-1 and 20.00 of INV-2; the 40.00 refund reopens INV-2's 20.00, then 20.00 of INV-1.
    assert state(books) == {"INV-1": ("partly_paid", "20.00"), "INV-2": ("sent", "50.00")}
    balanced(books)


def test_a_refund_naming_only_the_charge_is_released_by_the_payment_of_that_charge(books):
    send(books, charge_refunded("evt_re", "ch_1", None, 5000, [("re_1", 5000)], amount_refunded=5000))
    assert event_doc(books.documents, "evt_re")["waitingForCharge"] == "ch_1"
    send(books, payment_intent_succeeded("evt_pi", "pi_1", 5000, REF, charge="ch_1"))
    assert event_doc(books.documents, "evt_re")["status"] == "applied"
    assert state(books) == {"INV-1": ("issued", "100.00"), "INV-2": ("sent", "50.00")}


def test_partial_refunds_are_keyed_by_refund_id_never_by_the_running_total(books):
    send(books, payment_intent_succeeded("evt_pi", "pi_1", 15000, REF, charge="ch_1"))
    first = charge_refunded("evt_r1", "ch_1", "pi_1", 15000, [("re_1", 1000)], amount_refunded=1000)
    second = charge_refunded("evt_r2", "ch_1", "pi_1", 15000, [("re_2", 1500), ("re_1", 1000)], amount_refunded=2500)
    send(books, first)
    send(books, second)
    send(books, first)  # the first replayed

    assert sets(books, "refund") == {"refund:stripe:re_1": "10.00", "refund:stripe:re_2": "15.00"}  # 25.00, not 35.00
    # 150.00 paid both; 25.00 refunded reopens INV-2 (covered last) by 25.00.
    assert state(books) == {"INV-1": ("paid", "0.00"), "INV-2": ("partly_paid", "25.00")}
    balanced(books)


def test_a_chargeback_reopens_and_a_won_dispute_pays_again_even_when_they_arrive_backwards(books):
    won = dispute_event("evt_won", "charge.dispute.closed", "dp_1", "ch_1", "pi_1", 15000, "won")
    opened = dispute_event("evt_open", "charge.dispute.created", "dp_1", "ch_1", "pi_1", 15000, "needs_response")
    send(books, won)
    send(books, opened)
    assert {event_doc(books.documents, e)["waitingFor"] for e in ("evt_won", "evt_open")} == {
        "chargeback:stripe:dp_1",
        "payment:stripe:pi_1",
    }
    send(books, payment_intent_succeeded("evt_pi", "pi_1", 15000, REF))
    assert sets(books, "chargeback") == {"chargeback:stripe:dp_1": "150.00"}
    assert sets(books, "chargeback-reversed") == {"chargeback-reversed:stripe:dp_1": "150.00"}
    assert state(books) == {"INV-1": ("paid", "0.00"), "INV-2": ("paid", "0.00")}


def test_a_chargeback_that_stands_leaves_the_invoices_open(books):
    send(books, payment_intent_succeeded("evt_pi", "pi_1", 15000, REF))
    send(books, dispute_event("evt_open", "charge.dispute.created", "dp_1", "ch_1", "pi_1", 15000, "needs_response"))
    send(books, dispute_event("evt_lost", "charge.dispute.closed", "dp_1", "ch_1", "pi_1", 15000, "lost"))
    assert event_doc(books.documents, "evt_lost")["outcomes"] == ["no-effect: dispute dp_1 lost: the chargeback stands"]
    assert state(books) == {"INV-1": ("issued", "100.00"), "INV-2": ("sent", "50.00")}
    balanced(books)


def test_an_overpayment_is_credit_that_pays_the_next_invoice(books):
    send(books, payment_intent_succeeded("evt_pi", "pi_1", 20000, REF))
    ledger = PaymentLedger(books.documents, books.bus)
    assert ledger.projection.position("ACC-1").credit.amount == 50

    inv3 = issue_invoice(
        books.documents,
        account_id="ACC-1",
        number="INV-3",
        total_cents=8000,
        issue_date=date(2026, 11, 1),
        reference=REF,
    )
    position = ledger.projection.position("ACC-1")  # derived at once from the postings
    assert (str(position.invoice(inv3.invoice_id).open.amount), position.credit.amount) == ("30.00", 0)
    ledger.projection.refresh("ACC-1")  # the cached status, once billing calls it after issuing
    assert invoice_now(books.documents, inv3).status.value == "partly_paid"
    assert invoice_now(books.documents, inv3).applied_payments == ("pi_1",)


def test_money_from_an_unknown_reference_waits_in_suspense_and_can_be_refunded_from_there(books):
    send(books, payment_intent_succeeded("evt_pi", "pi_9", 4200, "99999999", charge="ch_9"))
    [payment] = posting_docs(books.documents, type="payment")
    assert payment["accountId"] == "unallocated"
    assert "suspense" in event_doc(books.documents, "evt_pi")["outcomes"][0]
    send(books, charge_refunded("evt_re", "ch_9", "pi_9", 4200, [("re_9", 4200)], amount_refunded=4200))
    assert [d["postings"][0]["ledgerAccount"] for d in posting_docs(books.documents, type="refund")] == ["suspense"]
    assert state(books) == {"INV-1": ("issued", "100.00"), "INV-2": ("sent", "50.00")}
    balanced(books)


def test_a_payment_first_seen_without_its_reference_stays_where_it_was_posted(books):
    send(books, charge_succeeded("evt_ch", "ch_1", "pi_1", 5000, None))  # Stripe copies no metadata to the charge
    send(books, payment_intent_succeeded("evt_pi", "pi_1", 5000, REF))
    assert [d["accountId"] for d in posting_docs(books.documents, type="payment")] == ["unallocated"]
    assert event_doc(books.documents, "evt_pi")["outcomes"][0].startswith("already-posted")


def test_a_payment_in_a_currency_the_account_is_not_billed_in_is_refused_and_kept(books):
    with pytest.raises(EventRejected, match="billed in AUD") as refused:
        send(books, payment_intent_succeeded("evt_nzd", "pi_1", 5000, REF, currency="nzd"))
    assert (refused.value.code, refused.value.field) == ("currency_mismatch", "data.object.currency")
    assert posting_docs(books.documents) == []
    assert [d["code"] for d in refused_docs(books.documents)] == ["currency_mismatch"]


def test_a_refund_larger_than_what_is_left_of_its_payment_is_refused(books):
    send(books, payment_intent_succeeded("evt_pi", "pi_1", 5000, REF, charge="ch_1"))
    # The charge object claims 100.00 but the ledger holds a 50.00 payment: 80.00 cannot come back.
    with pytest.raises(EventRejected, match="more than what is left") as refused:
        send(books, charge_refunded("evt_re", "ch_1", "pi_1", 10000, [("re_1", 8000)], amount_refunded=8000))
    assert refused.value.code == "amount_does_not_fit"
    assert sets(books, "refund") == {}


def test_a_held_refund_that_turns_out_not_to_fit_is_rejected_when_its_payment_arrives(books):
    send(books, charge_refunded("evt_re", "ch_1", "pi_1", 10000, [("re_1", 8000)], amount_refunded=8000))
    send(books, payment_intent_succeeded("evt_pi", "pi_1", 5000, REF, charge="ch_1"))
    stored = event_doc(books.documents, "evt_re")
    assert stored["status"] == "rejected" and "amount_does_not_fit" in stored["outcomes"][0]
    assert sets(books, "refund") == {}
    balanced(books)


def test_an_event_stored_but_never_queued_is_queued_by_the_gateways_retry(books):
    raw = payment_intent_succeeded("evt_pi", "pi_1", 5000, REF)
    # As if the process died between storing the event and sending its message.
    WebhookInbox(books.documents).record(
        provider="stripe", event_id="evt_pi", event_type="payment_intent.succeeded", raw=raw, now=books.clock()
    )
    assert books.bus.pending() == 0
    receipt = send(books, raw)
    assert receipt.duplicate and event_doc(books.documents, "evt_pi")["status"] == "applied"
    assert sets(books, "payment") == {"payment:stripe:pi_1": "50.00"}


def test_a_crash_after_posting_is_mended_by_the_redelivery(books, monkeypatch):
    from shared.payments.projection import InvoiceProjection

    def crash(self, account_id):
        raise RuntimeError("worker died after posting")

    with monkeypatch.context() as patch:
        patch.setattr(InvoiceProjection, "refresh", crash)
        send(books, payment_intent_succeeded("evt_pi", "pi_1", 5000, REF), drain=False)
        books.bus.drain(max_messages=1)  # the first delivery posts, then dies
    assert sets(books, "payment") == {"payment:stripe:pi_1": "50.00"}
    assert state(books)["INV-1"] == ("issued", "100.00")  # the cache missed it

    books.bus.drain()  # the bus redelivers
    assert sets(books, "payment") == {"payment:stripe:pi_1": "50.00"}
    assert state(books)["INV-1"] == ("partly_paid", "50.00")


def test_one_event_processed_by_many_workers_at_once_posts_once(books):
    send(books, payment_intent_succeeded("evt_pi", "pi_1", 5000, REF), drain=False)
    processor = EventProcessor(books.documents, books.bus)

    def work(_: int) -> str:
        return processor.process(provider="stripe", event_id="evt_pi", now=books.clock())

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(work, range(8))) == {"applied"}
    assert sets(books, "payment") == {"payment:stripe:pi_1": "50.00"}
    assert state(books)["INV-1"] == ("partly_paid", "50.00")


def test_two_payments_to_one_account_at_once_never_overpay_an_invoice(books):
    for n in range(6):
        send(books, payment_intent_succeeded(f"evt_{n}", f"pi_{n}", 3000, REF), drain=False)
    processor = EventProcessor(books.documents, books.bus)

    def work(n: int) -> str:
        return processor.process(provider="stripe", event_id=f"evt_{n}", now=books.clock())

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(work, range(6)))
    # 6 x 30.00 = 180.00 against 150.00 owed: both paid, 30.00 credit, whatever the interleaving.
    assert state(books) == {"INV-1": ("paid", "0.00"), "INV-2": ("paid", "0.00")}
    assert PaymentLedger(books.documents, books.bus).projection.position("ACC-1").credit.amount == 30
    balanced(books)


def test_an_unknown_provider_on_the_queue_is_a_poison_message(books):
    books.bus.send(QUEUE_PAYMENT_RECEIVED, {"eventId": "evt_x", "provider": "paypal"}, message_id="m1")
    books.bus.drain()
    [dead] = books.bus.dead_letters(QUEUE_PAYMENT_RECEIVED)
    assert "unknown provider 'paypal'" in dead.description
