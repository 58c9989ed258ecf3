"""Consumption history: storing accepted readings and reading them back per period.

Readings live in the ``readings`` container, partitioned by service point, with ids made
from what the reading *is* (channel and day, or meter, register and read time), so storing
the same reading again is an upsert of the same document: an import or a mobile batch
retried after a crash stores once. A later NEM12 version of a day (newer UpdateDateTime)
replaces the earlier one, which is kept in the document's history; an older one is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from shared.platform.documents import ConcurrencyConflict, Container, DocumentAlreadyExists
from shared.readings.model import IntervalDay, RegisterRead

NEM_MARKET_TIME = timedelta(hours=10)  # AEST, no daylight saving


def interval_day_id(suffix: str, day: date) -> str:
    return f"interval:{suffix}:{day.isoformat()}"


def register_read_id(meter_serial: str, register_id: str, read_at: datetime) -> str:
    stamp = read_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"register:{meter_serial}:{register_id}:{stamp}"


def store_interval_day(readings: Container, service_point_id: str, day: IntervalDay, *, source: str) -> str:
    """Store one channel-day; returns "stored", "replaced", "unchanged" or "kept-newer"."""
    doc: dict[str, Any] = {
        "id": interval_day_id(day.suffix, day.day),
        "servicePointId": service_point_id,
        "kind": "interval",
        "suffix": day.suffix,
        "day": day.day.isoformat(),
        "startUtc": day.start_utc.isoformat(),
        "intervalMinutes": day.interval_minutes,
        # "valuesWh" holds integers in valueUnit: Wh for active energy (the only unit billed
        # as kWh), VArh/VAh for reactive/apparent energy, milli-units for demand channels.
        "valueUnit": day.value_unit,
        "valuesWh": [int(v) for v in day.values_wh],
        "quality": "".join(str(q) for q in day.quality),
        "updateDateTime": day.update_datetime.isoformat() if day.update_datetime else None,
        "meterSerial": day.meter_serial,
        "source": source,
    }
    for _ in range(5):
        current = readings.find(doc["id"], service_point_id)
        if current is None:
            try:
                readings.create(doc)
                return "stored"
            except DocumentAlreadyExists:
                continue
        if current.get("updateDateTime") == doc["updateDateTime"]:
            return "unchanged"
        if _is_newer(current.get("updateDateTime"), doc["updateDateTime"]):
            return "kept-newer"
        # Keep the superseded version beside it: the meter-data team asks why a bill changed.
        history = [*current.get("history", []), {k: current[k] for k in ("valuesWh", "quality", "updateDateTime")}]
        try:
            readings.replace({**doc, "history": history[-5:]}, etag=current["_etag"])
            return "replaced"
        except ConcurrencyConflict:
            continue
    raise ConcurrencyConflict("readings", doc["id"], service_point_id)


def _is_newer(stored: str | None, incoming: str | None) -> bool:
    """Is the stored version newer than the incoming one? A version without an update
    time is the oldest possible."""
    if stored is None:
        return False
    if incoming is None:
        return True
    return datetime.fromisoformat(stored) > datetime.fromisoformat(incoming)


def store_register_read(readings: Container, service_point_id: str, read: RegisterRead, *, source: str) -> None:
    readings.upsert(
        {
            "id": register_read_id(read.meter_serial, read.register_id, read.read_at),
            "servicePointId": service_point_id,
            "kind": "register",
            "meterSerial": read.meter_serial,
            "registerId": read.register_id,
            "value": str(read.value),
            "readAt": read.read_at.astimezone(UTC).isoformat(),
            "readType": read.read_type,
            "readerId": read.reader_id,
            "photoRef": read.photo_ref,
            "source": source,
        }
    )


@dataclass(frozen=True)
class IntervalSeries:
    start: datetime  # UTC, first interval's start
    interval_minutes: int
    wh: np.ndarray  # int64, consecutive intervals
    missing: int  # intervals of the period with no reading


def local_period_utc(start: date, end: date, time_zone: str) -> tuple[datetime, datetime]:
    """A local-date period's bounds in UTC, built from local midnights (DST-safe)."""
    tz = ZoneInfo(time_zone)
    return (
        datetime.combine(start, datetime.min.time(), tzinfo=tz).astimezone(UTC),
        datetime.combine(end, datetime.min.time(), tzinfo=tz).astimezone(UTC),
    )


def interval_series(
    readings: Container, service_point_id: str, *, suffix: str, start_utc: datetime, end_utc: datetime
) -> IntervalSeries | None:
    """The period's intervals, from the NEM market days that overlap it (a local day in
    Sydney straddles two market days half the year)."""
    first_day = (start_utc + NEM_MARKET_TIME).date()
    last_day = (end_utc + NEM_MARKET_TIME).date()
    docs = [
        d
        for d in readings.query({"kind": "interval", "suffix": suffix, "valueUnit": "Wh"}, partition=service_point_id)
        if first_day <= date.fromisoformat(d["day"]) <= last_day
    ]
    if not docs:
        return None
    minutes = docs[0]["intervalMinutes"]
    if any(d["intervalMinutes"] != minutes for d in docs):
        raise ValueError(f"{service_point_id}/{suffix}: mixed interval lengths in the period")
    step = timedelta(minutes=minutes)
    count = int((end_utc - start_utc) / step)
    wh = np.zeros(count, dtype=np.int64)
    have = np.zeros(count, dtype=bool)
    for d in docs:
        offset = int((datetime.fromisoformat(d["startUtc"]) - start_utc) / step)
        values = np.asarray(d["valuesWh"], dtype=np.int64)
        lo, hi = max(offset, 0), min(offset + len(values), count)
        if lo < hi:
            wh[lo:hi] = values[lo - offset : hi - offset]
            have[lo:hi] = True
    return IntervalSeries(start_utc, minutes, wh, int(count - have.sum()))


@dataclass(frozen=True)
class RegisterUsage:
    wh: int
    start_read: Decimal
    end_read: Decimal
    start_at: datetime
    end_at: datetime


def register_usage(
    readings: Container,
    service_point_id: str,
    *,
    meter_serial: str,
    register_id: str,
    start_utc: datetime,
    end_utc: datetime,
    tolerance: timedelta = timedelta(days=3),
) -> RegisterUsage | None:
    """Usage between the reads nearest the period's bounds (within ``tolerance``).

    First cut: kWh dials, multiplier 1, no rollover and no proration to the exact bounds;
    the meter-data issue adds dial rollover, multipliers and estimation.
    """
    reads = readings.query(
        {"kind": "register", "meterSerial": meter_serial, "registerId": register_id}, partition=service_point_id
    )

    def nearest(bound: datetime) -> dict[str, Any] | None:
        near = [r for r in reads if abs(datetime.fromisoformat(r["readAt"]) - bound) <= tolerance]
        return min(near, key=lambda r: abs(datetime.fromisoformat(r["readAt"]) - bound), default=None)

    first, last = nearest(start_utc), nearest(end_utc)
    if first is None or last is None or first["id"] == last["id"]:
        return None
    start_read, end_read = Decimal(first["value"]), Decimal(last["value"])
    if end_read < start_read:
        raise ValueError(
            f"{service_point_id}: register {meter_serial}/{register_id} went backwards "
            f"({start_read} -> {end_read}); rollover and meter exchange are not handled yet"
        )
    return RegisterUsage(
        wh=int((end_read - start_read) * 1000),
        start_read=start_read,
        end_read=end_read,
        start_at=datetime.fromisoformat(first["readAt"]),
        end_at=datetime.fromisoformat(last["readAt"]),
    )
