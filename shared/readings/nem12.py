"""NEM12 interval meter data (AEMO MDFF): lines in, channel-days out, every error located.

A file is ``100`` header, then blocks: a ``200`` opens a datastream (NMI + suffix) and owns
the ``300`` days (each with its ``400`` quality runs and ``500`` read details) that follow
it, until the next ``200``; a ``900`` ends the file. What an error rejects follows what it
breaks:

* a bad 300, 400 or 500: that channel-day only;
* a bad 200: its whole block (its lines are skipped), other blocks are kept;
* no 100, no 900 or a broken one, a second 100, records after the 900, NEM13 records, a
  line too long to be NEM12: the whole file (``status == "rejected"``, no days).

The same channel-day twice keeps the later UpdateDateTime (the MDP's version stamp) and
says so in ``warnings``; two different versions with the same stamp cannot be ordered and
are both rejected.

Lines are read one at a time, so a file is never held whole; accepted days are collected
in a list, because a missing 900 at the very end still rejects everything before it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import IO, NoReturn

import numpy as np

from shared.readings.model import (
    NEM_TIME,
    B2BDetail,
    ImportResult,
    ImportStatus,
    IntervalDay,
    IntervalQuality,
    ReadingError,
)
from shared.readings.units import Unit, UnknownUnit, parse_unit, texts_to_stored_integers, to_stored_integer

Nem12Result = ImportResult

# The longest legal line is a 5-minute 300 record (288 values): a few kilobytes. Anything
# far longer is not NEM12, and reading on would load an unbounded line into memory.
MAX_LINE_CHARS = 64 * 1024
INTERVAL_LENGTHS = (5, 15, 30)
MAX_LISTED = 1000  # errors (and warnings) listed one by one; beyond that only counted
_MAX_STORED = 2**62  # far above any meter's day, far below int64 overflow

_VALUE = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)\Z")  # no sign, no exponent: the spec forbids both
_VALUES_ROW = re.compile(r"(?:(?:\d+(?:\.\d*)?|\.\d+),)*(?:\d+(?:\.\d*)?|\.\d+)\Z")
_QUALITY = re.compile(r"([AEFNSV])(\d{2})?\Z")
_NMI = re.compile(r"[A-Z0-9]{10}\Z")
_SUFFIX = re.compile(r"[A-Z][A-Z0-9]\Z")
_EXPONENT = re.compile(r"[\d.]+[eE][+-]?\d+\Z")
_TRANS_CODES = frozenset("ACDEGNORS")

_DAY_REJECTED = "channel-day rejected"
_BLOCK_REJECTED = "200 block rejected: its records are skipped"
_FILE_REJECTED = "file rejected"


class _FieldError(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class _FileRejected(Exception):
    def __init__(self, error: ReadingError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class _Block:
    line: int
    nmi: str
    suffix: str
    register_id: str
    meter_serial: str
    uom: str
    unit: Unit
    interval_minutes: int

    @property
    def interval_count(self) -> int:
        return 1440 // self.interval_minutes


@dataclass
class _PendingDay:
    """A 300 accepted so far, waiting for its 400 and 500 records."""

    block: _Block
    line: int
    day: date
    values: np.ndarray
    quality: np.ndarray
    quality_method: str
    reason_code: int | None
    reason_description: str
    update_datetime: datetime
    msats_load_datetime: datetime | None
    covered: np.ndarray  # intervals given a quality by a 400
    details: list[IntervalQuality] = field(default_factory=list)
    b2b: list[B2BDetail] = field(default_factory=list)

    @property
    def is_variable(self) -> bool:
        return self.quality_method == "V"


def parse_nem12(lines: Iterable[str] | str, *, source: str) -> Nem12Result:
    """Parse NEM12 text (a string, or any iterable of lines such as an open file)."""
    if isinstance(lines, str):
        lines = io.StringIO(lines, newline="")
    return _Nem12Parser(source).run(lines)


def read_nem12_file(path: str | PathLike[str], *, source: str | None = None) -> Nem12Result:
    """Parse a NEM12 file from disk, lazily: a plain CSV (any extension) or a zip holding one."""
    path = Path(path)
    source = source or path.name
    try:
        if not zipfile.is_zipfile(path):
            with path.open("rb") as raw:
                return _parse_stream(raw, source=source)
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                names = ", ".join(m.filename for m in members) or "nothing"
                return _rejected(source, f"a zip must hold exactly one meter-data file; this one holds {names}")
            with archive.open(members[0]) as raw:
                return _parse_stream(raw, source=f"{source}:{members[0].filename}")
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
        # Corrupt archive, CRC mismatch, unsupported compression or encryption.
        return _rejected(source, f"unreadable zip: {exc}")


class Nem12Importer:
    name = "NEM12"

    def parse(self, lines: Iterable[str] | str, *, source: str) -> ImportResult:
        return parse_nem12(lines, source=source)


NEM12 = Nem12Importer()


def _parse_stream(raw: IO[bytes], *, source: str) -> Nem12Result:
    # errors="replace" lets the parser reject a non-UTF-8 file with a line number.
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
    return parse_nem12(_bounded_lines(text), source=source)


def _bounded_lines(text: io.TextIOBase) -> Iterator[str]:
    while line := text.readline(MAX_LINE_CHARS + 1):
        yield line


def _rejected(source: str, message: str) -> Nem12Result:
    return Nem12Result(source=source, status="rejected", errors=[ReadingError(source, None, None, None, message)])


class _Nem12Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.result = Nem12Result(source=source, status="accepted")
        self.seen_header = False
        self.ended = False
        self.block: _Block | None = None
        self.skipping_block = False
        self.day: _PendingDay | None = None
        self.skipping_day = False
        self.accepted: dict[tuple[str, str, date], IntervalDay] = {}
        self.conflicts: dict[tuple[str, str, date], datetime] = {}
        self.unlisted = {"errors": 0, "warnings": 0}

    def run(self, lines: Iterable[str]) -> Nem12Result:
        try:
            for number, raw in enumerate(lines, start=1):
                self._line(number, raw)
            if not self.seen_header:
                self._reject_file(None, "100", "empty file: no 100 header record")
            if not self.ended:
                self._reject_file(None, "900", "no 900 end record: the file is truncated or incomplete")
        except _FileRejected as rejection:
            self.result.errors.append(rejection.error)
            self.result.status = "rejected"
        else:
            self.result.days = list(self.accepted.values())
            self.result.status = self._status()
        for kind, count in self.unlisted.items():
            if count:
                summary = ReadingError(self.source, None, None, None, f"{count} more not listed")
                getattr(self.result, kind).append(summary)
        return self.result

    def _status(self) -> ImportStatus:
        if not self.result.errors:
            return "accepted"
        return "partial" if self.result.days else "rejected"

    # -- one line -------------------------------------------------------------------------

    def _line(self, number: int, raw: str) -> None:
        text = raw.rstrip("\r\n")
        if number == 1:
            text = text.removeprefix("\ufeff")  # Excel's "CSV UTF-8" adds a byte-order mark
        if len(text) > MAX_LINE_CHARS:
            self._reject_file(number, None, f"line longer than {MAX_LINE_CHARS} characters: not NEM12")
        if "\ufffd" in text:
            self._reject_file(number, None, "not UTF-8 text")
        if self.ended:
            self._reject_file(number, None, "a record after the 900 end record")
        try:
            fields = _split(text)
        except csv.Error as exc:
            if not self.seen_header:
                self._reject_file(number, None, f"unreadable CSV: {exc}")
            self._error(number, None, None, f"unreadable CSV: {exc}")
            self._abandon_day(number)
            return
        if not any(fields):
            return  # blank lines (and spreadsheet rows of commas) carry nothing
        record = fields[0][:12]  # a junk line's first field is echoed in the error, so keep it short
        if not self.seen_header:
            if record != "100":
                self._reject_file(number, record, f"no 100 header record: the file starts with a {record} record")
            self._header(number, fields)
            return
        match record:
            case "100":
                self._reject_file(number, record, "a second 100 header: send each file on its own")
            case "200":
                self._close_day()
                self._block(number, fields)
            case "300":
                self._close_day()
                self._interval_day(number, fields)
            case "400":
                self._interval_quality(number, fields)
            case "500":
                self._b2b_detail(number, fields)
            case "900":
                self._close_day()
                self._end(number, fields)
            case "250" | "550":
                self._reject_file(number, record, "a NEM13 record in a NEM12 file")
            case _:
                self._error(number, record, None, f"unknown record type {record!r}")
                # It may be the rest of a 300 broken across lines: the open day is not to be trusted.
                self._abandon_day(number)

    # -- records --------------------------------------------------------------------------

    def _header(self, number: int, fields: list[str]) -> None:
        try:
            fields = _fit(fields, minimum=3, maximum=5)
            if fields[1].upper() != "NEM12":
                raise _FieldError("VersionHeader", f"version {fields[1]!r} is not NEM12")
            self.result.created_at = _datetime(fields[2], "DateTime", digits=(12,))
        except _FieldError as problem:
            self._reject_file(number, "100", problem.message, problem.field)
        self.result.sender = fields[3] or None
        self.result.recipient = fields[4] or None
        self.seen_header = True

    def _end(self, number: int, fields: list[str]) -> None:
        if any(fields[1:]):
            self._reject_file(number, "900", "broken 900 end record: it has fields")
        self.block, self.skipping_block, self.skipping_day = None, False, False
        self.ended = True

    def _block(self, number: int, fields: list[str]) -> None:
        self.block, self.skipping_block, self.skipping_day = None, False, False
        try:
            self.block = _parse_block(number, fields)
        except _FieldError as problem:
            self._error(number, "200", problem.field, f"{problem.message} ({_BLOCK_REJECTED})")
            self.skipping_block = True

    def _interval_day(self, number: int, fields: list[str]) -> None:
        self.skipping_day = False
        if self.skipping_block:
            return
        if self.block is None:
            self._error(number, "300", None, f"a 300 record outside any 200 block ({_DAY_REJECTED})")
            self.skipping_day = True
            return
        try:
            self.day = _parse_day(number, fields, self.block)
        except _FieldError as problem:
            self._error(number, "300", problem.field, f"{problem.message} ({_DAY_REJECTED})")
            self.skipping_day = True

    def _interval_quality(self, number: int, fields: list[str]) -> None:
        if self.skipping_block or self.skipping_day:
            return
        if self.day is None:
            self._error(number, "400", None, "a 400 record without a 300 before it")
            return
        try:
            _apply_quality(self.day, fields)
        except _FieldError as problem:
            self._reject_day(number, "400", problem)

    def _b2b_detail(self, number: int, fields: list[str]) -> None:
        if self.skipping_block or self.skipping_day:
            return
        if self.day is None:
            self._error(number, "500", None, "a 500 record without a 300 before it")
            return
        try:
            self.day.b2b.append(_parse_b2b(fields))
        except _FieldError as problem:
            self._reject_day(number, "500", problem)

    # -- days -----------------------------------------------------------------------------

    def _reject_day(self, number: int, record: str, problem: _FieldError) -> None:
        assert self.day is not None
        message = f"{problem.message} ({_DAY_REJECTED}: 300 at line {self.day.line})"
        self._error(number, record, problem.field, message)
        self.day, self.skipping_day = None, True

    def _abandon_day(self, number: int) -> None:
        if self.day is not None:
            self._error(self.day.line, "300", None, f"{_DAY_REJECTED}: line {number} inside its records is unreadable")
            self.day, self.skipping_day = None, True

    def _close_day(self) -> None:
        pending, self.day = self.day, None
        if pending is None:
            return
        if pending.is_variable and not pending.covered.all():
            missing = _ranges(np.flatnonzero(~pending.covered) + 1)
            self._error(
                pending.line,
                "300",
                "QualityMethod",
                f"quality V needs a 400 record for every interval; none for intervals {missing} ({_DAY_REJECTED})",
            )
            return
        block = pending.block
        self._keep(
            IntervalDay(
                nmi=block.nmi,
                suffix=block.suffix,
                register_id=block.register_id,
                meter_serial=block.meter_serial,
                uom=block.uom,
                value_unit=block.unit.stored_as,
                is_energy=block.unit.is_energy,
                interval_minutes=block.interval_minutes,
                day=pending.day,
                values_wh=pending.values,
                quality=pending.quality,
                quality_method=pending.quality_method,
                reason_code=pending.reason_code,
                reason_description=pending.reason_description,
                update_datetime=pending.update_datetime,
                source_line=pending.line,
                source=self.source,
                msats_load_datetime=pending.msats_load_datetime,
                quality_details=tuple(pending.details),
                b2b_details=tuple(pending.b2b),
            )
        )

    def _keep(self, day: IntervalDay) -> None:
        """Keep the newest version of each channel-day."""
        key = (day.nmi, day.suffix, day.day)
        what = f"{day.nmi}/{day.suffix} {day.day.isoformat()}"
        stamp = day.update_datetime
        if key in self.conflicts and stamp <= self.conflicts[key]:
            self._error(day.source_line, "300", "UpdateDateTime", f"{what}: not newer than its conflicting versions")
            return
        earlier = self.accepted.get(key)
        if earlier is None or stamp > earlier.update_datetime:
            self.accepted[key] = day
            self.conflicts.pop(key, None)
            if earlier is not None:
                self._warn(day.source_line, f"{what} replaces the older version at line {earlier.source_line}")
        elif stamp < earlier.update_datetime:
            self._warn(day.source_line, f"{what} ignored: the version at line {earlier.source_line} is newer")
        elif _same_data(day, earlier):
            self._warn(day.source_line, f"{what} repeats line {earlier.source_line}; ignored")
        else:
            del self.accepted[key]
            self.conflicts[key] = stamp
            self._error(
                day.source_line,
                "300",
                "UpdateDateTime",
                f"{what} differs from line {earlier.source_line} with the same UpdateDateTime; both rejected",
            )

    # -- reporting ------------------------------------------------------------------------

    def _error(self, line: int | None, record: str | None, field_name: str | None, message: str) -> None:
        self._list("errors", ReadingError(self.source, line, record, field_name, message))

    def _warn(self, line: int, message: str) -> None:
        self._list("warnings", ReadingError(self.source, line, "300", None, message))

    def _list(self, kind: str, entry: ReadingError) -> None:
        # A garbage file can have a million bad lines: the report must not grow with it.
        listed: list[ReadingError] = getattr(self.result, kind)
        if len(listed) < MAX_LISTED:
            listed.append(entry)
        else:
            self.unlisted[kind] += 1

    def _reject_file(
        self, line: int | None, record: str | None, message: str, field_name: str | None = None
    ) -> NoReturn:
        raise _FileRejected(ReadingError(self.source, line, record, field_name, f"{message} ({_FILE_REJECTED})"))


# -- record parsers: plain functions raising _FieldError ------------------------------------


def _parse_block(number: int, fields: list[str]) -> _Block:
    fields = _fit(fields, minimum=9, maximum=10)
    nmi, configuration, register_id, suffix, _datastream, serial, uom, length, *rest = fields[1:]
    if not _NMI.match(nmi):
        raise _FieldError("NMI", f"NMI {nmi!r} is not 10 letters or digits")
    if not configuration:
        raise _FieldError("NMIConfiguration", "empty NMIConfiguration")
    if not _SUFFIX.match(suffix):
        raise _FieldError("NMISuffix", f"NMI suffix {suffix!r} is not a letter and a letter or digit")
    if suffix not in (configuration[i : i + 2] for i in range(0, len(configuration), 2)):
        raise _FieldError("NMISuffix", f"suffix {suffix} is not in NMIConfiguration {configuration}")
    if not register_id:
        raise _FieldError("RegisterID", "blank RegisterID")
    try:
        unit = parse_unit(uom)
    except UnknownUnit as exc:
        raise _FieldError("UOM", str(exc)) from None
    if length not in {str(n) for n in INTERVAL_LENGTHS}:
        raise _FieldError("IntervalLength", f"interval length {length!r} is not 5, 15 or 30 minutes")
    if rest and rest[0]:
        _date(rest[0], "NextScheduledReadDate")
    return _Block(number, nmi, suffix, register_id, serial, uom, unit, int(length))


def _parse_day(number: int, fields: list[str], block: _Block) -> _PendingDay:
    count = block.interval_count
    tail = 2 + count  # index of QualityMethod
    if len(fields) < tail + 4 or not fields[tail][:1].isalpha():
        found = next((i for i in range(2, len(fields)) if fields[i][:1].isalpha()), len(fields)) - 2
        raise _FieldError(
            "IntervalValue",
            f"expected {count} interval values for {block.interval_minutes}-minute intervals, found {found}",
        )
    fields = _fit(fields, minimum=tail + 4, maximum=tail + 5)
    day = _date(fields[1], "IntervalDate")
    values = _interval_values(fields[2:tail], block.unit)
    letter, method = _quality(fields[tail], "QualityMethod", in_400=False)
    reason = _reason(fields[tail + 1], fields[tail + 2], letter)
    update = _datetime(fields[tail + 3], "UpdateDateTime", digits=(14, 12))
    msats = _datetime(fields[tail + 4], "MSATSLoadDateTime", digits=(14, 12)) if fields[tail + 4] else None
    return _PendingDay(
        block=block,
        line=number,
        day=day,
        values=values,
        quality=np.full(count, "" if letter == "V" else letter, dtype="U1"),
        quality_method=letter + method,
        reason_code=reason,
        reason_description=fields[tail + 2],
        update_datetime=update,
        msats_load_datetime=msats,
        covered=np.zeros(count, dtype=bool),
    )


def _interval_values(texts: list[str], unit: Unit) -> np.ndarray:
    # The hot loop of a big file: one regex over the row, then an exact conversion per value.
    if _VALUES_ROW.match(",".join(texts)):
        stored = texts_to_stored_integers(texts, unit)
        if max(stored) < _MAX_STORED:
            return np.array(stored, dtype=np.int64)
    bad = [
        (position, text)
        for position, text in enumerate(texts, start=1)
        if not _VALUE.match(text) or to_stored_integer(Decimal(text), unit) >= _MAX_STORED
    ]
    position, text = bad[0]
    more = f" (and {len(bad) - 1} more bad values)" if len(bad) > 1 else ""
    raise _FieldError(f"IntervalValue{position}", _why_not_a_value(text) + more)


def _why_not_a_value(text: str) -> str:
    if not text:
        return "blank interval value"
    if text.startswith("-"):
        return f"negative interval value {text!r}"
    if _EXPONENT.match(text):
        return f"exponent notation {text!r} is not allowed in NEM12"
    if _VALUE.match(text):
        return f"interval value {text!r} is implausibly large"
    return f"interval value {text!r} is not a number"


def _apply_quality(day: _PendingDay, fields: list[str]) -> None:
    fields = _fit(fields, minimum=4, maximum=6)
    count = len(day.values)
    start = _interval_number(fields[1], "StartInterval", count)
    end = _interval_number(fields[2], "EndInterval", count)
    if start > end:
        raise _FieldError("EndInterval", f"end interval {end} is before start interval {start}")
    letter, method = _quality(fields[3], "QualityMethod", in_400=True)
    reason = _reason(fields[4], fields[5], letter)
    if not day.is_variable and letter != day.quality_method[0]:
        raise _FieldError(
            "QualityMethod",
            f"quality {letter} contradicts the 300's {day.quality_method}: only a V day has per-interval quality",
        )
    if day.covered[start - 1 : end].any():
        raise _FieldError("StartInterval", f"intervals {start}-{end} overlap an earlier 400 record")
    day.covered[start - 1 : end] = True
    day.quality[start - 1 : end] = letter
    day.details.append(IntervalQuality(start, end, letter + method, reason, fields[5]))


def _parse_b2b(fields: list[str]) -> B2BDetail:
    fields = _fit(fields, minimum=2, maximum=5)
    if fields[1] not in _TRANS_CODES:
        raise _FieldError("TransCode", f"unknown TransCode {fields[1]!r}")
    read_at = _datetime(fields[3], "ReadDateTime", digits=(14,)) if fields[3] else None
    return B2BDetail(fields[1], fields[2], read_at, fields[4])


# -- fields ---------------------------------------------------------------------------------


def _split(text: str) -> list[str]:
    # Free-text fields may be quoted (RFC 4180); only those lines pay for the csv module.
    fields = next(csv.reader([text], strict=True)) if '"' in text else text.split(",")
    return [f.strip() for f in fields]


def _fit(fields: list[str], *, minimum: int, maximum: int) -> list[str]:
    """Check the field count; pad optional trailing fields, drop spreadsheet padding."""
    record = fields[0]
    if len(fields) < minimum:
        raise _FieldError(None, f"short {record} record: {len(fields)} fields, expected at least {minimum}")
    if any(fields[maximum:]):
        raise _FieldError(None, f"{record} record has {len(fields)} fields, at most {maximum} expected")
    return fields[:maximum] + [""] * (maximum - len(fields))


def _quality(text: str, name: str, *, in_400: bool) -> tuple[str, str]:
    match = _QUALITY.match(text)
    if not match:
        raise _FieldError(name, f"unknown quality flag {text!r}")
    letter, method = match.group(1), match.group(2) or ""
    if letter == "V" and in_400:
        raise _FieldError(name, "quality V is not allowed in a 400 record")
    if letter in "AV" and method:
        raise _FieldError(name, f"quality {letter} takes no method: {text!r}")
    if letter in "ESF" and not method:
        raise _FieldError(name, f"quality {letter} needs a two-digit method flag: {text!r}")
    return letter, method


def _reason(code_text: str, description: str, letter: str) -> int | None:
    if not code_text:
        if letter in "SF":
            raise _FieldError("ReasonCode", f"quality {letter} needs a reason code")
        return None
    if letter == "V":
        raise _FieldError("ReasonCode", "a V day carries its reasons in 400 records, not in the 300")
    if not code_text.isdigit() or not 0 <= int(code_text) <= 109:
        raise _FieldError("ReasonCode", f"reason code {code_text!r} is not 0-109")
    if int(code_text) == 0 and not description:
        raise _FieldError("ReasonDescription", "reason code 0 needs a description")
    return int(code_text)


def _interval_number(text: str, name: str, count: int) -> int:
    if not text.isdigit() or not 1 <= int(text) <= count:
        raise _FieldError(name, f"{text!r} is not an interval number from 1 to {count}")
    return int(text)


def _date(text: str, name: str) -> date:
    try:
        if len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        pass
    raise _FieldError(name, f"{text!r} is not a date (CCYYMMDD)")


def _datetime(text: str, name: str, *, digits: tuple[int, ...]) -> datetime:
    """A DateTime12 or DateTime14 in NEM market time."""
    try:
        if len(text) in digits and text.isdigit():
            seconds = int(text[12:14] or 0)
            parts = (int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]), seconds)
            return datetime(*parts, tzinfo=NEM_TIME)
    except ValueError:
        pass
    shape = " or ".join("CCYYMMDDhhmm" + "ss" * (n == 14) for n in digits)
    raise _FieldError(name, f"{text!r} is not a date and time ({shape})")


def _same_data(a: IntervalDay, b: IntervalDay) -> bool:
    return np.array_equal(a.values_wh, b.values_wh) and np.array_equal(a.quality, b.quality)


def _ranges(numbers: np.ndarray) -> str:
    """1,2,3,7 -> "1-3, 7"."""
    runs: list[list[int]] = []
    for n in (int(x) for x in numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in runs)
