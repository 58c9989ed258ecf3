"""Rating whole bills, each computed by hand first."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pytest

from shared.money import Money
from shared.rating import RatedCharges, RatingError, RegisterConsumption, Tariff, rate
from tests.rating.builders import SYDNEY, flat_document, intervals_for, tou_document

JULY_1, JULY_31 = date(2026, 7, 1), date(2026, 7, 31)


def summary(rated: RatedCharges) -> list[tuple[str, str, str, str]]:
    return [(x.description, str(x.quantity), x.unit, str(x.amount.amount)) for x in rated.lines]


def aud(amount: str) -> Money:
    return Money.of(amount, "AUD")


# -- a 30-day single-rate bill -----------------------------------------------------------------
# supply 30 days x 1.0500 = 31.50; energy 452.345 kWh x 0.3120 = 141.131640 -> 141.13
# subtotal 172.63; GST per line 3.15 + 14.113 -> 14.11 = 17.26; total 189.89
FLAT_JULY = [("Daily supply charge", "30", "day", "31.50"), ("General usage", "452.345", "kWh", "141.13")]


def test_a_30_day_flat_bill_from_register_reads():
    rated = rate(
        tariff=Tariff.from_document(flat_document()),
        period_start=JULY_1,
        period_end=JULY_31,
        time_zone=SYDNEY,
        consumption=RegisterConsumption(452_345, JULY_1, JULY_31),
    )
    assert summary(rated) == FLAT_JULY
    assert (rated.subtotal, rated.tax_total, rated.total) == (aud("172.63"), aud("17.26"), aud("189.89"))
    (gst,) = rated.taxes
    assert (gst.tax_code, gst.tax_rate, gst.base, gst.tax) == ("GST", Decimal("0.10"), aud("172.63"), aud("17.26"))


def test_the_same_bill_from_interval_data_ignores_intervals_outside_the_period():
    # June 30 .. August 1 delivered; only July 1..30 (1,440 half-hours) may be priced.
    wh = np.full(32 * 48, 9_999, dtype=np.int64)
    july = slice(48, 48 + 30 * 48)
    wh[july] = 314  # 1,440 x 314 = 452,160 Wh
    wh[48] += 185  # 452,345 Wh in all
    rated = rate(
        tariff=Tariff.from_document(flat_document()),
        period_start=JULY_1,
        period_end=JULY_31,
        time_zone=SYDNEY,
        consumption=intervals_for(date(2026, 6, 30), date(2026, 8, 1), SYDNEY, wh=wh),
    )
    assert summary(rated) == FLAT_JULY
    assert rated.total == aud("189.89")


# -- a week of time of use ----------------------------------------------------------------------
# Mon 6 .. Mon 13 July 2026 (AEST, no DST), 250 Wh every half-hour = 500 Wh an hour.
# peak:     5 weekdays x 6 h                 = 30 h -> 15.000 kWh x 0.4950 = 7.425   -> 7.43 (half-up)
# shoulder: 5 x 9 h + 2 weekend days x 15 h  = 75 h -> 37.500 kWh x 0.2970 = 11.1375 -> 11.14
# off-peak: 5 x 9 h + 2 x 9 h                = 63 h -> 31.500 kWh x 0.1650 = 5.1975  -> 5.20
# supply 7 x 1.0500 = 7.35; subtotal 31.12; GST 0.735 + 0.743 + 1.114 + 0.52 -> 0.74+0.74+1.11+0.52 = 3.11
def test_a_week_of_time_of_use():
    rated = rate(
        tariff=Tariff.from_document(tou_document()),
        period_start=date(2026, 7, 6),
        period_end=date(2026, 7, 13),
        time_zone=SYDNEY,
        consumption=intervals_for(date(2026, 7, 6), date(2026, 7, 13), SYDNEY, wh=250),
    )
    assert summary(rated) == [
        ("Daily supply charge", "7", "day", "7.35"),
        ("Peak energy", "15.000", "kWh", "7.43"),
        ("Shoulder energy", "37.500", "kWh", "11.14"),
        ("Off-peak energy", "31.500", "kWh", "5.20"),
    ]
    assert (rated.subtotal, rated.tax_total, rated.total) == (aud("31.12"), aud("3.11"), aud("34.23"))


def test_tou_boundaries_belong_to_the_period_that_starts_there():
    # Wed 8 July: half-hour i starts at local hour i // 2.
    wh = np.zeros(48, dtype=np.int64)
    wh[13] = 500  # 06:30 off-peak
    wh[29] = 100  # 14:30 shoulder
    wh[30] = 200  # 15:00 peak (its first interval)
    wh[41] = 300  # 20:30 peak (its last interval)
    wh[42] = 400  # 21:00 shoulder again
    wh[44] = 600  # 22:00 off-peak
    rated = rate(
        tariff=Tariff.from_document(tou_document()),
        period_start=date(2026, 7, 8),
        period_end=date(2026, 7, 9),
        time_zone=SYDNEY,
        consumption=intervals_for(date(2026, 7, 8), date(2026, 7, 9), SYDNEY, wh=wh),
    )
    assert summary(rated)[1:] == [
        ("Peak energy", "0.500", "kWh", "0.25"),  # 0.2475
        ("Shoulder energy", "0.500", "kWh", "0.15"),  # 0.1485
        ("Off-peak energy", "1.100", "kWh", "0.18"),  # 0.1815
    ]


def test_a_weekend_bill_still_shows_peak_at_zero():
    rated = rate(
        tariff=Tariff.from_document(tou_document()),
        period_start=date(2026, 7, 11),
        period_end=date(2026, 7, 13),
        time_zone=SYDNEY,
        consumption=intervals_for(date(2026, 7, 11), date(2026, 7, 13), SYDNEY, wh=250),
    )
    peak = rated.lines[1]
    assert (peak.description, peak.quantity, peak.amount) == ("Peak energy", Decimal(0), aud("0.00"))
    assert str(peak.quantity) == "0.000"


def test_every_line_explains_itself():
    rated = rate(
        tariff=Tariff.from_document(tou_document()),
        period_start=date(2026, 7, 6),
        period_end=date(2026, 7, 13),
        time_zone=SYDNEY,
        consumption=intervals_for(date(2026, 7, 6), date(2026, 7, 13), SYDNEY, wh=250),
    )
    peak = rated.lines[1]
    assert (peak.component_id, peak.tariff_id, peak.tariff_version) == ("peak", "res-tou-2026", "2026-01-01")
    assert (peak.period_start, peak.period_end) == (date(2026, 7, 6), date(2026, 7, 13))
    assert (peak.rate, peak.tax_code, peak.tax_rate) == (Decimal("0.4950"), "GST", Decimal("0.10"))
    assert peak.amount.amount == (peak.quantity * peak.rate).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def test_a_tariff_time_zone_reads_tou_hours_in_that_zone():
    # 7 January: Sydney is on AEDT (+11), Brisbane stays +10. Sydney 15:00 is Brisbane 14:00.
    wh = np.zeros(48, dtype=np.int64)
    wh[30] = 1000  # Sydney 15:00-15:30
    day, next_day = date(2026, 1, 7), date(2026, 1, 8)
    energy = intervals_for(day, next_day, SYDNEY, wh=wh)
    local = rate(
        tariff=Tariff.from_document(tou_document()),
        period_start=day,
        period_end=next_day,
        time_zone=SYDNEY,
        consumption=energy,
    )
    standard = rate(
        tariff=Tariff.from_document(tou_document(timeZone="Australia/Brisbane")),
        period_start=day,
        period_end=next_day,
        time_zone=SYDNEY,
        consumption=energy,
    )
    assert [x.quantity for x in local.lines[1:]] == [Decimal(1), 0, 0]
    assert [x.quantity for x in standard.lines[1:]] == [0, Decimal(1), 0]


def test_rated_charges_round_trip_through_json():
    rated = rate(
        tariff=Tariff.from_document(tou_document()),
        period_start=date(2026, 7, 6),
        period_end=date(2026, 7, 13),
        time_zone=SYDNEY,
        consumption=intervals_for(date(2026, 7, 6), date(2026, 7, 13), SYDNEY, wh=250),
    )
    data = rated.to_json()
    assert data["total"] == {"amount": "34.23", "minor": 3423, "currency": "AUD"}
    assert RatedCharges.from_json(data) == rated


def test_stored_charges_whose_sums_do_not_add_up_are_refused():
    rated = rate(
        tariff=Tariff.from_document(flat_document()),
        period_start=JULY_1,
        period_end=JULY_31,
        time_zone=SYDNEY,
        consumption=RegisterConsumption(452_345, JULY_1, JULY_31),
    )
    data = rated.to_json()
    data["total"] = {"amount": "189.90", "minor": 18990, "currency": "AUD"}
    with pytest.raises(ValueError, match=r"total AUD 189\.90 is not subtotal"):
        RatedCharges.from_json(data)
    data = rated.to_json()
    data["lines"][0]["amount"] = {"amount": "31.51", "minor": 3151, "currency": "AUD"}
    with pytest.raises(ValueError, match="subtotal"):
        RatedCharges.from_json(data)


# -- inputs that cannot be rated together -------------------------------------------------------


def rate_flat(**overrides):
    arguments = {
        "tariff": Tariff.from_document(flat_document()),
        "period_start": JULY_1,
        "period_end": JULY_31,
        "time_zone": SYDNEY,
        "consumption": RegisterConsumption(1000, JULY_1, JULY_31),
    } | overrides
    return rate(**arguments)


def test_time_of_use_needs_interval_data():
    with pytest.raises(RatingError, match="'tou' is time of use and needs interval consumption"):
        rate_flat(tariff=Tariff.from_document(tou_document()))


def test_register_usage_must_be_for_the_period():
    with pytest.raises(RatingError, match=r"register usage covers 2026-07-01..2026-07-30 but the period"):
        rate_flat(consumption=RegisterConsumption(1000, JULY_1, date(2026, 7, 30)))


def test_interval_data_must_reach_across_the_period():
    with pytest.raises(RatingError, match=r"^consumption: intervals cover"):
        rate_flat(consumption=intervals_for(JULY_1, date(2026, 7, 30), SYDNEY))
    with pytest.raises(RatingError, match=r"^consumption: intervals cover"):
        rate_flat(consumption=intervals_for(date(2026, 7, 2), JULY_31, SYDNEY))


@pytest.mark.parametrize(
    ("document", "start", "end", "gap"),
    [
        (flat_document(), date(2025, 12, 1), date(2026, 1, 1), "2025-12-01..2026-01-01"),  # before the version
        (flat_document(effectiveTo="2026-07-15"), JULY_1, JULY_31, "2026-07-15..2026-07-31"),  # across its end
        (flat_document(effectiveTo="2026-07-15"), date(2026, 7, 15), JULY_31, "2026-07-15..2026-07-31"),  # after it
    ],
)
def test_the_tariff_version_must_cover_the_period(document, start, end, gap):
    # One version that does not cover the period: the uncovered days are named, never priced at zero.
    with pytest.raises(RatingError, match=rf"usage outside the tariff's effective dates: .* no version for {gap} "):
        rate_flat(
            tariff=Tariff.from_document(document),
            period_start=start,
            period_end=end,
            consumption=RegisterConsumption(1000, start, end),
        )


def test_the_last_day_of_a_version_can_be_rated():
    start, end = date(2026, 7, 14), date(2026, 7, 15)
    rated = rate_flat(
        tariff=Tariff.from_document(flat_document(effectiveTo="2026-07-15")),
        period_start=start,
        period_end=end,
        consumption=RegisterConsumption(1000, start, end),
    )
    assert rated.lines[0].quantity == 1


def test_an_empty_or_backwards_period_is_refused():
    with pytest.raises(RatingError, match="period_end: 2026-07-01 must be after period_start 2026-07-01"):
        rate_flat(period_end=JULY_1)


def test_period_bounds_are_dates_not_datetimes():
    with pytest.raises(TypeError, match="period_start: must be a local date"):
        rate_flat(period_start=datetime(2026, 7, 1))


def test_an_unknown_service_point_zone_is_refused():
    with pytest.raises(RatingError, match="time_zone: unknown IANA time zone 'Sydney'"):
        rate_flat(time_zone="Sydney")
