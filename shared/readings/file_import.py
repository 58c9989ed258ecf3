"""Storing what a meter-data file yielded: the one path for the CLI and the inbox handler.

Interval days go to the service point whose id is their NMI; register reads to the service
point named by their NMI (NEM13 reads carry one) or else holding their meter serial (as
mobile-app reads are matched). A reading for no known service point is reported, not
stored, with the line it came from. Documents are stored through ``history``, whose ids
come from the reading itself, so storing the same file again changes nothing.

A storage failure part-way is raised as ``StoringInterrupted``, carrying what was stored
before it: a queue handler must fail so the message is retried (storing again is safe),
and the CLI reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.platform.documents import Container, DocumentStore, DocumentStoreError
from shared.readings.history import store_interval_day, store_register_read
from shared.readings.model import ImportResult, ImportStatus, ReadingError, RegisterRead
from shared.readings.nem13 import AccumulationRead
from shared.resources import READINGS, SERVICE_POINTS

DAY_OUTCOMES = ("stored", "replaced", "unchanged", "kept-newer")  # what history.store_interval_day returns


@dataclass
class StoreReport:
    """What storing an import did. ``days`` counts channel-days by what ``history`` did with
    them (stored, replaced, unchanged, kept-newer); ``reads`` counts register reads stored."""

    days: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DAY_OUTCOMES, 0))
    reads: int = 0
    errors: list[ReadingError] = field(default_factory=list)

    @property
    def kept(self) -> int:
        """Readings now in the store from this file (an unchanged day is there too)."""
        return sum(self.days.values()) + self.reads

    def to_json(self) -> dict[str, object]:
        return {"days": dict(self.days), "reads": self.reads}


class StoringInterrupted(DocumentStoreError):
    """The store failed part-way; ``report`` says what was stored before it."""

    def __init__(self, report: StoreReport, cause: DocumentStoreError) -> None:
        super().__init__(f"storing stopped part-way, {report.kept} kept: {cause}")
        self.report = report


def store_import(documents: DocumentStore, result: ImportResult) -> StoreReport:
    """Store the accepted days and reads of ``result``; nothing for a rejected file."""
    report = StoreReport()
    if result.status == "rejected":
        return report
    readings = documents.container(READINGS.name)
    places = _ServicePoints(documents.container(SERVICE_POINTS.name))
    reported: set[ReadingError] = set()  # a 250's two reads share one line and one NMI
    try:
        for day in result.days:
            if not places.has_nmi(day.nmi):
                report.errors.append(
                    ReadingError(result.source, day.source_line, "300", "NMI", f"no service point has NMI {day.nmi}")
                )
                continue
            report.days[store_interval_day(readings, day.nmi, day, source=result.source)] += 1
        for read in result.register_reads:
            service_point = places.for_read(read)
            if service_point is None:
                error = _unknown_meter(result.source, read)
                if error not in reported:
                    reported.add(error)
                    report.errors.append(error)
                continue
            store_register_read(readings, service_point, read, source=result.source)
            report.reads += 1
    except DocumentStoreError as exc:
        raise StoringInterrupted(report, exc) from exc
    return report


def status_after_storing(result: ImportResult, report: StoreReport) -> ImportStatus:
    """The file's status once stored: readings for unknown service points make it partial,
    or rejected when nothing else was kept."""
    if result.status == "rejected" or not report.errors:
        return result.status
    return "partial" if report.kept else "rejected"


class _ServicePoints:
    """Service-point look-ups, each asked of the store once per import."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.nmis: dict[str, bool] = {}
        self.meters: dict[str, str | None] = {}

    def has_nmi(self, nmi: str) -> bool:
        if nmi not in self.nmis:
            self.nmis[nmi] = self.container.find(nmi, nmi) is not None
        return self.nmis[nmi]

    def for_read(self, read: RegisterRead) -> str | None:
        if isinstance(read, AccumulationRead):
            return read.nmi if self.has_nmi(read.nmi) else None
        if read.meter_serial not in self.meters:
            matches = self.container.query({"meterSerial": read.meter_serial})
            self.meters[read.meter_serial] = matches[0]["servicePointId"] if matches else None
        return self.meters[read.meter_serial]


def _unknown_meter(source: str, read: RegisterRead) -> ReadingError:
    line = getattr(read, "source_line", None)  # NEM13 and spreadsheet reads know where they came from
    if isinstance(read, AccumulationRead):
        return ReadingError(source, line, "250", "NMI", f"no service point has NMI {read.nmi}")
    return ReadingError(source, line, None, "meterSerial", f"no service point has meter {read.meter_serial}")
