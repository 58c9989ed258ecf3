"""Estimation for billing: like days for interval meters, average daily use for registers;
integer Wh that sum exactly to what each estimate claims."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from shared.readings.estimation import (
    LIKE_DAY,
    CannotEstimate,
    Gap,
    estimate_interval_gaps,
    estimate_register_read,
)
from shared.readings.model import RegisterRead
from shared.readings.validation import ChannelDay

WEDNESDAY = date(2026, 10, 14)


def day(when: date, fill: int, *, quality: str = "A" * 48, minutes: int = 30) -> ChannelDay:
    """A day whose interval n (1-based) holds ``fill`` + n Wh, so each day is recognisable."""
    count = 1440 // minutes
    return ChannelDay(when, minutes, [fill + n for n in range(1, count + 1)], quality)


def test_a_missing_weekday_takes_the_most_recent_all_actual_weekday() -> None:
    history = [
        day(date(2026, 10, 6), 1_000),  # Tuesday, eight days back
        day(date(2026, 10, 12), 2_000, quality="A" * 20 + "E" + "A" * 27),  # Monday, one estimate: not a like day
        day(date(2026, 10, 13), 3_000, quality="A" * 47 + "S"),  # Tuesday, one substitute: not a like day
        day(date(2026, 10, 9), 4_000),  # Friday: the most recent all-actual weekday
        day(date(2026, 10, 10), 5_000),  # Saturday
        day(date(2026, 10, 11), 6_000),  # Sunday
    ]

    result = estimate_interval_gaps(gaps=[Gap.whole_day(WEDNESDAY)], history=history, interval_minutes=30)

    (estimated,) = result.days
    assert (estimated.day, estimated.source_day, estimated.method) == (WEDNESDAY, date(2026, 10, 9), LIKE_DAY)
    assert estimated.quality_method == "E14" and estimated.quality == "E" * 48
    assert list(estimated.values_wh) == [4_000 + n for n in range(1, 49)]
    # 48 x 4,000 + (1 + ... + 48) = 192,000 + 1,176
    assert estimated.estimated_wh == estimated.total_wh == result.estimated_wh == 193_176
    assert estimated.estimated_intervals == 48
    assert result.not_estimated == []
    assert result.period == (WEDNESDAY, WEDNESDAY + timedelta(days=1))


def test_rejected_intervals_are_filled_from_the_like_day_and_the_rest_of_the_day_stands() -> None:
    values = np.array([100] * 48)
    values[2], values[3] = -5, -7
    rejected = ChannelDay(WEDNESDAY, 30, values, "A" * 48)
    history = [day(date(2026, 10, 13), 1_000)]  # Tuesday: intervals 3 and 4 hold 1,003 and 1,004

    result = estimate_interval_gaps(gaps=[Gap.intervals(rejected, [3, 4])], history=history, interval_minutes=30)

    (estimated,) = result.days
    assert list(estimated.values_wh[:5]) == [100, 100, 1_003, 1_004, 100]
    assert estimated.quality == "AAEE" + "A" * 44
    assert (estimated.estimated_intervals, estimated.estimated_wh) == (2, 2_007)
    assert estimated.total_wh == 46 * 100 + 2_007


def test_a_public_holiday_is_estimated_from_the_last_sunday() -> None:
    labour_day = date(2026, 10, 5)  # Monday
    history = [day(date(2026, 10, 2), 1_000), day(date(2026, 10, 3), 2_000), day(date(2026, 10, 4), 3_000)]

    plain = estimate_interval_gaps(gaps=[Gap.whole_day(labour_day)], history=history, interval_minutes=30)
    holiday = estimate_interval_gaps(
        gaps=[Gap.whole_day(labour_day)], history=history, interval_minutes=30, holidays=frozenset({labour_day})
    )

    assert plain.days[0].source_day == date(2026, 10, 2)  # the Friday
    assert holiday.days[0].source_day == date(2026, 10, 4)  # the Sunday


def test_without_a_like_day_in_the_look_back_nothing_is_estimated_and_the_reason_is_given() -> None:
    history = [day(WEDNESDAY - timedelta(days=35), 1_000), day(WEDNESDAY - timedelta(days=1), 1_000, minutes=5,
               quality="A" * 288)]  # fmt: skip

    result = estimate_interval_gaps(gaps=[Gap.whole_day(WEDNESDAY)], history=history, interval_minutes=30)

    assert result.days == [] and result.period is None
    assert [(n.day, n.reason) for n in result.not_estimated] == [
        (WEDNESDAY, "no all-actual like day (30-minute) in the 28 days before 2026-10-14")
    ]


def test_a_gap_day_is_never_the_like_day_of_another_gap() -> None:
    tuesday = date(2026, 10, 13)
    history = [day(date(2026, 10, 12), 1_000), day(tuesday, 9_000)]  # Tuesday's values are being replaced

    result = estimate_interval_gaps(
        gaps=[Gap.intervals(day(tuesday, 9_000), [1]), Gap.whole_day(WEDNESDAY)], history=history, interval_minutes=30
    )

    assert [(d.day, d.source_day) for d in result.days] == [
        (tuesday, date(2026, 10, 12)),
        (WEDNESDAY, date(2026, 10, 12)),
    ]
    assert result.estimated_wh == 1_001 + (48 * 1_000 + 1_176)


def test_the_like_day_must_have_the_same_interval_length() -> None:
    history = [day(date(2026, 10, 13), 10, minutes=5, quality="A" * 288), day(date(2026, 10, 12), 1_000)]

    result = estimate_interval_gaps(gaps=[Gap.whole_day(WEDNESDAY)], history=history, interval_minutes=30)

    assert result.days[0].source_day == date(2026, 10, 12)


# --- register meters -------------------------------------------------------------------------

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def read(value: str, days: float, kind: str = "actual") -> RegisterRead:
    return RegisterRead("MTR-D110231", "E1", Decimal(value), T0 + timedelta(days=days), kind, "FO-1")  # type: ignore[arg-type]


def test_a_register_read_is_estimated_from_the_average_daily_use_of_the_last_actual_reads() -> None:
    # 300 kWh in 30 days is 10 kWh a day; 3.5 days on from 10,300 is 10,335.
    estimate = estimate_register_read(
        reads=[read("9000", -30), read("10000", 0), read("10300", 30)], at=T0 + timedelta(days=33.5), dial_count=5
    )

    assert estimate.read.value == Decimal("10335.000")
    assert (estimate.read.read_type, estimate.read.read_at) == ("estimated", T0 + timedelta(days=33.5))
    assert estimate.wh == 35_000
    assert estimate.average_daily_wh == Decimal(10_000)
    assert (estimate.basis_from.value, estimate.since.value) == (Decimal(10_000), Decimal(10_300))


def test_an_estimate_rolls_the_dials_over() -> None:
    # 290 kWh in 29 days is 10 a day; 2.5 days on from 99,990 is 100,015, shown as 00,015.
    estimate = estimate_register_read(
        reads=[read("99700", 0), read("99990", 29)], at=T0 + timedelta(days=31.5), dial_count=5
    )

    assert estimate.read.value == Decimal("15.000")
    assert estimate.wh == 25_000


def test_the_estimated_read_and_its_energy_agree_to_the_watt_hour() -> None:
    # 100 kWh in 3 days; one day on is 33.3333... kWh, estimated as 33.333 kWh = 33,333 Wh.
    estimate = estimate_register_read(
        reads=[read("1000", 0), read("1100", 7)], at=T0 + timedelta(days=7 + 7 / 3), dial_count=5
    )

    assert estimate.read.value == Decimal("1133.333")
    assert estimate.wh == 33_333 == int((estimate.read.value - Decimal(1100)) * 1000)


def test_the_basis_skips_reads_too_close_together_and_ignores_estimates() -> None:
    reads = [
        read("1000", 0),
        read("1095", 5, kind="estimated"),  # an estimate is no basis
        read("1098", 9),  # only a day before the last read: too short a basis
        read("1100", 10),
    ]

    estimate = estimate_register_read(reads=reads, at=T0 + timedelta(days=20), dial_count=5)

    assert estimate.basis_from.value == Decimal(1000)
    assert estimate.read.value == Decimal("1200.000")  # 10 kWh a day for 10 more days


@pytest.mark.parametrize(
    ("reads", "says"),
    [
        ([], "no actual read before 2026-11-01T00:00:00+00:00"),
        ([read("1000", 0), read("1010", 3)], "no actual read at least 7 days before the last one"),
        ([read("50000", 0), read("10000", 10)], "the register went backwards"),
    ],
)
def test_without_a_basis_there_is_no_estimate(reads: list[RegisterRead], says: str) -> None:
    with pytest.raises(CannotEstimate, match=re.escape(says)):
        estimate_register_read(reads=reads, at=T0 + timedelta(days=31), dial_count=5)
