"""Register reads from spreadsheets (CSV and Excel .xlsx), one read per row, and the template.

The layout: row 1 is the header, naming the columns (in any order, names as below, letter
case ignored); every other row is one read. Blank rows are skipped.

=============  ========  ==========================================================  ==========================
column         required  what                                                        example
=============  ========  ==========================================================  ==========================
meterSerial    yes       the meter's serial number                                   MTR001
register       yes       the register on the meter                                   E1
readAt         yes       when it was read: ISO 8601 with a UTC offset                2024-05-01T09:30:00+10:00
value          yes       the register as read: digits, at most one decimal point     012345.6
readType       yes       actual, customer or estimated                               actual
readerId       yes       who read it                                                 FIELD-07
photoRef       no        a reference to a photo of the dial
=============  ========  ==========================================================  ==========================

Rows are numbered as the spreadsheet numbers them, the header being row 1. Each row is
checked on its own by the mobile app's rules (``mobile.validate_register_reads``), so a
read means the same whichever way it arrives; a bad row is reported with its row number
and column and the other rows are kept. The same meter, register and readAt twice keeps
the first row and reports the second. Only the first worksheet of a workbook is read.

Spreadsheets bring hazards of their own, refused rather than guessed at:

* formula injection: a text cell starting with = + - @ (or a tab or carriage return) runs
  as a formula when an export of these reads is opened in Excel; an .xlsx formula cell is
  refused the same way rather than its cached result trusted;
* Excel's typed cells: a serial typed as a number has lost its leading zeros, and a date
  cell has no UTC offset, so text columns and readAt must be text cells (the template's
  columns are formatted as text);
* zip bombs: a workbook that unzips to more than ``MAX_XLSX_UNZIPPED_BYTES`` is refused
  before it is opened. The XML inside is parsed with entity expansion refused (openpyxl
  uses defusedxml when it is installed, as it is here).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time
from typing import IO, Any

from shared.readings.mobile import validate_register_reads
from shared.readings.model import ImportResult, ImportStatus, ReadingError, RegisterRead

COLUMNS: tuple[str, ...] = ("meterSerial", "register", "readAt", "value", "readType", "readerId")
OPTIONAL_COLUMNS: tuple[str, ...] = ("photoRef",)
TEXT_COLUMNS = frozenset(COLUMNS + OPTIONAL_COLUMNS) - {"value"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list for CSV injection
MAX_LISTED = 1000  # errors listed one by one; beyond that only counted
MAX_LINE_CHARS = 64 * 1024  # a row of seven short cells; anything far longer is not this layout
MAX_XLSX_UNZIPPED_BYTES = 512 * 1024 * 1024  # about three million rows of this layout

_BY_LOWER = {name.lower(): name for name in COLUMNS + OPTIONAL_COLUMNS}
_FILE_REJECTED = "file rejected"

Cell = str | int | float | bool | datetime | date | time | None


@dataclass(frozen=True, kw_only=True)
class SheetRead(RegisterRead):
    """A register read from a spreadsheet, with the row it came from (the header is row 1)."""

    source_line: int


@dataclass(frozen=True)
class _Broken:
    """A row that could not be read at all: reported on its row number, the rest goes on."""

    message: str


Row = tuple[int, Sequence[Cell] | _Broken]


class _FileRejected(Exception):
    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _header_columns(cells: Sequence[Any]) -> list[str] | None:
    """The canonical column names of a header row, or None if it is not the template's."""
    names = [_canonical(cell) for cell in _trim(cells)]
    if None in names or len(set(names)) != len(names) or not set(COLUMNS) <= set(names):
        return None
    return [name for name in names if name is not None]


def looks_like_reads_csv(first_line: str) -> bool:
    """Does this line (a file's first) hold the template's header?"""
    try:
        cells = next(csv.reader([first_line.removeprefix("\ufeff")]), [])
    except csv.Error:
        return False
    return _header_columns(cells) is not None


