"""Controlled load on its own register (E2) and export (feed-in) credits on B1, worked by hand."""

from __future__ import annotations

from datetime import date

import pytest

from shared.rating import RatingError, RegisterConsumption, TariffError
from tests.rating.component_builders import (
    ALL_DAY,
    SYDNEY,
    constant,
    flat,
    hourly,
    period,
    rated,
    supply,
    table,
    tariff,
)

JULY_1, JULY_31 = date(2026, 7, 1), date(2026, 7, 31)
MON, WED = date(2026, 7, 6), date(2026, 7, 8)
TAXES = {"GST": "0.10", "FREE": "0"}


def controlled_load(rate: str = "0.15") -> dict:
    return flat(rate, id="cl", description="Controlled load", register="E2")


def feed_in(**more) -> dict:
    return {"id": "feed_in", "kind": "export_credit", "description": "Solar feed-in", "taxCode": "FREE"} | more


def test_controlled_load_prices_its_own_register():
    # 30 days: supply 30 x 1.00 = 30.00; general 300 kWh x 0.30 = 90.00;
    # controlled load 120.5 kWh x 0.15 = 18.075 -> 18.08. GST per line 3.00 + 9.00 + 1.81 = 13.81.
    reads = {"E1": RegisterConsumption(300_000, JULY_1, JULY_31), "E2": RegisterConsumption(120_500, JULY_1, JULY_31)}
    charges = rated(tariff(supply(), flat(), controlled_load()), JULY_1, JULY_31, reads)
    assert table(charges) == [
        ("supply", "30", "day", "1.00", "30.00"),
        ("energy", "300.000", "kWh", "0.30", "90.00"),
        ("cl", "120.500", "kWh", "0.15", "18.08"),
    ]
    assert (str(charges.subtotal.amount), str(charges.tax_total.amount)) == ("138.08", "13.81")


def test_a_flat_feed_in_credit_is_a_negative_line_with_its_own_tax_code():
    # 7 days x 48 half-hours. Import 200 Wh each = 67.2 kWh x 0.30 = 20.16 (GST 2.016 -> 2.02);
    # export 50 Wh each = 16.8 kWh x -0.05 = -0.84 (GST-free). Subtotal 19.32, tax 2.02, total 21.34.
    start, end = MON, date(2026, 7, 13)
    channels = {"E1": constant(start, end, SYDNEY, 200), "B1": constant(start, end, SYDNEY, 50)}
    charges = rated(tariff(flat(), feed_in(rate="0.05"), taxes=TAXES), start, end, channels)
    assert table(charges) == [
        ("energy", "67.200", "kWh", "0.30", "20.16"),
        ("feed_in", "16.800", "kWh", "-0.05", "-0.84"),
    ]
    assert [(t.tax_code, str(t.base.amount), str(t.tax.amount)) for t in charges.taxes] == [
        ("GST", "20.16", "2.02"),
        ("FREE", "-0.84", "0.00"),
    ]
    assert (str(charges.subtotal.amount), str(charges.total.amount)) == ("19.32", "21.34")


def test_a_time_of_use_feed_in_credit():
    # Monday 6 July: 1 kWh exported at 16:00 (peak feed-in 0.10) and 1 kWh at 10:00 (0.04).
    periods = [period("fit_peak", "0.10", [[15, 21]], []), period("fit_rest", "0.04", [[0, 15], [21, 24]], ALL_DAY)]
    channels = {
        "E1": constant(MON, date(2026, 7, 7), SYDNEY, 0),
        "B1": hourly(MON, date(2026, 7, 7), SYDNEY, {16: 500, 10: 500}),
    }
    charges = rated(tariff(feed_in(periods=periods), taxes=TAXES), MON, date(2026, 7, 7), channels)
    assert table(charges) == [
        ("fit_peak", "1.000", "kWh", "-0.10", "-0.10"),
        ("fit_rest", "1.000", "kWh", "-0.04", "-0.04"),
    ]


def test_a_half_cent_credit_rounds_away_from_zero_like_a_charge():
    # 1 kWh x -0.045 = -0.045 -> -0.05 (half-up on the magnitude, as 0.045 -> 0.05 for a charge)
    channels = {"E1": RegisterConsumption(0, MON, WED), "B1": RegisterConsumption(1000, MON, WED)}
    charges = rated(tariff(feed_in(rate="0.045"), taxes=TAXES), MON, WED, channels)
    assert table(charges) == [("feed_in", "1.000", "kWh", "-0.045", "-0.05")]


def test_a_component_whose_register_is_missing_is_refused_not_priced_at_zero():
    with pytest.raises(RatingError) as caught:
        rated(tariff(flat(), feed_in(rate="0.05"), taxes=TAXES), MON, WED, RegisterConsumption(1000, MON, WED))
    assert str(caught.value) == (
        "component 'feed_in' prices register B1 but the consumption has no B1 channel (it has E1); "
        "rating never prices a missing channel at zero"
    )


def test_every_channel_must_cover_the_period():
    channels = {"E1": RegisterConsumption(1000, MON, WED), "E2": RegisterConsumption(500, MON, date(2026, 7, 7))}
    with pytest.raises(RatingError, match=r"^consumption\['E2'\]: register usage covers 2026-07-06..2026-07-07"):
        rated(tariff(flat(), controlled_load()), MON, WED, channels)


def test_energy_is_not_priced_from_apparent_energy():
    with pytest.raises(RatingError, match="component 'energy' needs Wh but consumption holds VAh"):
        rated(tariff(flat()), MON, WED, constant(MON, WED, SYDNEY, 10, unit="VAh"))


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({}, "rate", "needs either a rate or time-of-use periods"),
        ({"rate": "0.05", "periods": [period("p", "0.1", ALL_DAY, ALL_DAY)]}, "periods", "has both a rate and periods"),
        ({"periods": []}, "periods", "export credit 'feed_in' needs at least one period"),
    ],
    ids=["neither", "both", "no periods"],
)
def test_a_feed_in_credit_has_a_rate_or_periods(changes, field, problem):
    with pytest.raises(TariffError) as caught:
        tariff(feed_in(**changes), taxes=TAXES)
    assert caught.value.field == f"components[0].{field}"
    assert problem in caught.value.problem


def test_the_register_is_written_only_when_not_the_default():
    doc = tariff(flat(), controlled_load(), feed_in(rate="0.05"), taxes=TAXES).to_document()
    assert "register" not in doc["components"][0] and "register" not in doc["components"][2]  # E1, B1
    assert doc["components"][1]["register"] == "E2"
