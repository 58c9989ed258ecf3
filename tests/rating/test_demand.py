"""Demand charges: the highest interval's kW (or kVA) per calendar month, in a window, with a ratchet.

kW = Wh in the interval x 60 / interval minutes / 1000: 1,234 Wh in half an hour is 2.468 kW.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from shared.rating import IntervalConsumption, RatingError, RegisterConsumption, TariffError
from tests.rating.builders import local_midnight_utc
from tests.rating.component_builders import OSLO, SYDNEY, WARSAW, constant, rated, table, tariff

JULY_1, AUG_1 = date(2026, 7, 1), date(2026, 8, 1)


def demand(rate: str = "12.00", unit: str = "kW", **more) -> dict:
    return {
        "id": "demand",
        "kind": "demand_charge",
        "description": "Peak demand",
        "rate": rate,
        "unit": unit,
        "taxCode": "GST",
    } | more


def with_spikes(
    start: date, end: date, zone: str, spikes: dict[tuple[date, int, int], int], *, minutes: int = 30, base: int = 100
) -> IntervalConsumption:
    """``base`` Wh in every interval, and ``spikes[(day, hour, minute)]`` Wh in the interval starting then."""
    series = constant(start, end, zone, base, minutes=minutes)
    wh = series.wh.copy()
    for (day, hour, minute), value in spikes.items():
        from datetime import datetime
        from zoneinfo import ZoneInfo

        moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))
        wh[(moment - series.start) // timedelta(minutes=minutes)] = value
    return IntervalConsumption(series.start, minutes, wh)


def test_the_highest_half_hour_of_the_month_is_the_demand():
    # 1,234 Wh in the half-hour from 18:00 on 15 July: 1,234 x 60 / 30 / 1000 = 2.468 kW
    # x 12.00 a kW a month = 29.616 -> 29.62
    energy = with_spikes(JULY_1, AUG_1, SYDNEY, {(date(2026, 7, 15), 18, 0): 1234})
    charges = rated(tariff(demand()), JULY_1, AUG_1, energy)
    assert table(charges) == [("demand", "2.468", "kW", "12.00", "29.62")]
    assert charges.lines[0].description == "Peak demand (July 2026)"
    (reading,) = charges.demand
    assert (reading.component_id, reading.month, reading.measured, reading.unit) == (
        "demand",
        JULY_1,
        Decimal("2.468"),
        "kW",
    )


def test_fifteen_minute_intervals_count_four_to_the_hour():
    # 800 Wh in 15 minutes = 800 x 60 / 15 / 1000 = 3.2 kW x 12.00 = 38.40
    energy = with_spikes(JULY_1, AUG_1, SYDNEY, {(date(2026, 7, 3), 9, 45): 800}, minutes=15)
    assert table(rated(tariff(demand()), JULY_1, AUG_1, energy)) == [("demand", "3.200", "kW", "12.00", "38.40")]


def test_a_window_measures_demand_only_inside_its_hours():
    # 2,000 Wh at 03:00 on a weekday is outside the weekday 15:00-21:00 window; 600 Wh at
    # 16:00 is inside: 1.2 kW x 10.00 = 12.00. The weekend's 900 Wh at 16:00 is outside (no weekend hours).
    window = {"weekdays": [[15, 21]], "weekends": []}
    energy = with_spikes(
        JULY_1,
        AUG_1,
        SYDNEY,
        {(date(2026, 7, 8), 3, 0): 2000, (date(2026, 7, 8), 16, 0): 600, (date(2026, 7, 11), 16, 0): 900},
    )
    charges = rated(tariff(demand("10.00", window=window)), JULY_1, AUG_1, energy)
    assert table(charges) == [("demand", "1.200", "kW", "10.00", "12.00")]


def test_each_calendar_month_has_its_own_demand_prorated_by_days():
    # 15 July .. 15 August. July part: max 1,000 Wh = 2 kW; August part: max 1,500 Wh = 3 kW.
    # July: 17/31 -> 0.548387 month x 12.00 = 6.580644 a kW; 2 kW -> 13.161288 -> 13.16
    # August: 14/31 -> 0.451613 month x 12.00 = 5.419356 a kW; 3 kW -> 16.258068 -> 16.26
    start, end = date(2026, 7, 15), date(2026, 8, 15)
    energy = with_spikes(start, end, SYDNEY, {(date(2026, 7, 20), 12, 0): 1000, (date(2026, 8, 10), 12, 0): 1500})
    charges = rated(tariff(demand()), start, end, energy)
    assert table(charges) == [
        ("demand", "2.000", "kW", "6.58064400", "13.16"),
        ("demand", "3.000", "kW", "5.41935600", "16.26"),
    ]
    assert charges.lines[0].description == "Peak demand (July 2026, 17 of 31 days; 12.00 a kW a month x 0.548387 month)"
    assert [(r.month, r.measured) for r in charges.demand] == [(JULY_1, Decimal("2.000")), (AUG_1, Decimal("3.000"))]


# -- ratchet ----------------------------------------------------------------------------------------

RATCHET = {"months": 11, "fraction": "0.80"}


def test_a_ratchet_bills_at_least_a_share_of_the_highest_recent_month():
    # Measured 2.468 kW; the highest of the last 11 months is 10.0 kW, 80 % of it 8.000 kW:
    # billed 8.000 kW x 12.00 = 96.00. The reading keeps the measured 2.468 for next month's history.
    energy = with_spikes(JULY_1, AUG_1, SYDNEY, {(date(2026, 7, 15), 18, 0): 1234})
    prior = {"demand": [Decimal("5.0"), Decimal("10.0"), Decimal("4.0")]}
    charges = rated(tariff(demand(ratchet=RATCHET)), JULY_1, AUG_1, energy, prior_demand=prior)
    assert table(charges) == [("demand", "8.000", "kW", "12.00", "96.00")]
    assert "ratchet: 8.000 kW billed, 2.468 measured" in charges.lines[0].description
    assert charges.demand[0].measured == Decimal("2.468")


def test_a_ratchet_looks_back_only_its_months():
    # 12 months of history, oldest first: the 50.0 kW of 12 months ago is out of an 11-month reach;
    # the highest within reach is 2.0 kW, 80 % = 1.600 kW < the 2.468 kW measured, so 2.468 is billed.
    energy = with_spikes(JULY_1, AUG_1, SYDNEY, {(date(2026, 7, 15), 18, 0): 1234})
    prior = {"demand": [Decimal("50.0")] + [Decimal("2.0")] * 11}
    charges = rated(tariff(demand(ratchet=RATCHET)), JULY_1, AUG_1, energy, prior_demand=prior)
    assert table(charges) == [("demand", "2.468", "kW", "12.00", "29.62")]


def test_a_ratchet_without_history_must_be_told_so():
    energy = with_spikes(JULY_1, AUG_1, SYDNEY, {})
    with pytest.raises(RatingError, match=r"component 'demand' has a ratchet on the last 11 months: pass"):
        rated(tariff(demand(ratchet=RATCHET)), JULY_1, AUG_1, energy)
    # A new connection says so with an empty history: measured demand, 100 Wh = 0.2 kW x 12.00 = 2.40
    charges = rated(tariff(demand(ratchet=RATCHET)), JULY_1, AUG_1, energy, prior_demand={"demand": []})
    assert table(charges) == [("demand", "0.200", "kW", "12.00", "2.40")]


def test_prior_demand_must_be_decimal():
    energy = with_spikes(JULY_1, AUG_1, SYDNEY, {})
    with pytest.raises(RatingError, match=r"prior_demand\['demand'\]\[0\]: must be a non-negative Decimal"):
        rated(tariff(demand(ratchet=RATCHET)), JULY_1, AUG_1, energy, prior_demand={"demand": [5.0]})


# -- kVA ----------------------------------------------------------------------------------------------


def test_kva_demand_is_measured_on_apparent_energy():
    # 1,100 VAh in a half-hour = 2.2 kVA x 9.00 = 19.80
    series = with_spikes(JULY_1, AUG_1, SYDNEY, {(date(2026, 7, 2), 10, 30): 1100})
    apparent = IntervalConsumption(series.start, 30, series.wh, "VAh")
    charges = rated(tariff(demand("9.00", "kVA")), JULY_1, AUG_1, apparent)
    assert table(charges) == [("demand", "2.200", "kVA", "9.00", "19.80")]


def test_demand_units_must_match_the_channel():
    active = constant(JULY_1, AUG_1, SYDNEY, 100)
    apparent = constant(JULY_1, AUG_1, SYDNEY, 100, unit="VAh")
    with pytest.raises(RatingError, match="component 'demand' needs VAh but consumption holds Wh"):
        rated(tariff(demand("9.00", "kVA")), JULY_1, AUG_1, active)
    with pytest.raises(RatingError, match="component 'demand' needs Wh but consumption holds VAh"):
        rated(tariff(demand()), JULY_1, AUG_1, apparent)


def test_demand_needs_interval_data():
    with pytest.raises(RatingError, match="'demand' is a demand charge and needs interval consumption"):
        rated(tariff(demand()), JULY_1, AUG_1, RegisterConsumption(1000, JULY_1, AUG_1))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit": "MW"}, "components[0].unit"),
        ({"ratchet": {"months": 0, "fraction": "0.8"}}, "components[0].ratchet.months"),
        ({"ratchet": {"months": 11, "fraction": "1.5"}}, "components[0].ratchet.fraction"),
        ({"ratchet": {"months": 11}}, "components[0].ratchet.fraction"),
        ({"window": {"weekdays": [], "weekends": []}}, "components[0].window"),
        ({"window": {"weekdays": [[21, 15]], "weekends": []}}, "components[0].window.weekdays[0]"),
    ],
)
def test_bad_demand_charges_are_named(changes, field):
    with pytest.raises(TariffError) as caught:
        tariff(demand() | changes)
    assert caught.value.field == field


# -- DST days ----------------------------------------------------------------------------------------


def dst_day(zone: str, day: date, values: dict[int, int]) -> IntervalConsumption:
    """One local day of half-hours, all 0 except ``values[index]``; the index counts half-hours in UTC order."""
    first, last = local_midnight_utc(day, zone), local_midnight_utc(day + timedelta(days=1), zone)
    wh = np.zeros((last - first) // timedelta(minutes=30), dtype=np.int64)
    for index, value in values.items():
        wh[index] = value
    return IntervalConsumption(first, 30, wh)


@pytest.mark.parametrize(
    ("zone", "day", "half_hours", "index", "note"),
    [
        # Autumn: 50 half-hours; index 6 is the second 02:00 (after the clocks went back).
        (SYDNEY, date(2026, 4, 5), 50, 6, "Sydney autumn, repeated 02:00"),
        (OSLO, date(2026, 10, 25), 50, 6, "Oslo autumn, repeated 02:00"),
        (WARSAW, date(2026, 10, 25), 50, 6, "Warsaw autumn, repeated 02:00"),
    ],
)
def test_demand_in_the_repeated_hour_counts_at_its_wall_clock_hour(zone, day, half_hours, index, note):
    # Window: Sunday 02:00-03:00 only. 900 Wh in the repeated 02:00 half-hour = 1.8 kW (inside);
    # 2,000 Wh at 03:00 (index 8) is outside. 1.8 kW x 10.00 x (1/30 or 1/31 of a month) is not
    # the point here: the measured reading is.
    day_count = dst_day(zone, day, {index: 900, 8: 2000})
    assert len(day_count.wh) == half_hours
    window = {"weekdays": [], "weekends": [[2, 3]]}
    charges = rated(tariff(demand("10.00", window=window)), day, day + timedelta(days=1), day_count, zone=zone)
    assert [r.measured for r in charges.demand] == [Decimal("1.800")], note


@pytest.mark.parametrize(
    ("zone", "day"),
    [(SYDNEY, date(2026, 10, 4)), (WARSAW, date(2026, 3, 29)), (OSLO, date(2026, 3, 29))],
)
def test_demand_on_a_23_hour_day_has_no_02_00(zone, day):
    # Spring: 46 half-hours, local 00:00, 00:30, 01:00, 01:30, then 03:00 at index 4.
    # Window 02:00-04:00: only 03:00 and 03:30 are inside; 700 Wh at index 4 = 1.4 kW, 3,000 Wh at 01:30 is outside.
    energy = dst_day(zone, day, {3: 3000, 4: 700})
    assert len(energy.wh) == 46
    window = {"weekdays": [], "weekends": [[2, 4]]}
    charges = rated(tariff(demand("10.00", window=window)), day, day + timedelta(days=1), energy, zone=zone)
    assert [r.measured for r in charges.demand] == [Decimal("1.400")]
