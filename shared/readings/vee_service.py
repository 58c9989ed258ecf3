"""VEE on stored meter data: validate a service point's days or reads over a period, record
what was found, and estimate what billing cannot use as it is.

Findings are documents of kind ``finding`` in the readings container, in the service
point's partition, with ids made from what they are about: running VEE again finds the
same problems again as the same documents, and a problem no longer found is marked
resolved, not deleted. Estimates are interval-day documents with quality "E" and an
``estimate`` field (billing reads them like any day) or register reads of type
"estimated"; ``history.store_interval_day`` and ``store_register_read`` let a later actual
replace them and write the ``rebill-needed`` marker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from shared.platform.documents import (
    ConcurrencyConflict,
    Container,
    DocumentAlreadyExists,
    DocumentNotFound,
    DocumentStore,
)
from shared.readings.estimation import (
    CannotEstimate,
    EstimatedDay,
    Gap,
    estimate_interval_gaps,
    estimate_register_read,
)
from shared.readings.history import (
    NEM_MARKET_TIME,
    READ_TOLERANCE,
    interval_document,
    local_period_utc,
    register_setup,
    store_register_read,
    with_previous,
)
from shared.readings.model import RegisterRead
from shared.readings.validation import (
    DEFAULT_RULES,
    ChannelDay,
    Finding,
    ValidationRules,
    validate_interval_channel,
    validate_register_reads,
)
from shared.resources import ACCOUNTS, METERS, READINGS, SERVICE_POINTS

FINDING = "finding"
ESTIMATE_SOURCE = "vee"
# Rules whose rejection makes the whole day unusable; the others name the intervals.
WHOLE_DAY_RULES = ("interval-count", "conflicting-duplicate")


class UnknownServicePoint(LookupError):
    def __init__(self, service_point_id: str) -> None:
        super().__init__(f"no service point {service_point_id!r}")
        self.service_point_id = service_point_id


@dataclass
class VeeReport:
    service_point_id: str
    register_id: str
    findings: list[Finding] = field(default_factory=list)
    estimated: list[dict[str, Any]] = field(default_factory=list)
    not_estimated: list[dict[str, Any]] = field(default_factory=list)
    resolved: int = 0

    @property
    def rejected(self) -> int:
        return sum(f.severity == "reject" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "servicePointId": self.service_point_id,
            "registerId": self.register_id,
            "findings": [f.to_json() for f in self.findings],
            "estimated": self.estimated,
            "notEstimated": self.not_estimated,
            "resolved": self.resolved,
        }


def run_vee(
    documents: DocumentStore,
    *,
    service_point_id: str,
    start: date,
    end: date,
    now: datetime,
    rules: ValidationRules = DEFAULT_RULES,
    holidays: frozenset[date] = frozenset(),
    estimate: bool = True,
) -> VeeReport:
    """Validate the service point's meter data for the local days [start, end), record the
    findings, and (with ``estimate``) store estimates for missing or rejected data."""
    point = documents.container(SERVICE_POINTS.name).find(service_point_id, service_point_id)
    if point is None:
        raise UnknownServicePoint(service_point_id)
    serial = point.get("meterSerial")
    meter = documents.container(METERS.name).find(serial, serial) if serial else None
    readings = documents.container(READINGS.name)
    start_utc, end_utc = local_period_utc(start, end, point["timeZone"])
    if not serial:
        report = VeeReport(service_point_id, point.get("registerId") or "E1")
        report.not_estimated.append({"reason": "no meter is installed at the service point"})
        return report
    if point.get("meterKind") == "register":
        return _register_vee(readings, point, meter, start_utc, end_utc, now, rules, estimate)
    return _interval_vee(readings, point, meter, start_utc, end_utc, now, rules, holidays, estimate)


def market_days(start_utc: datetime, end_utc: datetime) -> tuple[date, date]:
    """The NEM market days [first, end) that overlap [start_utc, end_utc): a local day in
    Sydney's summer straddles two of them."""
    first = (start_utc + NEM_MARKET_TIME).date()
    last = (end_utc - timedelta(microseconds=1) + NEM_MARKET_TIME).date()
    return first, last + timedelta(days=1)


# --- interval meters ------------------------------------------------------------------------


