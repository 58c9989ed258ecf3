"""Fixed charges per day, per month (part months by days) and per meter, each worked by hand."""

from __future__ import annotations

from datetime import date

import pytest

from shared.rating import RatingError, RegisterConsumption, TariffError
from tests.rating.component_builders import rated, table, tariff

JULY_1, AUG_1 = date(2026, 7, 1), date(2026, 8, 1)


def fixed(rate: str, per: str, **more) -> dict:
    return {
        "id": "fee",
        "kind": "fixed_charge",
        "description": "Service fee",
        "rate": rate,
        "per": per,
        "taxCode": "GST",
    } | more


def usage(start: date, end: date, wh: int = 0) -> RegisterConsumption:
    return RegisterConsumption(wh, start, end)


def test_a_daily_fixed_charge_is_rate_times_days():
    # July: 31 days x 0.85 = 26.35
    charges = rated(tariff(fixed("0.85", "day")), JULY_1, AUG_1, usage(JULY_1, AUG_1))
    assert table(charges) == [("fee", "31", "day", "0.85", "26.35")]
    # GST per line: 2.635 -> 2.64; total 28.99
    assert (str(charges.tax_total.amount), str(charges.total.amount)) == ("2.64", "28.99")


def test_a_whole_calendar_month_is_one_month():
    charges = rated(tariff(fixed("30.00", "month")), JULY_1, AUG_1, usage(JULY_1, AUG_1))
    assert table(charges) == [("fee", "1.000000", "month", "30.00", "30.00")]
    assert charges.lines[0].description == "Service fee (July 2026)"


def test_a_period_across_two_months_is_prorated_per_calendar_month_touched():
    # 15 July .. 15 August: 17 of July's 31 days and 14 of August's 31.
    # 17/31 = 0.5483870.. -> 0.548387 month x 30.00 = 16.45161 -> 16.45
    # 14/31 = 0.4516129.. -> 0.451613 month x 30.00 = 13.54839 -> 13.55   (the two add to 30.00)
    start, end = date(2026, 7, 15), date(2026, 8, 15)
    charges = rated(tariff(fixed("30.00", "month")), start, end, usage(start, end))
    assert table(charges) == [
        ("fee", "0.548387", "month", "30.00", "16.45"),
        ("fee", "0.451613", "month", "30.00", "13.55"),
    ]
    july, august = charges.lines
    assert (july.period_start, july.period_end) == (start, AUG_1)
    assert (august.period_start, august.period_end) == (AUG_1, end)
    assert july.description == "Service fee (July 2026, 17 of 31 days)"


def test_a_leap_february_has_29_days():
    # 15 Feb .. 1 Mar 2028: the 15th to the 29th, 15 of 29 days = 0.5172413.. -> 0.517241
    # x 30.00 = 15.51723 -> 15.52 (in 2026, 15 Feb .. 1 Mar is 14 of 28 days: exactly 0.5 -> 15.00)
    start, end = date(2028, 2, 15), date(2028, 3, 1)
    charges = rated(tariff(fixed("30.00", "month")), start, end, usage(start, end))
    assert table(charges) == [("fee", "0.517241", "month", "30.00", "15.52")]
    start, end = date(2026, 2, 15), date(2026, 3, 1)
    charges = rated(tariff(fixed("30.00", "month")), start, end, usage(start, end))
    assert table(charges) == [("fee", "0.500000", "month", "30.00", "15.00")]


def test_a_per_meter_charge_counts_the_meters():
    # 2 meters x 31 days = 62 meter-days x 0.20 = 12.40; 3 meters x 1 month x 5.00 = 15.00
    daily = rated(tariff(fixed("0.20", "day", perMeter=True)), JULY_1, AUG_1, usage(JULY_1, AUG_1), meters=2)
    assert table(daily) == [("fee", "62", "meter-day", "0.20", "12.40")]
    monthly = rated(tariff(fixed("5.00", "month", perMeter=True)), JULY_1, AUG_1, usage(JULY_1, AUG_1), meters=3)
    assert table(monthly) == [("fee", "3.000000", "meter-month", "5.00", "15.00")]


@pytest.mark.parametrize("meters", [0, -1, True, 1.0])
def test_a_meter_count_must_be_a_positive_whole_number(meters):
    with pytest.raises(RatingError, match=r"^meters: must be a whole number"):
        rated(tariff(fixed("0.20", "day", perMeter=True)), JULY_1, AUG_1, usage(JULY_1, AUG_1), meters=meters)


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"per": "week"}, "components[0].per"), ({"perMeter": "yes"}, "components[0].perMeter")],
)
def test_bad_fixed_charges_are_named(changes, field):
    with pytest.raises(TariffError) as caught:
        tariff(fixed("1.00", "day") | changes)
    assert caught.value.field == field
