"""Estimation: filling the gaps billing cannot wait for, and saying what was filled.

Pure domain: no storage, no HTTP. Interval meters get like-day substitution (AEMO method 14
for metering types 1-4): a missing day, or the rejected intervals of a day, take the values
of the most recent day of the same type (weekday, Saturday, Sunday or public holiday) whose
data is all actual. Register meters get an estimated read from the average daily
consumption between the last two actual reads. Estimated values carry quality "E" and their
method; each result says exactly what it estimated (integer Wh that sum to the total it
claims) so the period can be rebilled when the actual data arrives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from shared.readings.model import RegisterRead
from shared.readings.validation import REAL_READS, ChannelDay, like_days, register_advance

ESTIMATED = "E"
LIKE_DAY = "like-day"
LIKE_DAY_QUALITY_METHOD = "E14"  # AEMO: estimate, method 14 (like day) for interval meters
AVERAGE_DAILY = "average-daily"
KWH = Decimal("0.001")  # register reads are estimated to the watt-hour


class CannotEstimate(ValueError):
    """No basis for an estimate; the message says what is missing."""


@dataclass(frozen=True, eq=False)
class Gap:
    """What needs estimating on one market day: the whole day (``values_wh`` None) or the
    intervals marked in ``fill`` (a day whose other intervals stand)."""

    day: date
    values_wh: np.ndarray | None = None
    quality: str = ""
    fill: np.ndarray | None = None  # bool per interval

    @classmethod
    def whole_day(cls, day: date) -> Gap:
        return cls(day)

    @classmethod
    def intervals(cls, day: ChannelDay, rejected: Sequence[int]) -> Gap:
        """The day with its rejected intervals (1-based) to be filled."""
        fill = np.zeros(day.values_wh.size, dtype=bool)
        fill[[i - 1 for i in rejected]] = True
        return cls(day.day, day.values_wh, day.quality, fill)


@dataclass(frozen=True, eq=False)
class EstimatedDay:
    """A whole market day ready to store: the intervals that stood, and the estimated ones
    with quality "E". ``estimated_wh`` is the sum of the estimated intervals alone."""

    day: date
    interval_minutes: int
    values_wh: np.ndarray
    quality: str
    source_day: date  # the like day the values came from
    estimated_intervals: int
    estimated_wh: int
    method: str = LIKE_DAY
    quality_method: str = LIKE_DAY_QUALITY_METHOD

    @property
    def total_wh(self) -> int:
        return int(self.values_wh.sum())


@dataclass(frozen=True)
class NotEstimated:
    day: date
    reason: str


@dataclass
class IntervalEstimates:
    days: list[EstimatedDay] = field(default_factory=list)
    not_estimated: list[NotEstimated] = field(default_factory=list)

    @property
    def estimated_wh(self) -> int:
        return sum(d.estimated_wh for d in self.days)

    @property
    def period(self) -> tuple[date, date] | None:
        """The market days [first, end) that hold estimates: rebill these when actuals arrive."""
        if not self.days:
            return None
        return min(d.day for d in self.days), max(d.day for d in self.days) + timedelta(days=1)


def estimate_interval_gaps(
    *,
    gaps: Sequence[Gap],
    history: Sequence[ChannelDay],
    interval_minutes: int,
    holidays: frozenset[date] = frozenset(),
    lookback_days: int = 28,
) -> IntervalEstimates:
    """Like-day substitution for each gap. ``history`` is the channel's stored days; only
    days that are all actual, of the same type and interval length, within ``lookback_days``
    before the gap, and not gaps themselves, serve as like days. Earlier estimates are never
    the basis of later ones."""
    gap_days = {g.day for g in gaps}
    basis = [h for h in history if h.day not in gap_days]
    count = 1440 // interval_minutes
    result = IntervalEstimates()
    for gap in sorted(gaps, key=lambda g: g.day):
        candidates = like_days(
            gap.day, basis, holidays=holidays, lookback_days=lookback_days, interval_minutes=interval_minutes
        )
        if not candidates:
            result.not_estimated.append(
                NotEstimated(
                    gap.day,
                    f"no all-actual like day ({interval_minutes}-minute) in the {lookback_days} days before {gap.day}",
                )
            )
            continue
        like = candidates[0]
        if gap.values_wh is None or gap.fill is None:
            values, quality, fill = np.zeros(count, dtype=np.int64), "", np.ones(count, dtype=bool)
        else:
            if gap.values_wh.size != count or len(gap.quality) != count:
                result.not_estimated.append(
                    NotEstimated(gap.day, f"{gap.values_wh.size} values, expected {count}: estimate the whole day")
                )
                continue
            values, quality, fill = np.array(gap.values_wh, dtype=np.int64), gap.quality, gap.fill
        values[fill] = like.values_wh[fill]
        letters = [ESTIMATED if f else q for f, q in zip(fill, quality or ESTIMATED * count, strict=True)]
        values.setflags(write=False)
        result.days.append(
            EstimatedDay(
                day=gap.day,
                interval_minutes=interval_minutes,
                values_wh=values,
                quality="".join(letters),
                source_day=like.day,
                estimated_intervals=int(fill.sum()),
                estimated_wh=int(like.values_wh[fill].sum()),
            )
        )
    return result


@dataclass(frozen=True)
class RegisterEstimate:
    """An estimated register read at ``read.read_at`` and the energy it implies since the
    last actual read: ``wh`` is exactly what the estimated read minus that read gives."""

    read: RegisterRead  # read_type "estimated"
    wh: int
    since: RegisterRead  # the last actual read: the estimate runs on from it
    basis_from: RegisterRead  # the average daily consumption is from basis_from to since
    average_daily_wh: Decimal
    method: str = AVERAGE_DAILY


def estimate_register_read(
    *,
    reads: Sequence[RegisterRead],
    at: datetime,
    dial_count: int,
    multiplier: Decimal = Decimal(1),
    min_basis: timedelta = timedelta(days=7),
    reader_id: str = "vee",
) -> RegisterEstimate:
    """The read the register would show at ``at``, running on from the last actual read
    before it at the average daily consumption since the actual read before that (at least
    ``min_basis`` earlier, so two reads a minute apart do not set the rate)."""
    real = sorted((r for r in reads if r.read_type in REAL_READS and r.read_at < at), key=lambda r: r.read_at)
    if not real:
        raise CannotEstimate(f"no actual read before {at.isoformat()}")
    since = real[-1]
    basis_from = next((r for r in reversed(real[:-1]) if since.read_at - r.read_at >= min_basis), None)
    if basis_from is None:
        raise CannotEstimate(
            f"no actual read at least {min_basis.days} days before the last one at {since.read_at.isoformat()}"
        )
    advance = register_advance(basis_from.value, since.value, dial_count=dial_count)
    if advance is None:
        raise CannotEstimate(
            f"the register went backwards between {basis_from.read_at.isoformat()} and {since.read_at.isoformat()}"
        )
    basis_us = _microseconds(since.read_at - basis_from.read_at)
    ahead_us = _microseconds(at - since.read_at)
    units = (advance * ahead_us / basis_us).quantize(KWH, ROUND_HALF_UP)
    span = Decimal(10) ** dial_count
    estimated = RegisterRead(
        meter_serial=since.meter_serial,
        register_id=since.register_id,
        value=(since.value + units) % span,
        read_at=at.astimezone(UTC),
        read_type="estimated",
        reader_id=reader_id,
    )
    return RegisterEstimate(
        read=estimated,
        wh=int((units * multiplier * 1000).to_integral_value(ROUND_HALF_UP)),
        since=since,
        basis_from=basis_from,
        average_daily_wh=(advance * multiplier * 1000 * _microseconds(timedelta(days=1)) / basis_us).quantize(
            Decimal(1), ROUND_HALF_UP
        ),
    )


def _microseconds(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)
