"""Bill preview: rate arbitrary interval usage against a tariff, storing nothing.

The tariff is a GridLedger tariff document (or a list of versions of one tariff) or a URDB
rate, told apart by content (urdb.is_urdb). The usage is rows of ``start,kwh``:

- ``start``: ISO 8601, local wall time in the preview's zone unless it carries an offset.
  A local time the zone's DST change makes ambiguous (the repeated hour) or skips is
  refused: only an offset says which instant is meant.
- ``kwh``: a plain decimal, exact in whole Wh (``0.5``, ``0.500`` and ``0.5000`` are all
  500 Wh; ``0.0005`` is refused, not rounded).
- The interval length is the most common step between starts, in real (UTC) time; it must
  divide an hour, every start must be one step after the last (a gap, an overlap or an odd
  step is refused: a missing interval would price at zero) and on a step of local time.

The zone is the one given, else the tariff's own ``timeZone``; a URDB rate has none, so
it must be given. The period is local dates ``[from, to)``; the usage must cover it, and
intervals outside it are ignored. Amounts are decimal strings rounded as the engine rounds.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from shared.money import Money
from shared.rating.calendar import local_midnight_utc
from shared.rating.consumption import IntervalConsumption
from shared.rating.engine import rate
from shared.rating.results import RatedCharges
from shared.rating.tariff import Tariff, TariffError
from shared.rating.urdb import UrdbError, is_urdb, urdb_document
from shared.rating.usage import RatingError

HEADER = ("start", "kwh")
_KWH = re.compile(r"\d+(\.\d+)?")
_SECONDS_PER_MINUTE = 60


class PreviewError(ValueError):
    """Bad preview input. ``subject`` is the input it is about ("tariff", "usage", "timeZone",
    "from", "to"); ``field`` the path inside it (``components[1].rate``, ``kwh``); ``line`` the
    usage row's line (the CSV line, or the index of a row given as a list)."""

    def __init__(self, subject: str, field: str, problem: str, *, line: int | None = None) -> None:
        where = "".join([f"line {line}: " if line is not None else "", f"{field}: " if field else ""])
        super().__init__(f"{subject}: {where}{problem}")
        self.subject, self.field, self.problem, self.line = subject, field, problem, line
        self.detail = f"{where}{problem}"  # the message without its subject, for callers that name it their way


@dataclass(frozen=True)
class UsageRow:
    start: str
    kwh: str
    line: int  # the CSV line (the header is line 1), or the row's index in a list


@dataclass(frozen=True)
class BillPreview:
    tariff: Tariff  # the first version priced
    period_from: date
    period_to: date
    time_zone: str
    charges: RatedCharges

    def to_json(self) -> dict[str, Any]:
        """The stable output: operators script against these keys."""
        return {
            "tariff": self.tariff.id,
            "period": {
                "from": self.period_from.isoformat(),
                "to": self.period_to.isoformat(),
                "timeZone": self.time_zone,
            },
            "currency": self.charges.total.currency,
            "lines": [
                {
                    "component": line.component_id,
                    "description": line.description,
                    "quantity": str(line.quantity),
                    "unit": line.unit,
                    "rate": str(line.rate),
                    "amount": _amount(line.amount),
                }
                for line in self.charges.lines
            ],
            "subtotal": _amount(self.charges.subtotal),
            "tax": _amount(self.charges.tax_total),
            "total": _amount(self.charges.total),
        }


def preview_bill(
    *, tariff: object, usage: Sequence[UsageRow], period_from: date, period_to: date, time_zone: str | None
) -> BillPreview:
    """Rate ``usage`` under ``tariff`` (a parsed JSON document) over local dates ``[period_from, period_to)``."""
    if period_to <= period_from:
        raise PreviewError("to", "", f"{period_to} must be after from {period_from}")
    versions, zone = read_tariff(tariff, time_zone=time_zone)
    intervals = read_usage(usage, ZoneInfo(zone))
    _check_covers(intervals, period_from, period_to, ZoneInfo(zone))
    try:
        charges = rate(
            tariff=versions, period_start=period_from, period_end=period_to, time_zone=zone, consumption=intervals
        )
    except RatingError as error:
        raise PreviewError("tariff", "", str(error)) from None
    return BillPreview(versions[0], period_from, period_to, zone, charges)