def _interval_vee(
    readings: Container,
    point: Mapping[str, Any],
    meter: Mapping[str, Any] | None,
    start_utc: datetime,
    end_utc: datetime,
    now: datetime,
    rules: ValidationRules,
    holidays: frozenset[date],
    estimate: bool,
) -> VeeReport:
    sp_id, suffix = point["servicePointId"], point.get("registerId") or "E1"
    first, end = market_days(start_utc, end_utc)
    earliest = first - timedelta(days=rules.like_day_lookback_days)
    docs = {
        date.fromisoformat(d["day"]): d
        for d in readings.query({"kind": "interval", "suffix": suffix, "valueUnit": "Wh"}, partition=sp_id)
        if earliest <= date.fromisoformat(d["day"]) < end
    }
    days = {day: ChannelDay(day, d["intervalMinutes"], d["valuesWh"], d["quality"]) for day, d in docs.items()}
    in_period = [days[d] for d in sorted(days) if d >= first]
    history = [days[d] for d in sorted(days) if d < first]
    expected = (meter or {}).get("intervalMinutes")
    findings = validate_interval_channel(
        service_point_id=sp_id,
        register_id=suffix,
        days=in_period,
        period=(first, end),
        history=history,
        expected_minutes=expected,
        rules=rules,
        holidays=holidays,
    )
    report = VeeReport(sp_id, suffix, findings)

    def in_scope(finding: Mapping[str, Any]) -> bool:
        # A finding on a day VEE estimated stays open until the provider's data replaces it.
        day = date.fromisoformat(finding["day"]) if finding.get("day") else None
        return day is not None and first <= day < end and not (docs.get(day) or {}).get("estimate")

    report.resolved = _record_findings(readings, sp_id, suffix, findings, in_scope, now)
    if not estimate:
        return report
    gaps = _gaps(findings, days, docs)
    minutes = expected or next((d.interval_minutes for d in [*in_period, *history]), 30)
    estimates = estimate_interval_gaps(
        gaps=gaps,
        history=list(days.values()),
        interval_minutes=minutes,
        holidays=holidays,
        lookback_days=rules.like_day_lookback_days,
    )
    for estimated in estimates.days:
        outcome = _store_estimated_day(readings, sp_id, suffix, estimated, docs.get(estimated.day), point, now)
        entry = {
            "day": estimated.day.isoformat(),
            "method": estimated.method,
            "likeDay": estimated.source_day.isoformat(),
            "intervals": estimated.estimated_intervals,
            "wh": estimated.estimated_wh,
        }
        if outcome == "stored":
            report.estimated.append(entry)
        else:
            report.not_estimated.append({**entry, "reason": outcome})
    report.not_estimated += [{"day": n.day.isoformat(), "reason": n.reason} for n in estimates.not_estimated]
    return report


def _gaps(findings: list[Finding], days: dict[date, ChannelDay], docs: dict[date, dict[str, Any]]) -> list[Gap]:
    """Missing days, and the rejected days or intervals of the provider's data (an estimate
    already stored is not estimated again: an actual replaces it)."""
    whole: set[date] = set()
    partial: dict[date, set[int]] = {}
    for finding in findings:
        day = finding.day
        if day is None or (day in docs and docs[day].get("estimate")):
            continue
        if finding.rule == "missing-day" or (finding.severity == "reject" and finding.rule in WHOLE_DAY_RULES):
            whole.add(day)
        elif finding.severity == "reject" and finding.first_interval is not None:
            assert finding.last_interval is not None
            partial.setdefault(day, set()).update(range(finding.first_interval, finding.last_interval + 1))
    gaps = [Gap.whole_day(d) for d in sorted(whole)]
    gaps += [Gap.intervals(days[d], sorted(i)) for d, i in sorted(partial.items()) if d not in whole]
    return gaps


