"""What rating prices: interval energy from a smart meter, or the usage between two register reads.

Energy stays integer Wh until a line is priced (kWh = Wh / 1000 is then exact). Both types
check themselves on construction, so a float or a naive datetime never reaches the engine.
A service point's channels are passed to rating by NEM12 register suffix ("E1" general
import, "E2" controlled load, "B1" export); an interval channel of apparent energy (VAh)
is what a kVA demand charge is measured on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

MINUTES_PER_HOUR = 60
ENERGY_UNITS = ("Wh", "VAh")  # active energy, or apparent energy for kVA demand


@dataclass(frozen=True, eq=False)
class IntervalConsumption:
    """Consecutive intervals of ``interval_minutes`` from ``start`` (aware; kept in UTC), Wh each."""

    start: datetime
    interval_minutes: int
    wh: np.ndarray  # integer Wh (VAh when unit is "VAh") per interval
    unit: str = "Wh"

    def __post_init__(self) -> None:
        if self.unit not in ENERGY_UNITS:
            raise ValueError(f"unit: must be one of {', '.join(ENERGY_UNITS)}, got {self.unit!r}")
        if not isinstance(self.start, datetime) or self.start.utcoffset() is None:
            raise ValueError(f"start: must be a timezone-aware datetime, got {self.start!r}")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        minutes = self.interval_minutes
        if isinstance(minutes, bool) or not isinstance(minutes, int):
            raise TypeError(f"interval_minutes: must be an int, got {type(minutes).__name__} {minutes!r}")
        # Whole divisors of an hour keep every interval inside one local hour (given
        # hour-aligned starts), so bucketing by start time prices all of its energy right.
        if minutes <= 0 or MINUTES_PER_HOUR % minutes:
            raise ValueError(f"interval_minutes: must divide an hour (5, 15, 30, 60...), got {minutes}")
        object.__setattr__(self, "wh", _integer_wh(self.wh))

    @property
    def step(self) -> timedelta:
        return timedelta(minutes=self.interval_minutes)

    @property
    def end(self) -> datetime:
        return self.start + self.step * len(self.wh)

    def starting_within(self, start_utc: datetime, end_utc: datetime) -> IntervalConsumption:
        """The intervals whose start lies in ``[start_utc, end_utc)``."""
        first = max(0, _ceil_steps(start_utc - self.start, self.step))
        stop = min(len(self.wh), max(first, _ceil_steps(end_utc - self.start, self.step)))
        return self._slice(first, stop)

    def _slice(self, first: int, stop: int) -> IntervalConsumption:
        # A view of an already checked read-only array: checking (and copying) it again per bill
        # would cost more than rating it.
        part = object.__new__(IntervalConsumption)
        for name, value in (
            ("start", self.start + self.step * first),
            ("interval_minutes", self.interval_minutes),
            ("wh", self.wh[first:stop]),
            ("unit", self.unit),
        ):
            object.__setattr__(part, name, value)
        return part


@dataclass(frozen=True)
class RegisterConsumption:
    """Usage of a basic meter over local dates ``[from_date, to_date)``: the difference of two reads."""

    wh: int
    from_date: date
    to_date: date

    def __post_init__(self) -> None:
        if isinstance(self.wh, bool) or not isinstance(self.wh, int):
            raise TypeError(f"wh: must be an int number of Wh, got {type(self.wh).__name__} {self.wh!r}")
        if self.wh < 0:
            raise ValueError(f"wh: usage cannot be negative, got {self.wh}")
        for name in ("from_date", "to_date"):
            value = getattr(self, name)
            if isinstance(value, datetime) or not isinstance(value, date):
                raise TypeError(f"{name}: must be a date, got {type(value).__name__} {value!r}")
        if self.to_date <= self.from_date:
            raise ValueError(f"to_date: {self.to_date} must be after from_date {self.from_date}")

    @property
    def days(self) -> int:
        return (self.to_date - self.from_date).days

    def wh_between(self, start: date, end: date) -> int:
        """The usage of local dates [start, end) inside the read span, prorated by days.

        Each day boundary b gets floor(wh x days(from_date..b) / days) of the usage before it,
        and a part is the difference at its two ends: parts of any split sum exactly to the
        whole, the remainder Wh falls to the last part, and a part's share depends only on its
        own dates (so a price change on day d gives the same Wh as two bills split at d)."""
        if not self.from_date <= start <= end <= self.to_date:
            raise ValueError(f"{start}..{end} is outside the read span {self.from_date}..{self.to_date}")
        return self._before(end) - self._before(start)

    def _before(self, day: date) -> int:
        return self.wh * (day - self.from_date).days // self.days


def _integer_wh(values: Any) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        raise TypeError(f"wh: must hold integer Wh (numpy int64), got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"wh: must be one-dimensional, got shape {array.shape}")
    if array.dtype.kind == "u" and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise ValueError("wh: value too large for int64")
    array = array.astype(np.int64, copy=True)
    negative = np.flatnonzero(array < 0)
    if negative.size:
        # Exported energy is its own channel with its own (credit) component, not a negative import.
        raise ValueError(f"wh[{negative[0]}]: energy cannot be negative, got {array[negative[0]]}")
    array.setflags(write=False)
    return array


def _ceil_steps(offset: timedelta, step: timedelta) -> int:
    return -(-offset // step)
