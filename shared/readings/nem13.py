"""NEM13 accumulation meter data (AEMO MDFF): lines in, register reads out, every error located.

A file is a ``100`` header, then ``250`` records, each optionally followed by one ``550``,
then a ``900`` end. A 250 is one register of a basic meter between two reads: the previous
and the current read, each with its date-time and quality, and the quantity used between
them (after the meter multiplier and any rollover, so not simply current minus previous).
Each 250 yields two ``AccumulationRead``: its previous read and its current read; only the
current one carries the quantity. A 550 gives the two reads' B2B trans codes and service
orders. What an error rejects follows what it breaks:

* a bad 250, or a bad 550 after it: that 250 record (both its reads), the rest is kept;
* no 100, no 900 or a broken one, a second 100, records after the 900, NEM12 records, a
  line too long to be NEM13: the whole file (``status == "rejected"``, no reads).

Consecutive 250s for one register repeat the earlier current read as the next previous
read: the same read twice is kept once. Two different versions of one read keep the later
UpdateDateTime (the MDP's version stamp) and say so in ``warnings``; with the same stamp
they cannot be ordered and neither is kept.

The field rules (dates, quality flags, reason codes) are NEM12's; they are repeated here
rather than imported from ``nem12``'s private helpers so each format module stands alone.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, NoReturn, cast

from shared.readings.model import NEM_TIME, ImportResult, ImportStatus, ReadingError, ReadType, RegisterRead
from shared.readings.units import Unit, UnknownUnit, parse_unit, to_stored_integer

# A 250 with two 240-character reason descriptions stays under 1 KiB; far longer is not NEM13.
MAX_LINE_CHARS = 8 * 1024
MAX_LISTED = 1000  # errors (and warnings) listed one by one; beyond that only counted
MAX_READ_CHARS = 15  # PreviousRegisterRead and CurrentRegisterRead are Varchar(15)
_MAX_STORED = 2**62

_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)\Z")  # no sign, no exponent: the spec forbids both
_QUALITY = re.compile(r"([AESF])(\d{2})?\Z")  # V (variable) is NEM12-only; N is not a read
_NMI = re.compile(r"[A-Z0-9]{10}\Z")
_SUFFIX = re.compile(r"[A-Z0-9]{2}\Z")  # NEM13 suffixes are usually digits: 11, 41, ...
_TRANS_CODES = frozenset("ACDEGNORS")
_READ_TYPES: dict[str, ReadType] = {"A": "actual", "E": "estimated", "S": "estimated", "F": "estimated"}

_RECORD_REJECTED = "250 record rejected: neither of its reads is kept"
_FILE_REJECTED = "file rejected"

Direction = Literal["I", "E"]
Which = Literal["previous", "current"]


@dataclass(frozen=True, kw_only=True)
class AccumulationRead(RegisterRead):
    """One read of a NEM13 250 record: its previous or its current register read.

    ``value`` is the register as read, exclusive of the meter multiplier; ``index_read``
    is the same as written, with the dial's leading zeros (they tell how many dials roll
    over). ``quantity`` (current reads only) is what was used since the previous read, in
    ``uom``, after multiplier and rollover; ``quantity_stored`` is the same as the integer
    the readings keep, in ``stored_unit`` (Wh for a kWh register). ``reader_id`` is the
    file's FromParticipant: the MDP that supplied the read.
    """

    nmi: str
    suffix: str
    direction: Direction  # I: import to the grid (generation); E: export from the grid (consumption)
    which: Which
    index_read: str
    quality_method: str  # "A", "E64", "S53", ...
    reason_code: int | None
    reason_description: str
    uom: str  # as written in the file
    update_datetime: datetime
    source_line: int  # line number of the 250 record
    trans_code: str = ""  # from the 550, when there is one
    ret_service_order: str = ""
    quantity: Decimal | None = None
    quantity_stored: int | None = None
    stored_unit: str = ""


def parse_nem13(lines: Iterable[str] | str, *, source: str) -> ImportResult:
    """Parse NEM13 text (a string, or any iterable of lines such as an open file)."""
    if isinstance(lines, str):
        lines = io.StringIO(lines, newline="")
    return _Nem13Parser(source).run(lines)


class Nem13Importer:
    name = "NEM13"

    def parse(self, lines: Iterable[str] | str, *, source: str) -> ImportResult:
        return parse_nem13(lines, source=source)


NEM13 = Nem13Importer()


class _FieldError(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class _FileRejected(Exception):
    def __init__(self, error: ReadingError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass
class _PendingRecord:
    """A 250 accepted so far, waiting for its 550."""

    line: int
    previous: AccumulationRead
    current: AccumulationRead
    has_b2b: bool = False


class _Nem13Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.result = ImportResult(source=source, status="accepted")
        self.seen_header = False
        self.ended = False
        self.pending: _PendingRecord | None = None
        self.skipping_record = False  # a rejected 250: its 550 is skipped too
        self.accepted: dict[tuple[str, str, str, datetime], AccumulationRead] = {}
        self.conflicts: dict[tuple[str, str, str, datetime], datetime] = {}
        self.unlisted = {"errors": 0, "warnings": 0}

    def run(self, lines: Iterable[str]) -> ImportResult:
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
            self.result.register_reads = list(self.accepted.values())
            self.result.status = self._status()
        for kind, count in self.unlisted.items():
            if count:
                summary = ReadingError(self.source, None, None, None, f"{count} more not listed")
                getattr(self.result, kind).append(summary)
        return self.result

    def _status(self) -> ImportStatus:
        if not self.result.errors:
            return "accepted"
        return "partial" if self.result.register_reads else "rejected"

    # -- one line -------------------------------------------------------------------------

    def _line(self, number: int, raw: str) -> None:
        text = raw.rstrip("\r\n")
        if number == 1:
            text = text.removeprefix("\ufeff")  # Excel's "CSV UTF-8" adds a byte-order mark
        if len(text) > MAX_LINE_CHARS:
            self._reject_file(number, None, f"line longer than {MAX_LINE_CHARS} characters: not NEM13")
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
            self._abandon_record(number)
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
            case "250":
                self._close_record()
                self._accumulation(number, fields)
            case "550":
                self._b2b(number, fields)
            case "900":
                self._close_record()
                self._end(number, fields)
            case "200" | "300" | "400" | "500":
                self._reject_file(number, record, "a NEM12 record in a NEM13 file")
            case _:
                self._error(number, record, None, f"unknown record type {record!r}")
                # It may be the rest of a 250 broken across lines: the open record is not to be trusted.
                self._abandon_record(number)

    # -- records --------------------------------------------------------------------------

    def _header(self, number: int, fields: list[str]) -> None:
        try:
            fields = _fit(fields, minimum=3, maximum=5)
            if fields[1].upper() != "NEM13":
                raise _FieldError("VersionHeader", f"version {fields[1]!r} is not NEM13")
            self.result.created_at = _datetime(fields[2], "DateTime", digits=(12,))
        except _FieldError as problem:
            self._reject_file(number, "100", problem.message, problem.field)
        self.result.sender = fields[3] or None
        self.result.recipient = fields[4] or None
        self.seen_header = True

    def _end(self, number: int, fields: list[str]) -> None:
        if any(fields[1:]):
            self._reject_file(number, "900", "broken 900 end record: it has fields")
        self.skipping_record = False
        self.ended = True

    def _accumulation(self, number: int, fields: list[str]) -> None:
        self.skipping_record = False
        try:
            previous, current = _parse_250(number, fields, reader_id=self.result.sender or "")
        except _FieldError as problem:
            self._error(number, "250", problem.field, f"{problem.message} ({_RECORD_REJECTED})")
            self.skipping_record = True
            return
        self.pending = _PendingRecord(number, previous, current)

    def _b2b(self, number: int, fields: list[str]) -> None:
        if self.skipping_record:
            return
        if self.pending is None:
            self._error(number, "550", None, "a 550 record without a 250 before it")
            return
        try:
            if self.pending.has_b2b:
                raise _FieldError(None, "a second 550 record for one 250")
            previous_code, previous_order, current_code, current_order = _parse_550(fields)
        except _FieldError as problem:
            message = f"{problem.message} ({_RECORD_REJECTED}: 250 at line {self.pending.line})"
            self._error(number, "550", problem.field, message)
            self.pending, self.skipping_record = None, True
            return
        pending = self.pending
        pending.previous = replace(pending.previous, trans_code=previous_code, ret_service_order=previous_order)
        pending.current = replace(pending.current, trans_code=current_code, ret_service_order=current_order)
        pending.has_b2b = True

    def _abandon_record(self, number: int) -> None:
        if self.pending is not None:
            line = self.pending.line
            self._error(line, "250", None, f"{_RECORD_REJECTED}: line {number} after it is unreadable")
            self.pending, self.skipping_record = None, True

    def _close_record(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            self._keep(pending.previous)
            self._keep(pending.current)

    def _keep(self, read: AccumulationRead) -> None:
        """Keep each read once, in its newest version."""
        key = (read.nmi, read.meter_serial, read.register_id, read.read_at)
        what = f"{read.nmi} meter {read.meter_serial} register {read.register_id} read at {read.read_at.isoformat()}"
        stamp = read.update_datetime
        if key in self.conflicts and stamp <= self.conflicts[key]:
            self._error(read.source_line, "250", "UpdateDateTime", f"{what}: not newer than its conflicting versions")
            return
        earlier = self.accepted.get(key)
        if earlier is None:
            self.accepted[key] = read
            self.conflicts.pop(key, None)
        elif _same_read(read, earlier):
            # The usual chain: one record's current read is the next one's previous read.
            # Keep the version that carries the quantity used up to it.
            if earlier.quantity is None and read.quantity is not None:
                self.accepted[key] = read
            elif earlier.quantity is not None and read.quantity is not None:
                self._warn(read.source_line, f"{what} repeats line {earlier.source_line}; ignored")
        elif stamp > earlier.update_datetime:
            self.accepted[key] = read
            self._warn(read.source_line, f"{what} replaces the older version at line {earlier.source_line}")
        elif stamp < earlier.update_datetime:
            self._warn(read.source_line, f"{what} ignored: the version at line {earlier.source_line} is newer")
        else:
            del self.accepted[key]
            self.conflicts[key] = stamp
            self._error(
                read.source_line,
                "250",
                "UpdateDateTime",
                f"{what} differs from line {earlier.source_line} with the same UpdateDateTime; both rejected",
            )

    # -- reporting ------------------------------------------------------------------------

    def _error(self, line: int | None, record: str | None, field_name: str | None, message: str) -> None:
        self._list("errors", ReadingError(self.source, line, record, field_name, message))

    def _warn(self, line: int, message: str) -> None:
        self._list("warnings", ReadingError(self.source, line, "250", None, message))

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


def _parse_250(number: int, fields: list[str], *, reader_id: str) -> tuple[AccumulationRead, AccumulationRead]:
    fields = _fit(fields, minimum=22, maximum=23)
    nmi, configuration, register_id, suffix, _datastream, serial, direction = fields[1:8]
    if not _NMI.match(nmi):
        raise _FieldError("NMI", f"NMI {nmi!r} is not 10 letters or digits")
    if not configuration:
        raise _FieldError("NMIConfiguration", "empty NMIConfiguration")
    if not register_id:
        raise _FieldError("RegisterID", "blank RegisterID")
    if not _SUFFIX.match(suffix):
        raise _FieldError("NMISuffix", f"NMI suffix {suffix!r} is not two letters or digits")
    if suffix not in (configuration[i : i + 2] for i in range(0, len(configuration), 2)):
        raise _FieldError("NMISuffix", f"suffix {suffix} is not in NMIConfiguration {configuration}")
    if not serial:
        raise _FieldError("MeterSerialNumber", "blank MeterSerialNumber")
    if direction not in ("I", "E"):
        raise _FieldError("DirectionIndicator", f"direction {direction!r} is not I (import) or E (export)")
    quantity_text, uom, next_read, updated, msats = fields[18:23]
    try:
        unit = parse_unit(uom)
    except UnknownUnit as exc:
        raise _FieldError("UOM", str(exc)) from None
    if next_read:
        _date(next_read, "NextScheduledReadDate")
    update = _datetime(updated, "UpdateDateTime", digits=(14,))
    if msats:
        _datetime(msats, "MSATSLoadDateTime", digits=(14,))

    def read(first: int, prefix: str, which: Which) -> AccumulationRead:
        """PreviousRegisterRead ... PreviousReasonDescription, or the same five for Current."""
        text, read_at, quality_text, reason_text, description = fields[first : first + 5]
        value = _register_value(text, f"{prefix}RegisterRead")
        at = _datetime(read_at, f"{prefix}RegisterReadDateTime", digits=(14,))
        letter, method = _quality(quality_text, f"{prefix}QualityMethod")
        return AccumulationRead(
            meter_serial=serial,
            register_id=register_id,
            value=value,
            read_at=at,
            read_type=_READ_TYPES[letter],
            reader_id=reader_id,
            nmi=nmi,
            suffix=suffix,
            direction=cast(Direction, direction),
            which=which,
            index_read=text,
            quality_method=letter + method,
            reason_code=_reason(reason_text, description, letter, prefix),
            reason_description=description,
            uom=uom,
            update_datetime=update,
            source_line=number,
        )

    previous = read(8, "Previous", "previous")
    current = read(13, "Current", "current")
    if current.read_at < previous.read_at:
        raise _FieldError(
            "CurrentRegisterReadDateTime",
            f"current read at {current.read_at.isoformat()} is before the previous read at "
            f"{previous.read_at.isoformat()}",
        )
    quantity, stored = _quantity(quantity_text, unit)
    current = replace(current, quantity=quantity, quantity_stored=stored, stored_unit=unit.stored_as)
    return previous, current


def _parse_550(fields: list[str]) -> tuple[str, str, str, str]:
    fields = _fit(fields, minimum=4, maximum=5)
    for position, name in ((1, "PreviousTransCode"), (3, "CurrentTransCode")):
        if fields[position] not in _TRANS_CODES:
            raise _FieldError(name, f"unknown TransCode {fields[position]!r}")
    return fields[1], fields[2], fields[3], fields[4]


def _register_value(text: str, name: str) -> Decimal:
    if not text:
        raise _FieldError(name, "blank register read")
    if not _NUMBER.match(text):
        raise _FieldError(name, f"register read {text!r} is not a number without sign or exponent")
    if len(text) > MAX_READ_CHARS:
        raise _FieldError(name, f"register read {text!r} is longer than {MAX_READ_CHARS} characters")
    return Decimal(text)


def _quantity(text: str, unit: Unit) -> tuple[Decimal, int]:
    if not text:
        raise _FieldError("Quantity", "blank Quantity")
    if text.startswith("-"):
        raise _FieldError("Quantity", f"negative Quantity {text!r}")
    if not _NUMBER.match(text):
        raise _FieldError("Quantity", f"Quantity {text!r} is not a number without sign or exponent")
    quantity = Decimal(text)
    stored = to_stored_integer(quantity, unit)
    if stored >= _MAX_STORED:
        raise _FieldError("Quantity", f"Quantity {text!r} is implausibly large")
    return quantity, stored


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


def _quality(text: str, name: str) -> tuple[str, str]:
    if text.startswith("V"):
        raise _FieldError(name, "quality V is NEM12-only: a NEM13 read has one quality")
    match = _QUALITY.match(text)
    if not match:
        raise _FieldError(name, f"unknown quality flag {text!r}")
    letter, method = match.group(1), match.group(2) or ""
    if letter == "A" and method:
        raise _FieldError(name, f"quality A takes no method: {text!r}")
    if letter in "ESF" and not method:
        raise _FieldError(name, f"quality {letter} needs a two-digit method flag: {text!r}")
    return letter, method


def _reason(code_text: str, description: str, letter: str, prefix: str) -> int | None:
    name = f"{prefix}ReasonCode"
    if not code_text:
        if letter in "SF":
            raise _FieldError(name, f"quality {letter} needs a reason code")
        return None
    if not code_text.isdigit() or not 0 <= int(code_text) <= 109:
        raise _FieldError(name, f"reason code {code_text!r} is not 0-109")
    if int(code_text) == 0 and not description:
        raise _FieldError(f"{prefix}ReasonDescription", "reason code 0 needs a description")
    return int(code_text)


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


def _same_read(a: AccumulationRead, b: AccumulationRead) -> bool:
    return a.value == b.value and a.quality_method == b.quality_method
