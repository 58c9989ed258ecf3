"""Time of use: which price period each local hour belongs to, and whose energy falls in it.

A schedule is a table of 12 months x 3 day types (weekdays, weekends, public holidays) x 24
local hours, each cell naming exactly one period. A period applies all year unless it lists
``months``, so a seasonal schedule is simply periods for different months. The holiday row
is the weekend row unless some period gives holiday hours of its own; which dates are
holidays (and whether they count as weekends) is the tariff's business, see calendar.py.

An interval belongs to the cell of its *start* read in local wall time, so the repeated
hour of an autumn DST day is counted twice in hour 2 (50 half-hours that day) and the
skipped hour of a spring day not at all (46): local time is what the tariff sells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from shared.rating.checks import HOURS_PER_DAY, MONTH_NAMES, MONTHS, HourRange

DAY_TYPES = ("weekdays", "weekends", "holidays")
WEEKDAY, WEEKEND, HOLIDAY = 0, 1, 2
TABLE_SHAPE = (MONTHS, len(DAY_TYPES), HOURS_PER_DAY)

# windows by day type, e.g. {"weekdays": ((15, 21),), "weekends": ()}; "holidays" optional
Windows = Mapping[str, Sequence[HourRange] | None]


class HourCoverageError(ValueError):
    """An hour of a day type (in a month, for seasonal schedules) with no period, or with more than one."""

    def __init__(self, day_type: str, hour: int, owners: Sequence[str], month: int | None = None) -> None:
        self.day_type = day_type
        self.hour = hour
        self.owners = tuple(owners)
        self.month = month
        where = f"hour {hour} on {day_type}" + (f" in {MONTH_NAMES[month - 1]}" if month else "")
        if not owners:
            problem = f"{where} is not covered by any period"
        else:
            problem = f"{where} is covered by more than one period: {', '.join(map(repr, owners))}"
        super().__init__(problem)


def window_mask(months: Sequence[int] | None, windows: Windows) -> np.ndarray:
    """True for each (month, day type, hour) cell inside the windows; holidays follow weekends
    unless ``windows`` gives holiday hours."""
    mask = np.zeros(TABLE_SHAPE, dtype=bool)
    month_rows = [m - 1 for m in months] if months else list(range(MONTHS))
    for day_index, day_type in enumerate(DAY_TYPES):
        ranges = windows.get(day_type)
        if ranges is None and day_type == "holidays":
            ranges = windows.get("weekends") or ()
        for start, end in ranges or ():
            mask[month_rows, day_index, start:end] = True
    return mask


def hour_table(periods: Sequence[tuple[str, Sequence[int] | None, Windows]]) -> np.ndarray:
    """The period index of every (month, day type, local hour).

    ``periods`` is ``[(period_id, months or None, {"weekdays": [(15, 21)], "weekends": []}), ...]``.
    Raises HourCoverageError for the first cell, months then weekdays, weekends, holidays, then
    hours in order, that is uncovered or covered twice. Holidays are checked only when some period
    gives holiday hours; otherwise the holiday row copies the weekend row.
    """
    own_holidays = any(windows.get("holidays") is not None for _, _, windows in periods)
    counts = np.zeros(TABLE_SHAPE, dtype=np.int16)
    table = np.zeros(TABLE_SHAPE, dtype=np.int16)
    masks = []
    for index, (_, months, windows) in enumerate(periods):
        if own_holidays and windows.get("holidays") is None:
            windows = {**windows, "holidays": ()}
        mask = window_mask(months, windows)
        masks.append(mask)
        counts += mask
        table[mask] = index
    seasonal = any(months for _, months, _ in periods)
    checked = counts if seasonal else counts[:1]  # without months every month is the same
    bad = np.argwhere(checked != 1)
    if bad.size:
        month, day_index, hour = (int(x) for x in bad[0])
        owners = [periods[i][0] for i, mask in enumerate(masks) if mask[month, day_index, hour]]
        raise HourCoverageError(DAY_TYPES[day_index], hour, owners, month + 1 if seasonal else None)
    table.setflags(write=False)
    return table


def sum_by_label(labels: np.ndarray, wh: np.ndarray, count: int) -> np.ndarray:
    """Integer Wh per label 0..count-1; they sum to ``wh.sum()`` exactly.

    ``bincount`` adds in float64, which is exact while every partial sum stays below 2**53:
    Wh are never negative, so checking the grand total (itself an exact int64 sum) suffices.
    """
    total = int(wh.sum(dtype=np.int64))
    if total < 2**53:
        return np.bincount(labels, weights=wh, minlength=count).astype(np.int64)
    return np.array([int(wh[labels == i].sum(dtype=np.int64)) for i in range(count)], dtype=np.int64)
