"""Pricing one part of a bill under one tariff version: each component's lines.

Measuring is numpy on integer Wh (sums by label, maxima by month); pricing is ``Decimal``
per line: quantity x rate exactly, rounded once, half-up, to the currency's minor unit.

Every component yields its lines even when their quantity is zero (a time of use bill
always shows its peak line), with two exceptions that would explain nothing: seasons and
seasonal periods whose months the part does not touch, and a minimum charge the bill
already meets. Minimum charges and discounts are priced from the part's other lines, after
them, but keep their place in the tariff's order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np

from shared.money import Money
from shared.rating.checks import MONTH_NAMES
from shared.rating.components import (
    DEMAND_UNITS,
    DEPENDENT_TYPES,
    USAGE_TYPES,
    BlockEnergy,
    Component,
    DailySupply,
    DemandCharge,
    Discount,
    ExportCredit,
    FixedCharge,
    FlatEnergy,
    MinimumCharge,
    SeasonalEnergy,
    TieredTimeOfUse,
    TimeOfUse,
    TouPeriod,
)
from shared.rating.consumption import MINUTES_PER_HOUR, RegisterConsumption
from shared.rating.lines import ChargeLine
from shared.rating.proration import (
    days_in_month,
    month_fraction,
    month_parts,
    round_half_up,
    share_by_days,
    split_blocks,
)
from shared.rating.results import DemandReading, PendingLine
from shared.rating.tariff import Tariff
from shared.rating.tax import multiply_exactly
from shared.rating.tiers import chronological_tiers, proportional_tiers
from shared.rating.time_of_use import TABLE_SHAPE, sum_by_label
from shared.rating.usage import PartUsage, RatingError

_SLOTS_PER_MONTH = TABLE_SHAPE[1] * TABLE_SHAPE[2]


@dataclass(frozen=True)
class Part:
    tariff: Tariff
    start: date
    end: date
    bill_start: date  # the whole bill's: per-bill thresholds and minimums are shared between parts by days
    bill_days: int
    usage: PartUsage
    meters: int
    prior_demand: Mapping[str, Sequence[Decimal]]

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def months(self) -> set[int]:
        return {a.month for a, _ in month_parts(self.start, self.end)}


@dataclass
class PricedPart:
    lines: list[ChargeLine] = field(default_factory=list)
    pending: list[PendingLine] = field(default_factory=list)
    demand: list[DemandReading] = field(default_factory=list)


def price_part(part: Part) -> PricedPart:
    by_component: dict[int, list[ChargeLine]] = {}
    demand: list[DemandReading] = []
    for index, component in enumerate(part.tariff.components):
        if isinstance(component, DemandCharge):
            by_component[index], readings = _demand(part, component)
            demand += readings
        elif not isinstance(component, DEPENDENT_TYPES):
            by_component[index] = _PRICERS[type(component)](part, component)
    usage = [
        line
        for index, component in enumerate(part.tariff.components)
        if isinstance(component, USAGE_TYPES)
        for line in by_component[index]
    ]
    pending: list[PendingLine] = []
    for index, component in enumerate(part.tariff.components):  # discounts before the minimum that may count them
        if isinstance(component, Discount):
            line = _discount(part, component, usage)
            if component.condition is None:
                by_component[index] = [line]
            else:
                pending.append(PendingLine(component.condition, line))
    for index, component in enumerate(part.tariff.components):
        if isinstance(component, MinimumCharge):
            others = usage if component.applies_to == "usage" else [x for lines in by_component.values() for x in lines]
            by_component[index] = _minimum(part, component, others)
    lines = [line for index in sorted(by_component) for line in by_component[index]]
    return PricedPart(lines, pending, demand)


# -- lines ------------------------------------------------------------------------------------------


def _line(
    part: Part,
    component: Component,
    priced_by: str,
    description: str,
    quantity: Decimal,
    unit: str,
    rate: Decimal,
    span: tuple[date, date] | None = None,
) -> ChargeLine:
    tariff = part.tariff
    start, end = span or (part.start, part.end)
    return ChargeLine(
        description=description,
        component_id=priced_by,
        tariff_id=tariff.id,
        tariff_version=tariff.version,
        period_start=start,
        period_end=end,
        quantity=quantity,
        unit=unit,
        rate=rate,
        amount=Money(multiply_exactly(quantity, rate), tariff.currency).rounded(),
        tax_code=component.tax_code,
        tax_rate=tariff.tax_rate(component.tax_code),
    )


def kwh(wh: int) -> Decimal:
    return Decimal(int(wh)).scaleb(-3)  # exact: a shift of the exponent, never a division


def _month_label(start: date, end: date) -> str:
    label = f"{MONTH_NAMES[start.month - 1]} {start.year}"
    days, whole = (end - start).days, days_in_month(start)
    return label if days == whole else f"{label}, {days} of {whole} days"


# -- fixed charges ------------------------------------------------------------------------------------


def _daily_supply(part: Part, component: DailySupply) -> list[ChargeLine]:
    return [_line(part, component, component.id, component.description, Decimal(part.days), "day", component.rate)]


def _fixed_charge(part: Part, component: FixedCharge) -> list[ChargeLine]:
    meters = part.meters if component.per_meter else 1
    if component.per == "day":
        quantity = Decimal(part.days * meters)
        return [_line(part, component, component.id, component.description, quantity, component.unit, component.rate)]
    return [
        _line(
            part,
            component,
            component.id,
            f"{component.description} ({_month_label(start, end)})",
            month_fraction(start, end) * meters,
            component.unit,
            component.rate,
            (start, end),
        )
        for start, end in month_parts(part.start, part.end)
    ]


# -- energy ---------------------------------------------------------------------------------------------


def _flat_energy(part: Part, component: FlatEnergy) -> list[ChargeLine]:
    quantity = kwh(part.usage.energy_wh(component.register, component.id))
    return [_line(part, component, component.id, component.description, quantity, "kWh", component.rate)]


def _part_thresholds(part: Part, thresholds_wh: tuple[int, ...], per: str) -> list[int]:
    """Thresholds for this part: per day x its days, or its share by days of the per-bill ones."""
    if per == "day":
        return [threshold * part.days for threshold in thresholds_wh]
    return [share_by_days(t, part.bill_start, part.bill_days, part.start, part.end) for t in thresholds_wh]


def _block_energy(part: Part, component: BlockEnergy) -> list[ChargeLine]:
    total = part.usage.energy_wh(component.register, component.id)
    thresholds = _part_thresholds(part, component.thresholds_wh(), component.thresholds_per)
    return [
        _line(part, component, block.id, block.description, kwh(wh), "kWh", block.rate)
        for block, wh in zip(component.blocks, split_blocks(total, thresholds), strict=True)
    ]


def _seasonal_energy(part: Part, component: SeasonalEnergy) -> list[ChargeLine]:
    channel = part.usage.channel(component.register, component.id)
    count = len(component.seasons)
    if isinstance(channel, RegisterConsumption):
        energy = [0] * count
        for start, end in month_parts(part.start, part.end):
            energy[int(component.season_of_month[start.month - 1])] += channel.wh_between(start, end)
    else:
        intervals = part.usage.intervals(component.register, component.id, "prices energy")
        part.usage.require_unit(intervals, "Wh", component.register, component.id)
        slots = part.usage.calendar(intervals, tariff_time=True).slots(part.tariff.holiday_region)
        labels = component.season_of_month[slots // _SLOTS_PER_MONTH]
        energy = [int(x) for x in sum_by_label(labels, intervals.wh, count)]
    months = part.months
    return [
        _line(part, component, season.id, season.description, kwh(wh), "kWh", season.rate)
        for season, wh in zip(component.seasons, energy, strict=True)
        if months & set(season.months)
    ]


def _tou_energy(part: Part, component: TimeOfUse | ExportCredit, periods: tuple[TouPeriod, ...]) -> list[int]:
    assert component.table is not None
    intervals = part.usage.intervals(component.register, component.id, "is time of use")
    part.usage.require_unit(intervals, "Wh", component.register, component.id)
    slots = part.usage.calendar(intervals, tariff_time=True).slots(part.tariff.holiday_region)
    labels = component.table.ravel()[slots]
    return [int(x) for x in sum_by_label(labels, intervals.wh, len(periods))]


def _shown(part: Part, period: TouPeriod) -> bool:
    return period.months is None or bool(part.months & set(period.months))


def _time_of_use(part: Part, component: TimeOfUse) -> list[ChargeLine]:
    energy = _tou_energy(part, component, component.periods)
    return [
        _line(part, component, period.id, period.description, kwh(wh), "kWh", period.rate)
        for period, wh in zip(component.periods, energy, strict=True)
        if _shown(part, period)
    ]


def _tiered_time_of_use(part: Part, component: TieredTimeOfUse) -> list[ChargeLine]:
    """One line per period and tier; the part's usage accumulates from its own first interval."""
    intervals = part.usage.intervals(component.register, component.id, "is time of use")
    part.usage.require_unit(intervals, "Wh", component.register, component.id)
    slots = part.usage.calendar(intervals, tariff_time=True).slots(part.tariff.holiday_region)
    labels = component.table.ravel()[slots]
    count = len(component.periods)
    thresholds = _part_thresholds(part, component.thresholds_wh(), component.thresholds_per)
    if component.allocation == "chronological":
        energy = chronological_tiers(intervals.wh, labels, count, thresholds)
    else:
        energy = proportional_tiers(sum_by_label(labels, intervals.wh, count).tolist(), thresholds)
    return [
        _line(
            part,
            component,
            component.line_id(period, tier),
            f"{period.description}, {tier.description}",
            kwh(int(energy[p, t])),
            "kWh",
            rate,
        )
        for p, period in enumerate(component.periods)
        if period.months is None or part.months & set(period.months)
        for t, (tier, rate) in enumerate(zip(component.tiers, period.rates, strict=True))
    ]


