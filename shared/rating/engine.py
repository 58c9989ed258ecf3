"""Rating: one service point's consumption over one billing period, priced by one tariff version.

The period is half-open local dates ``[period_start, period_end)`` of the service point; its
bounds in UTC are the local midnights built from those dates, so a DST day is 23 or 25 hours
long and still one supply day. Rating sees only the period: an interval belongs to it when
its start lies in ``[first local midnight, last local midnight)``; intervals outside are
ignored, which is what lets a period be split at any day and rated in parts.
It does refuse consumption that does not reach across the whole period (a short series would
quietly under-bill); finding or estimating missing data is the caller's job.

Every component yields its lines even when their quantity is zero: a time of use bill always
shows its peak, shoulder and off-peak lines, so a customer sees "Peak energy 0 kWh" rather
than wondering where peak went, and bills of one tariff have the same shape month to month.

Money: quantity x rate is exact; each line is rounded once, half-up, to cents; the subtotal
is the sum of rounded lines; tax follows the tariff's rounding rule; total = subtotal + tax.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.money import Money, money_sum
from shared.rating.consumption import IntervalConsumption, RegisterConsumption
from shared.rating.lines import ChargeLine, TaxLine
from shared.rating.tariff import Component, DailySupply, FlatEnergy, Tariff, TimeOfUse
from shared.rating.tax import multiply_exactly, tax_lines
from shared.rating.time_of_use import wh_by_period


class RatingError(ValueError):
    """The inputs cannot be rated together (the tariff, the period and the consumption disagree)."""


@dataclass(frozen=True)
class RatedCharges:
    lines: tuple[ChargeLine, ...]
    taxes: tuple[TaxLine, ...]
    subtotal: Money
    tax_total: Money
    total: Money

    def __post_init__(self) -> None:
        # Also guards from_json: a stored result whose sums do not add up is refused, not re-billed.
        currency = self.subtotal.currency
        if self.subtotal != money_sum([line.amount for line in self.lines], currency):
            raise ValueError(f"subtotal {self.subtotal} is not the sum of the line amounts")
        if self.tax_total != money_sum([tax.tax for tax in self.taxes], currency):
            raise ValueError(f"tax total {self.tax_total} is not the sum of the tax lines")
        if self.total != self.subtotal + self.tax_total:
            raise ValueError(f"total {self.total} is not subtotal {self.subtotal} + tax {self.tax_total}")

    @classmethod
    def of(cls, lines: tuple[ChargeLine, ...], taxes: tuple[TaxLine, ...], currency: str) -> RatedCharges:
        subtotal = money_sum([line.amount for line in lines], currency)
        tax_total = money_sum([tax.tax for tax in taxes], currency)
        return cls(lines, taxes, subtotal, tax_total, subtotal + tax_total)

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": [line.to_json() for line in self.lines],
            "taxes": [tax.to_json() for tax in self.taxes],
            "subtotal": self.subtotal.to_json(),
            "taxTotal": self.tax_total.to_json(),
            "total": self.total.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RatedCharges:
        return cls(
            lines=tuple(ChargeLine.from_json(line) for line in data["lines"]),
            taxes=tuple(TaxLine.from_json(tax) for tax in data["taxes"]),
            subtotal=Money.from_json(data["subtotal"]),
            tax_total=Money.from_json(data["taxTotal"]),
            total=Money.from_json(data["total"]),
        )


@dataclass(frozen=True)
class _Period:
    """What every component needs to know about the period being rated."""

    tariff: Tariff
    start: date
    end: date
    energy_wh: int  # all the energy the period saw
    intervals: IntervalConsumption | None  # the period's intervals; None for a register meter
    tou_zone: ZoneInfo  # where the tariff's hours are read

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def rate(
    *,
    tariff: Tariff,
    period_start: date,
    period_end: date,
    time_zone: str,
    consumption: IntervalConsumption | RegisterConsumption,
) -> RatedCharges:
    """Price ``consumption`` over local dates ``[period_start, period_end)`` of a service point in ``time_zone``."""
    zone = _zone(time_zone, "time_zone")
    _check_period(period_start, period_end)
    if not tariff.covers(period_start, period_end):
        until = f"until {tariff.effective_to}" if tariff.effective_to else "with no end"
        raise RatingError(
            f"tariff {tariff.id} version {tariff.version} is effective from {tariff.effective_from} {until}; "
            f"it cannot price {period_start}..{period_end} (rating across tariff versions is not supported yet)"
        )
    period = _period(tariff, period_start, period_end, zone, consumption)
    lines = tuple(line for component in tariff.components for line in _lines(component, period))
    return RatedCharges.of(lines, tax_lines(lines, tariff.tax_rounding, tariff.currency), tariff.currency)


def _period(
    tariff: Tariff, start: date, end: date, zone: ZoneInfo, consumption: IntervalConsumption | RegisterConsumption
) -> _Period:
    tou_zone = _zone(tariff.time_zone, "tariff.timeZone") if tariff.time_zone else zone
    if isinstance(consumption, RegisterConsumption):
        if (consumption.from_date, consumption.to_date) != (start, end):
            raise RatingError(
                f"consumption: register usage covers {consumption.from_date}..{consumption.to_date} but the "
                f"period is {start}..{end} (prorating register usage is not supported yet)"
            )
        return _Period(tariff, start, end, consumption.wh, None, tou_zone)
    if not isinstance(consumption, IntervalConsumption):
        raise TypeError(f"consumption: expected IntervalConsumption or RegisterConsumption, got {consumption!r}")
    start_utc, end_utc = _local_midnight_utc(start, zone), _local_midnight_utc(end, zone)
    if consumption.start > start_utc or consumption.end < end_utc:
        raise RatingError(
            f"consumption: intervals cover {consumption.start.isoformat()}..{consumption.end.isoformat()} but the "
            f"period {start}..{end} in {zone.key} needs {start_utc.isoformat()}..{end_utc.isoformat()}"
        )
    intervals = consumption.starting_within(start_utc, end_utc)
    return _Period(tariff, start, end, int(intervals.wh.sum()), intervals, tou_zone)


def _lines(component: Component, period: _Period) -> list[ChargeLine]:
    match component:
        case DailySupply():
            quantity = Decimal(period.days)
            return [_line(period, component, component.id, component.description, quantity, component.rate)]
        case FlatEnergy():
            quantity = _kwh(period.energy_wh)
            return [_line(period, component, component.id, component.description, quantity, component.rate)]
        case TimeOfUse():
            if period.intervals is None:
                raise RatingError(
                    f"component {component.id!r} is time of use and needs interval consumption: "
                    "a register read does not say when the energy was used"
                )
            energy = wh_by_period(
                start_utc=period.intervals.start,
                step=period.intervals.step,
                wh=period.intervals.wh,
                zone=period.tou_zone,
                table=component.table,
                period_count=len(component.periods),
            )
            return [
                _line(period, component, tou.id, tou.description, _kwh(wh), tou.rate)
                for tou, wh in zip(component.periods, energy, strict=True)
            ]
    raise TypeError(f"no pricing for component {component!r}")


def _line(
    period: _Period, component: Component, priced_by: str, description: str, quantity: Decimal, rate: Decimal
) -> ChargeLine:
    tariff = period.tariff
    return ChargeLine(
        description=description,
        component_id=priced_by,
        tariff_id=tariff.id,
        tariff_version=tariff.version,
        period_start=period.start,
        period_end=period.end,
        quantity=quantity,
        unit=component.unit,
        rate=rate,
        amount=Money(multiply_exactly(quantity, rate), tariff.currency).rounded(),
        tax_code=component.tax_code,
        tax_rate=tariff.tax_rate(component.tax_code),
    )


def _kwh(wh: int) -> Decimal:
    return Decimal(wh).scaleb(-3)  # exact: a shift of the exponent, never a division


def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _check_period(start: date, end: date) -> None:
    for name, value in (("period_start", start), ("period_end", end)):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(f"{name}: must be a local date, got {type(value).__name__} {value!r}")
    if end <= start:
        raise RatingError(f"period_end: {end} must be after period_start {start}")


def _zone(name: str, field: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise RatingError(f"{field}: unknown IANA time zone {name!r}") from None