# -- the tariff -------------------------------------------------------------------------------------


def read_tariff(doc: object, *, time_zone: str | None) -> tuple[list[Tariff], str]:
    """The tariff's versions and the zone to preview in (``time_zone``, else the tariff's own)."""
    if time_zone is not None:
        _check_zone(time_zone)
    if is_urdb(doc):
        if time_zone is None:
            problem = "required for a URDB rate: URDB carries no time zone, so name the one its hours are in"
            raise PreviewError("timeZone", "", f"{problem} (e.g. America/Los_Angeles)")
        try:
            doc = urdb_document(doc, time_zone=time_zone)
        except UrdbError as error:
            raise PreviewError("tariff", error.field, error.problem) from None
        return [_tariff(doc, "")], time_zone
    documents = doc if isinstance(doc, list) else [doc]
    if not documents:
        raise PreviewError("tariff", "", "an empty list holds no tariff version")
    versions = [_tariff(d, f"[{i}]" if isinstance(doc, list) else "") for i, d in enumerate(documents)]
    zone = time_zone or versions[0].time_zone
    if zone is None:
        problem = f"required: tariff {versions[0].id} has no timeZone (its hours are the service point's)"
        raise PreviewError("timeZone", "", problem)
    return versions, zone


def _tariff(doc: object, prefix: str) -> Tariff:
    if not isinstance(doc, dict):
        problem = "neither a GridLedger tariff document (an object with components) nor a URDB rate"
        raise PreviewError("tariff", prefix, f"{problem}, got {type(doc).__name__}")
    try:
        return Tariff.from_document(doc)
    except TariffError as error:
        field = f"{prefix}.{error.field}" if prefix and error.field else prefix or error.field
        raise PreviewError("tariff", field, error.problem) from None


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise PreviewError("timeZone", "", f"unknown IANA time zone {name!r}") from None


# -- the usage ---------------------------------------------------------------------------------------


