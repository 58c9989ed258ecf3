"""NREL's System Advisor Model utility-rate calculator (PySAM ``Utilityrate5``) set up with the
benchmark's tariff, to rate the same usage and compare speed and bills.

SAM's conventions, and what this module does about them:
- Time: a 365-day year whose 1 January is a Monday, in local standard time all year (no DST),
  12 x 24 weekday and weekend schedules, no public holidays. A real month is therefore placed
  in the SAM month with the same length and the same first weekday (July 2026, a Wednesday,
  goes in SAM's August), its intervals in order from that month's first step: during DST
  SAM reads each interval one hour earlier than the wall clock, and a spring-forward month
  (46 half-hours on its DST day) leaves its last two steps empty.
- Energy: one table of (period, tier) rates. GridLedger prices time of use and an inclining
  block as two components on the same kWh; SAM gets rate(period, tier) = TOU rate + block rate,
  with tier limits in "kWh daily" (SAM multiplies them by the month's days) on the month's total
  across periods. Each kWh then pays its period's rate plus its tier's, as in GridLedger.
- Demand: a TOU demand period for the window (peak-window rate) and one at zero elsewhere;
  SAM takes the highest step's kW, so with 30-minute steps it is the highest half-hour, as
  GridLedger measures it (hourly steps would average pairs of half-hours).
- Fixed: SAM has a monthly fixed charge only; it gets the daily supply x the month's days.
- Money: floating point dollars, nothing rounded, and no tax.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np

SAM_YEAR_WEEKDAY_OF_JAN_1 = 0  # Monday (checked by check_sam_calendar)
_SAM_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_OPEN = 1e38  # SAM's "no upper limit"
_KWH_DAILY = 2  # ur_ec_tou_mat max-usage unit: kWh per day of the month
_HOURS = 24


@dataclass(frozen=True)
class SamTariff:
    """The benchmark tariff in SAM's terms."""

    tou_rates: Sequence[Decimal]  # per period 1..P, $/kWh
    weekday_periods: Sequence[int]  # 24 hours -> period 1..P
    weekend_periods: Sequence[int]
    block_rates: Sequence[Decimal]  # per tier 1..T, $/kWh
    block_daily_kwh: Sequence[Decimal]  # upper limit of tiers 1..T-1, kWh a day
    demand_rate: Decimal  # $/kW a month inside the window
    window_weekdays: Sequence[int]  # hours [from, to) on weekdays; no weekend window
    daily_supply: Decimal


@dataclass(frozen=True)
class SamBill:
    energy: float
    demand: float
    fixed: float
    total: float
    peak_kw: float


def sam_month_for(month_start: date) -> int:
    """The SAM month (0-based) with the same number of days and the same first weekday."""
    days = calendar.monthrange(month_start.year, month_start.month)[1]
    day_of_year = 0
    for index, length in enumerate(_SAM_MONTH_DAYS):
        if length == days and (SAM_YEAR_WEEKDAY_OF_JAN_1 + day_of_year) % 7 == month_start.weekday():
            return index
        day_of_year += length
    raise ValueError(f"no SAM month has {days} days and starts on weekday {month_start.weekday()}")


def first_step(sam_month: int, steps_per_hour: int) -> int:
    return sum(_SAM_MONTH_DAYS[:sam_month]) * _HOURS * steps_per_hour


class SamRater:
    """One Utilityrate5 model, tariff set once; each call replaces the load and runs it."""

    def __init__(self, tariff: SamTariff, month_days: int, steps_per_hour: int) -> None:
        import PySAM.Utilityrate5 as utilityrate5  # optional: only the benchmark needs it

        self.steps = 8760 * steps_per_hour
        self.steps_per_hour = steps_per_hour
        model = utilityrate5.new()
        model.Lifetime.analysis_period = 1
        model.Lifetime.inflation_rate = 0
        model.Lifetime.system_use_lifetime_output = 0
        model.SystemOutput.gen = [0.0] * self.steps
        model.SystemOutput.degradation = [0]
        model.Load.load_escalation = [0]
        rates = model.ElectricityRates
        rates.en_electricity_rates = 1
        rates.rate_escalation = [0]
        rates.ur_metering_option = 0
        rates.ur_sell_eq_buy = 0
        rates.ur_monthly_min_charge = 0
        rates.ur_annual_min_charge = 0
        rates.ur_monthly_fixed_charge = float(tariff.daily_supply * month_days)
        limits = [float(x) for x in tariff.block_daily_kwh] + [_OPEN]
        rates.ur_ec_tou_mat = [
            [period, tier, limit, _KWH_DAILY, float(tou + block), 0.0]
            for period, tou in enumerate(tariff.tou_rates, start=1)
            for tier, (block, limit) in enumerate(zip(tariff.block_rates, limits, strict=True), start=1)
        ]
        rates.ur_ec_sched_weekday = [list(tariff.weekday_periods)] * 12
        rates.ur_ec_sched_weekend = [list(tariff.weekend_periods)] * 12
        window_from, window_to = tariff.window_weekdays
        rates.ur_dc_enable = 1
        rates.TOU_demand_single_peak = 0
        rates.ur_dc_sched_weekday = [[1 if window_from <= h < window_to else 2 for h in range(_HOURS)]] * 12
        rates.ur_dc_sched_weekend = [[2] * _HOURS] * 12
        rates.ur_dc_tou_mat = [[1, 1, _OPEN, float(tariff.demand_rate)], [2, 1, _OPEN, 0.0]]
        rates.ur_dc_flat_mat = [[month, 1, _OPEN, 0.0] for month in range(12)]
        self.model = model

    def year_of(self, month_kw: np.ndarray, sam_month: int) -> np.ndarray:
        """A year of kW: the month repeated to fill it, and the month itself in SAM month ``sam_month``."""
        year = np.resize(month_kw, self.steps)
        first = first_step(sam_month, self.steps_per_hour)
        year[first : first + len(month_kw)] = month_kw
        return year

    def bill(self, year_kw: np.ndarray, sam_month: int) -> SamBill:
        model = self.model
        model.Load.load = year_kw.tolist()
        model.execute(0)
        out = model.Outputs
        return SamBill(
            energy=out.year1_monthly_ec_charge_without_system[sam_month],
            demand=out.year1_monthly_dc_tou_without_system[sam_month]
            + out.year1_monthly_dc_fixed_without_system[sam_month],
            fixed=out.year1_monthly_fixed_without_system[sam_month],
            total=out.year1_monthly_utility_bill_wo_sys[sam_month],
            peak_kw=out.year1_monthly_peak_wo_system[sam_month],
        )


def check_sam_calendar(rater: SamRater, peak_period: int = 1) -> None:
    """SAM's 6 and 7 January must be its first weekend (1 January a Monday), or every month is
    misplaced: at 16:00 the first five days are peak and the next two are not. Call after a bill."""
    schedule = np.asarray(rater.model.Outputs.year1_hourly_ec_tou_schedule)
    per_hour = len(schedule) // 8760
    at_four = [int(schedule[(day * _HOURS + 16) * per_hour]) == peak_period for day in range(7)]
    if at_four != [True] * 5 + [False] * 2:
        raise RuntimeError(f"SAM's calendar is not the one assumed (1 January a Monday): 16:00 peak days {at_four}")
