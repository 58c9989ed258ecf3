"""Public holidays of the tariff's region rate as the tariff says: like weekends, or by hours of their own.

Holiday dates (holidays package): NSW Labour Day Monday 5 October 2026 (not a holiday in
Victoria, whose Labour Day is in March); Christmas Friday 25 December, Boxing Day Saturday
26 and its observed day Monday 28 December 2026; Poland's Epiphany Tuesday 6 January 2026;
Norway's Ascension Day Thursday 14 May 2026.
"""

from __future__ import annotations

from datetime import date

import pytest

from shared.rating import TariffError
from tests.rating.component_builders import (
    ALL_DAY,
    OSLO,
    SYDNEY,
    WARSAW,
    hourly,
    peak_offpeak,
    period,
    rated,
    table,
    tariff,
)

AS_WEEKENDS = {"region": "AU-NSW", "rateAs": "weekends"}
FOUR_PM = {16: 500}  # 1 kWh between 16:00 and 17:00 every day: peak on a working weekday


def test_nsw_labour_day_rates_like_a_weekend():
    # Mon 5 Oct (holiday, the day after the DST change) and Tue 6 Oct: 1 kWh at 16:00 each.
    # Monday off-peak 1 x 0.20 = 0.20; Tuesday peak 1 x 0.50 = 0.50.
    start, end = date(2026, 10, 5), date(2026, 10, 7)
    charges = rated(tariff(peak_offpeak(), publicHolidays=AS_WEEKENDS), start, end, hourly(start, end, SYDNEY, FOUR_PM))
    assert table(charges) == [("peak", "1.000", "kWh", "0.50", "0.50"), ("offpeak", "1.000", "kWh", "0.20", "0.20")]


def test_the_region_decides_which_days_are_holidays():
    start, end = date(2026, 10, 5), date(2026, 10, 7)
    energy = hourly(start, end, SYDNEY, FOUR_PM)
    victoria = rated(
        tariff(peak_offpeak(), publicHolidays={"region": "AU-VIC", "rateAs": "weekends"}), start, end, energy
    )
    no_region = rated(tariff(peak_offpeak()), start, end, energy)
    for charges in (victoria, no_region):
        assert [str(x.quantity) for x in charges.lines] == ["2.000", "0.000"]  # both days peak


OWN_HOURS = {
    "id": "tou",
    "kind": "time_of_use",
    "taxCode": "GST",
    "periods": [
        period("peak", "0.50", [[15, 21]], [], holidays=[]),
        period("offpeak", "0.20", [[0, 15], [21, 24]], ALL_DAY, holidays=[[0, 7], [22, 24]]),
        period("holiday", "0.30", [], [], holidays=[[7, 22]]),
    ],
}


def test_holidays_with_hours_of_their_own_include_weekend_and_observed_holidays():
    # 1 kWh at 16:00 on Fri 25 (Christmas), Sat 26 (Boxing Day), Sun 27, Mon 28 (Boxing Day
    # observed) and Tue 29 December 2026. Holiday rate on the 25th, 26th and 28th: 3 x 0.30 = 0.90;
    # Sunday 27th off-peak 1 x 0.20 = 0.20; Tuesday peak 1 x 0.50 = 0.50.
    start, end = date(2026, 12, 25), date(2026, 12, 30)
    own = tariff(OWN_HOURS, publicHolidays={"region": "AU-NSW", "rateAs": "holidays"})
    charges = rated(own, start, end, hourly(start, end, SYDNEY, FOUR_PM))
    assert table(charges) == [
        ("peak", "1.000", "kWh", "0.50", "0.50"),
        ("offpeak", "1.000", "kWh", "0.20", "0.20"),
        ("holiday", "3.000", "kWh", "0.30", "0.90"),
    ]


