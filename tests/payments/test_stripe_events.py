"""Reading Stripe's events: what each means for the ledger, and what is refused (naming the field)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.money import Money
from shared.payments.facts import (
    ChargebackOpened,
    ChargebackReversed,
    EventRejected,
    NoLedgerEffect,
    PaymentReceived,
    RefundIssued,
)
from shared.payments.stripe_events import facts_from_payload, is_handled, parse_event
from tests.payments.support import (
    NOW,
    charge_refunded,
    charge_succeeded,
    dispute_event,
    invoice_paid,
    payment_intent_succeeded,
    stripe_event,
)


def aud(cents: int) -> Money:
    return Money.from_minor(cents, "AUD")


def test_a_payment_intent_succeeded_is_a_payment_of_the_amount_received():
    [fact] = facts_from_payload(payment_intent_succeeded("evt_1", "pi_1", 14286, "71000019", charge="ch_1"))
    assert fact == PaymentReceived("stripe", "pi_1", aud(14286), NOW, reference="71000019", charge_id="ch_1")
    assert fact.key == "stripe:pi_1"
    assert fact.occurred_at.tzinfo is UTC


def test_an_older_payment_intent_names_its_charge_in_its_charges_list():
    raw = json.loads(payment_intent_succeeded("evt_1", "pi_1", 5000, "r1"))
    raw["data"]["object"]["charges"] = {"object": "list", "data": [{"id": "ch_old", "object": "charge"}]}
    [fact] = facts_from_payload(json.dumps(raw).encode())
    assert fact.charge_id == "ch_old"


def test_the_three_events_of_one_payment_name_it_the_same_way():
    facts = [
        *facts_from_payload(payment_intent_succeeded("evt_1", "pi_1", 5000, "r1")),
        *facts_from_payload(charge_succeeded("evt_2", "ch_1", "pi_1", 5000, "r1")),
        *facts_from_payload(invoice_paid("evt_3", "in_1", "pi_1", 5000, "r1")),
    ]
    assert {f.key for f in facts} == {"stripe:pi_1"}
    assert {f.amount for f in facts} == {aud(5000)}


def test_a_charge_without_a_payment_intent_is_named_by_the_charge():
    [fact] = facts_from_payload(charge_succeeded("evt_1", "ch_9", None, 5000, "r1"))
    assert (fact.key, fact.charge_id) == ("stripe:ch_9", "ch_9")


def test_an_authorised_charge_posts_nothing_until_captured_and_then_only_what_was_captured():
    [authorised] = facts_from_payload(charge_succeeded("evt_1", "ch_1", "pi_1", 10000, "r1", captured=0))
    assert isinstance(authorised, NoLedgerEffect) and "not captured" in authorised.reason
    [captured] = facts_from_payload(
        charge_succeeded("evt_2", "ch_1", "pi_1", 10000, "r1", captured=6000, event_type="charge.captured")
    )
    assert captured.amount == aud(6000)  # a partial capture posts the 60.00 captured, not the 100.00 authorised


@pytest.mark.parametrize(
    ("event_type", "words"),
    [
        ("payment_intent.payment_failed", "failed"),
        ("payment_intent.amount_capturable_updated", "not captured"),
        ("payment_intent.partially_funded", "part-funded"),
    ],
)
def test_events_that_move_no_money_are_understood_and_post_nothing(event_type, words):
    body = {"id": "pi_1", "object": "payment_intent", "last_payment_error": {"message": "card declined"}}
    [fact] = facts_from_payload(stripe_event("evt_1", event_type, body))
    assert isinstance(fact, NoLedgerEffect) and words in fact.reason


def test_each_refund_is_its_own_fact_and_the_running_amount_refunded_is_never_posted():
    # Stripe's second charge.refunded lists both refunds (newest first) with amount_refunded 2500.
    facts = facts_from_payload(
        charge_refunded("evt_2", "ch_1", "pi_1", 5000, [("re_2", 1500), ("re_1", 1000)], amount_refunded=2500)
    )
    assert facts == [
        RefundIssued("stripe", "re_2", "pi_1", aud(1500), NOW, charge_id="ch_1"),
        RefundIssued("stripe", "re_1", "pi_1", aud(1000), NOW, charge_id="ch_1"),
    ]


def test_a_failed_refund_took_no_money():
    raw = json.loads(charge_refunded("evt_1", "ch_1", "pi_1", 5000, [("re_1", 1000)], amount_refunded=0))
    raw["data"]["object"]["refunds"]["data"][0]["status"] = "failed"
    [fact] = facts_from_payload(json.dumps(raw).encode())
    assert isinstance(fact, NoLedgerEffect)


def test_disputes_withdraw_reinstate_or_stand():
    def facts(event_type, status):
        return facts_from_payload(dispute_event("evt_1", event_type, "dp_1", "ch_1", "pi_1", 5000, status))

    assert facts("charge.dispute.created", "needs_response") == [
        ChargebackOpened("stripe", "dp_1", "pi_1", aud(5000), NOW, charge_id="ch_1")
    ]
    assert facts("charge.dispute.closed", "won") == [
        ChargebackReversed("stripe", "dp_1", "pi_1", aud(5000), NOW, charge_id="ch_1")
    ]
    for event_type, status in [
        ("charge.dispute.created", "warning_needs_response"),  # an inquiry withdraws nothing
        ("charge.dispute.closed", "lost"),
        ("charge.dispute.closed", "warning_closed"),
    ]:
        [fact] = facts(event_type, status)
        assert isinstance(fact, NoLedgerEffect), (event_type, status)


def test_an_invoice_paid_out_of_band_or_from_credit_is_not_a_stripe_payment():
    raw = json.loads(invoice_paid("evt_1", "in_1", "pi_1", 5000, "r1"))
    raw["data"]["object"]["paid_out_of_band"] = True
    assert isinstance(facts_from_payload(json.dumps(raw).encode())[0], NoLedgerEffect)
    assert isinstance(facts_from_payload(invoice_paid("evt_2", "in_1", "pi_1", 0, "r1"))[0], NoLedgerEffect)


def test_an_unknown_type_is_not_handled_but_still_reads():
    raw = stripe_event("evt_1", "customer.created", {"id": "cus_1"})
    assert not is_handled(parse_event(raw).type)
    assert isinstance(facts_from_payload(raw)[0], NoLedgerEffect)


def mutate(raw: bytes, path: str, value) -> bytes:
    body = json.loads(raw)
    target = body
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return json.dumps(body).encode()


PAID = payment_intent_succeeded("evt_1", "pi_1", 5000, "r1")
REFUNDED = charge_refunded("evt_1", "ch_1", "pi_1", 5000, [("re_1", 1000)], amount_refunded=1000)


@pytest.mark.parametrize(
    ("raw", "code", "field"),
    [
        (b"not json", "malformed_event", "body"),
        (b"[1, 2]", "malformed_event", "body"),
        ("é".encode("utf-16"), "malformed_event", "body"),
        (mutate(PAID, "id", ...), "malformed_event", "id"),
        (mutate(PAID, "id", "evt/../x"), "malformed_event", "id"),
        (mutate(PAID, "created", "yesterday"), "malformed_event", "created"),
        (mutate(PAID, "data", ...), "malformed_event", "data"),
        (mutate(PAID, "data.object.amount_received", "50.00"), "invalid_event", "data.object.amount_received"),
        (mutate(PAID, "data.object.amount_received", 50.5), "invalid_event", "data.object.amount_received"),
        (mutate(PAID, "data.object.amount_received", 0), "amount_does_not_fit", "data.object.amount_received"),
        (mutate(PAID, "data.object.amount_received", -100), "amount_does_not_fit", "data.object.amount_received"),
        (mutate(PAID, "data.object.amount_received", 10**12), "amount_does_not_fit", "data.object.amount_received"),
        (mutate(PAID, "data.object.currency", "jpy"), "unsupported_currency", "data.object.currency"),
        (mutate(PAID, "data.object.currency", "dollars"), "invalid_event", "data.object.currency"),
        (mutate(PAID, "data.object.id", ...), "invalid_event", "data.object.id"),
        (
            mutate(PAID, "data.object.metadata.payment_reference", "<script>"),
            "invalid_event",
            "data.object.metadata.payment_reference",
        ),
        (mutate(REFUNDED, "data.object.refunds", ...), "invalid_event", "data.object.refunds"),
        (mutate(REFUNDED, "data.object.amount_refunded", 6000), "amount_does_not_fit", "data.object.amount_refunded"),
        (
            mutate(REFUNDED, "data.object.refunds.data.0.amount", 6000),
            "amount_does_not_fit",
            "data.object.refunds",
        ),
        (
            mutate(REFUNDED, "data.object.refunds.data.0.currency", "nzd"),
            "currency_mismatch",
            "data.object.refunds.data.0.currency",
        ),
        (
            mutate(invoice_paid("evt_1", "in_1", "pi_1", 5000, "r1"), "data.object.payment_intent", None),
            "invalid_event",
            "data.object.payment_intent",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_bad_event_is_refused_naming_the_field(raw, code, field):
    with pytest.raises(EventRejected) as refused:
        facts_from_payload(raw)
    assert (refused.value.code, refused.value.field) == (code, field), refused.value.message


def test_the_event_time_is_stripes_created_time():
    raw = payment_intent_succeeded("evt_1", "pi_1", 5000, "r1")
    assert parse_event(mutate(raw, "created", 1_800_000_000)).occurred_at == datetime.fromtimestamp(1_800_000_000, UTC)