def usage_rows_from_csv(text: str) -> list[UsageRow]:
    """The rows of a ``start,kwh`` CSV (a byte-order mark and blank lines are ignored)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next(reader, None)
    if header is None or tuple(cell.strip().lower() for cell in header) != HEADER:
        got = ",".join(header) if header else "nothing"
        raise PreviewError("usage", "header", f"the first line must be start,kwh, got {got!r}", line=1)
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(HEADER):
            problem = f"expected 2 fields (start,kwh), got {len(cells)}: {','.join(cells)!r}"
            raise PreviewError("usage", "", problem, line=reader.line_num)
        rows.append(UsageRow(cells[0].strip(), cells[1].strip(), reader.line_num))
    return rows


def read_usage(rows: Sequence[UsageRow], zone: ZoneInfo) -> IntervalConsumption:
    """Integer Wh intervals from the rows, checked to be uniform, in order and aligned."""
    if len(rows) < 2:
        raise PreviewError("usage", "", f"{len(rows)} interval(s): at least two are needed to infer the length")
    starts = [_start(row, zone) for row in rows]
    wh = np.array([_wh(row) for row in rows], dtype=np.int64)
    steps = [later - earlier for earlier, later in pairwise(starts)]
    step = Counter(steps).most_common(1)[0][0]
    if step <= timedelta(0) or timedelta(hours=1) % step or step % timedelta(minutes=1):
        problem = f"intervals of {_duration(step)} (the most common step between starts) do not divide an hour"
        raise PreviewError("usage", "start", problem, line=rows[1].line)
    for index, gap in enumerate(steps, start=1):
        if gap != step:
            _refuse_step(rows[index], rows[index - 1], gap, step)
    for row, start in zip(rows, starts, strict=True):
        local = start.astimezone(zone)
        if (local.minute * _SECONDS_PER_MINUTE + local.second) % step.seconds or local.microsecond:
            problem = f"{row.start} does not start a {_minutes(step)}-minute interval of local time in {zone.key}"
            raise PreviewError("usage", "start", problem, line=row.line)
    return IntervalConsumption(start=starts[0], interval_minutes=_minutes(step), wh=wh)


def _refuse_step(row: UsageRow, previous: UsageRow, gap: timedelta, step: timedelta) -> None:
    if gap <= timedelta(0):
        problem = f"{row.start} is not after the previous start {previous.start}: starts must increase"
    elif gap % step == timedelta(0):
        problem = (
            f"gap: {gap // step - 1} interval(s) of {_duration(step)} missing between {previous.start} and "
            f"{row.start}; a missing interval would be priced at zero"
        )
    else:
        problem = f"{row.start} is {_duration(gap)} after {previous.start} but the intervals are {_duration(step)}"
        problem += ": they must be uniform"
    raise PreviewError("usage", "start", problem, line=row.line)


def _start(row: UsageRow, zone: ZoneInfo) -> datetime:
    try:
        start = datetime.fromisoformat(row.start)
    except ValueError:
        problem = f"{row.start!r} is not an ISO 8601 date-time like 2026-07-01T00:30 or 2026-07-01T00:30-07:00"
        raise PreviewError("usage", "start", problem, line=row.line) from None
    if start.tzinfo is not None:
        return start.astimezone(UTC)
    early, late = start.replace(tzinfo=zone, fold=0), start.replace(tzinfo=zone, fold=1)
    if early.utcoffset() != late.utcoffset():
        if early.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != start:
            problem = f"{row.start} does not exist in {zone.key} (the clocks skip it): write it with its UTC offset"
        else:
            problem = (
                f"{row.start} is ambiguous in {zone.key} (it happens twice as the clocks go back): "
                f"write it with its UTC offset, {early.isoformat()} or {late.isoformat()}"
            )
        raise PreviewError("usage", "start", problem, line=row.line)
    return early.astimezone(UTC)


def _wh(row: UsageRow) -> int:
    if row.kwh.startswith("-"):
        raise PreviewError("usage", "kwh", f"{row.kwh} is negative: the preview rates consumption only", line=row.line)
    if not _KWH.fullmatch(row.kwh):
        raise PreviewError("usage", "kwh", f"{row.kwh!r} is not a decimal number of kWh like 0.512", line=row.line)
    wh = Decimal(row.kwh).scaleb(3)
    if wh != wh.to_integral_value():
        problem = f"{row.kwh} has more than 3 decimals: usage is priced in whole Wh, and rounding it is not ours to do"
        raise PreviewError("usage", "kwh", problem, line=row.line)
    return int(wh)


def _check_covers(intervals: IntervalConsumption, start: date, end: date, zone: ZoneInfo) -> None:
    need_start, need_end = local_midnight_utc(start, zone), local_midnight_utc(end, zone)
    if intervals.start > need_start or intervals.end < need_end:
        first, stop = intervals.start.astimezone(zone), intervals.end.astimezone(zone)
        problem = (
            f"covers {first.isoformat()} to {stop.isoformat()}, but {start}..{end} in {zone.key} needs "
            f"{need_start.astimezone(zone).isoformat()} to {need_end.astimezone(zone).isoformat()}"
        )
        raise PreviewError("usage", "", problem)


def _duration(span: timedelta) -> str:
    return f"{_minutes(span)} minutes" if span > timedelta(0) and not span % timedelta(minutes=1) else str(span)


def _minutes(step: timedelta) -> int:
    return int(step.total_seconds()) // _SECONDS_PER_MINUTE


def _amount(money: Money) -> str:
    return str(money.rounded().amount)
