"""Consumption inputs refuse what rating cannot price exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pytest

from shared.rating import IntervalConsumption, RegisterConsumption

START = datetime(2026, 7, 1, 14, tzinfo=UTC)


def test_interval_start_is_kept_in_utc():
    aest = timezone(timedelta(hours=10))
    series = IntervalConsumption(datetime(2026, 7, 2, 0, tzinfo=aest), 30, np.zeros(4, dtype=np.int64))
    assert series.start == START and series.start.tzinfo is UTC
    assert series.end == START + timedelta(hours=2)


def test_a_naive_start_is_refused():
    with pytest.raises(ValueError, match=r"^start: must be a timezone-aware datetime"):
        IntervalConsumption(datetime(2026, 7, 1), 30, np.zeros(4, dtype=np.int64))


def test_float_energy_is_refused():
    with pytest.raises(TypeError, match=r"^wh: must hold integer Wh.*float64"):
        IntervalConsumption(START, 30, np.array([1.5, 2.0]))


def test_negative_energy_is_refused_naming_the_interval():
    with pytest.raises(ValueError, match=r"^wh\[2\]: energy cannot be negative, got -5"):
        IntervalConsumption(START, 30, np.array([1, 2, -5, 3]))


@pytest.mark.parametrize("minutes", [0, -30, 7, 45, 90])
def test_interval_length_must_divide_an_hour(minutes):
    with pytest.raises(ValueError, match=r"^interval_minutes: must divide an hour"):
        IntervalConsumption(START, minutes, np.zeros(4, dtype=np.int64))


@pytest.mark.parametrize("minutes", [30.0, True, "30"])
def test_interval_length_must_be_an_int(minutes):
    with pytest.raises(TypeError, match=r"^interval_minutes"):
        IntervalConsumption(START, minutes, np.zeros(4, dtype=np.int64))


def test_the_energy_array_is_a_private_read_only_copy():
    values = np.array([1, 2, 3], dtype=np.int32)
    series = IntervalConsumption(START, 30, values)
    values[0] = 99
    assert series.wh.dtype == np.int64 and series.wh.tolist() == [1, 2, 3]
    with pytest.raises(ValueError):
        series.wh[0] = 5


def test_starting_within_keeps_intervals_whose_start_is_in_the_window():
    series = IntervalConsumption(START, 30, np.arange(10, dtype=np.int64))
    window = series.starting_within(START + timedelta(minutes=45), START + timedelta(minutes=150))
    # starts 14:00, 14:30, 15:00 ... ; in [14:45, 16:30): 15:00, 15:30, 16:00
    assert window.start == START + timedelta(minutes=60)
    assert window.wh.tolist() == [2, 3, 4]
    assert series.starting_within(START - timedelta(days=1), START).wh.size == 0


@pytest.mark.parametrize("wh", [1.0, True, "1000"])
def test_register_usage_must_be_integer_wh(wh):
    with pytest.raises(TypeError, match=r"^wh: must be an int"):
        RegisterConsumption(wh, date(2026, 7, 1), date(2026, 7, 31))


def test_register_usage_cannot_be_negative_or_run_backwards():
    with pytest.raises(ValueError, match=r"^wh: usage cannot be negative"):
        RegisterConsumption(-1, date(2026, 7, 1), date(2026, 7, 31))
    with pytest.raises(ValueError, match=r"^to_date: 2026-07-01 must be after from_date 2026-07-31"):
        RegisterConsumption(1, date(2026, 7, 31), date(2026, 7, 1))


def test_register_dates_must_be_dates_not_datetimes():
    with pytest.raises(TypeError, match=r"^from_date: must be a date"):
        RegisterConsumption(1, datetime(2026, 7, 1, tzinfo=UTC), date(2026, 7, 31))