def parse_csv(lines: Iterable[str] | str, *, source: str, now: datetime) -> ImportResult:
    """Register reads from CSV text: a string, or lines (a file opened with ``newline=""``)."""
    if isinstance(lines, str):
        lines = io.StringIO(lines, newline="")
    return _SheetParser(source, now).run(_csv_rows(lines))


def read_csv(raw: IO[bytes], *, source: str, now: datetime) -> ImportResult:
    """Register reads from a CSV file opened in binary mode, read line by line."""
    # errors="replace" lets a row that is not UTF-8 be reported with its row number.
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
    try:
        return parse_csv(_bounded_lines(text), source=source, now=now)
    finally:
        text.detach()  # the caller opened the binary file and closes it


def read_xlsx(raw: IO[bytes], *, source: str, now: datetime) -> ImportResult:
    """Register reads from the first worksheet of an .xlsx workbook (a seekable binary file)."""
    import openpyxl  # imported here: only workbooks pay for it

    try:
        _check_unzipped_size(raw)
        raw.seek(0)
        # read_only streams the sheet; data_only=False shows formulas as formulas, to refuse them.
        workbook = openpyxl.load_workbook(raw, read_only=True, data_only=False)
    except _FileRejected as rejection:
        return _rejected(source, rejection.line, rejection.message)
    except Exception as exc:  # a corrupt or hostile workbook fails in many ways inside openpyxl
        return _rejected(source, None, f"not a readable .xlsx workbook: {type(exc).__name__}: {exc}")
    try:
        if not workbook.worksheets:
            return _rejected(source, None, "the workbook has no worksheet")
        return _SheetParser(source, now).run(_xlsx_rows(workbook.worksheets[0]))
    finally:
        workbook.close()


# -- the template -----------------------------------------------------------------------------

_HELP: tuple[tuple[str, str, str, str], ...] = (
    ("meterSerial", "yes", "the meter's serial number (a text cell: leading zeros are kept)", "MTR001"),
    ("register", "yes", "the register on the meter", "E1"),
    ("readAt", "yes", "when it was read: ISO 8601 text with a UTC offset", "2024-05-01T09:30:00+10:00"),
    ("value", "yes", "the register as read: digits and at most one decimal point", "012345.6"),
    ("readType", "yes", "actual, customer or estimated", "actual"),
    ("readerId", "yes", "who read it", "FIELD-07"),
    ("photoRef", "no", "a reference to a photo of the dial", ""),
)


def template_csv() -> str:
    """The CSV template: the header row alone (an example row would be imported by mistake)."""
    return ",".join(COLUMNS) + "\r\n"


def template_xlsx() -> bytes:
    """The Excel template: a "Reads" sheet with the header and text-formatted columns, and a
    "Help" sheet describing each column with an example."""
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = openpyxl.Workbook()
    reads = workbook.active
    assert reads is not None
    reads.title = "Reads"
    reads.append(list(COLUMNS))
    for number, name in enumerate(COLUMNS, start=1):
        letter = reads.cell(row=1, column=number).column_letter
        reads.cell(row=1, column=number).font = Font(bold=True)
        reads.column_dimensions[letter].width = 28 if name == "readAt" else 16
        if name in TEXT_COLUMNS:
            reads.column_dimensions[letter].number_format = "@"  # Text: no lost zeros, no date cells
    read_types = DataValidation(type="list", formula1='"actual,customer,estimated"', allow_blank=True)
    read_types.add(f"E2:E{2 + 10_000}")
    reads.add_data_validation(read_types)
    reads.freeze_panes = "A2"
    help_sheet = workbook.create_sheet("Help")
    help_sheet.append(["column", "required", "what", "example"])
    for row in _HELP:
        help_sheet.append(list(row))
    help_sheet.append([])
    help_sheet.append(["Only the first sheet (Reads) is imported. Row 1 is the header; error reports number rows"])
    help_sheet.append(["as Excel does. Cells starting with = + - @ are refused (formulas are never imported)."])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# -- rows in, reads out ---------------------------------------------------------------------


