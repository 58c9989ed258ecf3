"""Dunning policies are checked as a whole, each problem named by its field."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from shared.collections.policy import (
    BUILT_IN_DEFAULT,
    DunningPolicy,
    InvalidPolicy,
    StepKind,
    built_in_policy,
)
from shared.money import Money


def policy(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BUILT_IN_DEFAULT)
    doc.update(changes)
    return doc


def errors_of(doc: Any, policy_id: str = "residential") -> list[tuple[str, str]]:
    with pytest.raises(InvalidPolicy) as raised:
        DunningPolicy.from_document(policy_id, doc)
    return [(e.field, e.message) for e in raised.value.errors]


def test_the_built_in_policy_reads_as_the_business_states_it():
    built_in = built_in_policy()
    assert [(s.days_overdue, s.kind) for s in built_in.steps] == [
        (7, StepKind.REMINDER),
        (21, StepKind.REMINDER_WITH_FEE),
        (35, StepKind.DISCONNECTION_WARNING),
        (49, StepKind.DISCONNECTION_ORDER),
    ]
    assert built_in.steps[1].fee == Money.of("15.00", "AUD") and built_in.steps[1].tax_rate == Decimal("0.10")
    assert built_in.minimum_overdue == Money.of("50.00", "AUD") and built_in.min_days_between_steps == 7


def test_a_policy_survives_its_document():
    read = DunningPolicy.from_document("small-business", policy(minimumOverdue="120.00"))
    assert DunningPolicy.from_document("small-business", read.to_document()) == read
    assert read.to_document()["policyId"] == "small-business"


def test_every_problem_is_named_at_once():
    doc = policy(currency="XYZ", minDaysBetweenSteps=0, status="active")
    assert errors_of(doc) == [
        ("status", "unknown field"),
        ("currency", "one of AUD, PLN, NOK, EUR, USD, NZD"),
        ("minDaysBetweenSteps", "whole days from 1 to 365"),
        # the fee cannot be checked against an unknown currency, so only the currency is blamed
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"minimumOverdue": 50}, ("minimumOverdue", 'a decimal amount as a string, e.g. "15.00"')),
        ({"minimumOverdue": "-1"}, ("minimumOverdue", "must not be negative")),
        ({"minimumOverdue": "10.005"}, ("minimumOverdue", "10.005 has more decimals than AUD has minor units")),
        ({"minimumOverdue": "NaN"}, ("minimumOverdue", "'NaN' is not a decimal amount")),
        ({"minimumOverdue": "ten"}, ("minimumOverdue", "'ten' is not a decimal amount")),
        ({"steps": []}, ("steps", "a list of 1 to 10 steps")),
        ({"minDaysBetweenSteps": True}, ("minDaysBetweenSteps", "whole days from 1 to 365")),
    ],
)
def test_bad_fields_are_refused_by_name(change, expected):
    assert errors_of(policy(**change)) == [expected]


def test_steps_must_be_later_each_time():
    doc = policy()
    doc["steps"][2]["daysOverdue"] = 21
    assert errors_of(doc) == [("steps.2.daysOverdue", "21 must be later than the step before (21)")]


def test_a_fee_belongs_only_on_a_fee_step_and_needs_an_amount_and_tax_code():
    doc = policy()
    doc["steps"][0]["fee"] = "5.00"
    doc["steps"][1] = {"daysOverdue": 21, "kind": "reminder_with_fee", "fee": "0", "taxCode": "VAT99"}
    assert errors_of(doc) == [
        ("steps.0.fee", "only a reminder_with_fee step has a fee"),
        ("steps.1.fee", "must be more than zero"),
        ("steps.1.taxCode", "one of GST, GST-FREE, VAT23, VAT8, MVA25"),
    ]


def test_a_disconnection_order_needs_a_warning_before_it_and_comes_last():
    doc = policy(
        steps=[
            {"daysOverdue": 7, "kind": "disconnection_order"},
            {"daysOverdue": 14, "kind": "disconnection_warning"},
        ]
    )
    assert errors_of(doc) == [
        ("steps.0.kind", "a disconnection order can only be the last step"),
        ("steps.0.kind", "a disconnection order needs a disconnection warning before it"),
    ]


def test_an_unknown_kind_or_segment_is_refused():
    doc = policy(steps=[{"daysOverdue": 7, "kind": "sms"}])
    assert errors_of(doc, "vip") == [
        (
            "policyId",
            "one of default, residential, small-business, commercial, industrial (a customer segment, or the default)",
        ),
        ("steps.0.kind", "one of reminder, reminder_with_fee, disconnection_warning, disconnection_order"),
    ]


def test_a_body_that_is_not_an_object_is_refused():
    assert errors_of(["steps"]) == [("body", "a policy is a JSON object")]
