"""Inclining and declining block energy, thresholds per bill and per day, worked by hand."""

from __future__ import annotations

from datetime import date

import pytest

from shared.rating import RegisterConsumption, TariffError
from tests.rating.component_builders import SYDNEY, constant, rated, table, tariff

JULY_1, AUG_1 = date(2026, 7, 1), date(2026, 8, 1)


def blocks(*tiers: tuple[str | None, str], per: str = "bill", **more) -> dict:
    listed = []
    for index, (up_to, rate) in enumerate(tiers, start=1):
        block = {"id": f"b{index}", "description": f"Block {index}", "rate": rate}
        listed.append(block | ({"upTo": up_to} if up_to is not None else {}))
    return {"id": "energy", "kind": "block_energy", "blocks": listed, "thresholdsPer": per, "taxCode": "GST"} | more


INCLINING = blocks(("1000", "0.25"), ("2000", "0.30"), (None, "0.40"))


def test_inclining_blocks_per_bill():
    # 2,500.5 kWh: the first 1,000 at 0.25 = 250.00; 1,000 to 2,000 at 0.30 = 300.00;
    # the last 500.5 at 0.40 = 200.20. Subtotal 750.20.
    charges = rated(tariff(INCLINING), JULY_1, AUG_1, RegisterConsumption(2_500_500, JULY_1, AUG_1))
    assert table(charges) == [
        ("b1", "1000.000", "kWh", "0.25", "250.00"),
        ("b2", "1000.000", "kWh", "0.30", "300.00"),
        ("b3", "500.500", "kWh", "0.40", "200.20"),
    ]
    assert str(charges.subtotal.amount) == "750.20"


def test_usage_inside_the_first_block_still_shows_every_block():
    # 50 kWh of a declining tariff: 50 x 0.40 = 20.00, the second block empty.
    declining = blocks(("100", "0.40"), (None, "0.20"))
    charges = rated(tariff(declining), JULY_1, AUG_1, RegisterConsumption(50_000, JULY_1, AUG_1))
    assert table(charges) == [("b1", "50.000", "kWh", "0.40", "20.00"), ("b2", "0.000", "kWh", "0.20", "0.00")]


def test_a_threshold_exactly_met_leaves_the_next_block_empty():
    charges = rated(tariff(INCLINING), JULY_1, AUG_1, RegisterConsumption(1_000_000, JULY_1, AUG_1))
    assert [line.quantity for line in charges.lines] == [1000, 0, 0]


def test_daily_thresholds_are_multiplied_by_the_days_rated():
    # 10.959 kWh a day x 31 days = 339.729 kWh at 0.28 = 95.12412 -> 95.12;
    # 400 - 339.729 = 60.271 kWh at 0.33 = 19.88943 -> 19.89.
    daily = blocks(("10.959", "0.28"), (None, "0.33"), per="day")
    charges = rated(tariff(daily), JULY_1, AUG_1, RegisterConsumption(400_000, JULY_1, AUG_1))
    assert table(charges) == [("b1", "339.729", "kWh", "0.28", "95.12"), ("b2", "60.271", "kWh", "0.33", "19.89")]


def test_blocks_price_interval_energy_too():
    # 31 days x 48 half-hours x 500 Wh = 744 kWh: 339.729 in the first (daily) block, 404.271 above.
    daily = blocks(("10.959", "0.28"), (None, "0.33"), per="day")
    charges = rated(tariff(daily), JULY_1, AUG_1, constant(JULY_1, AUG_1, SYDNEY, 500))
    assert [str(line.quantity) for line in charges.lines] == ["339.729", "404.271"]


@pytest.mark.parametrize(
    ("component", "field", "problem"),
    [
        (blocks(("1000", "0.25"), ("500", "0.30"), (None, "0.40")), "blocks[1].upTo", "must increase: 500 kWh"),
        (blocks(("1000", "0.25"), ("1000", "0.30"), (None, "0.40")), "blocks[1].upTo", "must increase"),
        (blocks((None, "0.25"), (None, "0.30")), "blocks[0].upTo", "only the last block may be open-ended"),
        (blocks(("1000", "0.25"), ("2000", "0.30")), "blocks[1].upTo", "must be open-ended"),
        (blocks(("10.9595", "0.25"), (None, "0.30")), "blocks[0].upTo", "finer than a Wh"),
        (blocks(("0", "0.25"), (None, "0.30")), "blocks[0].upTo", "positive"),
        (blocks(("100", "-0.25"), (None, "0.30")), "blocks[0].rate", "negative"),
        (blocks(), "blocks", "needs at least one block"),
        (blocks(("100", "0.25"), (None, "0.30"), per="month"), "thresholdsPer", "bill, day"),
    ],
)
def test_bad_blocks_are_refused_naming_the_component_and_the_block(component, field, problem):
    with pytest.raises(TariffError) as caught:
        tariff(component)
    assert caught.value.field == f"components[0].{field}"
    assert problem in caught.value.problem


def test_a_threshold_that_does_not_rise_names_the_component_and_both_thresholds():
    with pytest.raises(TariffError) as caught:
        tariff(blocks(("1000", "0.25"), ("500", "0.30"), (None, "0.40")))
    assert caught.value.problem == (
        "blocks of 'energy' must increase: 500 kWh is not above the previous block's 1000 kWh"
    )
