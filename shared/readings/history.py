"""Consumption history: storing accepted readings and reading them back per period.

Readings live in the ``readings`` container, partitioned by service point, with ids made
from what the reading *is* (channel and day, or meter, register and read time), so storing
the same reading again is an upsert of the same document: an import or a mobile batch
retried after a crash stores once. A later NEM12 version of a day (newer UpdateDateTime)
replaces the earlier one, which is kept in the document's bounded ``history``; an older one
is ignored. An estimate (VEE's, or a provider's quality E) replaced by an actual, or a day
whose values change, leaves a ``rebill-needed`` document beside it, written in the same
transactional batch, for billing to act on. Register reads keep the same rules, and an
actual read supersedes the estimated reads near it.

The second half reads consumption back: ``interval_series`` and ``register_usage`` for
billing, ``consumption_history`` per interval, local day or local month for the API.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np

from shared.platform.documents import (
    BatchFailed,
    BatchOperation,
    ConcurrencyConflict,
    Container,
    DocumentAlreadyExists,
    DocumentNotFound,
)
from shared.readings.model import NEM_TIME, IntervalDay, RegisterRead
from shared.readings.validation import register_advance

NEM_MARKET_TIME = timedelta(hours=10)  # AEST, no daylight saving


def interval_day_id(suffix: str, day: date) -> str:
    return f"interval:{suffix}:{day.isoformat()}"


def register_read_id(meter_serial: str, register_id: str, read_at: datetime) -> str:
    stamp = read_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"register:{meter_serial}:{register_id}:{stamp}"


def interval_document(
    service_point_id: str,
    *,
    suffix: str,
    day: date,
    interval_minutes: int,
    value_unit: str,
    values: Iterable[int],
    quality: str,
    update_datetime: datetime | None,
    meter_serial: str,
    source: str,
) -> dict[str, Any]:
    """The stored form of one channel-day, whoever made it (an import or an estimate)."""
    return {
        "id": interval_day_id(suffix, day),
        "servicePointId": service_point_id,
        "kind": "interval",
        "suffix": suffix,
        "day": day.isoformat(),
        "startUtc": datetime.combine(day, time.min, tzinfo=NEM_TIME).astimezone(UTC).isoformat(),
        "intervalMinutes": interval_minutes,
        # "valuesWh" holds integers in valueUnit: Wh for active energy (the only unit billed
        # as kWh), VArh/VAh for reactive/apparent energy, milli-units for demand channels.
        "valueUnit": value_unit,
        "valuesWh": [int(v) for v in values],
        "quality": quality,
        "updateDateTime": update_datetime.isoformat() if update_datetime else None,
        "meterSerial": meter_serial,
        "source": source,
    }


def store_interval_day(readings: Container, service_point_id: str, day: IntervalDay, *, source: str) -> str:
    """Store one channel-day; returns "stored", "replaced", "unchanged" or "kept-newer".

    A version never replaces a newer one. An estimate (``"estimate"`` on the stored
    document, written by VEE) gives way to any version from the meter-data provider newer
    than the one it edited; when an estimate or different values are replaced, a
    ``rebill-needed`` marker is written in the same transactional batch."""
    doc = interval_document(
        service_point_id,
        suffix=day.suffix,
        day=day.day,
        interval_minutes=day.interval_minutes,
        value_unit=day.value_unit,
        values=day.values_wh,
        quality="".join(str(q) for q in day.quality),
        update_datetime=day.update_datetime,
        meter_serial=day.meter_serial,
        source=source,
    )
    for _ in range(5):
        current = readings.find(doc["id"], service_point_id)
        if current is None:
            try:
                readings.create(doc)
                return "stored"
            except DocumentAlreadyExists:
                continue
        # An edited version counts as the provider's version it edited: re-sending that
        # version (or an older one) must not undo the edit.
        estimate = current.get("estimate")
        stored_version = estimate.get("editedUpdateDateTime") if estimate else current.get("updateDateTime")
        if estimate is None or stored_version is not None:
            if stored_version == doc["updateDateTime"]:
                return "unchanged"
            if _is_newer(stored_version, doc["updateDateTime"]):
                return "kept-newer"
        # Keep the superseded version beside it: the meter-data team asks why a bill changed.
        replacement = {**doc, "history": with_previous(current, ("valuesWh", "quality", "updateDateTime"))}
        marker = _day_rebill_marker(current, doc)
        try:
            if marker is None:
                readings.replace(replacement, etag=current["_etag"])
            else:
                readings.batch(
                    service_point_id,
                    [
                        BatchOperation("replace", replacement, etag=current["_etag"]),
                        BatchOperation("upsert", marker),
                    ],
                )
            return "replaced"
        except (ConcurrencyConflict, DocumentNotFound):
            continue
        except BatchFailed as failed:
            if isinstance(failed.cause, ConcurrencyConflict | DocumentNotFound):
                continue
            raise
    raise ConcurrencyConflict("readings", doc["id"], service_point_id)


HISTORY_LENGTH = 5  # superseded versions kept on a reading's document


def with_previous(current: dict[str, Any], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """The document's history with its current version added (oldest first, bounded)."""
    entry = {k: current.get(k) for k in (*fields, "source")}
    if current.get("estimate"):
        entry["estimate"] = current["estimate"]
    return [*current.get("history", []), entry][-HISTORY_LENGTH:]


