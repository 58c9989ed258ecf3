"""Household-like interval usage for many meters, deterministic from a seed.

Each meter gets its own base load, a morning and an evening peak (later and flatter on
weekends), a midday bump on weekends, a day-to-day weather factor, noise in every interval,
short appliance spikes (kettle, oven), and for some meters an electric car charging at night
or a pool pump in the daytime. The shapes are read in local wall time, so a DST day's
evening peak stays at 19:00 on the clock. Wh are whole and never negative.

Averages come out at about 15 kWh a day a meter, like an Australian household.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

_SATURDAY = 5


def period_grid(start: date, end: date, zone: ZoneInfo, minutes: int) -> tuple[datetime, np.ndarray, np.ndarray]:
    """The first interval's start (aware) and, per interval of local dates [start, end), its
    local wall-clock hour as a fraction (19.5 is 19:30) and whether its day is a weekend."""
    # In UTC: subtracting or adding to datetimes of one zone is wall-clock arithmetic, blind to DST.
    first = datetime.combine(start, time.min, tzinfo=zone).astimezone(UTC)
    last = datetime.combine(end, time.min, tzinfo=zone).astimezone(UTC)
    step = timedelta(minutes=minutes)
    count = -(-(last - first) // step)
    local = [(first + i * step).astimezone(zone) for i in range(count)]
    hours = np.array([t.hour + t.minute / 60 for t in local])
    weekend = np.array([t.weekday() >= _SATURDAY for t in local])
    return first, hours, weekend


def household_usage(
    meters: int, hours: np.ndarray, weekend: np.ndarray, minutes: int, *, seed: int, first_meter: int = 0
) -> np.ndarray:
    """[meters, intervals] int64 Wh; meter ``first_meter + i`` is the same whatever the chunking."""
    rows = [_one_meter(hours, weekend, minutes, np.random.default_rng([seed, first_meter + i])) for i in range(meters)]
    return np.stack(rows) if rows else np.zeros((0, len(hours)), dtype=np.int64)


def _bump(hours: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((hours - centre) / width) ** 2)


def _one_meter(hours: np.ndarray, weekend: np.ndarray, minutes: int, rng: np.random.Generator) -> np.ndarray:
    count = len(hours)
    per_day = 24 * 60 // minutes
    base = rng.lognormal(np.log(0.30), 0.35)  # kW, always on: fridge, standby, hot water
    morning, evening, midday = rng.lognormal(np.log([0.7, 1.6, 0.5]), 0.4)
    kw = np.where(
        weekend,
        base
        + 0.8 * morning * _bump(hours, 9.0, 1.5)
        + midday * _bump(hours, 13.0, 2.5)
        + evening * _bump(hours, 18.5, 2.0),
        base + morning * _bump(hours, 7.5, 1.0) + evening * _bump(hours, 19.0, 1.6),
    )
    days = -(-count // per_day)
    weather = np.repeat(rng.lognormal(0.0, 0.15, size=days), per_day)[:count]
    kw = kw * weather * rng.lognormal(0.0, 0.35, size=count)
    spikes = rng.random(count) < 0.02  # a kettle or an oven for one interval
    kw = kw + spikes * rng.uniform(1.5, 3.0, size=count)
    if rng.random() < 0.10:  # an electric car, charging 7 kW from 23:00 for 2 to 4 hours, most nights
        charging = (hours >= 23) | (hours < rng.uniform(1, 3))
        nights = np.repeat(rng.random(days) < 0.7, per_day)[:count]
        kw = kw + 7.0 * (charging & nights)
    if rng.random() < 0.05:  # a pool pump, 1.1 kW from 10:00 to 16:00
        kw = kw + 1.1 * ((hours >= 10) & (hours < 16))
    wh = np.rint(kw * 1000 * minutes / 60)
    return wh.astype(np.int64)
