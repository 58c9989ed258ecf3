"""Small tariffs of one or two components, and consumption shapes, for the component tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np

from shared.rating import IntervalConsumption, RatedCharges, Tariff, rate
from tests.rating.builders import intervals_for

SYDNEY, WARSAW, OSLO = "Australia/Sydney", "Europe/Warsaw", "Europe/Oslo"
ALL_DAY = [[0, 24]]


def document(*components: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """An AUD tariff with 10 % GST rounded per line, effective all of 2026 onwards."""
    return {
        "id": "test-tariff",
        "version": "v1",
        "name": "Test tariff",
        "currency": "AUD",
        "effectiveFrom": "2026-01-01",
        "components": list(components),
        "taxes": {"GST": "0.10"},
        "taxRounding": "per_line",
    } | changes


def tariff(*components: dict[str, Any], **changes: Any) -> Tariff:
    return Tariff.from_document(document(*components, **changes))


def supply(rate: str = "1.00", **more: Any) -> dict[str, Any]:
    return {"id": "supply", "kind": "daily_supply", "description": "Supply", "rate": rate, "taxCode": "GST"} | more


def flat(rate: str = "0.30", **more: Any) -> dict[str, Any]:
    return {"id": "energy", "kind": "flat_energy", "description": "Energy", "rate": rate, "taxCode": "GST"} | more


def period(id: str, rate: str, weekdays: list, weekends: list, **more: Any) -> dict[str, Any]:
    return {"id": id, "description": id.capitalize(), "rate": rate, "weekdays": weekdays, "weekends": weekends} | more


def peak_offpeak(peak: str = "0.50", offpeak: str = "0.20", **more: Any) -> dict[str, Any]:
    """Peak weekdays 15:00-21:00; off-peak every other hour (weekends and holidays all day)."""
    return {
        "id": "tou",
        "kind": "time_of_use",
        "taxCode": "GST",
        "periods": [
            period("peak", peak, [[15, 21]], []),
            period("offpeak", offpeak, [[0, 15], [21, 24]], ALL_DAY),
        ],
    } | more


def days(start: date, end: date) -> int:
    return (end - start).days


def hourly(start: date, end: date, zone: str, wh_by_hour: dict[int, int], *, minutes: int = 30) -> IntervalConsumption:
    """Every local day of [start, end): ``wh`` in each interval starting in the given local hours, else 0.

    Built by reading each interval's local hour the slow obvious way, independent of the engine."""
    from zoneinfo import ZoneInfo

    from tests.rating.builders import local_midnight_utc

    first, last = local_midnight_utc(start, zone), local_midnight_utc(end, zone)
    step = timedelta(minutes=minutes)
    count = (last - first) // step
    values = np.array([wh_by_hour.get((first + i * step).astimezone(ZoneInfo(zone)).hour, 0) for i in range(count)])
    return IntervalConsumption(first, minutes, values.astype(np.int64))


def constant(start: date, end: date, zone: str, wh: int, *, minutes: int = 30, unit: str = "Wh") -> IntervalConsumption:
    series = intervals_for(start, end, zone, minutes=minutes, wh=wh)
    return IntervalConsumption(series.start, minutes, series.wh, unit)


def rated(tariff_: Tariff | list[Tariff], start: date, end: date, consumption: Any, **more: Any) -> RatedCharges:
    return rate(
        tariff=tariff_,
        period_start=start,
        period_end=end,
        time_zone=more.pop("zone", SYDNEY),
        consumption=consumption,
        **more,
    )


def table(charges: RatedCharges) -> list[tuple[str, str, str, str, str]]:
    """Each line as (component, quantity, unit, rate, amount) strings."""
    return [(x.component_id, str(x.quantity), x.unit, str(x.rate), str(x.amount.amount)) for x in charges.lines]
