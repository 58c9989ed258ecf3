"""Rating many meters at once: the lines rate() gives each of them, to the cent, at bill-run speed.

A bill run rates hundreds of thousands of interval meters over one period under one tariff.
rate() spends most of its time per meter building ``Decimal`` money line by line; here the
meters are a matrix ``wh[meter, interval]`` and everything up to the cent is integer numpy:

- The period's intervals are cut into runs inside which no label changes (time-of-use
  period, season), about four a day. One ``np.add.reduceat`` gives every meter's Wh per run
  and one small int64 matrix product (runs x labels) the Wh of every period, season and of
  the whole period: integers throughout, so exact. ``np.maximum.reduceat`` over the runs of
  each calendar month (and demand window) gives the demand peaks.
- Blocks split the totals by vectorised min/max. An amount is quantity (integer Wh, or W of
  kW) x the rate's digits, an integer, rounded half-up to cents by integer division; tax per
  line or per invoice the same way. That is the arithmetic rate() does with ``Decimal``,
  without a ``Decimal`` per line; a product too large for int64 is done in Python integers,
  never in floats.
- Which lines a bill has, in which order, with which descriptions, rates, periods and tax
  codes, and the amounts of the lines usage does not change (supply, fixed charges), come
  from rate() itself, rating one meter that used nothing: the batch supplies only the usage
  quantities and the amounts, so each meter's RatedCharges equals rate()'s, line for line.

Meters are measured and priced ``chunk_meters`` at a time, so the temporaries stay bounded
(about 12 MiB per 10,000 meters of a month of half-hours) whatever the batch; the caller holds
the usage matrix itself, and a bill run bounds it by passing the meters a chunk at a time.
The result is int64 columns (a few numbers a line a meter), and a meter's RatedCharges is
built only when asked for: building it costs over ten times more than rating it (BENCHMARKS.md).

The batch prices daily supply, fixed charges, flat, block, seasonal, time-of-use and tiered
time-of-use energy (tiers.py's two allocations, on integers; the chronological one walks each
meter's running total, a sub-chunk of meters at a time) and kW demand charges (with or
without a window) on the general (E1) channel, under one tariff version covering the whole
period. Anything else is refused by name, to be rated
with rate(): minimum charges and discounts (priced from the other lines), export credits and
other registers, ratchets (they need each meter's history), network pass-through, and a
price change inside the period.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from shared.money import MINOR_UNITS, Money
from shared.rating.calendar import local_calendar, local_midnight_utc
from shared.rating.components import (
    GENERAL,
    BlockEnergy,
    Component,
    DailySupply,
    DemandCharge,
    FixedCharge,
    FlatEnergy,
    SeasonalEnergy,
    TieredTimeOfUse,
    TimeOfUse,
)
from shared.rating.consumption import MINUTES_PER_HOUR, IntervalConsumption
from shared.rating.engine import rate
from shared.rating.lines import ChargeLine, TaxLine
from shared.rating.proration import month_parts, share_by_days
from shared.rating.results import DemandReading, RatedCharges
from shared.rating.tariff import Tariff
from shared.rating.tax import TaxRounding
from shared.rating.time_of_use import TABLE_SHAPE
from shared.rating.usage import RatingError

__all__ = ["DEFAULT_CHUNK_METERS", "BatchCharges", "rate_batch"]

DEFAULT_CHUNK_METERS = 10_000
BATCH_COMPONENTS = (
    DailySupply,
    FixedCharge,
    FlatEnergy,
    BlockEnergy,
    SeasonalEnergy,
    TimeOfUse,
    TieredTimeOfUse,
    DemandCharge,
)
_CONSTANT_COMPONENTS = (DailySupply, FixedCharge)  # their lines do not depend on usage
_EnergyComponent = FlatEnergy | BlockEnergy | SeasonalEnergy | TimeOfUse | TieredTimeOfUse
_RUNNING_TOTAL_METERS = 1_024  # rows of running totals at a time: 12 MiB of temporaries for a month of half-hours
_SLOTS_PER_MONTH = TABLE_SHAPE[1] * TABLE_SHAPE[2]
_MILLI = 3  # quantities are integer thousandths of their unit: Wh of a kWh, W of a kW
_INT64_HEADROOM = 2**62  # products below this, plus half a divisor, cannot overflow int64

LineKey = tuple[str, date]  # a line's component id (or period, block, season id) and its first day


def rate_batch(
    tariff: Tariff,
    *,
    period_start: date,
    period_end: date,
    time_zone: str,
    wh: np.ndarray,
    interval_minutes: int,
    chunk_meters: int = DEFAULT_CHUNK_METERS,
) -> BatchCharges:
    """Rate every meter's row of ``wh`` over local dates ``[period_start, period_end)`` in ``time_zone``.

    ``wh[meter, interval]`` is int64 Wh, one row per meter, its intervals of
    ``interval_minutes`` starting at the period's first local midnight and covering exactly
    the period. Each row is one meter (a per-meter fixed charge counts one). ``result[i]``
    equals ``rate(tariff=tariff, ..., consumption=<row i>)``."""
    zone = _zone(time_zone)
    _check_period(period_start, period_end)
    _check_whole("interval_minutes", interval_minutes)
    if MINUTES_PER_HOUR % interval_minutes:
        raise RatingError(f"interval_minutes: must divide an hour (5, 15, 30, 60...), got {interval_minutes}")
    _check_whole("chunk_meters", chunk_meters)
    _check_tariff(tariff)
    start_utc, end_utc = local_midnight_utc(period_start, zone), local_midnight_utc(period_end, zone)
    step = timedelta(minutes=interval_minutes)
    count = -(-(end_utc - start_utc) // step)  # the intervals starting in the period
    _check_matrix(wh, count, period_start, period_end, zone, interval_minutes)

    template = rate(
        tariff=tariff,
        period_start=period_start,
        period_end=period_end,
        time_zone=time_zone,
        consumption=IntervalConsumption(start_utc, interval_minutes, np.zeros(count, dtype=np.int64)),
    )
    plan = _plan(tariff, period_start, period_end, zone, start_utc, interval_minutes, count, template)
    meters, codes = wh.shape[0], len(template.taxes)
    quantities = np.empty((meters, len(plan.variable)), dtype=np.int64)
    amounts = np.empty((meters, len(template.lines)), dtype=np.int64)
    bases, taxes = np.empty((meters, codes), dtype=np.int64), np.empty((meters, codes), dtype=np.int64)
    for first in range(0, meters, chunk_meters):
        chunk = slice(first, min(meters, first + chunk_meters))
        quantities[chunk] = plan.quantities(wh[chunk], first)
        amounts[chunk], bases[chunk], taxes[chunk] = _priced(template, plan, quantities[chunk])
    return BatchCharges(template, plan.variable, plan.demand_columns, quantities, amounts, bases, taxes)


# -- the result -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BatchCharges(Sequence[RatedCharges]):
    """The rated charges of many meters over one period, as integer columns.

    ``self[i]`` builds meter i's RatedCharges (equal to rate()'s). The columns serve a caller
    that needs only totals: ``amounts[meter, line]`` and the totals are in the currency's minor
    units (cents), ``quantities[meter, k]`` in thousandths of the unit of line ``variable[k]``."""

    template: RatedCharges  # rate() for a meter that used nothing: the lines every meter gets
    variable: tuple[int, ...]  # indices of the lines whose quantity depends on usage
    demand_columns: tuple[int, ...]  # per reading of template.demand, its column in quantities
    quantities: np.ndarray  # [meters, len(variable)] int64 thousandths (Wh, W)
    amounts: np.ndarray  # [meters, lines] int64 minor units
    tax_bases: np.ndarray  # [meters, tax codes] int64 minor units, in template.taxes order
    taxes: np.ndarray  # [meters, tax codes] int64 minor units
    subtotals: np.ndarray = field(init=False)  # [meters] minor units, before tax
    tax_totals: np.ndarray = field(init=False)
    totals: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        subtotals = self.amounts.sum(axis=1)
        tax_totals = self.taxes.sum(axis=1)
        for name, column in (("subtotals", subtotals), ("tax_totals", tax_totals), ("totals", subtotals + tax_totals)):
            object.__setattr__(self, name, column)
        for array in (self.quantities, self.amounts, self.tax_bases, self.taxes, self.subtotals, self.tax_totals):
            array.setflags(write=False)
        self.totals.setflags(write=False)

    def __len__(self) -> int:
        return len(self.amounts)

    @overload
    def __getitem__(self, index: int) -> RatedCharges: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[RatedCharges]: ...
    def __getitem__(self, index: int | slice) -> RatedCharges | Sequence[RatedCharges]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        position = operator.index(index)
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(f"meter {index} of a batch of {len(self)}")
        return self._charges(position)

    def _charges(self, meter: int) -> RatedCharges:
        template, currency = self.template, self.template.subtotal.currency
        minor = MINOR_UNITS[currency]

        def money(value: int) -> Money:
            return Money(Decimal(value).scaleb(-minor), currency)

        quantities, amounts = self.quantities[meter].tolist(), self.amounts[meter].tolist()
        lines = list(template.lines)
        for column, index in enumerate(self.variable):
            line = lines[index]
            lines[index] = ChargeLine(
                line.description,
                line.component_id,
                line.tariff_id,
                line.tariff_version,
                line.period_start,
                line.period_end,
                _thousandths(quantities[column]),
                line.unit,
                line.rate,
                money(amounts[index]),
                line.tax_code,
                line.tax_rate,
            )
        bases, taxes = self.tax_bases[meter].tolist(), self.taxes[meter].tolist()
        tax_lines = tuple(
            TaxLine(tax.tax_code, tax.tax_rate, money(base), money(amount))
            for tax, base, amount in zip(template.taxes, bases, taxes, strict=True)
        )
        demand = tuple(
            DemandReading(
                reading.tariff_id, reading.component_id, reading.month, _thousandths(quantities[column]), reading.unit
            )
            for reading, column in zip(template.demand, self.demand_columns, strict=True)
        )
        subtotal, tax_total = money(int(self.subtotals[meter])), money(int(self.tax_totals[meter]))
        # RatedCharges checks again, in Decimal, that the lines and taxes add up to the totals.
        return RatedCharges(tuple(lines), tax_lines, subtotal, tax_total, subtotal + tax_total, (), demand)


def _thousandths(value: int) -> Decimal:
    return Decimal(value).scaleb(-_MILLI)  # as pricing.kwh(): an exponent shift, exact


# -- integer money ----------------------------------------------------------------------------------


def _priced(template: RatedCharges, plan: _Plan, quantities: np.ndarray) -> tuple[np.ndarray, ...]:
    """Amounts [meters, lines], tax bases and taxes [meters, codes] of a chunk, in minor units."""
    minor = MINOR_UNITS[template.subtotal.currency]
    amounts = np.empty((len(quantities), len(template.lines)), dtype=np.int64)
    for index, line in enumerate(template.lines):
        amounts[:, index] = line.amount.minor
    for column, index in enumerate(plan.variable):
        amounts[:, index] = _price(quantities[:, column], template.lines[index].rate, minor)
    bases = np.empty((len(quantities), len(template.taxes)), dtype=np.int64)
    taxes = np.empty_like(bases)
    for code, tax in enumerate(template.taxes):  # tax.py's rules, on integers
        carrying = [i for i, line in enumerate(template.lines) if line.tax_code == tax.tax_code]
        bases[:, code] = amounts[:, carrying].sum(axis=1)
        if plan.tax_rounding is TaxRounding.PER_LINE:
            taxes[:, code] = _tax(amounts[:, carrying], tax.tax_rate).sum(axis=1)
        else:
            taxes[:, code] = _tax(bases[:, code], tax.tax_rate)
    return amounts, bases, taxes


def _price(thousandths: np.ndarray, rate: Decimal, minor: int) -> np.ndarray:
    """quantity x rate in minor units, rounded once, half-up: what Money(q x rate).rounded() gives."""
    digits, exponent = _integer_and_exponent(rate)
    return _round_scaled(thousandths, digits, exponent - _MILLI + minor)


def _tax(minor_units: np.ndarray, tax_rate: Decimal) -> np.ndarray:
    digits, exponent = _integer_and_exponent(tax_rate)
    return _round_scaled(minor_units, digits, exponent)


def _integer_and_exponent(value: Decimal) -> tuple[int, int]:
    """``value`` = integer x 10**exponent, exactly."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), f"not a finite number: {value}"
    integer = int("".join(map(str, digits)) or "0")
    return (-integer if sign else integer), exponent


