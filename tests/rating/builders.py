"""Tariff documents and consumption series the rating tests share."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from shared.rating import IntervalConsumption

SYDNEY = "Australia/Sydney"
WARSAW = "Europe/Warsaw"

_TOU_DOCUMENT: dict[str, Any] = {
    "id": "res-tou-2026",
    "tariffId": "res-tou-2026",
    "version": "2026-01-01",
    "name": "Residential Time of Use",
    "currency": "AUD",
    "timeZone": None,
    "effectiveFrom": "2026-01-01",
    "effectiveTo": None,
    "components": [
        {
            "id": "supply",
            "kind": "daily_supply",
            "description": "Daily supply charge",
            "rate": "1.0500",
            "taxCode": "GST",
        },
        {
            "id": "tou",
            "kind": "time_of_use",
            "description": "Time of use energy",
            "periods": [
                {"id": "peak", "description": "Peak energy", "rate": "0.4950", "weekdays": [[15, 21]], "weekends": []},
                {
                    "id": "shoulder",
                    "description": "Shoulder energy",
                    "rate": "0.2970",
                    "weekdays": [[7, 15], [21, 22]],
                    "weekends": [[7, 22]],
                },
                {
                    "id": "offpeak",
                    "description": "Off-peak energy",
                    "rate": "0.1650",
                    "weekdays": [[0, 7], [22, 24]],
                    "weekends": [[0, 7], [22, 24]],
                },
            ],
            "taxCode": "GST",
        },
    ],
    "taxes": {"GST": "0.10"},
    "taxRounding": "per_line",
}

_FLAT_DOCUMENT: dict[str, Any] = {
    "id": "res-flat-2026",
    "tariffId": "res-flat-2026",
    "version": "2026-01-01",
    "name": "Residential Single Rate",
    "currency": "AUD",
    "timeZone": None,
    "effectiveFrom": "2026-01-01",
    "effectiveTo": None,
    "components": [
        {
            "id": "supply",
            "kind": "daily_supply",
            "description": "Daily supply charge",
            "rate": "1.0500",
            "taxCode": "GST",
        },
        {"id": "energy", "kind": "flat_energy", "description": "General usage", "rate": "0.3120", "taxCode": "GST"},
    ],
    "taxes": {"GST": "0.10"},
    "taxRounding": "per_line",
}


def tou_document(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(_TOU_DOCUMENT), **changes}


def flat_document(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(_FLAT_DOCUMENT), **changes}


def local_midnight_utc(day: date, time_zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(time_zone)).astimezone(UTC)


def intervals_for(
    start: date, end: date, time_zone: str, *, minutes: int = 30, wh: int | np.ndarray = 1
) -> IntervalConsumption:
    """Intervals exactly covering local dates [start, end); ``wh`` per interval (a constant or the array)."""
    first, last = local_midnight_utc(start, time_zone), local_midnight_utc(end, time_zone)
    count = -(-(last - first) // timedelta(minutes=minutes))
    values = np.full(count, wh, dtype=np.int64) if isinstance(wh, int) else wh
    return IntervalConsumption(start=first, interval_minutes=minutes, wh=values)
