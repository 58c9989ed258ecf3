"""What meter data becomes once it is read: channel-days of interval energy and register reads.

Pure domain: no storage, no HTTP. Each file format is one module that turns lines into an
``ImportResult`` (see ``Importer``); everything downstream sees only these types.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal, Protocol

import numpy as np

# NEM market time is AEST all year: no daylight saving, so every market day has 1440 minutes.
NEM_TIME = timezone(timedelta(hours=10), "AEST")

ReadType = Literal["actual", "customer", "estimated"]
ImportStatus = Literal["accepted", "partial", "rejected"]


@dataclass(frozen=True)
class IntervalQuality:
    """One 400 record: the quality of a run of intervals (1-based, inclusive)."""

    start_interval: int
    end_interval: int
    quality_method: str  # e.g. "A", "S14", "F14"
    reason_code: int | None
    reason_description: str


@dataclass(frozen=True)
class B2BDetail:
    """One 500 record: a manual read performed or attempted on the day."""

    trans_code: str
    ret_service_order: str
    read_datetime: datetime | None
    index_read: str  # the register as shown on the dial; leading zeros matter


@dataclass(frozen=True, eq=False)  # eq=False: numpy arrays have no single truth value
class IntervalDay:
    """One channel (NMI + suffix) for one NEM market day.

    ``values_wh`` holds one integer per interval in ``value_unit``: Wh for active energy
    (VArh or VAh for reactive or apparent energy, which are also ``is_energy``); demand units
    such as kW are kept as milli-units (mW) with ``is_energy=False``. Only a channel whose
    ``value_unit`` is "Wh" may be billed as kWh. Both arrays are read-only copies.
    """

    nmi: str
    suffix: str
    register_id: str
    meter_serial: str
    uom: str  # as written in the file, e.g. "KWH"
    value_unit: str
    is_energy: bool
    interval_minutes: int
    day: date  # NEM market date
    values_wh: np.ndarray  # int64, 1440 / interval_minutes of them
    quality: np.ndarray  # one letter per interval (A, E, S, F, N) after applying 400 records
    quality_method: str  # the 300's QualityMethod, e.g. "A", "E52", "V"
    reason_code: int | None
    reason_description: str
    update_datetime: datetime  # the MDP's version stamp: the newest version of a day wins
    source_line: int  # line number of the 300 record
    source: str = ""
    msats_load_datetime: datetime | None = None
    quality_details: tuple[IntervalQuality, ...] = ()
    b2b_details: tuple[B2BDetail, ...] = ()

    def __post_init__(self) -> None:
        if self.interval_minutes not in (5, 15, 30):
            raise ValueError(f"interval length {self.interval_minutes} minutes is not 5, 15 or 30")
        values = np.array(self.values_wh, dtype=np.int64)
        quality = np.array(self.quality, dtype="U1")
        for name, array in (("values_wh", values), ("quality", quality)):
            if array.shape != (self.interval_count,):
                raise ValueError(f"{name} has {array.size} entries, expected {self.interval_count}")
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        if self.update_datetime.tzinfo is None:
            raise ValueError("update_datetime must be timezone-aware")

    @property
    def interval_count(self) -> int:
        return 1440 // self.interval_minutes

    @property
    def start_utc(self) -> datetime:
        """Start of interval 1. Intervals are labelled by their end: interval n ends at
        00:00 + n x length market time, so interval 1 starts at the day's 00:00 +10:00."""
        return datetime.combine(self.day, time.min, tzinfo=NEM_TIME).astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        return self.start_utc + timedelta(days=1)

    @property
    def total(self) -> int:
        """The day's sum in ``value_unit`` (meaningful for energy only)."""
        return int(self.values_wh.sum())


@dataclass(frozen=True)
class RegisterRead:
    """A register as read on the dial, e.g. by field staff with the mobile app."""

    meter_serial: str
    register_id: str
    value: Decimal
    read_at: datetime  # aware
    read_type: ReadType
    reader_id: str
    photo_ref: str | None = None


@dataclass(frozen=True)
class ReadingError:
    """Something wrong (or, in ``warnings``, worth knowing) in imported meter data, located
    well enough for the sender to fix it."""

    source: str
    line: int | None
    record_type: str | None
    field: str | None
    message: str

    @property
    def record(self) -> str | None:
        """Short name for ``record_type``, used by the import report."""
        return self.record_type

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                self.source,
                f"line {self.line}" if self.line is not None else "",
                f"record {self.record_type}" if self.record_type else "",
                self.field or "",
            )
            if part
        )
        return f"{where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "line": self.line,
            "recordType": self.record_type,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class ImportResult:
    """What one file yielded.

    ``status``: "accepted" (no errors), "partial" (some channel-days or blocks rejected,
    the rest usable), "rejected" (the file as a whole is unusable: ``days`` is empty).
    Interval formats (NEM12) fill ``days``; register-read formats (NEM13, spreadsheets)
    fill ``register_reads``.
    """

    source: str
    status: ImportStatus
    days: list[IntervalDay] = field(default_factory=list)
    errors: list[ReadingError] = field(default_factory=list)
    warnings: list[ReadingError] = field(default_factory=list)
    sender: str | None = None  # FromParticipant
    recipient: str | None = None  # ToParticipant
    created_at: datetime | None = None
    register_reads: list[RegisterRead] = field(default_factory=list)


class Importer(Protocol):
    """One meter-data file format."""

    name: str

    def parse(self, lines: Iterable[str] | str, *, source: str) -> ImportResult: ...