def test_polish_epiphany_at_23_percent_vat_rounded_per_invoice():
    # Mon 5 Jan peak 1 x 0.90 = 0.90; Tue 6 Jan (Epiphany) off-peak 1 x 0.50 = 0.50.
    # VAT 23 % on the invoice's 1.40 = 0.322 -> 0.32; total 1.72.
    component = peak_offpeak("0.90", "0.50", taxCode="VAT23")
    polish = tariff(
        component,
        currency="PLN",
        taxes={"VAT23": "0.23"},
        taxRounding="per_invoice",
        publicHolidays={"region": "PL", "rateAs": "weekends"},
    )
    start, end = date(2026, 1, 5), date(2026, 1, 7)
    charges = rated(polish, start, end, hourly(start, end, WARSAW, FOUR_PM), zone=WARSAW)
    assert table(charges) == [("peak", "1.000", "kWh", "0.90", "0.90"), ("offpeak", "1.000", "kWh", "0.50", "0.50")]
    assert [str(x) for x in (charges.subtotal.amount, charges.tax_total.amount, charges.total.amount)] == [
        "1.40",
        "0.32",
        "1.72",
    ]
    assert charges.total.currency == "PLN"


def test_norwegian_ascension_day_at_25_percent_vat():
    # Wed 13 May peak 1 x 1.20 = 1.20; Thu 14 May (Ascension) off-peak 1 x 0.60 = 0.60.
    # MVA 25 % per line: 0.30 + 0.15 = 0.45; total 2.25.
    norwegian = tariff(
        peak_offpeak("1.20", "0.60", taxCode="MVA"),
        currency="NOK",
        taxes={"MVA": "0.25"},
        publicHolidays={"region": "NO", "rateAs": "weekends"},
    )
    start, end = date(2026, 5, 13), date(2026, 5, 15)
    charges = rated(norwegian, start, end, hourly(start, end, OSLO, FOUR_PM), zone=OSLO)
    assert table(charges) == [("peak", "1.000", "kWh", "1.20", "1.20"), ("offpeak", "1.000", "kWh", "0.60", "0.60")]
    assert (str(charges.tax_total.amount), str(charges.total.amount)) == ("0.45", "2.25")


# -- refused -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("holidays", "field", "problem"),
    [
        ({"region": "AU-XYZ", "rateAs": "weekends"}, "publicHolidays.region", "unknown subdivision 'XYZ' of AU"),
        ({"region": "XX", "rateAs": "weekends"}, "publicHolidays.region", "unknown country 'XX'"),
        ({"region": "AU-NSW", "rateAs": "sundays"}, "publicHolidays.rateAs", "weekends, holidays"),
        ({"region": "AU-NSW"}, "publicHolidays.rateAs", "missing"),
    ],
)
def test_bad_public_holiday_settings_are_named(holidays, field, problem):
    with pytest.raises(TariffError) as caught:
        tariff(peak_offpeak(), publicHolidays=holidays)
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_holiday_hours_need_the_tariff_to_rate_holidays_by_their_own_hours():
    with pytest.raises(TariffError) as caught:
        tariff(OWN_HOURS, publicHolidays=AS_WEEKENDS)
    assert caught.value.field == "components[0].periods"
    assert caught.value.problem == (
        "'tou' gives public holidays hours of their own but the tariff rates public holidays as \"weekends\""
    )
    with pytest.raises(TariffError, match="but the tariff has no publicHolidays"):
        tariff(OWN_HOURS)


def test_rating_holidays_by_their_own_hours_needs_them_in_every_schedule():
    with pytest.raises(TariffError) as caught:
        tariff(peak_offpeak(), publicHolidays={"region": "AU-NSW", "rateAs": "holidays"})
    assert caught.value.field == "components[0].periods"
    assert "but 'tou' gives none" in caught.value.problem


def test_an_uncovered_holiday_hour_is_named():
    gap = {**OWN_HOURS, "periods": [dict(p) for p in OWN_HOURS["periods"]]}
    gap["periods"][2]["holidays"] = [[8, 22]]
    with pytest.raises(TariffError) as caught:
        tariff(gap, publicHolidays={"region": "AU-NSW", "rateAs": "holidays"})
    assert caught.value.problem == "hour 7 on holidays is not covered by any period"