def _export_credit(part: Part, component: ExportCredit) -> list[ChargeLine]:
    """Credits are negative lines: the exported kWh at the negated rate."""
    if component.rate is not None:
        quantity = kwh(part.usage.energy_wh(component.register, component.id))
        return [_line(part, component, component.id, component.description, quantity, "kWh", -component.rate)]
    periods = component.periods or ()
    energy = _tou_energy(part, component, periods)
    return [
        _line(part, component, period.id, period.description, kwh(wh), "kWh", -period.rate)
        for period, wh in zip(periods, energy, strict=True)
        if _shown(part, period)
    ]


# -- demand -------------------------------------------------------------------------------------------


def _demand(part: Part, component: DemandCharge) -> tuple[list[ChargeLine], list[DemandReading]]:
    """The highest interval's demand in each calendar month of the part (inside the window, if any).

    kW = Wh in the interval x 60 / interval minutes / 1000, exact: minutes divide an hour."""
    intervals = part.usage.intervals(component.register, component.id, "is a demand charge")
    part.usage.require_unit(intervals, DEMAND_UNITS[component.unit], component.register, component.id)
    wh = intervals.wh
    if component.window is not None:
        slots = part.usage.calendar(intervals, tariff_time=True).slots(part.tariff.holiday_region)
        wh = np.where(component.window.mask.ravel()[slots], wh, 0)
    runs = {
        month: (first, stop) for month, first, stop in part.usage.calendar(intervals, tariff_time=False).month_runs()
    }
    per_hour = MINUTES_PER_HOUR // intervals.interval_minutes
    floor = _ratchet_floor(part, component)
    lines, readings = [], []
    for start, end in month_parts(part.start, part.end):
        first, stop = runs.get(start.replace(day=1), (0, 0))
        peak_wh = int(wh[first:stop].max()) if stop > first else 0
        measured = kwh(peak_wh * per_hour)
        billed = max(measured, floor) if floor is not None else measured
        fraction = month_fraction(start, end)
        notes = [_month_label(start, end)]
        if fraction != 1:
            notes.append(f"{component.rate} a {component.unit} a month x {fraction} month")
        if billed != measured:
            notes.append(f"ratchet: {billed} {component.unit} billed, {measured} measured")
        description = f"{component.description} ({'; '.join(notes)})"
        monthly = component.rate if fraction == 1 else multiply_exactly(component.rate, fraction)
        lines.append(_line(part, component, component.id, description, billed, component.unit, monthly, (start, end)))
        readings.append(DemandReading(part.tariff.id, component.id, start.replace(day=1), measured, component.unit))
    return lines, readings