def _store_estimated_day(
    readings: Container,
    sp_id: str,
    suffix: str,
    estimated: EstimatedDay,
    validated: dict[str, Any] | None,
    point: Mapping[str, Any],
    now: datetime,
) -> str:
    """Store an estimate where there was nothing, or over the provider's version it edits
    (kept in the document's history). Never over anything that changed since validation."""
    doc = interval_document(
        sp_id,
        suffix=suffix,
        day=estimated.day,
        interval_minutes=estimated.interval_minutes,
        value_unit="Wh",
        values=estimated.values_wh,
        quality=estimated.quality,
        update_datetime=None,
        meter_serial=point.get("meterSerial") or "",
        source=ESTIMATE_SOURCE,
    )
    doc["estimate"] = {
        "method": estimated.method,
        "qualityMethod": estimated.quality_method,
        "likeDay": estimated.source_day.isoformat(),
        "intervals": estimated.estimated_intervals,
        "wh": estimated.estimated_wh,
        "estimatedAt": now.astimezone(UTC).isoformat(),
        # The provider's version this edits: it (or an older one) sent again changes nothing.
        "editedUpdateDateTime": validated.get("updateDateTime") if validated else None,
    }
    try:
        if validated is None:
            readings.create(doc)
        else:
            doc["history"] = with_previous(validated, ("valuesWh", "quality", "updateDateTime"))
            readings.replace(doc, etag=validated["_etag"])
    except (DocumentAlreadyExists, ConcurrencyConflict, DocumentNotFound):
        return "the day changed while it was validated; run VEE again"
    return "stored"


# --- register meters ------------------------------------------------------------------------


def _register_vee(
    readings: Container,
    point: Mapping[str, Any],
    meter: Mapping[str, Any] | None,
    start_utc: datetime,
    end_utc: datetime,
    now: datetime,
    rules: ValidationRules,
    estimate: bool,
) -> VeeReport:
    sp_id, register_id = point["servicePointId"], point.get("registerId") or "E1"
    dials, multiplier = register_setup(meter, register_id)
    # VEE's own estimates are not judged again: an actual read replaces them.
    stored = _read_docs(readings, sp_id, point["meterSerial"], register_id)
    docs = [d for d in stored if not d.get("estimate")]
    estimates = [d for d in stored if d.get("estimate")]
    window = (start_utc - READ_TOLERANCE, end_utc + READ_TOLERANCE)
    in_window = [d for d in docs if window[0] <= _read_at(d) <= window[1]]
    known = [d for d in docs if _read_at(d) < window[0] and not d.get("rejected")]
    findings = validate_register_reads(
        service_point_id=sp_id,
        reads=[_read(d) for d in in_window],
        known=[_read(d) for d in known],
        dial_count=dials,
        multiplier=multiplier,
        rules=rules,
    )
    report = VeeReport(sp_id, register_id, findings)
    lo, hi = (t.isoformat() for t in window)
    report.resolved = _record_findings(
        readings, sp_id, register_id, findings, lambda f: lo <= (f.get("readAt") or "") <= hi, now
    )
    rejected = _mark_rejected(readings, in_window, findings)
    if not estimate or dials is None:
        if estimate:
            report.not_estimated.append({"reason": "the meter's register has no dial count: cannot estimate"})
        return report
    judged = {d["id"] for d in in_window}  # judged just now; the others as their flag says
    usable = [_read(d) for d in docs if (d["id"] not in rejected if d["id"] in judged else not d.get("rejected"))]
    placed = [_read(d) for d in estimates]
    for bound in (start_utc, end_utc):
        if any(abs(r.read_at - bound) <= READ_TOLERANCE for r in (*usable, *placed)):
            continue
        try:
            guess = estimate_register_read(reads=usable, at=bound, dial_count=dials, multiplier=multiplier)
        except CannotEstimate as why:
            report.not_estimated.append({"readAt": bound.isoformat(), "reason": str(why)})
            continue
        details = {
            "method": guess.method,
            "since": guess.since.read_at.astimezone(UTC).isoformat(),
            "basisFrom": guess.basis_from.read_at.astimezone(UTC).isoformat(),
            "averageDailyWh": str(guess.average_daily_wh),
            "wh": guess.wh,
            "estimatedAt": now.astimezone(UTC).isoformat(),
        }
        store_register_read(readings, sp_id, guess.read, source=ESTIMATE_SOURCE, estimate=details)
        placed.append(guess.read)
        report.estimated.append({"readAt": bound.isoformat(), "value": str(guess.read.value), **details})
    return report


