"""Which billing periods are due: a pure calculation from the billed-through date.

The daily timer may fire late, twice, or once after days of downtime (Functions fires one
catch-up call, not one per missed day). Deriving the due periods from each account's
stored billed-through date, never from "when the timer last ran", makes every one of
those cases bill each period exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class BillingPeriod:
    start: date  # half-open [start, end), local dates of the service point
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def add_months(day: date, months: int) -> date:
    """Same day of month ``months`` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def due_periods(
    *, billed_through: date, today: date, months_per_period: int = 1, limit: int = 24
) -> list[BillingPeriod]:
    """Periods starting at ``billed_through`` that have ended by ``today`` (the local date).

    A period ending at midnight tonight is not due until tomorrow: its last day's
    readings are still arriving. ``limit`` stops a wrong billed-through date (years in the
    past) from flooding the bus; the rest is billed on the next runs.
    """
    periods: list[BillingPeriod] = []
    start = billed_through
    while len(periods) < limit:
        end = add_months(start, months_per_period)
        if end > today:
            break
        periods.append(BillingPeriod(start, end))
        start = end
    return periods
