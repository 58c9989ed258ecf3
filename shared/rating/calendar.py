"""Where each interval of a series falls in local time: its local day, hour and month.

Worked out once per (zone, first interval, interval length, count) and cached, because a
bill run rates thousands of meters over the same month: the per-interval work is numpy,
and Python touches only the days (about 31 a month) plus a binary search on a DST day.

The local hour of an interval is its offset from the local midnight it follows, corrected
by the change of UTC offset since that midnight: an interval after the autumn change is an
hour earlier on the wall clock (the repeated hour), after the spring change an hour later
(the skipped one). This assumes at most one offset change a day, true of every IANA zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from shared.rating.public_holidays import holidays_in
from shared.rating.time_of_use import HOLIDAY, TABLE_SHAPE, WEEKDAY, WEEKEND

_SECONDS_PER_HOUR = 3600
_SATURDAY = 5


@dataclass(frozen=True, eq=False)
class LocalCalendar:
    days: tuple[date, ...]  # the local dates the intervals start on, in order
    day_starts: np.ndarray  # index of each day's first interval, then the interval count
    day_of: np.ndarray  # per interval: index into days
    hour: np.ndarray  # per interval: local hour 0..23
    _slots: dict[str | None, np.ndarray] = field(default_factory=dict, repr=False)
    _runs: list[tuple[date, int, int]] = field(default_factory=list, repr=False)

    @property
    def count(self) -> int:
        return len(self.day_of)

    def slots(self, region: str | None) -> np.ndarray:
        """Per interval, the flat index of its (month, day type, hour) cell in a schedule table.

        With a region, its public holidays are their own day type (the table's holiday row,
        which is the weekend row unless the tariff gives holidays hours of their own)."""
        if region not in self._slots:
            holidays: set[date] = set()
            if region is not None:
                for year in {day.year for day in self.days}:
                    holidays |= holidays_in(region, year)
            day_type = np.array(
                [HOLIDAY if d in holidays else WEEKEND if d.weekday() >= _SATURDAY else WEEKDAY for d in self.days],
                dtype=np.int64,
            )
            month = np.array([d.month - 1 for d in self.days], dtype=np.int64)
            _, types, hours = TABLE_SHAPE
            per_day = (month * types + day_type) * hours
            slots = (per_day[self.day_of] + self.hour).astype(np.int32)
            slots.setflags(write=False)
            self._slots[region] = slots
        return self._slots[region]

    def month_runs(self) -> tuple[tuple[date, int, int], ...]:
        """(first day of the month, first interval, stop) of each calendar month touched: a month's
        intervals are one contiguous run."""
        if self._runs or not self.days:
            return tuple(self._runs)
        runs = self._runs
        for index, day in enumerate(self.days):
            month = day.replace(day=1)
            start, stop = int(self.day_starts[index]), int(self.day_starts[index + 1])
            if runs and runs[-1][0] == month:
                runs[-1] = (month, runs[-1][1], stop)
            else:
                runs.append((month, start, stop))
        return tuple(runs)


def local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


# A bill run rates many meters over a few grids at a time; 32 grids of a year of 5-minute data
# hold about 30 MB.
@lru_cache(maxsize=32)
def local_calendar(start_utc: datetime, minutes: int, count: int, zone: ZoneInfo) -> LocalCalendar:
    """The calendar of ``count`` intervals of ``minutes`` from ``start_utc`` (aware, UTC)."""
    step = _SECONDS_PER_HOUR * minutes // 60
    if count == 0:
        empty = np.zeros(0, dtype=np.int64)
        return LocalCalendar((), np.zeros(1, dtype=np.int64), empty, empty)
    first_day = start_utc.astimezone(zone).date()
    last_day = (start_utc + timedelta(seconds=step * (count - 1))).astimezone(zone).date()
    days = tuple(first_day + timedelta(days=k) for k in range((last_day - first_day).days + 1))
    midnights = [local_midnight_utc(day, zone) for day in (*days, last_day + timedelta(days=1))]
    since_start = [int((m - start_utc).total_seconds()) for m in midnights]
    day_starts = np.array([min(count, max(0, -(-s // step))) for s in since_start], dtype=np.int64)
    day_of = np.repeat(np.arange(len(days), dtype=np.int64), np.diff(day_starts))
    locals_ = [m.astimezone(zone) for m in midnights]
    offsets = [local.utcoffset() or timedelta() for local in locals_]
    # Where a zone springs forward at midnight (Santiago), the day starts at 01:00 on the wall clock.
    lead = [local.hour * _SECONDS_PER_HOUR + local.minute * 60 for local in locals_[:-1]]
    # Seconds of wall-clock time since the day's local midnight, before any DST change that day.
    since_midnight = np.array(since_start[:-1], dtype=np.int64) - np.array(lead, dtype=np.int64)
    seconds = np.arange(count, dtype=np.int64) * step - since_midnight[day_of]
    for index in range(len(days)):
        if offsets[index] != offsets[index + 1]:
            change = (int(day_starts[index]), int(day_starts[index + 1]), offsets[index])
            _apply_offset_change(seconds, start_utc, step, zone, *change)
    hour = (seconds // _SECONDS_PER_HOUR).astype(np.int32)
    day_of = day_of.astype(np.int32)
    for array in (day_starts, day_of, hour):
        array.setflags(write=False)
    return LocalCalendar(days, day_starts, day_of, hour)


def _apply_offset_change(
    seconds: np.ndarray, start_utc: datetime, step: int, zone: ZoneInfo, first: int, stop: int, before: timedelta
) -> None:
    """Shift the wall clock of a DST day's intervals after its change by the change in offset."""

    def offset(index: int) -> timedelta:
        return (start_utc + timedelta(seconds=step * index)).astimezone(zone).utcoffset() or timedelta()

    low, high = first, stop  # the first interval on the new offset lies in (low, high]
    while low < high:
        middle = (low + high) // 2
        if offset(middle) == before:
            low = middle + 1
        else:
            high = middle
    if low < stop:
        seconds[low:stop] += int((offset(low) - before).total_seconds())
