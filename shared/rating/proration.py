"""Proration rules, each stated once.

- A part of a calendar month is the fraction days / days-in-month rounded half-up to six
  decimal places (16 of 31 days -> 0.516129); a whole month is exactly 1. Monthly fixed
  charges, monthly demand charges and monthly minimums are priced per calendar month
  touched at that fraction, so quantity x rate is the line's amount.
- A whole number (Wh, or a per-bill threshold in Wh) is shared between parts of a span by
  days with cumulative floors: the part [a, b) of a span of D days starting at s gets
  floor(n x (b - s) / D) - floor(n x (a - s) / D). Parts sum exactly to n, the remainder
  falls to the last part, and a part's share depends only on its own dates.
- Blocks split a quantity by thresholds: the first block takes up to the first threshold,
  the next up to the second, the last the rest.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache

MONTH_FRACTION = Decimal("0.000001")


def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


@lru_cache(maxsize=4096)
def month_parts(start: date, end: date) -> tuple[tuple[date, date], ...]:
    """[start, end) cut at each first of the month: the calendar months it touches."""
    parts = []
    cursor = start
    while cursor < end:
        next_month = (cursor.replace(day=1) + timedelta(days=32)).replace(day=1)
        stop = min(end, next_month)
        parts.append((cursor, stop))
        cursor = stop
    return tuple(parts)


@lru_cache(maxsize=4096)
def month_fraction(start: date, end: date) -> Decimal:
    """The fraction of its calendar month that [start, end) (inside one month) covers."""
    days, whole = (end - start).days, days_in_month(start)
    return round_half_up(Fraction(days, whole), MONTH_FRACTION)


def round_half_up(value: Fraction, exponent: Decimal) -> Decimal:
    """An exact rational rounded once, half-up (away from zero at the half), to ``exponent``."""
    scale = Fraction(1) / Fraction(exponent)
    scaled = abs(value) * scale
    whole = int(scaled)
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    result = (Decimal(whole) * exponent).quantize(exponent, rounding=ROUND_HALF_UP)
    return -result if value < 0 else result


def share_by_days(total: int, span_start: date, span_days: int, start: date, end: date) -> int:
    """The share of ``total`` for [start, end) inside a span of ``span_days`` from ``span_start``."""

    def before(day: date) -> int:
        return total * (day - span_start).days // span_days

    return before(end) - before(start)


def split_blocks(total: int, thresholds: Sequence[int]) -> list[int]:
    """``total`` cut at increasing ``thresholds``: one more part than thresholds; they sum to ``total``."""
    parts = []
    lower = 0
    for upper in thresholds:
        parts.append(max(0, min(total, upper) - lower))
        lower = max(lower, upper)
    parts.append(max(0, total - lower))
    return parts
