"""The sample month's meter data: a NEM12 file for the interval meters and the register
reads a field officer's mobile app uploads for the basic meters. Deterministic, so the
main job's second run sends exactly the same data (and stores nothing new)."""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.demo.sample_utility import HOUSEHOLDS

NEM12_FILE_NAME = "NEM12#GLDEMO202611#GLMDP#GLRETAIL.csv"


def _half_hour_wh(nmi: str, day: date, index: int) -> int:
    """A household-shaped load: a morning bump, an evening peak, a small base load."""
    hour = index / 2
    seed = (sum(map(ord, nmi)) * 31 + day.toordinal() * 17 + index * 7) % 97
    base = 180 + seed
    morning = 420 * math.exp(-((hour - 7.5) ** 2) / 2)
    evening = 900 * math.exp(-((hour - 18.5) ** 2) / 3)
    weekend = 1.15 if day.weekday() >= 5 else 1.0
    return int((base + morning + evening) * weekend)


def nem12_text(*, first_day: date, last_day: date, created: datetime, nmis: Collection[str] | None = None) -> str:
    """A NEM12 file with one E1 channel per interval NMI (those in ``nmis`` only, when
    given: a long test generates only the meters it bills), 30-minute kWh intervals."""
    lines = [f"100,NEM12,{created:%Y%m%d%H%M},GLMDP,GLRETAIL"]
    for _acct, _name, _mail, _addr, nmi, _supply, _zone, kind, serial, _tariff in HOUSEHOLDS:
        if kind != "interval" or (nmis is not None and nmi not in nmis):
            continue
        lines.append(f"200,{nmi},E1,1,E1,N1,{serial},kWh,30,")
        day = first_day
        while day <= last_day:
            values = [f"{_half_hour_wh(nmi, day, i) / 1000:.3f}" for i in range(48)]
            stamp = f"{day + timedelta(days=1):%Y%m%d}020000"
            lines.append(f"300,{day:%Y%m%d},{','.join(values)},A,,,{stamp},{stamp}")
            day += timedelta(days=1)
    lines.append("900")
    return "\r\n".join(lines) + "\r\n"


def register_read_batch() -> list[dict[str, Any]]:
    """Opening and closing reads for the basic meters, read just after local midnight on the
    first day of each month (the field run is scheduled for the cycle's boundary)."""
    items: list[dict[str, Any]] = []
    for index, (_acct, _name, _mail, _addr, _nmi, _supply, zone, kind, serial, _tariff) in enumerate(HOUSEHOLDS):
        if kind != "register":
            continue
        opening = 10234 + index * 3517
        usage = 312 + index * 47  # kWh in the month
        for day, value, reader in (
            (date(2026, 10, 1), opening, "FO-117"),
            (date(2026, 11, 1), opening + usage, "FO-117"),
        ):
            read_at = datetime(day.year, day.month, day.day, 0, 5, tzinfo=ZoneInfo(zone))
            items.append(
                {
                    "meterSerial": serial,
                    "register": "E1",
                    "value": str(value),
                    "readAt": read_at.isoformat(),
                    "readType": "actual",
                    "readerId": reader,
                }
            )
    return items