def _round_scaled(values: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """``values x multiplier x 10**shift`` rounded half away from zero to integers (ROUND_HALF_UP), exactly."""
    largest = int(np.abs(values).max(initial=0)) * abs(multiplier)
    fits = largest * 10**shift < _INT64_HEADROOM if shift >= 0 else largest + 10**-shift < _INT64_HEADROOM
    if not fits:
        values = values.astype(object)  # Python integers: exact at any size, only slower
    product = values * multiplier
    if shift >= 0:
        rounded = product * 10**shift
    else:
        divisor = 10**-shift  # even, so divisor // 2 is exactly half
        rounded = np.sign(product) * ((np.abs(product) + divisor // 2) // divisor)
    try:
        return np.asarray(rounded, dtype=np.int64)
    except OverflowError:
        raise RatingError("an amount does not fit in 64-bit minor units: check the usage and rates") from None


# -- measuring usage --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _EnergyMeasure:
    component: _EnergyComponent
    labels: np.ndarray  # per interval, the column within the component (period, season; 0 for totals)
    width: int
    offset: int  # the component's first column in the label matrix


@dataclass(frozen=True)
class _DemandMeasure:
    key: LineKey
    runs: np.ndarray  # indices of the peak runs inside the month (and the window)


@dataclass(frozen=True)
class _Plan:
    """How to measure a chunk of meters: which runs to sum and to take the maxima of, and how
    the sums and maxima become the quantities of the usage lines."""

    start: date
    end: date
    count: int
    per_hour: int
    sum_starts: np.ndarray  # first interval of each run of constant labels
    label_matrix: np.ndarray  # [runs, columns] int64 0/1: the energy columns each run adds to
    energy: tuple[_EnergyMeasure, ...]
    peak_starts: np.ndarray  # first interval of each run of one month and window state
    demand: tuple[_DemandMeasure, ...]
    variable: tuple[int, ...]  # template line indices priced from usage, in column order
    keys: tuple[LineKey, ...]  # their keys, same order
    demand_columns: tuple[int, ...]
    tax_rounding: TaxRounding

    def quantities(self, wh: np.ndarray, first_meter: int) -> np.ndarray:
        """[meters, len(variable)] int64 thousandths for one chunk of meters."""
        _check_not_negative(wh, first_meter)
        peaks = np.maximum.reduceat(wh, self.peak_starts, axis=1)  # the runs cover every interval
        largest = int(peaks.max(initial=0))
        if largest * self.count >= 2**63:
            raise RatingError(f"wh: {largest} Wh in one interval is too large to be summed over {self.count} intervals")
        measured: dict[LineKey, np.ndarray] = {}
        if self.energy:
            energy = np.add.reduceat(wh, self.sum_starts, axis=1) @ self.label_matrix
            for measure in self.energy:
                columns = energy[:, measure.offset : measure.offset + measure.width]
                if isinstance(measure.component, TieredTimeOfUse):
                    measured.update(self._tiers(measure, columns, wh))
                else:
                    measured.update(self._energy(measure.component, columns))
        for demand in self.demand:
            if demand.runs.size == 0:
                peak = np.zeros(len(wh), dtype=np.int64)
            elif demand.runs.size == 1:
                peak = peaks[:, demand.runs[0]]
            else:
                peak = peaks[:, demand.runs].max(axis=1)
            measured[demand.key] = peak * self.per_hour  # W of kW: Wh x intervals an hour
        if not self.keys:  # a tariff of fixed charges only
            return np.zeros((len(wh), 0), dtype=np.int64)
        return np.stack([measured[key] for key in self.keys], axis=1).astype(np.int64, copy=False)

    def _energy(self, component: _EnergyComponent, columns: np.ndarray) -> dict[LineKey, np.ndarray]:
        start = self.start
        if isinstance(component, FlatEnergy):
            return {(component.id, start): columns[:, 0]}
        if isinstance(component, TimeOfUse):
            return {(period.id, start): columns[:, i] for i, period in enumerate(component.periods)}
        if isinstance(component, SeasonalEnergy):
            return {(season.id, start): columns[:, i] for i, season in enumerate(component.seasons)}
        return self._blocks(component, columns[:, 0])

    def _thresholds(self, thresholds_wh: tuple[int, ...], per: str) -> list[int]:
        """pricing._part_thresholds for one part covering the whole bill."""
        days = (self.end - self.start).days
        if per == "day":
            return [threshold * days for threshold in thresholds_wh]
        return [share_by_days(t, self.start, days, self.start, self.end) for t in thresholds_wh]

    def _tiers(self, measure: _EnergyMeasure, periods: np.ndarray, wh: np.ndarray) -> dict[LineKey, np.ndarray]:
        """tiers.py's split for every meter of the chunk: [meters, periods] Wh -> a column per (period, tier)."""
        component = measure.component
        assert isinstance(component, TieredTimeOfUse)
        thresholds = self._thresholds(component.thresholds_wh(), component.thresholds_per)
        if component.allocation == "chronological":
            below = self._chronological_below(measure, wh, thresholds)
        else:
            below = [_proportional_below(periods, threshold) for threshold in thresholds]
        below.append(periods)  # the last tier is open-ended: all of each period's energy is below it
        parts: dict[LineKey, np.ndarray] = {}
        for p, period in enumerate(component.periods):
            previous = np.zeros(len(periods), dtype=np.int64)
            for t, tier in enumerate(component.tiers):
                parts[(component.line_id(period, tier), self.start)] = below[t][:, p] - previous
                previous = below[t][:, p]
        return parts

    def _chronological_below(self, measure: _EnergyMeasure, wh: np.ndarray, thresholds: list[int]) -> list[np.ndarray]:
        """Per threshold, [meters, periods] Wh of each period below it on each meter's running total."""
        labels = self.label_matrix[:, measure.offset : measure.offset + measure.width]
        below = [np.empty((len(wh), measure.width), dtype=np.int64) for _ in thresholds]
        for first in range(0, len(wh), _RUNNING_TOTAL_METERS):
            rows = wh[first : first + _RUNNING_TOTAL_METERS]
            after = np.cumsum(rows, axis=1, dtype=np.int64)
            before = after - rows
            for index, threshold in enumerate(thresholds):
                inside = np.minimum(after, threshold) - np.minimum(before, threshold)
                below[index][first : first + len(rows)] = np.add.reduceat(inside, self.sum_starts, axis=1) @ labels
        return below

    def _blocks(self, component: BlockEnergy, total: np.ndarray) -> dict[LineKey, np.ndarray]:
        """pricing._block_energy's thresholds and proration.split_blocks, a column at a time."""
        thresholds = self._thresholds(component.thresholds_wh(), component.thresholds_per)
        parts: dict[LineKey, np.ndarray] = {}
        lower = 0
        for block, upper in zip(component.blocks, [*thresholds, None], strict=True):
            key = (block.id, self.start)
            if upper is None:
                parts[key] = np.maximum(total - lower, 0)
            else:
                parts[key] = np.maximum(np.minimum(total, upper) - lower, 0)
                lower = max(lower, upper)
        return parts


def _proportional_below(periods: np.ndarray, threshold: int) -> np.ndarray:
    """tiers.proportional_tiers' floor(e x min(E, T) / E) for every meter, exactly (Python integers if int64 cannot)."""
    total = periods.sum(axis=1, keepdims=True)
    reached = np.minimum(total, threshold)
    if int(periods.max(initial=0)) * int(reached.max(initial=0)) >= _INT64_HEADROOM:
        periods, reached, total = periods.astype(object), reached.astype(object), total.astype(object)
    share = periods * reached // np.maximum(total, 1)  # a meter with no energy has none below any threshold
    return np.asarray(share, dtype=np.int64)


def _plan(
    tariff: Tariff,
    start: date,
    end: date,
    zone: ZoneInfo,
    start_utc: datetime,
    minutes: int,
    count: int,
    template: RatedCharges,
) -> _Plan:
    # The calendars are the engine's own (cached): tariff hours in the tariff's zone, months in the service point's.
    tariff_zone = ZoneInfo(tariff.time_zone) if tariff.time_zone else zone
    slots = local_calendar(start_utc, minutes, count, tariff_zone).slots(tariff.holiday_region)
    month_runs = local_calendar(start_utc, minutes, count, zone).month_runs()

    energy: list[_EnergyMeasure] = []
    offset = 0
    for component in tariff.components:
        if isinstance(component, FlatEnergy | BlockEnergy):
            labels, width = np.zeros(count, dtype=np.int64), 1
        elif isinstance(component, TimeOfUse | TieredTimeOfUse):
            labels, width = component.table.ravel()[slots].astype(np.int64), len(component.periods)
        elif isinstance(component, SeasonalEnergy):
            labels, width = component.season_of_month[slots // _SLOTS_PER_MONTH], len(component.seasons)
        else:
            continue
        energy.append(_EnergyMeasure(component, labels, width, offset))
        offset += width
    sum_starts = _run_starts([measure.labels for measure in energy], [], count)
    label_matrix = np.zeros((len(sum_starts), offset), dtype=np.int64)
    for measure in energy:
        label_matrix[np.arange(len(sum_starts)), measure.offset + measure.labels[sum_starts]] = 1

    demand_charges = [c for c in tariff.components if isinstance(c, DemandCharge)]
    windows = {c.id: c.window.mask.ravel()[slots] for c in demand_charges if c.window is not None}
    peak_starts = _run_starts(list(windows.values()), [first for _, first, _ in month_runs], count)
    runs_of_month = {month: (first, stop) for month, first, stop in month_runs}
    demand = []
    for component in demand_charges:
        for month_start, _ in month_parts(start, end):
            first, stop = runs_of_month.get(month_start.replace(day=1), (0, 0))
            inside = (peak_starts >= first) & (peak_starts < stop)
            if component.id in windows:
                inside &= windows[component.id][peak_starts]
            demand.append(_DemandMeasure((component.id, month_start), np.flatnonzero(inside)))

    measured = [key for m in energy for key in _energy_keys(m.component, start)] + [d.key for d in demand]
    variable, keys = _layout(tariff, template, set(measured))
    demand_columns = tuple(keys.index(d.key) for d in demand)
    _check_demand_readings(template, demand)
    return _Plan(
        start,
        end,
        count,
        MINUTES_PER_HOUR // minutes,
        sum_starts,
        label_matrix,
        tuple(energy),
        peak_starts,
        tuple(demand),
        variable,
        keys,
        demand_columns,
        tariff.tax_rounding,
    )


def _run_starts(label_rows: list[np.ndarray], also: list[int], count: int) -> np.ndarray:
    """The first interval of each run in which no row of labels changes, also cut at ``also``."""
    change = np.zeros(count, dtype=bool)
    change[0] = True
    for labels in label_rows:
        change[1:] |= labels[1:] != labels[:-1]
    change[[i for i in also if i < count]] = True
    return np.flatnonzero(change)


def _energy_keys(component: _EnergyComponent, start: date) -> list[LineKey]:
    if isinstance(component, TieredTimeOfUse):
        return [(component.line_id(p, t), start) for p in component.periods for t in component.tiers]
    if isinstance(component, TimeOfUse):
        return [(period.id, start) for period in component.periods]
    if isinstance(component, SeasonalEnergy):
        return [(season.id, start) for season in component.seasons]
    if isinstance(component, BlockEnergy):
        return [(block.id, start) for block in component.blocks]
    return [(component.id, start)]


def _layout(
    tariff: Tariff, template: RatedCharges, measured: set[LineKey]
) -> tuple[tuple[int, ...], tuple[LineKey, ...]]:
    """Which of the template's lines are priced from usage; every other line must be a fixed one."""
    constant_ids = {c.id for c in tariff.components if isinstance(c, _CONSTANT_COMPONENTS)}
    variable, keys = [], []
    for index, line in enumerate(template.lines):
        key = (line.component_id, line.period_start)
        if key in measured:
            variable.append(index)
            keys.append(key)
        elif line.component_id not in constant_ids:
            # rate() gave a line the batch cannot price from usage: a component the batch does not know.
            raise RatingError(
                f"rate_batch: line {line.component_id!r} ({line.description}) cannot be priced in a batch"
            )
    return tuple(variable), tuple(keys)


def _check_demand_readings(template: RatedCharges, demand: list[_DemandMeasure]) -> None:
    # rate() reports one reading per demand line, in the same order: the batch fills in its measured value.
    expected = [(d.key[0], d.key[1].replace(day=1)) for d in demand]
    got = [(reading.component_id, reading.month) for reading in template.demand]
    if got != expected:
        raise RatingError(f"rate_batch: demand readings {got} do not match the demand lines {expected}")


# -- checking the inputs ------------------------------------------------------------------------------


def _check_tariff(tariff: Tariff) -> None:
    if not isinstance(tariff, Tariff):
        raise TypeError(
            f"tariff: rate_batch takes one Tariff version, got {type(tariff).__name__}; "
            "a price change inside the period needs rate()"
        )
    if tariff.network_tariff_id is not None:
        raise RatingError(
            f"tariff {tariff.id}: passes through network tariff {tariff.network_tariff_id}, "
            "which rate_batch does not price: use rate()"
        )
    for index, component in enumerate(tariff.components):
        problem = _unsupported(component)
        if problem:
            raise RatingError(
                f"tariff {tariff.id} components[{index}] {component.id!r} ({component.kind}): {problem}; use rate()"
            )


def _unsupported(component: Component) -> str | None:
    if not isinstance(component, BATCH_COMPONENTS):
        return "rate_batch does not price this kind of component"
    register = getattr(component, "register", GENERAL)
    if register != GENERAL:
        return f"prices register {register}; rate_batch prices only the general register {GENERAL}"
    if isinstance(component, DemandCharge):
        if component.unit != "kW":
            return f"is measured in {component.unit}; rate_batch measures demand only in kW"
        if component.ratchet is not None:
            return "has a ratchet, which needs each meter's demand history"
    return None


def _check_matrix(wh: object, count: int, start: date, end: date, zone: ZoneInfo, minutes: int) -> None:
    if not isinstance(wh, np.ndarray):
        raise TypeError(f"wh: expected a numpy array [meters, intervals] of int64 Wh, got {type(wh).__name__}")
    if wh.dtype != np.int64:
        raise TypeError(f"wh: must hold int64 Wh, got dtype {wh.dtype}")
    if wh.ndim != 2:
        raise RatingError(f"wh: must be two-dimensional [meters, intervals], got shape {wh.shape}")
    if wh.shape[1] != count:
        raise RatingError(
            f"wh: {wh.shape[1]} intervals a meter, but {start}..{end} in {zone.key} has {count} intervals "
            f"of {minutes} minutes, starting at local midnight of {start}"
        )


def _check_not_negative(wh: np.ndarray, first_meter: int) -> None:
    if wh.size and int(wh.min()) < 0:
        rows, columns = np.nonzero(wh < 0)
        raise RatingError(
            f"wh[{first_meter + int(rows[0])}, {int(columns[0])}]: energy cannot be negative, got "
            f"{int(wh[rows[0], columns[0]])} (meter row {first_meter + int(rows[0])}, interval {int(columns[0])}; "
            f"{len(np.unique(rows))} meters of rows {first_meter}..{first_meter + len(wh) - 1} have negative Wh)"
        )


def _check_period(start: date, end: date) -> None:
    for name, value in (("period_start", start), ("period_end", end)):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(f"{name}: must be a local date, got {type(value).__name__} {value!r}")
    if end <= start:
        raise RatingError(f"period_end: {end} must be after period_start {start}")


def _check_whole(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RatingError(f"{name}: must be a whole number of at least 1, got {value!r}")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise RatingError(f"time_zone: unknown IANA time zone {name!r}") from None
