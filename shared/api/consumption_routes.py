"""Consumption history over HTTP: a service point's energy per interval, local day or
local month, with the quality of what it is made of."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query

from shared.api.deps import PlatformDep
from shared.readings.history import Bucket, consumption_history
from shared.resources import METERS, READINGS, SERVICE_POINTS

router = APIRouter(prefix="/v1", tags=["consumption"])

MAX_DAYS = 400  # a year and a bit: this year against last year
MAX_INTERVAL_DAYS = 31  # 31 days of 5-minute intervals is 8,928 of them
_REGISTER = re.compile(r"^[A-Za-z0-9]{1,10}$")


def _invalid(field: str, message: str) -> HTTPException:
    return HTTPException(
        422,
        {
            "error": "validation_failed",
            "message": f"{field}: {message}",
            "errors": [{"field": field, "message": message}],
        },
    )


@router.get(
    "/service-points/{service_point_id}/consumption",
    summary="Consumption per interval, local day or local month",
    description=(
        "Energy over the local days [from, to) in the service point's own time zone (`to` is the first day "
        "not included). Each bucket gives `wh` (integer Wh) and `kwh` (a decimal string with 3 places), the "
        "count of intervals per quality letter (A actual, E estimated, S/F substituted, N null; for a register "
        "meter, the read spans by quality), and `missingIntervals`. A 23- or 25-hour day is one bucket; the "
        "buckets sum exactly to the total. `interval` granularity lists the stored intervals, at most "
        f"{MAX_INTERVAL_DAYS} days; other granularities at most {MAX_DAYS} days."
    ),
)
def get_consumption(
    service_point_id: str,
    platform: PlatformDep,
    start: Annotated[date, Query(alias="from", description="First local day, YYYY-MM-DD")],
    end: Annotated[date, Query(alias="to", description="First local day not included, YYYY-MM-DD")],
    granularity: Annotated[Literal["interval", "daily", "monthly"], Query()] = "daily",
    register: Annotated[str | None, Query(description="NMI suffix or register id; the meter's own by default")] = None,
) -> dict[str, Any]:
    if end <= start:
        raise _invalid("to", f"{end} is not after from ({start})")
    limit = MAX_INTERVAL_DAYS if granularity == "interval" else MAX_DAYS
    if (end - start).days > limit:
        raise _invalid("to", f"{(end - start).days} days asked; at most {limit} at {granularity} granularity")
    if register is not None and not _REGISTER.match(register):
        raise _invalid("register", "1-10 letters or digits")
    documents = platform.documents
    point = documents.container(SERVICE_POINTS.name).find(service_point_id, service_point_id)
    if point is None:
        raise HTTPException(404, {"error": "not_found", "message": f"no service point {service_point_id}"})
    if granularity == "interval" and point.get("meterKind") == "register":
        raise _invalid("granularity", "a register meter has no intervals: ask for daily or monthly")
    serial = point.get("meterSerial")
    meter = documents.container(METERS.name).find(serial, serial) if serial else None
    history = consumption_history(
        documents.container(READINGS.name),
        point,
        start=start,
        end=end,
        granularity=granularity,
        meter=meter,
        register_id=register,
    )
    zone = ZoneInfo(history.time_zone)
    return {
        "servicePointId": service_point_id,
        "timeZone": history.time_zone,
        "meterKind": history.meter_kind,
        "register": history.register_id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "granularity": granularity,
        "total": {
            "wh": history.wh,
            "kwh": _kwh(history.wh),
            "quality": history.quality,
            "missingIntervals": history.missing_intervals,
        },
        "buckets": [_bucket(b, zone) for b in history.buckets],
    }


def _bucket(bucket: Bucket, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "start": _local(bucket.start, zone),
        "end": _local(bucket.end, zone),
        "wh": bucket.wh,
        "kwh": _kwh(bucket.wh),
        "quality": bucket.quality,
        "missingIntervals": bucket.missing_intervals,
        "complete": bucket.complete,
    }


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat()


def _kwh(wh: int) -> str:
    return f"{(Decimal(wh) / 1000).quantize(Decimal('0.001'))}"
