"""DST days: 23 and 25 local hours are rated as one supply day, with energy in local hours."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from shared.rating import Tariff, rate
from tests.rating.builders import SYDNEY, WARSAW, flat_document, intervals_for, local_midnight_utc, tou_document

SYDNEY_AUTUMN, SYDNEY_SPRING = date(2026, 4, 5), date(2026, 10, 4)  # first Sundays of April and October
WARSAW_SPRING, WARSAW_AUTUMN = date(2026, 3, 29), date(2026, 10, 25)  # last Sundays of March and October
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        (SYDNEY, SYDNEY_AUTUMN, 25),
        (SYDNEY, SYDNEY_SPRING, 23),
        (WARSAW, WARSAW_SPRING, 23),
        (WARSAW, WARSAW_AUTUMN, 25),
    ],
)
def test_a_dst_day_lasts_23_or_25_hours_in_timestamps(zone, day, hours):
    assert local_midnight_utc(day + DAY, zone) - local_midnight_utc(day, zone) == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("zone", "day", "minutes", "intervals"),
    [
        (SYDNEY, SYDNEY_AUTUMN, 30, 50),
        (SYDNEY, SYDNEY_SPRING, 30, 46),
        (WARSAW, WARSAW_SPRING, 30, 46),
        (WARSAW, WARSAW_AUTUMN, 30, 50),
        (WARSAW, WARSAW_SPRING, 15, 92),
        (SYDNEY, SYDNEY_AUTUMN, 5, 300),
    ],
)
def test_a_dst_day_is_one_supply_day_with_all_its_intervals(zone, day, minutes, intervals):
    rated = rate(
        tariff=Tariff.from_document(flat_document()),
        period_start=day,
        period_end=day + DAY,
        time_zone=zone,
        consumption=intervals_for(day - DAY, day + 2 * DAY, zone, minutes=minutes, wh=1),  # 1 Wh per interval
    )
    supply, energy = rated.lines
    assert supply.quantity == 1
    assert energy.quantity * 1000 == intervals


# Saturday, the DST Sunday and Monday, 1 Wh per half-hour, so Wh per line = half-hours counted.
# Saturday: shoulder 07-22 = 30, off-peak 00-07 + 22-24 = 18.
# Sunday:   shoulder 30; off-peak 18, plus 2 for the repeated hour 02:00 (autumn)
#           or less 2 for the skipped one (spring).
# Monday:   peak 15-21 = 12, shoulder 07-15 + 21-22 = 18, off-peak 18.
@pytest.mark.parametrize(
    ("zone", "sunday", "off_peak"),
    [
        (SYDNEY, SYDNEY_AUTUMN, 18 + 20 + 18),
        (SYDNEY, SYDNEY_SPRING, 18 + 16 + 18),
        (WARSAW, WARSAW_AUTUMN, 18 + 20 + 18),
        (WARSAW, WARSAW_SPRING, 18 + 16 + 18),
    ],
)
def test_time_of_use_across_a_dst_weekend_buckets_by_local_hour(zone, sunday, off_peak):
    saturday, tuesday = sunday - DAY, sunday + 2 * DAY
    doc = tou_document(currency="PLN", taxes={"VAT23": "0.23"}) if zone == WARSAW else tou_document()
    if zone == WARSAW:
        for component in doc["components"]:
            component["taxCode"] = "VAT23"
    rated = rate(
        tariff=Tariff.from_document(doc),
        period_start=saturday,
        period_end=tuesday,
        time_zone=zone,
        consumption=intervals_for(saturday, tuesday, zone, wh=1),
    )
    supply, peak, shoulder, offpeak = rated.lines
    assert supply.quantity == 3
    assert (peak.quantity * 1000, shoulder.quantity * 1000, offpeak.quantity * 1000) == (12, 30 + 30 + 18, off_peak)
    assert rated.subtotal.currency == ("PLN" if zone == WARSAW else "AUD")


def test_the_repeated_hour_is_priced_at_the_rate_of_its_local_hour():
    # Sydney autumn Sunday: 1 kWh in each of the two 02:00-02:30 intervals (UTC 15:00 and 16:00 on 4 April).
    wh = np.zeros(50, dtype=np.int64)
    wh[4] = wh[6] = 1000  # half-hours 00:00, 00:30, 01:00, 01:30, 02:00 (AEDT), 02:30, 02:00 (AEST)
    rated = rate(
        tariff=Tariff.from_document(tou_document()),
        period_start=SYDNEY_AUTUMN,
        period_end=SYDNEY_AUTUMN + DAY,
        time_zone=SYDNEY,
        consumption=intervals_for(SYDNEY_AUTUMN, SYDNEY_AUTUMN + DAY, SYDNEY, wh=wh),
    )
    assert [x.quantity for x in rated.lines[1:]] == [0, 0, Decimal(2)]
    assert rated.lines[3].amount.amount == Decimal("0.33")  # 2 kWh x 0.1650
