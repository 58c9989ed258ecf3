"""Minimum charges (a top-up line) and discounts (a negative line, or pending when conditional)."""

from __future__ import annotations

from datetime import date

import pytest

from shared.rating import RegisterConsumption, TariffError
from tests.rating.component_builders import flat, rated, supply, table, tariff

JULY_1, JULY_31 = date(2026, 7, 1), date(2026, 7, 31)  # 30 days


def minimum(amount: str, per: str = "bill", applies_to: str = "usage") -> dict:
    return {
        "id": "minimum",
        "kind": "minimum_charge",
        "description": "Minimum charge",
        "amount": amount,
        "per": per,
        "appliesTo": applies_to,
        "taxCode": "GST",
    }


def discount(fraction: str, **more) -> dict:
    return {
        "id": "discount",
        "kind": "discount",
        "description": "Discount",
        "fraction": fraction,
        "taxCode": "GST",
    } | more


def july(wh: int) -> RegisterConsumption:
    return RegisterConsumption(wh, JULY_1, JULY_31)


def test_usage_charges_below_the_minimum_are_topped_up():
    # 40 kWh x 0.30 = 12.00 of usage against a 20.00 minimum: a top-up of 8.00.
    charges = rated(tariff(supply(), flat(), minimum("20.00")), JULY_1, JULY_31, july(40_000))
    assert table(charges) == [
        ("supply", "30", "day", "1.00", "30.00"),
        ("energy", "40.000", "kWh", "0.30", "12.00"),
        ("minimum", "1", "top-up", "8.00", "8.00"),
    ]
    assert charges.lines[2].description == "Minimum charge (minimum 20.00, charges 12.00)"


def test_a_bill_that_meets_the_minimum_gets_no_top_up_line():
    charges = rated(tariff(supply(), flat(), minimum("20.00")), JULY_1, JULY_31, july(100_000))  # 30.00 of usage
    assert [line.component_id for line in charges.lines] == ["supply", "energy"]


def test_a_daily_minimum_on_the_whole_bill():
    # Minimum 0.50 a day x 30 = 15.00; the bill: supply 30 x 0.20 = 6.00 + 10 kWh x 0.30 = 3.00 = 9.00; top-up 6.00.
    charges = rated(tariff(supply("0.20"), flat(), minimum("0.50", "day", "bill")), JULY_1, JULY_31, july(10_000))
    assert table(charges)[-1] == ("minimum", "1", "top-up", "6.00", "6.00")


def test_a_monthly_minimum_over_two_part_months():
    # 15 July .. 15 August: 0.548387 + 0.451613 = 1.000000 month x 25.00 = 25.00; usage 40 x 0.30 = 12.00; top-up 13.00.
    start, end = date(2026, 7, 15), date(2026, 8, 15)
    charges = rated(tariff(flat(), minimum("25.00", "month")), start, end, RegisterConsumption(40_000, start, end))
    assert table(charges)[-1] == ("minimum", "1", "top-up", "13.00", "13.00")


def test_a_discount_is_a_share_of_the_usage_charges_only():
    # Usage 300 kWh x 0.30 = 90.00; 7 % off = -6.30. The supply charge is not discounted.
    charges = rated(tariff(supply(), flat(), discount("0.07")), JULY_1, JULY_31, july(300_000))
    assert table(charges) == [
        ("supply", "30", "day", "1.00", "30.00"),
        ("energy", "300.000", "kWh", "0.30", "90.00"),
        ("discount", "90.00", "AUD", "-0.07", "-6.30"),
    ]
    assert str(charges.subtotal.amount) == "113.70"


def test_a_pay_on_time_discount_is_pending_not_applied():
    # 10 % of 90.00 = -9.00, carried for invoicing: the subtotal stays 30.00 + 90.00 = 120.00.
    charges = rated(tariff(supply(), flat(), discount("0.10", condition="pay_on_time")), JULY_1, JULY_31, july(300_000))
    assert [line.component_id for line in charges.lines] == ["supply", "energy"]
    assert str(charges.subtotal.amount) == "120.00"
    (pending,) = charges.pending
    assert pending.condition == "pay_on_time"
    assert (str(pending.line.quantity), str(pending.line.rate), str(pending.line.amount.amount)) == (
        "90.00",
        "-0.10",
        "-9.00",
    )
    assert charges.to_json()["pending"][0]["condition"] == "pay_on_time"


def test_a_whole_bill_minimum_counts_the_discount():
    # 40 kWh x 0.30 = 12.00, 10 % off = -1.20: the bill is 10.80 against a 20.00 minimum, top-up 9.20.
    charges = rated(tariff(flat(), discount("0.10"), minimum("20.00", "bill", "bill")), JULY_1, JULY_31, july(40_000))
    assert table(charges) == [
        ("energy", "40.000", "kWh", "0.30", "12.00"),
        ("discount", "12.00", "AUD", "-0.10", "-1.20"),
        ("minimum", "1", "top-up", "9.20", "9.20"),
    ]


@pytest.mark.parametrize(
    ("component", "field"),
    [
        (discount("0"), "fraction"),
        (discount("1.5"), "fraction"),
        (discount("7"), "fraction"),
        (discount("0.1", condition=""), "condition"),
        (minimum("20.00", "week"), "per"),
        (minimum("20.00", "bill", "supply"), "appliesTo"),
        (minimum("-1"), "amount"),
    ],
)
def test_bad_adjustments_are_named(component, field):
    with pytest.raises(TariffError) as caught:
        tariff(flat(), component)
    assert caught.value.field == f"components[1].{field}"
