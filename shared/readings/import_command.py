"""The operators' importer: ``python -m shared.cli readings import FILE [--format F] [--dry-run] [--json]``.

Operators script against this command, so its output and exit status are kept stable.

Exit status: 0 accepted, 1 partial, 2 rejected; also 2 for a missing or unreadable file and
for an unknown ``--format``, with an error naming the file.

With ``--json`` it prints one JSON document::

    {"file": "the path as given", "format": "nem12" | "nem13" | "csv" | "xlsx" | null,
     "status": "accepted" | "partial" | "rejected", "dryRun": false,
     "errors": [{"line", "record", "field", "message"}], "warnings": [same shape],
     "channels": [{"nmi", "suffix", "uom", "intervals", "kwh", "quality": {"A": n, ...},
                   "first", "last"}],
     "reads": n, "stored": {"days": {"stored", "replaced", "unchanged", "kept-newer"}, "reads": n} | null}

* ``kwh``: the channel's total active energy in kWh, a decimal string with exactly three
  places ("12.000"); null for a channel that is not active energy (kVArh, kVAh, demand);
* ``quality``: how many intervals carry each quality flag, after the 400 records;
* ``first``/``last``: the START of the channel's first and last interval, ISO 8601 in NEM
  market time (+10:00), e.g. "2024-01-01T00:00:00+10:00" and "2024-01-01T23:30:00+10:00";
* ``channels`` is empty for register-read formats (NEM13, csv, xlsx); ``reads`` counts the
  register reads accepted; for spreadsheets ``line`` is the row number, the header being 1;
* ``stored`` says what storing did (null with ``--dry-run``).

``--dry-run`` reads and checks the file and stores nothing. It does not look service points
up either, so a reading for an unknown NMI or meter shows only in a real import, where it
makes the file partial (or rejected, when nothing else was kept).

Without ``--json`` the same is printed as a short summary for people.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TextIO

import numpy as np

from shared.platform.documents import DocumentStore
from shared.readings.file_import import StoreReport, StoringInterrupted, status_after_storing, store_import
from shared.readings.importers import IMPORTERS, MeterFile, read_meter_file
from shared.readings.model import NEM_TIME, ImportResult, ImportStatus, IntervalDay, ReadingError

EXIT_STATUS: dict[ImportStatus, int] = {"accepted": 0, "partial": 1, "rejected": 2}
HUMAN_ERRORS_SHOWN = 20


@dataclass
class ImportReport:
    """Everything the command says about one file."""

    file: str
    format: str | None
    status: ImportStatus
    dry_run: bool
    result: ImportResult
    errors: list[ReadingError] = field(default_factory=list)
    stored: StoreReport | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "status": self.status,
            "dryRun": self.dry_run,
            "errors": [_error_json(e) for e in self.errors],
            "warnings": [_error_json(w) for w in self.result.warnings],
            "channels": channel_summaries(self.result.days),
            "reads": len(self.result.register_reads),
            "stored": self.stored.to_json() if self.stored else None,
        }


def run_import(
    file: str,
    *,
    file_format: str = "auto",
    dry_run: bool = False,
    as_json: bool = False,
    open_store: Callable[[], DocumentStore] | None = None,
    now: datetime | None = None,
    out: TextIO | None = None,
) -> int:
    """Run the command; print its report; return the exit status."""
    report = import_file(
        file,
        file_format=file_format,
        dry_run=dry_run,
        open_store=open_store or open_configured_store,
        now=now or datetime.now(UTC),
    )
    out = out or sys.stdout
    if as_json:
        out.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        out.write(human_summary(report))
    return EXIT_STATUS[report.status]


def open_configured_store() -> DocumentStore:
    """The document store the settings choose (SQLite or Cosmos DB), and nothing else:
    importing needs no bus, blobs or mail."""
    from shared.bootstrap import build_documents
    from shared.config import load_settings

    return build_documents(load_settings())


def import_file(
    file: str, *, file_format: str, dry_run: bool, open_store: Callable[[], DocumentStore], now: datetime
) -> ImportReport:
    """Read the file, and unless it is a dry run store what it yielded; opens the store only
    when there is something to store."""
    if file_format != "auto" and file_format not in IMPORTERS:
        choices = ", ".join(["auto", *IMPORTERS])
        return _failed(file, dry_run, f"unknown --format {file_format!r}: use one of {choices}")
    try:
        meter_file: MeterFile = read_meter_file(file, file_format=file_format, now=now)
    except OSError as exc:
        return _failed(file, dry_run, f"{file}: cannot read the file: {exc.strerror or exc}")
    result = meter_file.result
    report = ImportReport(file, meter_file.format, result.status, dry_run, result, errors=list(result.errors))
    if dry_run or result.status == "rejected" or not (result.days or result.register_reads):
        return report
    documents = open_store()
    try:
        report.stored = store_import(documents, result)
    except StoringInterrupted as exc:
        report.stored = exc.report
        report.errors += exc.report.errors
        message = f"{exc}; what was stored is kept, and importing the file again is safe"
        report.errors.append(ReadingError(result.source, None, None, None, message))
        report.status = "partial" if exc.report.kept else "rejected"
        return report
    finally:
        documents.close()
    report.errors += report.stored.errors
    report.status = status_after_storing(result, report.stored)
    return report


def channel_summaries(days: list[IntervalDay]) -> list[dict[str, Any]]:
    """One entry per channel (NMI, suffix and unit), in that order."""
    channels: dict[tuple[str, str, str], list[IntervalDay]] = {}
    for day in days:
        channels.setdefault((day.nmi, day.suffix, day.value_unit), []).append(day)
    return [_channel(channel_days) for _, channel_days in sorted(channels.items())]


def _channel(days: list[IntervalDay]) -> dict[str, Any]:
    days = sorted(days, key=lambda d: d.day)
    first, last = days[0], days[-1]
    letters, counts = np.unique(np.concatenate([d.quality for d in days]), return_counts=True)
    quality = {str(letter): int(count) for letter, count in zip(letters, counts, strict=True)}
    # Wh is the only unit billed as kWh; integer Wh / 1000 is exact to three places.
    kwh = format(Decimal(sum(d.total for d in days)).scaleb(-3), "f") if first.value_unit == "Wh" else None
    return {
        "nmi": first.nmi,
        "suffix": first.suffix,
        "uom": first.uom,
        "intervals": sum(d.interval_count for d in days),
        "kwh": kwh,
        "quality": quality,  # np.unique sorts the letters
        "first": _market_midnight(first).isoformat(),
        "last": (_market_midnight(last) + timedelta(minutes=1440 - last.interval_minutes)).isoformat(),
    }


def _market_midnight(day: IntervalDay) -> datetime:
    # Interval 1 starts at the market day's 00:00; NEM market time has no daylight saving.
    return datetime.combine(day.day, time.min, tzinfo=NEM_TIME)


def human_summary(report: ImportReport) -> str:
    data = report.to_json()
    what = f" ({report.format})" if report.format else ""
    lines = [f"{report.file}: {report.status}{what}"]
    for channel in data["channels"]:
        energy = f"{channel['kwh']} kWh" if channel["kwh"] is not None else f"in {channel['uom']}"
        quality = " ".join(f"{flag} {count}" for flag, count in channel["quality"].items())
        lines.append(
            f"  {channel['nmi']} {channel['suffix']}: {channel['intervals']} intervals, {energy}, "
            f"quality {quality}, {channel['first']} to {channel['last']}"
        )
    if report.result.register_reads:
        lines.append(f"  {data['reads']} register reads")
    if report.dry_run:
        lines.append("  dry run: nothing stored")
    elif report.stored is not None:
        days = ", ".join(f"{count} {outcome}" for outcome, count in report.stored.days.items() if count)
        lines.append(f"  stored: {days or 'no channel-days'}; {report.stored.reads} register reads")
    if report.errors:
        lines.append(f"errors ({len(report.errors)}):")
        lines += [f"  {_error_text(e)}" for e in report.errors[:HUMAN_ERRORS_SHOWN]]
        if len(report.errors) > HUMAN_ERRORS_SHOWN:
            lines.append(f"  ... {len(report.errors) - HUMAN_ERRORS_SHOWN} more (--json lists them all)")
    if report.result.warnings:
        lines.append(f"warnings: {len(report.result.warnings)} (--json lists them)")
    return "\n".join(lines) + "\n"


def _failed(file: str, dry_run: bool, message: str) -> ImportReport:
    error = ReadingError(file, None, None, None, message)
    result = ImportResult(source=file, status="rejected", errors=[error])
    return ImportReport(file, None, "rejected", dry_run, result, errors=[error])


def _error_json(error: ReadingError) -> dict[str, Any]:
    return {"line": error.line, "record": error.record, "field": error.field, "message": error.message}


def _error_text(error: ReadingError) -> str:
    where = ", ".join(
        part
        for part in (
            f"line {error.line}" if error.line is not None else "",
            f"record {error.record}" if error.record else "",
            error.field or "",
        )
        if part
    )
    return f"{where}: {error.message}" if where else error.message
