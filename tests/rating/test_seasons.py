"""Seasonal prices by month: flat seasonal energy and seasonal time-of-use periods, worked by hand."""

from __future__ import annotations

from datetime import date

import pytest

from shared.rating import RegisterConsumption, TariffError
from tests.rating.component_builders import ALL_DAY, SYDNEY, constant, hourly, period, rated, table, tariff

AUG_25, SEP_5 = date(2026, 8, 25), date(2026, 9, 5)


def seasonal(*seasons: tuple[str, list[int], str]) -> dict:
    return {
        "id": "energy",
        "kind": "seasonal_energy",
        "taxCode": "GST",
        "seasons": [
            {"id": name, "description": name.capitalize(), "rate": rate, "months": months}
            for name, months, rate in seasons
        ],
    }


YEAR = seasonal(
    ("summer", [12, 1, 2], "0.35"), ("winter", [6, 7, 8], "0.32"), ("shoulder", [3, 4, 5, 9, 10, 11], "0.28")
)


def test_interval_energy_is_priced_by_the_month_of_its_local_day():
    # 250 Wh a half-hour = 12 kWh a day. 25..31 August: 7 days = 84 kWh x 0.32 = 26.88;
    # 1..4 September: 4 days = 48 kWh x 0.28 = 13.44. Summer is not touched, so not shown.
    charges = rated(tariff(YEAR), AUG_25, SEP_5, constant(AUG_25, SEP_5, SYDNEY, 250))
    assert table(charges) == [
        ("winter", "84.000", "kWh", "0.32", "26.88"),
        ("shoulder", "48.000", "kWh", "0.28", "13.44"),
    ]


def test_register_usage_is_shared_between_seasons_by_days_with_the_remainder_last():
    # 100,000 Wh over 11 days: August (7 days) floor(100,000 x 7 / 11) = 63,636 Wh;
    # September the rest, 36,364 Wh. 63.636 x 0.32 = 20.36352 -> 20.36; 36.364 x 0.28 = 10.18192 -> 10.18.
    charges = rated(tariff(YEAR), AUG_25, SEP_5, RegisterConsumption(100_000, AUG_25, SEP_5))
    assert table(charges) == [
        ("winter", "63.636", "kWh", "0.32", "20.36"),
        ("shoulder", "36.364", "kWh", "0.28", "10.18"),
    ]


def test_a_month_without_a_price_is_refused_naming_the_component_and_the_month():
    no_november = seasonal(
        ("summer", [12, 1, 2], "0.35"), ("winter", [6, 7, 8], "0.32"), ("shoulder", [3, 4, 5, 9, 10], "0.28")
    )
    with pytest.raises(TariffError) as caught:
        tariff(no_november)
    assert caught.value.field == "components[0].seasons"
    assert caught.value.problem == "month 11 (November) has no price in component 'energy'"


def test_a_month_in_two_seasons_is_refused():
    twice = seasonal(("summer", [12, 1, 2], "0.35"), ("rest", list(range(2, 12)), "0.30"))
    with pytest.raises(TariffError) as caught:
        tariff(twice)
    assert caught.value.field == "components[0].seasons[1].months"
    assert caught.value.problem == "month 2 (February) of 'energy' is priced by both 'summer' and 'rest'"


@pytest.mark.parametrize(
    ("months", "field"), [([1, 13], "months[1]"), ([1, 1], "months[1]"), ([], "months"), ("1", "months")]
)
def test_bad_month_lists_are_named(months, field):
    bad = seasonal(("all", months, "0.30"))
    with pytest.raises(TariffError) as caught:
        tariff(bad)
    assert caught.value.field == f"components[0].seasons[0].{field}"


# -- seasonal time of use: periods for some months ---------------------------------------------------

SUMMER, WINTER = [11, 12, 1, 2, 3], [4, 5, 6, 7, 8, 9, 10]
SEASONAL_TOU = {
    "id": "tou",
    "kind": "time_of_use",
    "taxCode": "GST",
    "periods": [
        period("summer_peak", "0.55", [[14, 20]], [], months=SUMMER),
        period("summer_off", "0.20", [[0, 14], [20, 24]], ALL_DAY, months=SUMMER),
        period("winter_peak", "0.45", [[17, 21]], [], months=WINTER),
        period("winter_off", "0.20", [[0, 17], [21, 24]], ALL_DAY, months=WINTER),
    ],
}


def test_seasonal_periods_follow_the_month_of_each_day():
    # 1 kWh at 15:00 and 1 kWh at 18:00 each day, Fri 30 Oct .. Mon 2 Nov 2026 (AEDT all along).
    # Fri 30 Oct (winter weekday): 15h winter_off, 18h winter_peak.  Sat 31 Oct: both winter_off.
    # Sun 1 Nov (summer weekend): both summer_off.  Mon 2 Nov: both summer_peak (14-20).
    # summer_peak 2 x 0.55 = 1.10; summer_off 2 x 0.20 = 0.40; winter_peak 1 x 0.45 = 0.45; winter_off 3 x 0.20 = 0.60
    start, end = date(2026, 10, 30), date(2026, 11, 3)
    charges = rated(tariff(SEASONAL_TOU), start, end, hourly(start, end, SYDNEY, {15: 500, 18: 500}))
    assert table(charges) == [
        ("summer_peak", "2.000", "kWh", "0.55", "1.10"),
        ("summer_off", "2.000", "kWh", "0.20", "0.40"),
        ("winter_peak", "1.000", "kWh", "0.45", "0.45"),
        ("winter_off", "3.000", "kWh", "0.20", "0.60"),
    ]


def test_a_winter_bill_shows_only_the_winter_periods():
    start, end = date(2026, 7, 6), date(2026, 7, 7)  # Monday: 1 kWh at 18:00 is winter peak
    charges = rated(tariff(SEASONAL_TOU), start, end, hourly(start, end, SYDNEY, {18: 500}))
    assert table(charges) == [
        ("winter_peak", "1.000", "kWh", "0.45", "0.45"),
        ("winter_off", "0.000", "kWh", "0.20", "0.00"),
    ]


def test_a_seasonal_schedule_gap_names_the_month():
    gap = {**SEASONAL_TOU, "periods": [dict(p) for p in SEASONAL_TOU["periods"]]}
    gap["periods"][1]["months"] = [11, 12, 1, 2]  # March's off-peak hours are nobody's
    with pytest.raises(TariffError) as caught:
        tariff(gap)
    assert caught.value.field == "components[0].periods"
    assert caught.value.problem == "hour 0 on weekdays in March is not covered by any period"