def check_new_register_reads(
    documents: DocumentStore,
    *,
    service_point_id: str,
    reads: list[RegisterRead],
    now: datetime,
    rules: ValidationRules = DEFAULT_RULES,
) -> list[Finding]:
    """Validate reads about to be stored (in the order they arrived) against those already
    stored and the last billed date of the service point's accounts, and record the
    findings. A caller stores only the reads without a ``reject``."""
    point = documents.container(SERVICE_POINTS.name).find(service_point_id, service_point_id)
    if point is None:
        raise UnknownServicePoint(service_point_id)
    register_id = point.get("registerId") or "E1"
    serial = point.get("meterSerial")
    meter = documents.container(METERS.name).find(serial, serial) if serial else None
    dials, multiplier = register_setup(meter, register_id)
    readings = documents.container(READINGS.name)
    known = [d for d in _read_docs(readings, service_point_id, serial or "", register_id) if not d.get("rejected")]
    findings = validate_register_reads(
        service_point_id=service_point_id,
        reads=reads,
        known=[_read(d) for d in known],
        dial_count=dials,
        multiplier=multiplier,
        last_billed_at=_last_billed_at(documents, service_point_id, point["timeZone"]),
        rules=rules,
    )
    _record_findings(readings, service_point_id, register_id, findings, lambda _: False, now)
    return findings


def _last_billed_at(documents: DocumentStore, service_point_id: str, zone: str) -> datetime | None:
    """Local midnight of the latest billed-through date of the accounts billed here."""
    dates = [a["billedThrough"] for a in documents.container(ACCOUNTS.name).query({"servicePointId": service_point_id})]
    dates = [d for d in dates if d]
    if not dates:
        return None
    return datetime.combine(date.fromisoformat(max(dates)), time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _read_docs(readings: Container, sp_id: str, serial: str, register_id: str) -> list[dict[str, Any]]:
    docs = readings.query({"kind": "register", "meterSerial": serial, "registerId": register_id}, partition=sp_id)
    return sorted((d for d in docs if not d.get("supersededBy")), key=_read_at)


def _read_at(doc: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(doc["readAt"])


def _read(doc: Mapping[str, Any]) -> RegisterRead:
    return RegisterRead(
        meter_serial=doc["meterSerial"],
        register_id=doc["registerId"],
        value=Decimal(doc["value"]),
        read_at=_read_at(doc),
        read_type=doc.get("readType", "actual"),
        reader_id=doc.get("readerId") or "",
    )


def _mark_rejected(readings: Container, docs: list[dict[str, Any]], findings: list[Finding]) -> set[str]:
    """Set (or clear) ``rejected`` on each read, so billing and estimation pass over it."""
    why = {f.read_at: f"{f.rule}: {f.message}" for f in findings if f.severity == "reject" and f.read_at}
    rejected: set[str] = set()
    for doc in docs:
        reason = why.get(_read_at(doc).astimezone(UTC))
        if reason:
            rejected.add(doc["id"])
        if doc.get("rejected") == reason or (not reason and "rejected" not in doc):
            continue
        changed = {k: v for k, v in doc.items() if k != "rejected"} | ({"rejected": reason} if reason else {})
        try:
            readings.replace(changed, etag=doc["_etag"])
        except (ConcurrencyConflict, DocumentNotFound):
            pass  # rewritten since it was read: the next run judges the new version
    return rejected


# --- findings -------------------------------------------------------------------------------


def finding_id(finding: Finding) -> str:
    return f"{FINDING}:{finding.key}"


def _record_findings(
    readings: Container,
    sp_id: str,
    register_id: str,
    findings: list[Finding],
    in_scope: Callable[[Mapping[str, Any]], bool],
    now: datetime,
) -> int:
    """Store new findings, leave those already open as they are (a re-run writes nothing),
    and mark resolved the open ones in scope that were not found again. Returns how many
    were resolved."""
    existing = {d["id"]: d for d in readings.query({"kind": FINDING, "registerId": register_id}, partition=sp_id)}
    found_ids = set()
    for finding in findings:
        doc_id = finding_id(finding)
        found_ids.add(doc_id)
        before = existing.get(doc_id)
        if before is not None and before.get("status") == "open" and before.get("message") == finding.message:
            continue
        readings.upsert(
            {
                "id": doc_id,
                "kind": FINDING,
                **finding.to_json(),
                "status": "open",
                "foundAt": now.astimezone(UTC).isoformat(),
            }
        )
    resolved = 0
    for doc_id, doc in existing.items():
        if doc_id in found_ids or doc.get("status") != "open" or not in_scope(doc):
            continue
        try:
            readings.replace(
                {**doc, "status": "resolved", "resolvedAt": now.astimezone(UTC).isoformat()}, etag=doc["_etag"]
            )
            resolved += 1
        except (ConcurrencyConflict, DocumentNotFound):
            pass  # someone else resolved or reopened it
    return resolved
