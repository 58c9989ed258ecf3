"""The vectorised local calendar against one astimezone per interval, and DST days rated by local hour."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.rating.calendar import local_calendar
from tests.rating.builders import local_midnight_utc
from tests.rating.component_builders import OSLO, SYDNEY, WARSAW, constant, peak_offpeak, rated, tariff

ZONES = [
    SYDNEY,
    WARSAW,
    OSLO,
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/Santiago",  # clocks change at midnight: 6 September 2026 starts at 01:00
    "America/Havana",  # and at 00:00 / 01:00
    "Australia/Brisbane",  # no DST at all
]


@pytest.mark.parametrize("zone", ZONES)
def test_a_whole_year_of_half_hours_reads_like_astimezone(zone):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    count = 365 * 48
    calendar = local_calendar(start, 30, count, ZoneInfo(zone))
    for i in range(count):
        local = (start + i * timedelta(minutes=30)).astimezone(ZoneInfo(zone))
        assert (calendar.days[calendar.day_of[i]], int(calendar.hour[i])) == (local.date(), local.hour), i


@pytest.mark.parametrize(
    ("zone", "day", "hour_counts"),
    [
        (SYDNEY, date(2026, 4, 5), {2: 4}),  # autumn: 02:00 twice, 4 half-hours
        (SYDNEY, date(2026, 10, 4), {2: 0}),  # spring: no 02:00
        (WARSAW, date(2026, 10, 25), {2: 4}),
        (WARSAW, date(2026, 3, 29), {2: 0}),
        (OSLO, date(2026, 10, 25), {2: 4}),
        (OSLO, date(2026, 3, 29), {2: 0}),
    ],
)
def test_dst_days_have_the_wall_clock_hours_they_had(zone, day, hour_counts):
    first, last = local_midnight_utc(day, zone), local_midnight_utc(day + timedelta(days=1), zone)
    count = (last - first) // timedelta(minutes=30)
    calendar = local_calendar(first, 30, count, ZoneInfo(zone))
    counts = Counter(int(h) for h in calendar.hour)
    for hour in range(24):
        assert counts.get(hour, 0) == hour_counts.get(hour, 2), hour
    assert calendar.days == (day,)


@pytest.mark.parametrize(
    ("sunday", "off_peak_half_hours"),
    [
        # Sat, Sun, Mon at 1 Wh a half-hour. Peak Monday 15-21 = 12; off-peak the rest:
        # Saturday 48 + Sunday 50 (autumn) or 46 (spring) + Monday 36.
        (date(2026, 10, 25), 48 + 50 + 36),
        (date(2026, 3, 29), 48 + 46 + 36),
    ],
)
def test_oslo_time_of_use_across_a_dst_weekend(sunday, off_peak_half_hours):
    saturday, tuesday = sunday - timedelta(days=1), sunday + timedelta(days=2)
    norwegian = tariff(peak_offpeak(taxCode="MVA"), currency="NOK", taxes={"MVA": "0.25"})
    charges = rated(norwegian, saturday, tuesday, constant(saturday, tuesday, OSLO, 1), zone=OSLO)
    peak, off = charges.lines
    assert (peak.quantity * 1000, off.quantity * 1000) == (12, off_peak_half_hours)