def _ratchet_floor(part: Part, component: DemandCharge) -> Decimal | None:
    ratchet = component.ratchet
    if ratchet is None:
        return None
    if component.id not in part.prior_demand:
        raise RatingError(
            f"component {component.id!r} has a ratchet on the last {ratchet.months} months: pass their monthly "
            f"maxima in prior_demand[{component.id!r}] (an empty list for a new connection)"
        )
    history = list(part.prior_demand[component.id])[-ratchet.months :]
    return multiply_exactly(max(history), ratchet.fraction) if history else None


# -- adjustments --------------------------------------------------------------------------------------


def _discount(part: Part, component: Discount, usage: list[ChargeLine]) -> ChargeLine:
    base = sum((line.amount.amount for line in usage), Decimal(0))
    return _line(part, component, component.id, component.description, base, part.tariff.currency, -component.fraction)


def _minimum(part: Part, component: MinimumCharge, others: list[ChargeLine]) -> list[ChargeLine]:
    if component.per == "day":
        minimum = multiply_exactly(component.amount, Decimal(part.days))
    elif component.per == "month":
        months = sum(month_fraction(a, b) for a, b in month_parts(part.start, part.end))
        minimum = multiply_exactly(component.amount, months)
    else:
        share = Fraction(component.amount) * Fraction(part.days, part.bill_days)
        minimum = round_half_up(share, Money.zero(part.tariff.currency).exponent)
    minimum = Money(minimum, part.tariff.currency).rounded().amount
    charged = sum((line.amount.amount for line in others), Decimal(0))
    if charged >= minimum:
        return []
    description = f"{component.description} (minimum {minimum}, charges {charged})"
    return [_line(part, component, component.id, description, Decimal(1), "top-up", minimum - charged)]


_PRICERS = {
    DailySupply: _daily_supply,
    FixedCharge: _fixed_charge,
    FlatEnergy: _flat_energy,
    BlockEnergy: _block_energy,
    SeasonalEnergy: _seasonal_energy,
    TimeOfUse: _time_of_use,
    TieredTimeOfUse: _tiered_time_of_use,
    ExportCredit: _export_credit,
}