def _is_newer(stored: str | None, incoming: str | None) -> bool:
    """Is the stored version newer than the incoming one? A version without an update
    time is the oldest possible."""
    if stored is None:
        return False
    if incoming is None:
        return True
    return datetime.fromisoformat(stored) > datetime.fromisoformat(incoming)


def _is_provisional(doc: dict[str, Any]) -> bool:
    """An estimate: ours (VEE) or the provider's forward estimate (quality E)."""
    return bool(doc.get("estimate")) or "E" in doc.get("quality", "")


def _day_rebill_marker(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any] | None:
    """Whether replacing ``current`` by ``incoming`` changes what billing would have used."""
    if _is_provisional(current):
        reason = "estimate-replaced"
    elif current.get("valuesWh") != incoming["valuesWh"]:
        reason = "values-corrected"
    else:
        return None
    day = date.fromisoformat(incoming["day"])
    start = datetime.fromisoformat(incoming["startUtc"])
    return {
        "id": f"rebill:{incoming['suffix']}:{day.isoformat()}",
        "servicePointId": incoming["servicePointId"],
        "kind": REBILL_NEEDED,
        "registerId": incoming["suffix"],
        "reason": reason,
        # The market day, and the same as UTC instants to overlap with local billing periods.
        "from": day.isoformat(),
        "to": (day + timedelta(days=1)).isoformat(),
        "startUtc": start.isoformat(),
        "endUtc": (start + timedelta(days=1)).isoformat(),
        "replaced": _version(current),
        "by": _version(incoming),
        "status": "open",  # billing closes it once it has rebilled (or found nothing billed)
    }


def _version(doc: dict[str, Any]) -> dict[str, Any]:
    version = {"source": doc.get("source"), "updateDateTime": doc.get("updateDateTime")}
    if "valuesWh" in doc:
        version["wh"] = sum(doc["valuesWh"])
    if "value" in doc:
        version.update(value=doc["value"], readAt=doc["readAt"], readType=doc.get("readType"))
    if doc.get("estimate"):
        version["estimate"] = doc["estimate"]
    return version


REBILL_NEEDED = "rebill-needed"
# An actual read this close to an estimated one replaces it: billing's own tolerance for a
# read near a period's bound (see ``register_usage``).
READ_TOLERANCE = timedelta(days=3)
REAL_READ_TYPES = ("actual", "customer")


