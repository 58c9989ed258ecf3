"""Time of use: which price period each hour belongs to, and whose energy falls in it.

A schedule is a table of 2 day types x 24 local hours, each cell naming exactly one period.
An interval belongs to the cell of its *start* read in local wall time, so the repeated
hour of an autumn DST day is counted twice in hour 2 (50 half-hours that day) and the
skipped hour of a spring day not at all (46): local time is what the tariff sells.
Public holidays and seasons come later as more day types and more tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

DAY_TYPES = ("weekdays", "weekends")
HOURS_PER_DAY = 24
_SATURDAY = 5


class HourCoverageError(ValueError):
    """An hour of a day type with no period, or with more than one."""

    def __init__(self, day_type: str, hour: int, owners: Sequence[str]) -> None:
        self.day_type = day_type
        self.hour = hour
        self.owners = tuple(owners)
        if not owners:
            problem = f"hour {hour} on {day_type} is not covered by any period"
        else:
            problem = f"hour {hour} on {day_type} is covered by more than one period: {', '.join(map(repr, owners))}"
        super().__init__(problem)


def day_type_of(day: date) -> int:
    """Index into DAY_TYPES: Monday to Friday are weekdays."""
    return 1 if day.weekday() >= _SATURDAY else 0


def hour_table(periods: Sequence[tuple[str, Mapping[str, Sequence[tuple[int, int]]]]]) -> np.ndarray:
    """The period index of every (day type, local hour), from each period's [start, end) hour ranges.

    ``periods`` is ``[(period_id, {"weekdays": [(15, 21)], "weekends": []}), ...]``. Raises
    HourCoverageError for the first hour, weekdays before weekends, that is uncovered or covered twice.
    """
    owners: list[list[list[int]]] = [[[] for _ in range(HOURS_PER_DAY)] for _ in DAY_TYPES]
    for index, (_, windows) in enumerate(periods):
        for day_index, day_type in enumerate(DAY_TYPES):
            for start, end in windows.get(day_type, ()):
                for hour in range(start, end):
                    owners[day_index][hour].append(index)
    table = np.empty((len(DAY_TYPES), HOURS_PER_DAY), dtype=np.int16)
    for day_index, day_type in enumerate(DAY_TYPES):
        for hour, cell in enumerate(owners[day_index]):
            if len(cell) != 1:
                raise HourCoverageError(day_type, hour, [periods[i][0] for i in cell])
            table[day_index, hour] = cell[0]
    table.setflags(write=False)
    return table


def local_slots(start_utc: datetime, step: timedelta, count: int, zone: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """Day type index and local hour of each interval's start.

    One zone conversion per interval: offsets change at instants that need not fall on
    whole UTC hours (Lord Howe shifts by 30 minutes), so nothing coarser is exact. At
    about a microsecond each, a year of 5-minute data takes a tenth of a second.
    """
    day_types = np.empty(count, dtype=np.int8)
    hours = np.empty(count, dtype=np.int8)
    moment = start_utc
    for i in range(count):
        local = moment.astimezone(zone)
        day_types[i] = day_type_of(local.date())
        hours[i] = local.hour
        moment += step
    return day_types, hours


def wh_by_period(
    *, start_utc: datetime, step: timedelta, wh: np.ndarray, zone: ZoneInfo, table: np.ndarray, period_count: int
) -> tuple[int, ...]:
    """Integer Wh per period, in the schedule's period order; they sum to ``wh.sum()`` exactly."""
    day_types, hours = local_slots(start_utc, step, len(wh), zone)
    period_of_interval = table[day_types, hours]
    return tuple(int(wh[period_of_interval == index].sum(dtype=np.int64)) for index in range(period_count))
