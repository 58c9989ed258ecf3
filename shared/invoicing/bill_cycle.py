"""Which billing periods are due: a pure calculation from the billed-through date.

The daily timer may fire late, twice, or once after days of downtime (Functions fires one
catch-up call, not one per missed day). Deriving the due periods from each account's
stored billed-through date, never from "when the timer last ran", makes every one of
those cases bill each period exactly once.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from math import gcd


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


def next_on_anchor(after: date, anchor_day: int) -> date:
    """The first day after ``after`` that is the cycle's anchor day, clamped to a short month's
    last day: with the anchor on the 31st, 31 Jan -> 29 Feb (2028) -> 31 Mar -> 30 Apr."""
    for months in (0, 1):
        month = add_months(after.replace(day=1), months)
        candidate = month.replace(day=min(anchor_day, monthrange(month.year, month.month)[1]))
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: next month's anchor is always after this month's days")


def due_periods(
    *,
    billed_through: date,
    today: date,
    months_per_period: int = 1,
    limit: int = 24,
    anchor_day: int | None = None,
    supply_ends: date | None = None,
) -> list[BillingPeriod]:
    """Periods starting at ``billed_through`` that have ended by ``today`` (the local date).

    Each period ends on the cycle's ``anchor_day`` (the day of the month it was set up on;
    ``billed_through``'s day when not given), clamped to short months; a start off the anchor
    (a billed-through date set by hand) gets a short first period up to the next anchor day.
    Chaining ``add_months`` from the last clamped end instead would move a cycle anchored on
    the 31st to the 29th for good after one February.

    ``supply_ends`` (a move-out: the contract's end, the first day no longer supplied) ends
    the cycle there: the last period is cut short to it (the final bill, its fixed charges
    prorated by days) and nothing is billed after it.

    A period ending at midnight tonight is not due until tomorrow: its last day's
    readings are still arriving. ``limit`` stops a wrong billed-through date (years in the
    past) from flooding the bus; the rest is billed on the next runs.
    """
    anchor = anchor_day or billed_through.day
    if not 1 <= anchor <= 31:
        raise ValueError(f"anchor_day: {anchor} is not a day of the month")
    periods: list[BillingPeriod] = []
    start = billed_through
    while len(periods) < limit:
        if supply_ends is not None and start >= supply_ends:
            break  # moved out: everything supplied is billed
        end = next_on_anchor(start, anchor)
        if months_per_period > 1:
            end = next_on_anchor(add_months(end, months_per_period - 1) - timedelta(days=1), anchor)
        if supply_ends is not None:
            end = min(end, supply_ends)
        if end > today:
            break
        periods.append(BillingPeriod(start, end))
        start = end
    return periods


CYCLE_MONTHS: dict[str, int] = {"monthly": 1, "bimonthly": 2, "quarterly": 3, "semiannual": 6, "annual": 12}


@dataclass(frozen=True)
class FeeCycles:
    """A contract's two billing cycles: variable fees (energy used, demand) and fixed fees
    (daily supply, subscriptions), which Polish practice bills independently, both counted
    from the contract's first day (its day of the month is the anchor).

    The account is billed as often as either cycle needs (``bill_months``). Each bill carries the variable fees when a
    variable cycle ends with it, for the whole of that cycle, and the fixed fees when a fixed
    cycle ends with it; the final bill (supply ends) carries both, up to the last day supplied.
    Variable quarterly and fixed monthly: January and February bills charge the fixed fees of
    their month; March's charges March's fixed fees and the quarter's energy."""

    start: date
    variable_months: int = 1
    fixed_months: int = 1

    @classmethod
    def of(cls, start: date, cycles: dict[str, str] | None) -> FeeCycles:
        cycles = cycles or {}
        return cls(start, CYCLE_MONTHS[cycles.get("variable", "monthly")], CYCLE_MONTHS[cycles.get("fixed", "monthly")])

    @property
    def bill_months(self) -> int:
        """How often the account is billed: every cycle end of either fee type falls on a bill
        (bimonthly energy and quarterly fixed fees: monthly bills)."""
        return gcd(self.variable_months, self.fixed_months)

    @property
    def together(self) -> bool:
        """Both fee types on one cycle: every bill carries both, for its own period."""
        return self.variable_months == self.fixed_months

    def variable_part(self, bill: BillingPeriod, *, final: bool = False) -> BillingPeriod | None:
        return self._part(self.variable_months, bill, final)

    def fixed_part(self, bill: BillingPeriod, *, final: bool = False) -> BillingPeriod | None:
        return self._part(self.fixed_months, bill, final)

    def _part(self, months: int, bill: BillingPeriod, final: bool) -> BillingPeriod | None:
        if self.together:
            return bill
        boundary = self._last_boundary(months, bill.end)
        if boundary == bill.end:  # this fee type's cycle ends with the bill: its whole cycle
            return BillingPeriod(max(self._last_boundary(months, bill.end - timedelta(days=1)), self.start), bill.end)
        if final:  # supply ends mid-cycle: what was supplied since the cycle began
            return BillingPeriod(max(boundary, self.start), bill.end)
        return None

    def _last_boundary(self, months: int, on_or_before: date) -> date:
        """The latest end of a ``months`` cycle on or before the day (the contract's first day
        when none has ended yet)."""
        anchor = self.start.day
        elapsed = (on_or_before.year - self.start.year) * 12 + on_or_before.month - self.start.month
        cycles = elapsed // months
        while cycles > 0:
            month = add_months(self.start.replace(day=1), cycles * months)
            boundary = month.replace(day=min(anchor, monthrange(month.year, month.month)[1]))
            if boundary <= on_or_before:
                return boundary
            cycles -= 1
        return self.start