class _SheetParser:
    def __init__(self, source: str, now: datetime) -> None:
        self.source = source
        self.now = now
        self.result = ImportResult(source=source, status="accepted")
        self.seen: dict[tuple[str, str, datetime], int] = {}
        self.unlisted = 0

    def run(self, rows: Iterator[Row]) -> ImportResult:
        try:
            columns = self._header(rows)
            data_rows = 0
            for number, cells in rows:
                if isinstance(cells, _Broken):
                    data_rows += 1
                    self._error(number, None, cells.message)
                elif not all(_is_blank(cell) for cell in cells):
                    data_rows += 1
                    self._row(number, columns, cells)
            if data_rows == 0:
                raise _FileRejected(None, "no reads: the file has a header but no rows below it")
        except _FileRejected as rejection:
            self.result.register_reads = []
            self.result.errors.append(
                ReadingError(self.source, rejection.line, None, None, f"{rejection.message} ({_FILE_REJECTED})")
            )
            self.result.status = "rejected"
        else:
            self.result.status = self._status()
        if self.unlisted:
            self.result.errors.append(ReadingError(self.source, None, None, None, f"{self.unlisted} more not listed"))
        return self.result

    def _status(self) -> ImportStatus:
        if not self.result.errors:
            return "accepted"
        return "partial" if self.result.register_reads else "rejected"

    def _header(self, rows: Iterator[Row]) -> list[str]:
        first = next(rows, None)
        if first is None:
            raise _FileRejected(None, "empty file: no header row")
        _, cells = first
        if isinstance(cells, _Broken):
            raise _FileRejected(1, f"the header row: {cells.message}")
        trimmed = _trim(cells)
        if not trimmed:
            raise _FileRejected(1, "row 1 is blank: it must be the header row " + ",".join(COLUMNS))
        if len(trimmed) == 1 and isinstance(trimmed[0], str) and ";" in trimmed[0]:
            raise _FileRejected(1, "the header is separated by semicolons: save the file as comma-separated CSV")
        names: list[str] = []
        for position, cell in enumerate(trimmed, start=1):
            name = _canonical(cell)
            if name is None:
                raise _FileRejected(1, f"column {position}: unknown column {_shown(cell)}; expected {_expected()}")
            if name in names:
                raise _FileRejected(1, f"column {position}: {name} appears twice")
            names.append(name)
        missing = [name for name in COLUMNS if name not in names]
        if missing:
            raise _FileRejected(1, f"missing column {', '.join(missing)}; expected {_expected()}")
        return names

    def _row(self, number: int, columns: list[str], cells: Sequence[Cell]) -> None:
        if any(not _is_blank(cell) for cell in cells[len(columns) :]):
            self._error(number, None, f"values beyond the {len(columns)} columns of the header")
            return
        item: dict[str, Any] = {}
        refused: set[str] = set()
        for name, cell in zip(columns, cells, strict=False):  # a short CSV row: the rest are "missing"
            try:
                value = _cell_value(name, cell)
            except ValueError as exc:
                self._error(number, name, str(exc))
                refused.add(name)
                continue
            if value is not None:
                item[name] = value
        # The other cells still get checked, so one report lists everything wrong with the row.
        reads, errors = validate_register_reads([item], now=self.now)
        for error in errors:
            if error.field not in refused:
                self._error(number, error.field, error.message)
        if not refused:
            for read in reads:
                self._keep(number, read)

    def _keep(self, number: int, read: RegisterRead) -> None:
        key = (read.meter_serial, read.register_id, read.read_at)
        if key in self.seen:
            self._error(number, None, f"the same meterSerial, register and readAt as row {self.seen[key]}")
            return
        self.seen[key] = number
        copied = {f.name: getattr(read, f.name) for f in fields(RegisterRead)}
        self.result.register_reads.append(SheetRead(**copied, source_line=number))

    def _error(self, row: int, field_name: str | None, message: str) -> None:
        # A garbage file can have a million bad rows: the report must not grow with it.
        if len(self.result.errors) < MAX_LISTED:
            self.result.errors.append(ReadingError(self.source, row, None, field_name, message))
        else:
            self.unlisted += 1