def store_register_read(
    readings: Container,
    service_point_id: str,
    read: RegisterRead,
    *,
    source: str,
    estimate: Mapping[str, Any] | None = None,
) -> None:
    """Store one register read (storing it again changes nothing).

    A version with an older ``update_datetime`` (NEM13 reads carry one) never overwrites a
    newer one, and an estimate never overwrites a read of the dial. An actual or customer
    read marks the estimated reads within ``READ_TOLERANCE`` of it as superseded (billing
    then skips them) and writes a ``rebill-needed`` marker for each."""
    doc: dict[str, Any] = {
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
    update = getattr(read, "update_datetime", None)
    if update is not None:
        doc["updateDateTime"] = update.isoformat()
    doc |= _meter_data_provider_fields(read)
    if estimate is not None:
        doc["estimate"] = dict(estimate)
    real = read.read_type in REAL_READ_TYPES
    current = readings.find(doc["id"], service_point_id)
    markers: list[dict[str, Any]] = []
    if current is not None:
        if current.get("readType") in REAL_READ_TYPES and not real:
            return
        if _is_newer(current.get("updateDateTime"), doc.get("updateDateTime")):
            return
        if (current["value"], current.get("readType")) != (doc["value"], doc["readType"]):
            doc["history"] = with_previous(current, ("value", "readType", "updateDateTime"))
            if current.get("readType") not in REAL_READ_TYPES or current["value"] != doc["value"]:
                markers.append(_read_rebill_marker(current, doc))
        else:
            # The same read again: what VEE and earlier versions left on it still holds.
            doc.update({k: current[k] for k in ("history", "rejected") if k in current})
    others = [
        o
        for o in readings.query(
            {"kind": "register", "meterSerial": read.meter_serial, "registerId": read.register_id},
            partition=service_point_id,
        )
        if o["id"] != doc["id"] and abs(datetime.fromisoformat(o["readAt"]) - read.read_at) <= READ_TOLERANCE
    ]
    superseded: list[dict[str, Any]] = []
    if real and not doc.get("rejected"):  # a read VEE rejected replaces nothing
        for other in others:
            if other.get("readType") not in REAL_READ_TYPES and not other.get("supersededBy"):
                superseded.append({**other, "supersededBy": doc["id"]})
                markers.append(_read_rebill_marker(other, doc))
    elif not real:
        nearest_real = [o for o in others if o.get("readType") in REAL_READ_TYPES and not o.get("rejected")]
        if nearest_real:
            doc["supersededBy"] = nearest_real[0]["id"]
    operations = [
        BatchOperation("upsert", doc),
        *(BatchOperation("replace", o, etag=o["_etag"]) for o in superseded),
        *(BatchOperation("upsert", m) for m in markers),
    ]
    if len(operations) == 1:
        readings.upsert(doc)
    else:
        # One batch: the read, the estimates it supersedes and the markers stand or fall together.
        readings.batch(service_point_id, operations)


# What a NEM13 read says beyond the dial (``AccumulationRead``): kept because the meter-data
# team audits quality methods and reason codes, and the direction tells consumption from
# generation on the same meter.
_NEM13_FIELDS = {
    "suffix": "suffix",
    "direction": "direction",
    "index_read": "indexRead",
    "quality_method": "qualityMethod",
    "reason_code": "reasonCode",
    "reason_description": "reasonDescription",
    "uom": "uom",
    "quantity_stored": "quantityStored",
    "trans_code": "transCode",
    "ret_service_order": "retServiceOrder",
}


def _meter_data_provider_fields(read: RegisterRead) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for attribute, name in _NEM13_FIELDS.items():
        value = getattr(read, attribute, None)
        if value not in (None, ""):
            fields[name] = value if isinstance(value, int | str) else str(value)
    return fields


def _read_rebill_marker(replaced: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """The energy between the estimated and the actual read's times was billed to the wrong
    period (or in the wrong amount): every billed period with a bound in [startUtc, endUtc]."""
    times = sorted((replaced["readAt"], incoming["readAt"]), key=datetime.fromisoformat)
    stamp = datetime.fromisoformat(replaced["readAt"]).strftime("%Y%m%dT%H%M%SZ")
    reason = "estimate-replaced" if replaced.get("readType") not in REAL_READ_TYPES else "values-corrected"
    return {
        "id": f"rebill:{replaced['meterSerial']}:{replaced['registerId']}:{stamp}",
        "servicePointId": replaced["servicePointId"],
        "kind": REBILL_NEEDED,
        "registerId": replaced["registerId"],
        "meterSerial": replaced["meterSerial"],
        "reason": reason,
        "from": datetime.fromisoformat(times[0]).date().isoformat(),
        "to": (datetime.fromisoformat(times[1]).date() + timedelta(days=1)).isoformat(),
        "startUtc": times[0],
        "endUtc": times[1],
        "replaced": _version(replaced),
        "by": _version(incoming),
        "status": "open",
    }


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
    dial_count: int | None = None,
) -> RegisterUsage | None:
    """Usage between the reads nearest the period's bounds (within ``tolerance``), leaving
    out estimates an actual read has superseded and reads VEE rejected. With ``dial_count`` a register that rolled
    over counts the units it turned through (99,990 -> 00,015 on five dials is 25).

    Multiplier 1 and no proration to the exact bounds yet.
    """
    reads = [
        r
        for r in readings.query(
            {"kind": "register", "meterSerial": meter_serial, "registerId": register_id}, partition=service_point_id
        )
        if not r.get("supersededBy") and not r.get("rejected")
    ]

    def nearest(bound: datetime) -> dict[str, Any] | None:
        near = [r for r in reads if abs(datetime.fromisoformat(r["readAt"]) - bound) <= tolerance]
        return min(near, key=lambda r: abs(datetime.fromisoformat(r["readAt"]) - bound), default=None)

    first, last = nearest(start_utc), nearest(end_utc)
    if first is None or last is None or first["id"] == last["id"]:
        return None
    start_read, end_read = Decimal(first["value"]), Decimal(last["value"])
    advance = register_advance(start_read, end_read, dial_count=dial_count)
    if advance is None:
        raise ValueError(
            f"{service_point_id}: register {meter_serial}/{register_id} went backwards "
            f"({start_read} -> {end_read}); rollover and meter exchange are not handled yet"
        )
    return RegisterUsage(
        wh=int(advance * 1000),
        start_read=start_read,
        end_read=end_read,
        start_at=datetime.fromisoformat(first["readAt"]),
        end_at=datetime.fromisoformat(last["readAt"]),
    )


# --- consumption read back per local period: daily, monthly or per interval ----------------

Granularity = Literal["interval", "daily", "monthly"]


@dataclass(frozen=True)
class Bucket:
    """Energy in [start, end) (UTC). ``quality`` counts intervals per quality letter (for a
    register meter: the read spans that contributed, "A" between two real reads, else "E")."""

    start: datetime
    end: datetime
    wh: int
    quality: dict[str, int]
    missing_intervals: int | None  # interval meters: intervals of the bucket with no reading
    complete: bool


@dataclass(frozen=True)
class Consumption:
    register_id: str
    meter_kind: str
    time_zone: str
    buckets: list[Bucket]
    missing_intervals: int | None  # over the whole period (interval meters)

    @property
    def wh(self) -> int:
        return sum(b.wh for b in self.buckets)

    @property
    def quality(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for bucket in self.buckets:
            for letter, count in bucket.quality.items():
                total[letter] = total.get(letter, 0) + count
        return dict(sorted(total.items()))


def consumption_history(
    readings: Container,
    service_point: Mapping[str, Any],
    *,
    start: date,
    end: date,
    granularity: Granularity,
    meter: Mapping[str, Any] | None = None,
    register_id: str | None = None,
) -> Consumption:
    """A service point's consumption over the local days [start, end) in its own time zone:
    a 23- or 25-hour day is one bucket, and the buckets sum exactly to the period."""
    zone = service_point["timeZone"]
    sp_id = service_point["servicePointId"]
    register = register_id or service_point.get("registerId") or "E1"
    start_utc, end_utc = local_period_utc(start, end, zone)
    bounds = _bucket_bounds(start, end, zone, granularity) if granularity != "interval" else [start_utc, end_utc]
    kind = service_point.get("meterKind") or "interval"
    if kind == "interval":
        intervals = channel_intervals(readings, sp_id, suffix=register, start_utc=start_utc, end_utc=end_utc)
        length = (meter or {}).get("intervalMinutes") or intervals.usual_minutes
        buckets = intervals.each() if granularity == "interval" else intervals.buckets(bounds, length)
        missing = intervals.buckets([start_utc, end_utc], length)[0].missing_intervals
    else:
        missing = None
        dials, multiplier = register_setup(meter, register)
        spans = register_spans(
            readings,
            sp_id,
            meter_serial=service_point["meterSerial"],
            register_id=register,
            dial_count=dials,
            multiplier=multiplier,
        )
        buckets = prorate_spans(spans, bounds)
    return Consumption(register, kind, zone, buckets, missing)


def _bucket_bounds(start: date, end: date, zone: str, granularity: Granularity) -> list[datetime]:
    """Local midnights (of each day, or of each month's first day) as UTC instants."""
    days = [start + timedelta(days=n) for n in range((end - start).days)]
    if granularity == "monthly":
        days = [d for d in days if d == start or d.day == 1]
    tz = ZoneInfo(zone)
    return [datetime.combine(d, time.min, tzinfo=tz).astimezone(UTC) for d in (*days, end)]


def register_setup(meter: Mapping[str, Any] | None, register_id: str) -> tuple[int | None, Decimal]:
    """The register's dial count and multiplier, from the meter document."""
    for register in (meter or {}).get("registers", []):
        if register.get("registerId") == register_id:
            return register.get("dialCount"), Decimal(str(register.get("multiplier", "1")))
    return None, Decimal(1)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True, eq=False)
class ChannelIntervals:
    """A channel's stored intervals starting in a period, in time order (starts in epoch
    seconds, so days of different interval lengths can sit side by side)."""

    starts: np.ndarray
    minutes: np.ndarray
    wh: np.ndarray
    quality: np.ndarray

    @property
    def usual_minutes(self) -> int:
        if not self.minutes.size:
            return 30
        values, counts = np.unique(self.minutes, return_counts=True)
        return int(values[np.argmax(counts)])

    def each(self) -> list[Bucket]:
        return [
            Bucket(
                datetime.fromtimestamp(int(s), UTC),
                datetime.fromtimestamp(int(s) + int(m) * 60, UTC),
                int(w),
                {str(q): 1},
                0,
                True,
            )
            for s, m, w, q in zip(self.starts, self.minutes, self.wh, self.quality, strict=True)
        ]

    def buckets(self, bounds: list[datetime], interval_minutes: int) -> list[Bucket]:
        """Each interval in the bucket its start falls in."""
        edges = np.searchsorted(self.starts, [_epoch(b) for b in bounds], side="left")
        result = []
        for lo, hi, start, end in zip(edges, edges[1:], bounds, bounds[1:], strict=False):
            letters, counts = np.unique(self.quality[lo:hi], return_counts=True)
            present_minutes = int(self.minutes[lo:hi].sum())
            missing = max(_epoch(end) - _epoch(start) - present_minutes * 60, 0) // (interval_minutes * 60)
            result.append(
                Bucket(
                    start,
                    end,
                    int(self.wh[lo:hi].sum()),
                    {str(k): int(v) for k, v in zip(letters, counts, strict=True)},
                    missing,
                    missing == 0,
                )
            )
        return result


def channel_intervals(
    readings: Container, service_point_id: str, *, suffix: str, start_utc: datetime, end_utc: datetime
) -> ChannelIntervals:
    first_day = (start_utc + NEM_MARKET_TIME).date() - timedelta(days=1)
    last_day = (end_utc + NEM_MARKET_TIME).date()
    docs = sorted(
        (
            d
            for d in readings.query(
                {"kind": "interval", "suffix": suffix, "valueUnit": "Wh"}, partition=service_point_id
            )
            if first_day <= date.fromisoformat(d["day"]) <= last_day
        ),
        key=lambda d: d["day"],
    )
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for doc in docs:
        values = np.asarray(doc["valuesWh"], dtype=np.int64)
        step = int(doc["intervalMinutes"]) * 60
        starts = _epoch(datetime.fromisoformat(doc["startUtc"])) + np.arange(values.size, dtype=np.int64) * step
        quality = np.array(list(doc["quality"]), dtype="U1")
        parts.append((starts, np.full(values.size, doc["intervalMinutes"], dtype=np.int64), values, quality))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return ChannelIntervals(empty, empty, empty, np.zeros(0, dtype="U1"))
    starts, minutes, wh, quality = (np.concatenate(column) for column in zip(*parts, strict=True))
    keep = (starts >= _epoch(start_utc)) & (starts < _epoch(end_utc))
    return ChannelIntervals(starts[keep], minutes[keep], wh[keep], quality[keep])


@dataclass(frozen=True)
class ReadSpan:
    """Energy used between two consecutive reads of a register."""

    start: datetime
    end: datetime
    wh: int
    quality: str  # "A" between two real reads, "E" when either is an estimate


def register_spans(
    readings: Container,
    service_point_id: str,
    *,
    meter_serial: str,
    register_id: str,
    dial_count: int | None,
    multiplier: Decimal = Decimal(1),
) -> list[ReadSpan]:
    """Spans between consecutive reads, superseded estimates left out. A pair that goes
    backwards (no plausible rollover) gives no span: validation rejects it."""
    reads = sorted(
        (
            r
            for r in readings.query(
                {"kind": "register", "meterSerial": meter_serial, "registerId": register_id},
                partition=service_point_id,
            )
            if not r.get("supersededBy") and not r.get("rejected")
        ),
        key=lambda r: datetime.fromisoformat(r["readAt"]),
    )
    spans = []
    for before, after in pairwise(reads):
        advance = register_advance(Decimal(before["value"]), Decimal(after["value"]), dial_count=dial_count)
        if advance is None:
            continue
        real = before.get("readType") in REAL_READ_TYPES and after.get("readType") in REAL_READ_TYPES
        spans.append(
            ReadSpan(
                datetime.fromisoformat(before["readAt"]),
                datetime.fromisoformat(after["readAt"]),
                int((advance * multiplier * 1000).to_integral_value(ROUND_HALF_UP)),
                "A" if real else "E",
            )
        )
    return spans


def prorate_spans(spans: list[ReadSpan], bounds: list[datetime]) -> list[Bucket]:
    """Each span's energy shared over the buckets in proportion to time, in whole Wh by
    largest remainder, so the pieces of a span (those outside the buckets too) sum to it."""
    count = len(bounds) - 1
    wh, covered = [0] * count, [0] * count
    quality: list[dict[str, int]] = [{} for _ in range(count)]
    for span in spans:
        cuts = sorted({span.start, span.end, *(b for b in bounds if span.start < b < span.end)})
        pieces = list(pairwise(cuts))
        seconds = [int((b - a).total_seconds()) for a, b in pieces]
        for (piece_start, piece_end), share in zip(pieces, _largest_remainder(span.wh, seconds), strict=True):
            index = bisect_right(bounds, piece_start) - 1
            if 0 <= index < count and piece_end <= bounds[index + 1]:
                wh[index] += share
                covered[index] += int((piece_end - piece_start).total_seconds())
                quality[index][span.quality] = quality[index].get(span.quality, 0) + 1
    return [
        Bucket(start, end, wh[i], dict(sorted(quality[i].items())), None, covered[i] >= (end - start).total_seconds())
        for i, (start, end) in enumerate(pairwise(bounds))
    ]


def _largest_remainder(total: int, weights: list[int]) -> list[int]:
    whole = sum(weights)
    if whole == 0:
        return [total] + [0] * (len(weights) - 1)
    shares = [total * w // whole for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares
