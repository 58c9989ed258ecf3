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

Two ways in. ``iter_nem12`` (and ``iter_nem12_file``) stream: they read a megabyte at a
time and yield ``ChannelDays`` batches, errors and withdrawals in file order, as they are
found; the verdict (a missing 900 still rejects everything before it) comes at the end, in
``stream.result``. The stream keeps no values once handed over: to place a later version of
a day it remembers 24 bytes per channel-day, moved to a temporary file 6 MB at a time, and
about 150 bytes per channel (NMI + suffix), so memory stays flat as a file grows
longer (a million channels would take 150 MB).
``parse_nem12`` and ``read_nem12_file`` collect the stream into an ``ImportResult`` holding
every ``IntervalDay`` (in memory, so for files of ordinary size).

Speed: a big file is almost all 300 records, so those take a fast path. A 300 whose date,
quality, reason and stamps read cleanly has its values set aside; at the end of each chunk
they are all checked and converted at once, vectorised: rows whose values are all one
width with the unit's decimals ("0.123") a column of digits at a time (``_fixed_decimals``),
the others by ``plain_decimal_rows_to_stored``.
If any value in the chunk is not a plain decimal, the chunk is read again line by line the
careful way, which finds and words the error exactly as before. The records that follow a
day stay on the fast path too when they are clean: a V day's 400s in interval order (its
quality letters are set with the chunk's arrays, ``_OpenDay``), 500s, and the 200 or 900
that closes the day. A day whose 400s do not fit (out of order, or on a day that is not V)
becomes a ``_PendingDay`` that takes them; bad 400s and 500s, odd 300s and the 200 itself
go the careful way.
Consecutive fast days of a block travel as one ``_Run`` (fields per day, values as rows of
the chunk's arrays) and come out as one ``ChannelDays``.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import tempfile
import zipfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import IO, Literal, NamedTuple, NoReturn, TypeVar

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
from shared.readings.units import (
    Unit,
    UnknownUnit,
    parse_unit,
    plain_decimal_rows_to_stored,
    texts_to_stored_integers,
    to_stored_integer,
)

Nem12Result = ImportResult

# The longest legal line is a 5-minute 300 record (288 values): a few kilobytes. Anything
# far longer is not NEM12, and reading on would load an unbounded line into memory.
MAX_LINE_CHARS = 64 * 1024
INTERVAL_LENGTHS = (5, 15, 30)
_LENGTHS = frozenset(str(n) for n in INTERVAL_LENGTHS)
_MOST_INTERVALS = 1440 // min(INTERVAL_LENGTHS)  # a 5-minute day's 288
MAX_LISTED = 1000  # errors (and warnings) listed one by one; beyond that only counted
_MAX_STORED = 2**62  # far above any meter's day, far below int64 overflow
CHUNK_BYTES = 1 << 20  # read from a file a megabyte at a time
CHUNK_LINES = 4096  # or this many lines from an iterable of lines

_VALUE = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)\Z")  # no sign, no exponent: the spec forbids both
_VALUES_ROW = re.compile(r"(?:(?:\d+(?:\.\d*)?|\.\d+),)*(?:\d+(?:\.\d*)?|\.\d+)\Z")
_QUALITY = re.compile(r"([AEFNSV])(\d{2})?\Z")
_NMI = re.compile(r"[A-Z0-9]{10}\Z")
_SUFFIX = re.compile(r"[A-Z][A-Z0-9]\Z")
_EXPONENT = re.compile(r"[\d.]+[eE][+-]?\d+\Z")
_NEWLINE = re.compile(r"\r\n|\r|\n")  # what a text file opened with newline="" splits on
_ODD_ASCII_BREAKS = "\x0b\x0c\x1c\x1d\x1e"  # str.splitlines() also splits on these
_TRANS_CODES = frozenset("ACDEGNORS")
_BOM = b"\xef\xbb\xbf"

_DAY_REJECTED = "channel-day rejected"
_BLOCK_REJECTED = "200 block rejected: its records are skipped"
_FILE_REJECTED = "file rejected"


# -- what the stream yields -----------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # eq=False: numpy arrays have no single truth value
class ChannelDays:
    """Consecutive accepted days of one channel (one 200 block), as arrays.

    Row ``i`` of ``values`` (int64, in ``value_unit``, see ``IntervalDay``) and of ``quality``
    (one letter per interval) belongs to ``days[i]``; both arrays are read-only. A later
    batch may hold a newer version of one of these days (it replaces it) or a
    ``DayWithdrawn`` may take one back.
    """

    source: str
    nmi: str
    suffix: str
    register_id: str
    meter_serial: str
    uom: str
    value_unit: str
    is_energy: bool
    interval_minutes: int
    values: np.ndarray
    quality: np.ndarray
    days: tuple[date, ...]
    quality_methods: tuple[str, ...]
    reason_codes: tuple[int | None, ...]
    reason_descriptions: tuple[str, ...]
    update_datetimes: tuple[datetime, ...]
    msats_load_datetimes: tuple[datetime | None, ...]
    source_lines: tuple[int, ...]
    quality_details: tuple[tuple[IntervalQuality, ...], ...]
    b2b_details: tuple[tuple[B2BDetail, ...], ...]

    def __len__(self) -> int:
        return len(self.days)

    def interval_days(self) -> list[IntervalDay]:
        """The same days one object each, for code that works a day at a time."""
        return [
            IntervalDay(
                nmi=self.nmi,
                suffix=self.suffix,
                register_id=self.register_id,
                meter_serial=self.meter_serial,
                uom=self.uom,
                value_unit=self.value_unit,
                is_energy=self.is_energy,
                interval_minutes=self.interval_minutes,
                day=self.days[i],
                values_wh=self.values[i],
                quality=self.quality[i],
                quality_method=self.quality_methods[i],
                reason_code=self.reason_codes[i],
                reason_description=self.reason_descriptions[i],
                update_datetime=self.update_datetimes[i],
                source_line=self.source_lines[i],
                source=self.source,
                msats_load_datetime=self.msats_load_datetimes[i],
                quality_details=self.quality_details[i],
                b2b_details=self.b2b_details[i],
            )
            for i in range(len(self.days))
        ]


@dataclass(frozen=True)
class DayWithdrawn:
    """A channel-day yielded earlier is no longer accepted: a later 300 for the same day has
    different data with the same UpdateDateTime, so neither version can be trusted."""

    nmi: str
    suffix: str
    day: date
    source_line: int  # the withdrawn version's 300


@dataclass(frozen=True)
class Nem12Notice:
    """An error or warning, yielded where it is found; also listed in ``stream.result``."""

    severity: Literal["error", "warning"]
    entry: ReadingError


Nem12Event = ChannelDays | DayWithdrawn | Nem12Notice


class Nem12Stream(Iterator[Nem12Event]):
    """NEM12 events in file order; once exhausted, ``result`` holds the verdict: status,
    errors, warnings and header, but no days (they were yielded). A consumer that stores
    as it goes must still honour a final "rejected"."""

    def __init__(self, chunks: Iterable[list[str]], *, source: str) -> None:
        self._parser = _Nem12Parser(source)
        self._events = self._parser.events(iter(chunks))

    def __iter__(self) -> Nem12Stream:
        return self

    def __next__(self) -> Nem12Event:
        return next(self._events)

    @property
    def result(self) -> ImportResult:
        if not self._parser.finished:
            raise RuntimeError("the verdict is known only once the stream has been read to its end")
        return self._parser.result

    @property
    def days_kept(self) -> int:
        """Channel-days accepted so far (replacements count once, withdrawals are taken off)."""
        return self._parser.kept


# -- ways in --------------------------------------------------------------------------------


def iter_nem12(lines: Iterable[str] | str | IO[bytes], *, source: str) -> Nem12Stream:
    """Stream NEM12 from a string, any iterable of lines (an open text file), or a binary
    stream (read a megabyte at a time, UTF-8 with or without a byte-order mark)."""
    if isinstance(lines, str):
        return Nem12Stream(_text_chunks(lines), source=source)
    if isinstance(lines, io.IOBase) and not isinstance(lines, io.TextIOBase):
        return Nem12Stream(_byte_chunks(lines), source=source)  # type: ignore[arg-type]
    return Nem12Stream(_line_chunks(lines), source=source)  # type: ignore[arg-type]


def iter_nem12_file(path: str | PathLike[str], *, source: str | None = None) -> Nem12Stream:
    """Stream a NEM12 file from disk: a plain CSV (any extension) or a zip holding one."""
    path = Path(path)
    source = source or path.name
    if not zipfile.is_zipfile(path):
        return Nem12Stream(_file_chunks(path), source=source)
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
        return Nem12Stream(_unreadable(source, f"unreadable zip: {exc}"), source=source)
    if len(members) != 1:
        names = ", ".join(m.filename for m in members) or "nothing"
        message = f"a zip must hold exactly one meter-data file; this one holds {names}"
        return Nem12Stream(_unreadable(source, message), source=source)
    return Nem12Stream(_zip_chunks(path, members[0], source), source=f"{source}:{members[0].filename}")


def parse_nem12(lines: Iterable[str] | str, *, source: str) -> Nem12Result:
    """Parse NEM12 text (a string, or any iterable of lines such as an open file)."""
    return collect_nem12(iter_nem12(lines, source=source))


def read_nem12_file(path: str | PathLike[str], *, source: str | None = None) -> Nem12Result:
    """Parse a NEM12 file from disk, lazily: a plain CSV (any extension) or a zip holding one."""
    return collect_nem12(iter_nem12_file(path, source=source))


def collect_nem12(stream: Nem12Stream) -> Nem12Result:
    """Read a stream to its end, keeping every accepted day in memory."""
    kept: dict[tuple[str, str, date], IntervalDay] = {}
    for event in stream:
        if isinstance(event, ChannelDays):
            for day in event.interval_days():
                kept[(day.nmi, day.suffix, day.day)] = day  # a newer version keeps the older's place
        elif isinstance(event, DayWithdrawn):
            del kept[(event.nmi, event.suffix, event.day)]
    result = stream.result
    if result.status != "rejected":
        result.days = list(kept.values())
    return result


class Nem12Importer:
    name = "NEM12"

    def parse(self, lines: Iterable[str] | str, *, source: str) -> ImportResult:
        return parse_nem12(lines, source=source)


NEM12 = Nem12Importer()


# -- reading lines in chunks ----------------------------------------------------------------


class _UnreadableFile(Exception):
    def __init__(self, source: str, message: str) -> None:
        super().__init__(message)
        self.source = source
        self.message = message


def _unreadable(source: str, message: str) -> Iterator[list[str]]:
    raise _UnreadableFile(source, message)
    yield []  # pragma: no cover  (makes this a generator, raising when first read)


def _file_chunks(path: Path) -> Iterator[list[str]]:
    with path.open("rb") as raw:
        yield from _byte_chunks(raw)


def _zip_chunks(path: Path, member: zipfile.ZipInfo, source: str) -> Iterator[list[str]]:
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member) as raw:
            yield from _byte_chunks(raw)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
        # Corrupt archive, CRC mismatch (found at the end), unsupported compression or encryption.
        raise _UnreadableFile(source, f"unreadable zip: {exc}") from None


def _byte_chunks(raw: IO[bytes]) -> Iterator[list[str]]:
    """Whole lines, about a megabyte at a time, decoded as a text file opened with
    encoding="utf-8-sig", errors="replace", newline="" would decode them (invalid bytes
    become U+FFFD, which the parser rejects with the line number)."""
    # A line longer than this many bytes is certainly longer than MAX_LINE_CHARS characters.
    too_long = 4 * (MAX_LINE_CHARS + 1)
    carry = b""
    at_start = True
    while True:
        block = raw.read(CHUNK_BYTES)
        data = carry + block
        if at_start:
            if len(data) < len(_BOM) and block:
                carry = data
                continue
            data, at_start = data.removeprefix(_BOM), False
        if not block:
            if data:
                yield _split_lines(data.decode("utf-8", errors="replace"))
            return
        # Cut after the last line end; a "\r" at the very end may be half of a "\r\n".
        cut = max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1)) + 1
        if cut:
            yield _split_lines(data[:cut].decode("utf-8", errors="replace"))
        carry = data[cut:]
        if len(carry) > too_long:
            # Never hold an endless line: hand over its start, which the parser rejects.
            yield [carry[:too_long].decode("utf-8", errors="replace")]
            return


def _text_chunks(text: str) -> Iterator[list[str]]:
    lines = _split_lines(text)
    for start in range(0, len(lines), CHUNK_LINES):
        yield lines[start : start + CHUNK_LINES]


def _line_chunks(lines: Iterable[str]) -> Iterator[list[str]]:
    # In slices, so a fatal error stops reading an endless iterator.
    iterator = iter(lines)
    while chunk := list(itertools.islice(iterator, CHUNK_LINES)):
        yield [line.rstrip("\r\n") for line in chunk]


def _split_lines(text: str) -> list[str]:
    """Lines without their ends; "\\r\\n", "\\r" and "\\n" all end a line (and nothing else)."""
    if text.isascii() and not any(odd in text for odd in _ODD_ASCII_BREAKS):
        return text.splitlines()  # the quickest, and here it splits on exactly those three
    lines = _NEWLINE.split(text)
    if lines[-1] == "":
        lines.pop()  # the text ended with a line end (or was empty)
    return lines


# -- the parser -----------------------------------------------------------------------------


class _FieldError(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class _FileRejected(Exception):
    def __init__(self, error: ReadingError) -> None:
        super().__init__(error.message)
        self.error = error


class _Block(NamedTuple):  # a tuple: built once per 200 record, quicker than a frozen dataclass
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


class _PendingDay:
    """A 300 accepted so far, waiting for its 400 and 500 records (and, on the fast path,
    for its values: row ``index`` of ``group``, converted with the rest of the chunk's)."""

    __slots__ = (
        "b2b",
        "block",
        "covered",
        "day",
        "details",
        "digest",
        "group",
        "index",
        "letter",
        "line",
        "msats_load_datetime",
        "ordinal",
        "quality",
        "quality_method",
        "reason_code",
        "reason_description",
        "row",
        "stamp",
        "update_datetime",
        "values",
    )

    def __init__(
        self,
        block: _Block,
        line: int,
        day: date,
        ordinal: int,
        letter: str,
        quality_method: str,
        reason_code: int | None,
        reason_description: str,
        update_datetime: datetime,
        stamp: int,
        msats_load_datetime: datetime | None,
        index: int = 0,
        *,
        values: np.ndarray | None = None,
        group: _Deferred | None = None,
    ) -> None:
        self.block = block
        self.line = line
        self.day = day
        self.ordinal = ordinal
        self.letter = letter
        self.quality_method = quality_method
        self.reason_code = reason_code
        self.reason_description = reason_description
        self.update_datetime = update_datetime
        self.stamp = stamp
        self.msats_load_datetime = msats_load_datetime
        self.values = values
        self.group = group
        self.index = index
        # Only 400 and 500 records fill these: a letter and a covered flag per interval.
        self.quality: bytearray | None = None
        self.covered: bytearray | None = None
        self.details: list[IntervalQuality] | None = None
        self.b2b: list[B2BDetail] | None = None
        self.digest = 0  # set when the chunk's days are gathered
        self.row = 0

    @property
    def is_variable(self) -> bool:
        return self.letter == "V"

    def copy(self) -> _PendingDay:
        twin = _PendingDay(
            self.block,
            self.line,
            self.day,
            self.ordinal,
            self.letter,
            self.quality_method,
            self.reason_code,
            self.reason_description,
            self.update_datetime,
            self.stamp,
            self.msats_load_datetime,
            self.index,
            values=self.values,
            group=self.group,
        )
        twin.quality = None if self.quality is None else bytearray(self.quality)
        twin.covered = None if self.covered is None else bytearray(self.covered)
        twin.details = None if self.details is None else list(self.details)
        twin.b2b = None if self.b2b is None else list(self.b2b)
        return twin

    @classmethod
    def taken(cls, block: _Block, fields: _DayFields, group: _Deferred) -> _PendingDay:
        """A fast-path day (see ``_DayFields``) as an object, to take 400 and 500 records."""
        line, day, tail, row = fields
        return cls(block, line, *day, *tail, row, group=group)

    def fields(self) -> _DayFields:
        """The fast path's tuple for this day (see ``_Run``)."""
        tail = (
            self.letter,
            self.quality_method,
            self.reason_code,
            self.reason_description,
            self.update_datetime,
            self.stamp,
            self.msats_load_datetime,
        )
        return self.line, (self.day, self.ordinal), tail, self.index

    def value_row(self) -> tuple[np.ndarray, int]:
        """Where this day's values are: a (days x intervals) array and a row of it."""
        if self.group is not None:
            assert self.group.matrix is not None
            return self.group.matrix, self.index
        assert self.values is not None
        return self.values[np.newaxis, :], 0


class _Deferred:
    """A chunk's fast-path 300s of one unit and interval length: their values as text until
    the chunk ends, then one row each of ``matrix``, of ``quality`` (the day's letter, or
    for a V day closed on the fast path its 400s' letters, from ``overrides``) and of
    ``digests``."""

    __slots__ = (
        "count",
        "digests",
        "letters",
        "matrix",
        "overrides",
        "quality",
        "texts",
        "unit",
        "value_digests",
    )

    def __init__(self, unit: Unit, count: int) -> None:
        self.unit = unit
        self.count = count
        self.texts: list[str] = []
        self.letters: list[str] = []
        self.overrides: dict[int, str] = {}  # row: one quality letter per interval
        self.matrix: np.ndarray | None = None
        self.quality: np.ndarray | None = None
        self.digests: list[int] = []
        self.value_digests: list[int] = []

    def convert(self) -> bool:
        if not self.texts:
            return True
        matrix = _rows_to_stored(self.texts, width=self.count, unit=self.unit)
        if matrix is None:
            return False
        letters = np.array(self.letters, dtype="U1")
        quality = np.empty(matrix.shape, dtype="U1")
        quality[:] = letters[:, np.newaxis]
        value_digests = _value_digests(matrix)
        digests = value_digests ^ _letter_digests(letters, self.count)
        if self.overrides:
            rows = np.fromiter(self.overrides, dtype=np.intp, count=len(self.overrides))
            text = "".join(self.overrides.values()).encode("utf-32-le")
            quality[rows] = np.frombuffer(text, dtype="<U1").reshape(len(rows), self.count)
            digests[rows] = value_digests[rows] ^ _quality_digests(quality[rows])
        matrix.setflags(write=False)
        quality.setflags(write=False)
        self.digests = digests.tolist()
        self.matrix, self.quality, self.value_digests = matrix, quality, value_digests.tolist()
        self.texts, self.letters, self.overrides = [], [], {}
        return True


# What follows a 300's values: letter, QualityMethod, ReasonCode, ReasonDescription,
# UpdateDateTime, its timestamp, MSATSLoadDateTime.
_Tail = tuple[str, str, int | None, str, datetime, int, datetime | None]
_TailFlags = tuple[str, str, int | None, str]  # the first four of those
# A fast-path day: its line, (date, ordinal), tail, and row in the chunk's _Deferred.
_DayFields = tuple[int, tuple[date, int], _Tail, int]


# A clean 400: StartInterval, EndInterval, its letter, its detail, and the letter once
# for each interval it covers.
_QualityRun = tuple[int, int, str, IntervalQuality, str]


class _OpenDay:
    """A fast-path day with 400 or 500 records, gathered in the fast loop until the next
    300 closes it. Only the usual shape is taken here: a V day's 400s in interval order, one
    after the other from interval 1 (so none overlaps), and clean 500s. Anything else turns
    it into a ``_PendingDay`` (``pending``) holding the same, for the careful way."""

    __slots__ = ("b2b", "covered", "fields", "letter", "quality_runs")

    def __init__(self, fields: _DayFields) -> None:
        self.fields = fields
        self.letter = fields[2][0]
        self.covered = 0  # intervals 1..covered have their 400s
        self.quality_runs: list[_QualityRun] = []
        self.b2b: list[B2BDetail] = []

    def cover(self, quality_run: _QualityRun, count: int) -> bool:
        """Take a V day's next 400; False (nothing changed) for any other."""
        start, end = quality_run[0], quality_run[1]
        if self.letter != "V" or start != self.covered + 1 or end > count:
            return False
        self.covered = end
        self.quality_runs.append(quality_run)
        return True

    def pending(self, block: _Block, group: _Deferred) -> _PendingDay:
        """The same day as the careful way's object, as if it had taken these records."""
        day = _PendingDay.taken(block, self.fields, group)
        for start, end, letter, detail, _ in self.quality_runs:
            _cover(day, start, end, letter, detail)
        if self.b2b:
            day.b2b = list(self.b2b)
        return day


class _Run:
    """Consecutive days the fast path took from one block in one chunk, closed: rows
    ``start``.. of ``group``, one tuple of fields per day, and for the few days with 400 or
    500 records, by position, their per-interval quality (or None), 400s and 500s."""

    __slots__ = ("block", "days", "extras", "group", "start")

    def __init__(self, block: _Block, group: _Deferred, start: int) -> None:
        self.block = block
        self.group = group
        self.start = start
        self.days: list[_DayFields] = []
        self.extras: dict[int, tuple[bytes | None, tuple[IntervalQuality, ...], tuple[B2BDetail, ...]]] = {}

    def arrays(self, first: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Values and quality of days ``first``..``stop`` (positions in the run)."""
        group, start = self.group, self.start
        assert group.matrix is not None and group.quality is not None
        values, quality = group.matrix[start + first : start + stop], group.quality[start + first : start + stop]
        overrides = [(i, row) for i, (row, _, _) in self.extras.items() if row is not None and first <= i < stop]
        if overrides:
            quality = quality.copy()
            for i, row in overrides:
                quality[i - first] = np.frombuffer(row.decode("ascii").encode("utf-32-le"), dtype="<U1")
            quality.setflags(write=False)
        return values, quality


_Cached = TypeVar("_Cached")
_CACHED = 16_384  # entries per cache of parsed fields: a few megabytes at most
_Snapshot = tuple[int, bool, bool, "_Block | None", bool, "_PendingDay | None", bool]


class _Nem12Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.result = Nem12Result(source=source, status="accepted")
        self.finished = False
        self.number = 0
        self.seen_header = False
        self.ended = False
        self.block: _Block | None = None
        self.skipping_block = False
        self.day: _PendingDay | None = None
        self.skipping_day = False
        self.kept = 0
        self.versions = _VersionIndex()
        self.unlisted = {"error": 0, "warning": 0}
        # What the current chunk found, in order, until it is handed over.
        self.found: list[_Run | _PendingDay | ReadingError] = []
        self.deferred: dict[tuple[Unit, int], _Deferred] = {}
        # Parsed fields repeat a lot (31 dates, a few flags, the MDP's run times).
        self.dates: dict[str, tuple[date, int]] = {}
        self.stamps: dict[str, tuple[datetime, int]] = {}
        self.qualities: dict[str, tuple[str, str]] = {}
        self.tails: dict[str, _Tail] = {}
        self.tail_flags: dict[str, _TailFlags] = {}
        self.quality_runs: dict[str, _QualityRun] = {}  # clean 400s
        self.qualities_400: dict[str, tuple[str, str]] = {}

    def events(self, chunks: Iterator[list[str]]) -> Iterator[Nem12Event]:
        try:
            for lines in chunks:
                rejection = self._read_chunk(lines)
                yield from self._hand_over()
                if rejection is not None:
                    raise rejection
            if not self.seen_header:
                self._reject_file(None, "100", "empty file: no 100 header record")
            if not self.ended:
                self._reject_file(None, "900", "no 900 end record: the file is truncated or incomplete")
        except _FileRejected as rejection:
            self.result.errors.append(rejection.error)
            self.result.status = "rejected"
            yield Nem12Notice("error", rejection.error)
        except _UnreadableFile as unreadable:
            error = ReadingError(unreadable.source, None, None, None, unreadable.message)
            self.result = Nem12Result(source=unreadable.source, status="rejected", errors=[error])
            self.finished = True
            yield Nem12Notice("error", error)
            return
        else:
            self.result.status = self._status()
        finally:
            self.versions.close()
        for severity, count in self.unlisted.items():
            if count:
                summary = ReadingError(self.source, None, None, None, f"{count} more not listed")
                (self.result.errors if severity == "error" else self.result.warnings).append(summary)
                yield Nem12Notice("error" if severity == "error" else "warning", summary)
        self.finished = True

    def _status(self) -> ImportStatus:
        if not self.result.errors:
            return "accepted"
        return "partial" if self.kept else "rejected"

    # -- one chunk ------------------------------------------------------------------------

    def _read_chunk(self, lines: list[str]) -> _FileRejected | None:
        before = self._snapshot()
        # Lines too long or not UTF-8 are rejected line by line, the careful way.
        fast = max(map(len, lines), default=0) <= MAX_LINE_CHARS and "\ufffd" not in "".join(lines)
        rejection = self._run(lines, fast=fast)
        deferred, self.deferred = self.deferred, {}
        if not all(group.convert() for group in deferred.values()):
            # A value that is not a plain decimal: read the chunk again the careful way,
            # which reports it (and everything around it) exactly.
            self._restore(before)
            rejection = self._run(lines, fast=False)
        return rejection

    def _run(self, lines: list[str], *, fast: bool) -> _FileRejected | None:
        at, end = 0, len(lines)
        try:
            while at < end:
                if fast:
                    at = self._fast_days(lines, at)
                    if at == end:
                        break
                self.number += 1
                self._line(self.number, lines[at])
                at += 1
        except _FileRejected as rejection:
            return rejection
        return None

    def _snapshot(self) -> _Snapshot:
        day = None if self.day is None else self.day.copy()
        return (self.number, self.seen_header, self.ended, self.block, self.skipping_block, day, self.skipping_day)

    def _restore(self, snapshot: _Snapshot) -> None:
        self.number, self.seen_header, self.ended, self.block, self.skipping_block, self.day, self.skipping_day = (
            snapshot
        )
        self.found, self.deferred = [], {}

    # -- the fast path: clean 300s --------------------------------------------------------

    def _fast_days(self, lines: list[str], at: int) -> int:
        """Take the 300s (and the 400s after them) from ``lines[at]`` on whose every field
        but the values reads cleanly; return where it stopped. The line it stops at goes the
        careful way, which words any error (nothing about that line has been changed)."""
        if self.ended or not lines[at].startswith("300,"):
            return at
        if self.skipping_block:  # a rejected block's days are skipped without a word
            start = at
            while at < len(lines) and lines[at].startswith("300,") and '"' not in lines[at]:
                self._close_day()
                self.number += 1
                at += 1
            self.skipping_day = self.skipping_day and at == start
            return at
        block = self.block
        if block is None:
            return at
        count = block.interval_count
        group = self.deferred.get((block.unit, count))
        if group is None:
            group = self.deferred[(block.unit, count)] = _Deferred(block.unit, count)
        texts, letters = group.texts, group.letters
        dates, tails = self.dates, self.tails
        quality_runs = self.quality_runs
        number = self.number  # of the last line taken; the next is lines[at + number - self.number]
        run: list[_DayFields] | None = None  # the days of the run being filled
        last_in_run = False  # the last day taken is in it, though still open to 400s and 500s
        # The last day taken, while its 400s and 500s are gathered here (a V day from its 300
        # on, any other day from its first 500): out of the run until it closes.
        open_day: _OpenDay | None = None
        for text in itertools.islice(lines, at, None):
            if not text.startswith("300,"):
                if text.startswith("400,"):
                    quality_run = quality_runs.get(text) or self._cache_quality_run(text)
                    if quality_run is None:
                        break
                    if open_day is not None and open_day.cover(quality_run, count):
                        number += 1
                        continue
                    # Any other 400 (on a day that is not V, or out of order) goes to the
                    # day as an object, as the careful way has it.
                    if last_in_run:
                        assert run is not None
                        self.day, last_in_run = _PendingDay.taken(block, run.pop(), group), False
                    elif open_day is not None:
                        self.day, open_day = open_day.pending(block, group), None
                    if self.day is None or not self._fast_quality(self.day, quality_run):
                        break
                elif text.startswith("500,"):
                    detail = _fast_b2b(text)
                    if detail is None:
                        break
                    if last_in_run:
                        assert run is not None
                        open_day, last_in_run = _OpenDay(run.pop()), False
                    if open_day is not None:
                        open_day.b2b.append(detail)
                    elif self.day is not None:
                        if self.day.b2b is None:
                            self.day.b2b = []
                        self.day.b2b.append(detail)
                    else:
                        break  # no day to belong to: the careful way says so
                else:
                    break
                number += 1
                continue
            if '"' in text:
                break
            # The last fields: QualityMethod, ReasonCode, ReasonDescription, UpdateDateTime
            # and MSATSLoadDateTime, or the last value and the first four. The values' count
            # is checked with the chunk's, row by row.
            parts = text.rsplit(",", 5)
            head = parts[0]
            # The tail repeats (same flags, the MDP's same run times): read each once. Only
            # whole tails (5 fields) starting with a letter are ever cached, so a tail found
            # in the cache has its 5 fields.
            key = text[len(head) :]
            tail = tails.get(key)
            if tail is None:
                if len(parts) < 6:
                    break
                if parts[1][:1].isalpha():
                    tail = self._cache_tail(key, parts[1:])
                elif parts[2][:1].isalpha():
                    head, *rest = text.rsplit(",", 4)
                    tail = self._tail([*rest, ""])
                if tail is None:
                    break
            day = dates.get(head[4:13])
            if day is None:
                day = self._cache_date(head[4:13])
                if day is None:
                    break
            # Taken. Close the day before, as _close_day would, if it is not in the run.
            if not last_in_run:
                if open_day is not None:
                    self._close_open_day(open_day, block, group)
                    open_day, run = None, None
                elif self.day is not None:
                    self._close_day()
                    run = None
            number += 1
            row = len(texts)
            fields = (number, day, tail, row)
            texts.append(head[13:])
            letter = tail[0]
            letters.append(letter)
            if letter == "V":  # its 400 records must follow
                open_day, last_in_run = _OpenDay(fields), False
                continue
            if run is None:
                run = self._run_for(block, group, fields[-1]).days
            run.append(fields)
            last_in_run = True
        stop = at + number - self.number  # the line the loop stopped at
        if stop < len(lines) and _closes_the_day(lines[stop]):
            # The careful way's first step on a 200 or 900 is to close the open day: closed
            # here it needs no object (a day in the run is closed as it is).
            if open_day is not None:
                self._close_open_day(open_day, block, group)
        elif open_day is not None:  # it stays open to 400 and 500 records, as an object
            self.day = open_day.pending(block, group)
        elif last_in_run:
            assert run is not None
            self.day = _PendingDay.taken(block, run.pop(), group)
        if number > self.number:
            at += number - self.number
            self.number, self.skipping_day = number, False
        return at

    def _close_open_day(self, day: _OpenDay, block: _Block, group: _Deferred) -> None:
        """Close a day whose 400s and 500s the fast path gathered, as _close_day would."""
        if day.letter == "V" and day.covered < block.interval_count:
            self.day = day.pending(block, group)
            self._close_day()  # which words the intervals without a 400
            return
        row = day.fields[-1]
        run = self._run_for(block, group, row)
        quality_runs = day.quality_runs
        if quality_runs:  # the letters of each 400 in turn: one per interval
            group.overrides[row] = "".join([quality_run[4] for quality_run in quality_runs])
        details = tuple([quality_run[3] for quality_run in quality_runs])
        run.extras[len(run.days)] = (None, details, tuple(day.b2b))
        run.days.append(day.fields)

    def _run_for(self, block: _Block, group: _Deferred, row: int) -> _Run:
        """The run a fast-path day at ``row`` joins: the last thing found, if it is the run
        just before it, else a new one."""
        last = self.found[-1] if self.found else None
        if type(last) is _Run and last.group is group and last.block is block and last.start + len(last.days) == row:
            return last
        run = _Run(block, group, row)
        self.found.append(run)
        return run

    def _fast_quality(self, day: _PendingDay, quality_run: _QualityRun) -> bool:
        """Apply a clean 400 to the open day; False (having changed nothing) for the careful way."""
        start, end, letter, detail, _ = quality_run
        if end > day.block.interval_count or (day.letter != "V" and letter != day.letter):
            return False
        if day.covered is not None and day.covered.find(1, start - 1, end) >= 0:
            return False
        _cover(day, start, end, letter, detail)
        return True

    def _cache_quality_run(self, text: str) -> _QualityRun | None:
        fields = text.split(",")
        if len(fields) != 6 or '"' in text:
            return None
        _, first, last, flag, code, description = fields
        # Past a 5-minute day's last interval it cannot fit any day (the careful way says
        # so), and ``letter * (end - start + 1)`` below must not build a huge string.
        if not (first.isdecimal() and last.isdecimal() and 1 <= int(first) <= int(last) <= _MOST_INTERVALS):
            return None
        quality = self.qualities_400.get(flag) or self._cache_quality(flag, in_400=True)
        if quality is None:
            return None
        letter, method = quality
        code, description = code.strip(), description.strip()
        reason = None
        if code or letter in "SF":
            try:
                reason = _reason(code, description, letter)
            except _FieldError:
                return None
        start, end = int(first), int(last)
        detail = IntervalQuality(start, end, method, reason, description)
        return _cached(self.quality_runs, text, (start, end, letter, detail, letter * (end - start + 1)))

    def _cache_tail(self, key: str, fields: list[str]) -> _Tail | None:
        """Read a tail not in the cache (``key``: its text from the comma before it).

        About one 300 in six misses: the UpdateDateTime is the MDP's run time, different
        for nearly every channel-day, so whole tails rarely repeat. Their first three fields
        (quality, reason code and description) and each stamp do repeat, so those are
        cached on their own and a miss costs three look-ups, not a reading of five fields."""
        flags_text = key[: len(key) - len(fields[3]) - len(fields[4]) - 1]  # ",A,,," and the like
        flags = self.tail_flags.get(flags_text) or self._cache_flags(flags_text, fields[:3])
        update = self.stamps.get(fields[3]) or self._cache_stamp(fields[3])
        if flags is None or update is None:
            return None
        msats = None
        if fields[4]:
            load = self.stamps.get(fields[4]) or self._cache_stamp(fields[4])
            if load is None:
                return None
            msats = load[0]
        return _cached(self.tails, key, (*flags, update[0], update[1], msats))

    def _tail(self, fields: list[str]) -> _Tail | None:
        """A 300's QualityMethod, ReasonCode, ReasonDescription, UpdateDateTime and
        MSATSLoadDateTime, read; None if any is not clean."""
        flag, code, description, updated, loaded = fields
        flags = self._flags(flag, code, description)
        update = self.stamps.get(updated) or self._cache_stamp(updated)
        if flags is None or update is None:
            return None
        msats = None
        if loaded:
            load = self.stamps.get(loaded) or self._cache_stamp(loaded)
            if load is None:
                return None
            msats = load[0]
        return (*flags, update[0], update[1], msats)

    def _cache_flags(self, text: str, fields: list[str]) -> _TailFlags | None:
        flags = self._flags(*fields)
        return None if flags is None else _cached(self.tail_flags, text, flags)

    def _flags(self, flag: str, code: str, description: str) -> _TailFlags | None:
        """A 300's QualityMethod, ReasonCode and ReasonDescription, read: letter, method,
        reason and description; None if any is not clean."""
        quality = self.qualities.get(flag) or self._cache_quality(flag)
        if quality is None:
            return None
        letter, method = quality
        code, description = code.strip(), description.strip()
        reason = None
        if code or letter in "SF":
            try:
                reason = _reason(code, description, letter)
            except _FieldError:
                return None
        return letter, method, reason, description

    def _cache_date(self, text: str) -> tuple[date, int] | None:
        # ``text`` is the date and the comma after it.
        try:
            if text[8:] != ",":
                return None
            day = _date(text[:8], "IntervalDate")
        except _FieldError:
            return None
        return _cached(self.dates, text, (day, day.toordinal()))

    def _cache_quality(self, text: str, *, in_400: bool = False) -> tuple[str, str] | None:
        try:
            letter, method = _quality(text.strip(), "QualityMethod", in_400=in_400)
        except _FieldError:
            return None
        quality = (letter, letter + method)
        return _cached(self.qualities_400 if in_400 else self.qualities, text, quality)

    def _cache_stamp(self, text: str) -> tuple[datetime, int] | None:
        digits = text.strip()
        try:
            moment = _datetime(digits, "UpdateDateTime", digits=(14, 12))
        except _FieldError:
            return None
        # The stamp is the digits themselves (CCYYMMDDhhmm[ss]): no need to rebuild it.
        stamp = int(digits) * 100 if len(digits) == 12 else int(digits)
        return _cached(self.stamps, text, (moment, stamp))

    # -- one line, the careful way --------------------------------------------------------

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
            detail = _parse_b2b(fields)
        except _FieldError as problem:
            self._reject_day(number, "500", problem)
            return
        if self.day.b2b is None:
            self.day.b2b = []
        self.day.b2b.append(detail)

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
        if pending.is_variable and (pending.covered is None or pending.covered.find(0) >= 0):
            covered = np.frombuffer(pending.covered or bytes(pending.block.interval_count), dtype=np.uint8)
            missing = _ranges(np.flatnonzero(covered == 0) + 1)
            self._error(
                pending.line,
                "300",
                "QualityMethod",
                f"quality V needs a 400 record for every interval; none for intervals {missing} ({_DAY_REJECTED})",
            )
            return
        if pending.group is not None:  # a fast-path day joins its run, 400s and 500s and all
            run = self._run_for(pending.block, pending.group, pending.index)
            if pending.quality is not None or pending.b2b is not None:
                run.extras[len(run.days)] = (
                    None if pending.quality is None else bytes(pending.quality),
                    tuple(pending.details or ()),
                    tuple(pending.b2b or ()),
                )
            run.days.append(pending.fields())
            return
        self.found.append(pending)

    # -- handing over what a chunk found --------------------------------------------------

    def _hand_over(self) -> Iterator[Nem12Event]:
        """The chunk's days (in batches), errors and version decisions, in file order."""
        found, self.found = self.found, []
        rows = _Rows([item for item in found if type(item) is _PendingDay])
        batch: list[_PendingDay] = []
        for item in found:
            if type(item) is _PendingDay:
                kept, notes = self._keep(item)
                if notes or (batch and batch[-1].block is not item.block):
                    yield from self._batch(batch, *rows.slices(batch))
                yield from self._notes(notes)
                if kept:
                    batch.append(item)
                continue
            if batch:  # usually empty: a chunk is mostly runs
                yield from self._batch(batch, *rows.slices(batch))
            if type(item) is _Run:
                yield from self._hand_over_run(item)
            else:
                yield from self._list("error", item)  # type: ignore[arg-type]
        yield from self._batch(batch, *rows.slices(batch))

    def _hand_over_run(self, run: _Run) -> Iterator[Nem12Event]:
        if not run.days:  # its only day turned out to have 400 or 500 records
            return
        block, group, start = run.block, run.group, run.start
        lines, days, tails, _ = zip(*run.days, strict=True)
        dates, ordinals = zip(*days, strict=True)
        _, methods, reasons, descriptions, updates, stamps, loads = zip(*tails, strict=True)
        count = len(dates)
        digests = group.digests[start : start + count]
        details: Sequence[tuple[IntervalQuality, ...]] = ((),) * count
        b2b: Sequence[tuple[B2BDetail, ...]] = ((),) * count
        if run.extras:
            digests, details, b2b = list(digests), list(details), list(b2b)
            for i, (quality, day_details, day_b2b) in run.extras.items():
                if quality is not None:
                    digests[i] = group.value_digests[start + i] ^ _quality_digest(quality)
                details[i], b2b[i] = day_details, day_b2b
        if self.versions.add_run(block.nmi + block.suffix, ordinals, stamps, lines, digests):
            # The usual case: dates this channel has not had yet, in order.
            self.kept += count
            values, quality = run.arrays(0, count)
            yield ChannelDays(
                source=self.source,
                nmi=block.nmi,
                suffix=block.suffix,
                register_id=block.register_id,
                meter_serial=block.meter_serial,
                uom=block.uom,
                value_unit=block.unit.stored_as,
                is_energy=block.unit.is_energy,
                interval_minutes=block.interval_minutes,
                values=values,
                quality=quality,
                days=dates,
                quality_methods=methods,
                reason_codes=reasons,
                reason_descriptions=descriptions,
                update_datetimes=updates,
                msats_load_datetimes=loads,
                source_lines=lines,
                quality_details=tuple(details),
                b2b_details=tuple(b2b),
            )
            return
        # Some of these dates were seen before: decide day by day.
        batch: list[_PendingDay] = []
        for position, fields in enumerate(run.days):
            day = _PendingDay.taken(block, fields, group)
            day.digest, day.details, day.b2b = digests[position], list(details[position]), list(b2b[position])
            kept, notes = self._keep(day)
            if notes and batch:
                yield from self._batch(batch, *run.arrays(batch[0].index - start, batch[-1].index - start + 1))
            yield from self._notes(notes)
            if kept:
                batch.append(day)
        if batch:
            yield from self._batch(batch, *run.arrays(batch[0].index - start, batch[-1].index - start + 1))

    def _notes(self, notes: list[DayWithdrawn | tuple[str, ReadingError]]) -> Iterator[Nem12Event]:
        for note in notes:
            if isinstance(note, DayWithdrawn):
                yield note
            else:
                yield from self._list(*note)

    def _batch(self, days: list[_PendingDay], values: np.ndarray, quality: np.ndarray) -> Iterator[ChannelDays]:
        if not days:
            return
        block = days[0].block
        dates, methods, codes, descriptions, updates, loads, lines, details, b2b = zip(
            *[
                (
                    d.day,
                    d.quality_method,
                    d.reason_code,
                    d.reason_description,
                    d.update_datetime,
                    d.msats_load_datetime,
                    d.line,
                    () if d.details is None else tuple(d.details),
                    () if d.b2b is None else tuple(d.b2b),
                )
                for d in days
            ],
            strict=True,
        )
        yield ChannelDays(
            source=self.source,
            nmi=block.nmi,
            suffix=block.suffix,
            register_id=block.register_id,
            meter_serial=block.meter_serial,
            uom=block.uom,
            value_unit=block.unit.stored_as,
            is_energy=block.unit.is_energy,
            interval_minutes=block.interval_minutes,
            values=values,
            quality=quality,
            days=dates,
            quality_methods=methods,
            reason_codes=codes,
            reason_descriptions=descriptions,
            update_datetimes=updates,
            msats_load_datetimes=loads,
            source_lines=lines,
            quality_details=details,
            b2b_details=b2b,
        )
        days.clear()

    def _keep(self, day: _PendingDay) -> tuple[bool, list[DayWithdrawn | tuple[str, ReadingError]]]:
        """Keep the newest version of each channel-day (NMI, suffix, date)."""
        block = day.block
        channel = block.nmi + block.suffix
        versions = self.versions
        conflicting = versions.conflicts.get((channel, day.ordinal))
        if conflicting is not None and day.stamp <= conflicting:
            return False, [self._note(day, "error", "not newer than its conflicting versions", sep=": ")]
        slot = versions.find(channel, day.ordinal)
        earlier, line, digest = (None, 0, 0) if slot is None else versions.records.get(slot)
        if earlier is None or earlier == _WITHDRAWN or day.stamp > earlier:
            notes: list[DayWithdrawn | tuple[str, ReadingError]] = []
            if slot is None:
                versions.add(channel, day.ordinal, day.stamp, day.line, day.digest)
            else:
                if earlier != _WITHDRAWN:
                    notes.append(self._note(day, "warning", f"replaces the older version at line {line}"))
                versions.records.put(slot, day.stamp, day.line, day.digest)
            if conflicting is not None:
                del versions.conflicts[(channel, day.ordinal)]
            self.kept += earlier is None or earlier == _WITHDRAWN
            return True, notes
        assert slot is not None
        if day.stamp < earlier:
            return False, [self._note(day, "warning", f"ignored: the version at line {line} is newer")]
        if day.digest == digest:
            return False, [self._note(day, "warning", f"repeats line {line}; ignored")]
        versions.records.put(slot, _WITHDRAWN, line, digest)
        versions.conflicts[(channel, day.ordinal)] = day.stamp
        self.kept -= 1
        message = f"differs from line {line} with the same UpdateDateTime; both rejected"
        return False, [DayWithdrawn(block.nmi, block.suffix, day.day, line), self._note(day, "error", message)]

    def _note(self, day: _PendingDay, severity: str, message: str, *, sep: str = " ") -> tuple[str, ReadingError]:
        what = f"{day.block.nmi}/{day.block.suffix} {day.day.isoformat()}"
        field_name = "UpdateDateTime" if severity == "error" else None
        return severity, ReadingError(self.source, day.line, "300", field_name, f"{what}{sep}{message}")

    # -- reporting ------------------------------------------------------------------------

    def _error(self, line: int | None, record: str | None, field_name: str | None, message: str) -> None:
        self.found.append(ReadingError(self.source, line, record, field_name, message))

    def _list(self, severity: str, entry: ReadingError) -> Iterator[Nem12Notice]:
        # A garbage file can have a million bad lines: the report must not grow with it.
        listed = self.result.errors if severity == "error" else self.result.warnings
        if len(listed) < MAX_LISTED:
            listed.append(entry)
            yield Nem12Notice("error" if severity == "error" else "warning", entry)
        else:
            self.unlisted[severity] += 1

    def _reject_file(
        self, line: int | None, record: str | None, message: str, field_name: str | None = None
    ) -> NoReturn:
        raise _FileRejected(ReadingError(self.source, line, record, field_name, f"{message} ({_FILE_REJECTED})"))


def _cached(cache: dict[str, _Cached], key: str, value: _Cached) -> _Cached:
    if len(cache) >= _CACHED:  # a file of ever-new stamps must not grow the cache without end
        cache.clear()
    cache[key] = value
    return value


class _Rows:
    """A chunk's closed days as (days x intervals) arrays, one pair per interval length,
    with a digest per day to tell two versions with the same stamp apart."""

    def __init__(self, days: list[_PendingDay]) -> None:
        self.arrays: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        by_count: dict[int, list[_PendingDay]] = {}
        for day in days:
            by_count.setdefault(day.block.interval_count, []).append(day)
        for count, group in by_count.items():
            values = _gather(group)
            quality = np.empty((len(group), count), dtype="U1")
            quality[:] = np.array([day.letter for day in group], dtype="U1")[:, np.newaxis]
            for row, day in enumerate(group):
                if day.quality is not None:  # per-interval quality from 400 records
                    quality[row] = np.frombuffer(bytes(day.quality), dtype="S1").astype("U1")
            values.setflags(write=False)
            quality.setflags(write=False)
            digests = (_value_digests(values) ^ _quality_digests(quality)).tolist()
            for row, (day, digest) in enumerate(zip(group, digests, strict=True)):
                day.row, day.digest = row, digest
            self.arrays[count] = (values, quality)

    def slices(self, days: list[_PendingDay]) -> tuple[np.ndarray, np.ndarray]:
        # A batch is consecutive days of one block: consecutive rows, so views, not copies.
        if not days:
            return _NO_ROWS
        values, quality = self.arrays[days[0].block.interval_count]
        return values[days[0].row : days[-1].row + 1], quality[days[0].row : days[-1].row + 1]


_NO_ROWS = (np.empty((0, 0), dtype=np.int64), np.empty((0, 0), dtype="U1"))


def _gather(days: list[_PendingDay]) -> np.ndarray:
    """The days' values as one array: runs of consecutive rows of the same source are
    sliced, not copied one by one."""
    runs: list[list[object]] = []
    for day in days:
        matrix, row = day.value_row()
        if runs and runs[-1][0] is matrix and runs[-1][2] == row:
            runs[-1][2] = row + 1
        else:
            runs.append([matrix, row, row + 1])
    parts = [matrix[start:stop] for matrix, start, stop in runs]  # type: ignore[index]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _rows_to_stored(rows: list[str], *, width: int, unit: Unit) -> np.ndarray | None:
    """``plain_decimal_rows_to_stored``, row by row the same (None when it gives None), with
    a quicker read of the usual rows: values all one width with exactly the unit's decimals
    (kWh with three), read by position a column of digits at a time in int32, rather than
    as a (values x digits) int64 matrix. The other rows are left to it."""
    stored = np.empty((len(rows), width), dtype=np.int64)
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    cell, misfit = np.divmod(lengths + 1, width)  # a value and its comma, if all are one width
    left = np.ones(len(rows), dtype=bool)
    # The widths found, in order (np.unique would do, at several times the cost per chunk).
    for size in np.flatnonzero(np.bincount(cell[misfit == 0])).tolist():
        chosen = np.flatnonzero((misfit == 0) & (cell == size))
        values = _fixed_decimals(rows if len(chosen) == len(rows) else _pick(rows, chosen), size - 1, unit.exponent)
        if values is not None:
            stored[chosen] = values.reshape(len(chosen), width)
            left[chosen] = False
    if left.any():
        others = np.flatnonzero(left)
        values = plain_decimal_rows_to_stored(_pick(rows, others), width=width, unit=unit)
        if values is None:
            return None
        stored[others] = values
    return stored


def _pick(rows: list[str], indices: np.ndarray) -> list[str]:
    return [rows[i] for i in indices.tolist()]


def _fixed_decimals(rows: list[str], size: int, places: int) -> np.ndarray | None:
    """Values ``size`` characters wide, each with exactly ``places`` decimals ("0.123"), as
    stored integers (the digits without the point, int32); None for anything else."""
    point = size - places - 1
    if point < 0 or not 2 <= size <= 10:  # a digit at least ("." is no value); int32 holds 9
        return None
    try:
        raw = (",".join(rows) + ",").encode("ascii")
    except UnicodeEncodeError:
        return None
    # One row per character position (the last: commas), each contiguous: quicker to work on
    # than the strided columns of the (values x characters) grid, even with the copy.
    grid = np.frombuffer(raw, dtype=np.uint8).reshape(-1, size + 1).T.copy()
    if not (np.all(grid[size] == ord(",")) and np.all(grid[point] == ord("."))):
        return None
    grid -= np.uint8(ord("0"))  # wraps below "0": a non-digit is > 9 (point and commas unused now)
    if max(int(part.max()) for part in (grid[:point], grid[point + 1 : size]) if len(part)) > 9:
        return None
    digits = [grid[column] for column in range(size) if column != point]
    # Two digits at a time in uint8 (at most 99), then those pairs in int32: a third of the
    # passes over int32 that a digit at a time would take.
    pairs = [digits[0]] if len(digits) % 2 else []
    for column in range(len(digits) % 2, len(digits), 2):
        pair = digits[column] * np.uint8(10)
        pair += digits[column + 1]
        pairs.append(pair)
    stored = pairs[0].astype(np.int32)
    for pair in pairs[1:]:
        stored *= 100
        stored += pair
    return stored  # int32: widened to int64 where the caller puts it


# Fixed odd weights: a day's digest is the same in every run. Two different days collide
# only if sum(difference x weight) is 0 modulo 2**64, about one chance in 2**60 for any
# difference a meter can produce.
_WEIGHTS = np.random.default_rng(12).integers(1, 2**63, size=(2, 288), dtype=np.uint64) | np.uint64(1)


# A day's digest is (its values' digest) XOR (its quality's): weighted sums of each.
def _value_digests(values: np.ndarray) -> np.ndarray:
    return values.view(np.uint64) @ _WEIGHTS[0, : values.shape[1]]


def _quality_digests(quality: np.ndarray) -> np.ndarray:
    # A U1 letter is its code point: for these ASCII letters, the same as its byte.
    return quality.view(np.uint32).astype(np.uint64) @ _WEIGHTS[1, : quality.shape[1]]


def _letter_digests(letters: np.ndarray, count: int) -> np.ndarray:
    """The quality digests of rows that have one letter throughout (the sum factors)."""
    return letters.view(np.uint32).astype(np.uint64) * _WEIGHTS[1, :count].sum(dtype=np.uint64)


def _quality_digest(letters: bytes) -> int:
    return int(np.frombuffer(letters, dtype=np.uint8).astype(np.uint64) @ _WEIGHTS[1, : len(letters)])


_WITHDRAWN = -(2**63)  # the stamp of a channel-day taken back


class _VersionIndex:
    """What is remembered of every channel-day kept so far, to place a later version of it:
    its UpdateDateTime, line and data digest (``records``), never the values.

    A channel's days normally come as runs of consecutive dates, so a channel costs a
    dictionary entry and each run 40 bytes; a channel whose dates jump about gets a
    dictionary of its days instead."""

    _MAX_RUNS = 32

    def __init__(self) -> None:
        self.records = _DayRecords()
        self.newest: dict[str, int] = {}  # NMI + suffix: its newest run
        # Runs, side by side: first ordinal, days, first slot, the channel's run before it
        # (-1 for none), and the end of the channel's latest date so far.
        self.firsts, self.lengths, self.slots, self.previous, self.highs = (array("q") for _ in range(5))
        self.scattered: dict[str, dict[int, int]] = {}
        self.conflicts: dict[tuple[str, int], int] = {}  # stamps of channel-days both rejected

    def close(self) -> None:
        self.records.close()

    def _runs(self, channel: str) -> Iterator[int]:
        run = self.newest.get(channel, -1)
        while run >= 0:
            yield run
            run = self.previous[run]

    def find(self, channel: str, ordinal: int) -> int | None:
        scattered = self.scattered.get(channel)
        if scattered is not None:
            return scattered.get(ordinal)
        for run in self._runs(channel):
            first = self.firsts[run]
            if first <= ordinal < first + self.lengths[run]:
                return self.slots[run] + ordinal - first
        return None

    def add_run(
        self,
        channel: str,
        ordinals: Sequence[int],
        stamps: Sequence[int],
        lines: Sequence[int],
        digests: Sequence[int],
    ) -> bool:
        """Add days whose dates follow one another and come after every date the channel
        has had: certainly new. False (nothing done) when they need a look day by day."""
        first, count = ordinals[0], len(ordinals)
        if ordinals[-1] != first + count - 1 or channel in self.scattered:
            return False
        newest = self.newest.get(channel, -1)
        if newest >= 0 and first < self.highs[newest]:
            return False
        if tuple(ordinals) != tuple(range(first, first + count)):
            return False
        self._place(channel, newest, first, count)
        self.records.extend(stamps, lines, digests)
        return True

    def add(self, channel: str, ordinal: int, stamp: int, line: int, digest: int) -> None:
        scattered = self.scattered.get(channel)
        if scattered is not None:
            scattered[ordinal] = len(self.records)
        else:
            self._place(channel, self.newest.get(channel, -1), ordinal, 1)
        self.records.extend((stamp,), (line,), (digest,))

    def _place(self, channel: str, newest: int, first: int, count: int) -> None:
        """Give days first.. (about to be recorded) their runs."""
        slot = len(self.records)
        if (
            newest >= 0
            and self.firsts[newest] + self.lengths[newest] == first
            and (self.slots[newest] + self.lengths[newest] == slot)
        ):
            self.lengths[newest] += count
            self.highs[newest] = max(self.highs[newest], first + count)
            return
        runs = list(self._runs(channel))
        if len(runs) >= self._MAX_RUNS:
            table = {}
            for run in runs:
                start, length = self.firsts[run], self.lengths[run]
                table.update(
                    zip(range(start, start + length), range(self.slots[run], self.slots[run] + length), strict=True)
                )
            table.update(zip(range(first, first + count), range(slot, slot + count), strict=True))
            self.scattered[channel] = table
            del self.newest[channel]
            return
        self.newest[channel] = len(self.firsts)
        self.firsts.append(first)
        self.lengths.append(count)
        self.slots.append(slot)
        self.previous.append(newest)
        self.highs.append(max(self.highs[newest] if newest >= 0 else first + count, first + count))


class _DayRecords:
    """Per channel-day: UpdateDateTime stamp, line and digest, 24 bytes, by slot. Every
    ``IN_MEMORY`` (6 MB) they move to a temporary file, read back only when a day comes
    again, so a file of any size is indexed in bounded memory.

    New records wait in lists and join the arrays ``WAITING`` at a time: numpy turns a list
    of ints into int64 several times quicker than ``array.extend`` does (a stamp has 14
    digits, past the interpreter's quick conversion)."""

    IN_MEMORY = 1 << 18
    WAITING = 1 << 12
    _RECORD = np.dtype([("stamp", "<i8"), ("line", "<i8"), ("digest", "<u8")])

    def __init__(self) -> None:
        self.stamps, self.lines, self.digests = array("q"), array("q"), array("Q")
        self.waiting: tuple[list[int], list[int], list[int]] = ([], [], [])  # the slots after the arrays'
        self.on_disk = 0  # slots below this are in the file
        self.file: IO[bytes] | None = None

    def __len__(self) -> int:
        return self.on_disk + len(self.stamps) + len(self.waiting[0])

    def extend(self, stamps: Iterable[int], lines: Iterable[int], digests: Iterable[int]) -> None:
        waiting_stamps, waiting_lines, waiting_digests = self.waiting
        waiting_stamps.extend(stamps)
        waiting_lines.extend(lines)
        waiting_digests.extend(digests)
        if len(waiting_stamps) >= self.WAITING:
            self._settle()

    def get(self, slot: int) -> tuple[int, int, int]:
        self._settle()
        if slot >= self.on_disk:
            at = slot - self.on_disk
            return self.stamps[at], self.lines[at], self.digests[at]
        assert self.file is not None
        self.file.seek(slot * self._RECORD.itemsize)
        record = np.frombuffer(self.file.read(self._RECORD.itemsize), dtype=self._RECORD)[0]
        return int(record["stamp"]), int(record["line"]), int(record["digest"])

    def put(self, slot: int, stamp: int, line: int, digest: int) -> None:
        self._settle()
        if slot >= self.on_disk:
            at = slot - self.on_disk
            self.stamps[at], self.lines[at], self.digests[at] = stamp, line, digest
            return
        assert self.file is not None
        self.file.seek(slot * self._RECORD.itemsize)
        self.file.write(np.array([(stamp, line, digest)], dtype=self._RECORD).tobytes())

    def _settle(self) -> None:
        """Move the waiting records into the arrays (and the arrays to the file if full)."""
        stamps, lines, digests = self.waiting
        if not stamps:
            return
        self.stamps.frombytes(np.array(stamps, dtype=np.int64).tobytes())
        self.lines.frombytes(np.array(lines, dtype=np.int64).tobytes())
        self.digests.frombytes(np.array(digests, dtype=np.uint64).tobytes())
        self.waiting = ([], [], [])
        if len(self.stamps) >= self.IN_MEMORY:
            self._spill()

    def _spill(self) -> None:
        records = np.empty(len(self.stamps), dtype=self._RECORD)
        records["stamp"], records["line"], records["digest"] = self.stamps, self.lines, self.digests
        if self.file is None:
            self.file = tempfile.TemporaryFile()  # noqa: SIM115  (closed with the index)
        self.file.seek(self.on_disk * self._RECORD.itemsize)
        self.file.write(records.tobytes())
        self.on_disk += len(records)
        self.stamps, self.lines, self.digests = array("q"), array("q"), array("Q")

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


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
    # One of the configuration's two-character suffixes: found at an even position.
    at = configuration.find(suffix)
    while at % 2 and at >= 0:
        at = configuration.find(suffix, at + 1)
    if at < 0:
        raise _FieldError("NMISuffix", f"suffix {suffix} is not in NMIConfiguration {configuration}")
    if not register_id:
        raise _FieldError("RegisterID", "blank RegisterID")
    try:
        unit = parse_unit(uom)
    except UnknownUnit as exc:
        raise _FieldError("UOM", str(exc)) from None
    if length not in _LENGTHS:
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
        block,
        number,
        day,
        day.toordinal(),
        letter,
        letter + method,
        reason,
        fields[tail + 2],
        update,
        _stamp(update),
        msats,
        values=values,
    )


def _interval_values(texts: list[str], unit: Unit) -> np.ndarray:
    # One regex over the row, then an exact conversion per value; the fast path converts
    # whole chunks at once and comes here only for rows it could not take.
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
    count = day.block.interval_count
    start = _interval_number(fields[1], "StartInterval", count)
    end = _interval_number(fields[2], "EndInterval", count)
    if start > end:
        raise _FieldError("EndInterval", f"end interval {end} is before start interval {start}")
    letter, method = _quality(fields[3], "QualityMethod", in_400=True)
    reason = _reason(fields[4], fields[5], letter)
    if not day.is_variable and letter != day.letter:
        raise _FieldError(
            "QualityMethod",
            f"quality {letter} contradicts the 300's {day.quality_method}: only a V day has per-interval quality",
        )
    if day.covered is not None and day.covered.find(1, start - 1, end) >= 0:
        raise _FieldError("StartInterval", f"intervals {start}-{end} overlap an earlier 400 record")
    _cover(day, start, end, letter, IntervalQuality(start, end, letter + method, reason, fields[5]))


def _cover(day: _PendingDay, start: int, end: int, letter: str, detail: IntervalQuality) -> None:
    """Give intervals start..end (1-based, inclusive, not yet covered) the 400's quality."""
    if day.covered is None or day.quality is None or day.details is None:
        count = day.block.interval_count
        day.covered, day.quality, day.details = bytearray(count), bytearray(day.letter.encode() * count), []
    day.covered[start - 1 : end] = b"\x01" * (end - start + 1)
    day.quality[start - 1 : end] = letter.encode() * (end - start + 1)
    day.details.append(detail)


def _parse_b2b(fields: list[str]) -> B2BDetail:
    fields = _fit(fields, minimum=2, maximum=5)
    if fields[1] not in _TRANS_CODES:
        raise _FieldError("TransCode", f"unknown TransCode {fields[1]!r}")
    read_at = _datetime(fields[3], "ReadDateTime", digits=(14,)) if fields[3] else None
    return B2BDetail(fields[1], fields[2], read_at, fields[4])


def _closes_the_day(text: str) -> bool:
    """Whether the careful way starts this line by closing the open day: a 200 or a 900 it
    can split (an unreadable line abandons the day instead)."""
    return '"' not in text and (text.startswith(("200,", "900,")) or text == "900")


def _fast_b2b(text: str) -> B2BDetail | None:
    """A 500 read as the careful way reads it; None when it is not clean (the careful way
    then words what is wrong)."""
    if '"' in text:
        return None
    try:
        return _parse_b2b(_split(text))
    except _FieldError:
        return None


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
    if not code_text.isdecimal() or not 0 <= int(code_text) <= 109:
        raise _FieldError("ReasonCode", f"reason code {code_text!r} is not 0-109")
    if int(code_text) == 0 and not description:
        raise _FieldError("ReasonDescription", "reason code 0 needs a description")
    return int(code_text)


def _interval_number(text: str, name: str, count: int) -> int:
    if not text.isdecimal() or not 1 <= int(text) <= count:
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
            # One int for the lot, then its pairs of digits: quicker than an int per field.
            rest, second = divmod(int(text) * 100 if len(text) == 12 else int(text), 100)
            rest, minute = divmod(rest, 100)
            rest, hour = divmod(rest, 100)
            rest, day = divmod(rest, 100)
            year, month = divmod(rest, 100)
            return datetime(year, month, day, hour, minute, second, tzinfo=NEM_TIME)
    except ValueError:
        pass
    shape = " or ".join("CCYYMMDDhhmm" + "ss" * (n == 14) for n in digits)
    raise _FieldError(name, f"{text!r} is not a date and time ({shape})")


def _stamp(moment: datetime) -> int:
    """A NEM-time date and time as one comparable integer, CCYYMMDDhhmmss."""
    return (
        (((moment.year * 100 + moment.month) * 100 + moment.day) * 100 + moment.hour) * 100 + moment.minute
    ) * 100 + (moment.second)


def _ranges(numbers: np.ndarray) -> str:
    """1,2,3,7 -> "1-3, 7"."""
    runs: list[list[int]] = []
    for n in (int(x) for x in numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in runs)