def _cell_value(name: str, cell: Cell) -> Any:
    """The cell as the mobile rules take it, or ValueError for what a spreadsheet adds."""
    if _is_blank(cell):
        # An empty cell: the mobile rules call a required field "blank"; photoRef may be empty.
        return None if name in OPTIONAL_COLUMNS else ""
    if isinstance(cell, str):
        # Checked after stripping too: the mobile rules strip, and " =cmd" would be stored as "=cmd".
        first = cell[0] if cell[0] in "\t\r" else cell.strip()[0]
        if first == "=" or (name in TEXT_COLUMNS and first in FORMULA_STARTS):
            raise ValueError(f"{_shown(cell)} starts with {first!r}: formulas are refused, not imported")
        return cell.strip().lower() if name == "readType" else cell
    if isinstance(cell, bool):
        raise ValueError("a TRUE/FALSE cell; enter it as text")
    if isinstance(cell, (datetime, date, time)):
        if name == "readAt":
            raise ValueError("an Excel date cell has no UTC offset; enter it as text, e.g. 2024-05-01T09:30:00+10:00")
        raise ValueError("a date cell; enter it as text")
    if isinstance(cell, (int, float)):
        if name == "value":
            return cell
        raise ValueError("a number cell, which loses leading zeros; format the column as Text and re-enter it")
    raise ValueError(f"a {type(cell).__name__} cell (a formula?); enter the value as text")


# -- sources of rows ----------------------------------------------------------------------------


def _csv_rows(lines: Iterable[str]) -> Iterator[Row]:
    """(row number, cells) for each CSV record; a record broken by a CSV error counts as a row."""
    reader = csv.reader(lines, strict=True)
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield number, _Broken(f"unreadable CSV: {exc}")
            continue
        if number == 1 and cells:
            cells[0] = cells[0].removeprefix("\ufeff")
        if any("\ufffd" in cell for cell in cells):
            yield number, _Broken("not UTF-8 text: save the file as CSV UTF-8")
            continue
        yield number, cells


def _xlsx_rows(sheet: Any) -> Iterator[Row]:
    rows = iter(sheet.iter_rows(values_only=True))  # read-only mode yields empty rows for gaps
    number = 0
    while True:
        number += 1
        try:
            cells = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # corrupt sheet XML surfaces here, mid-stream
            raise _FileRejected(number, f"unreadable worksheet: {type(exc).__name__}: {exc}") from None
        yield number, cells


def _bounded_lines(text: io.TextIOBase) -> Iterator[str]:
    number = 0
    while line := text.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise _FileRejected(number, f"line {number} is longer than {MAX_LINE_CHARS} characters: not a reads CSV")
        yield line


def _check_unzipped_size(raw: IO[bytes]) -> None:
    with zipfile.ZipFile(raw) as archive:
        total = sum(member.file_size for member in archive.infolist())
    if total > MAX_XLSX_UNZIPPED_BYTES:
        raise _FileRejected(None, f"the workbook unzips to {total:,} bytes, more than {MAX_XLSX_UNZIPPED_BYTES:,}")


# -- small helpers ------------------------------------------------------------------------------


def _canonical(cell: Any) -> str | None:
    return _BY_LOWER.get(cell.strip().lower()) if isinstance(cell, str) else None


def _trim(cells: Sequence[Any]) -> list[Any]:
    """Drop trailing blank cells (Excel and CSV exports pad rows)."""
    trimmed = list(cells)
    while trimmed and _is_blank(trimmed[-1]):
        trimmed.pop()
    return trimmed


def _is_blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _shown(cell: Any) -> str:
    return repr(cell[:40]) if isinstance(cell, str) else repr(cell)


def _expected() -> str:
    return ", ".join(COLUMNS) + " (and optionally " + ", ".join(OPTIONAL_COLUMNS) + ")"


def _rejected(source: str, line: int | None, message: str) -> ImportResult:
    error = ReadingError(source, line, None, None, f"{message} ({_FILE_REJECTED})")
    return ImportResult(source=source, status="rejected", errors=[error])
