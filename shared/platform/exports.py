"""The one table writer for every operator export: CSV and XLSX that open safely in a spreadsheet.

An export is read by a person in Excel or LibreOffice, so whatever a customer typed (a payer
name, a payment reference, a gateway's description) must never run there as a formula
(CSV/formula injection). The rules, the same for both formats:

- a text cell whose first character is ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  (or whose first character after leading spaces and line breaks is one of ``= + - @``, and the
  full-width ``＝ ＋ － ＠`` some locales also evaluate) gets a single quote in front: CSV
  ``'=HYPERLINK(...)``; XLSX the same text stored as a string cell, never a formula;
- numbers are not text: a ``Decimal`` (money) or ``int`` stays a number, so a negative amount is
  ``-12.50`` in the CSV and a numeric cell in the XLSX, never neutralised;
- floats are refused (money is Decimal here); a time-zone-aware datetime is written as ISO 8601
  text (spreadsheets have no time zones), a date as a date.

CSV follows RFC 4180 (CRLF line ends, quotes doubled) and starts with a UTF-8 byte order mark so
Excel reads accented names as UTF-8 rather than the machine's code page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

Cell = str | Decimal | int | date | datetime | None

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The characters that make a spreadsheet read a cell as a formula (OWASP's list, plus the
# full-width forms that Excel in East Asian locales also evaluates).
_FORMULA_FIRST = frozenset("=+-@\t\r＝＋－＠")
_FORMULA_AFTER_SPACE = frozenset("=+-@＝＋－＠")
_MONEY_FORMAT = "#,##0.00"
_MAX_SHEET_TITLE = 31  # Excel's limit


@dataclass(frozen=True)
class Table:
    """One sheet of an export: a header row and rows of cells, each row as long as the header."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    @classmethod
    def of(cls, title: str, columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> Table:
        table = cls(title, tuple(columns), tuple(tuple(row) for row in rows))
        for number, row in enumerate(table.rows, start=2):
            if len(row) != len(table.columns):
                raise ValueError(
                    f"export {title!r}: row {number} has {len(row)} cells, the header {len(table.columns)}"
                )
            for column, cell in zip(table.columns, row, strict=True):
                _check_type(cell, title, number, column)
        return table


def _check_type(cell: object, title: str, row: int, column: str) -> None:
    if isinstance(cell, bool) or not isinstance(cell, str | Decimal | int | date | datetime | type(None)):
        raise TypeError(
            f"export {title!r}: row {row}, column {column!r} holds a {type(cell).__name__}; "
            "write text, Decimal, int, date or an aware datetime"
        )
    if isinstance(cell, datetime) and cell.tzinfo is None:
        raise ValueError(f"export {title!r}: row {row}, column {column!r} holds a naive datetime")
    if isinstance(cell, Decimal) and not cell.is_finite():
        raise ValueError(f"export {title!r}: row {row}, column {column!r} holds {cell}, not a number")


def neutralised(text: str) -> str:
    """Text as it is safe to put in a spreadsheet cell: a quote before anything formula-like."""
    if not text:
        return text
    if text[0] in _FORMULA_FIRST or text.lstrip(" \t\r\n")[:1] in _FORMULA_AFTER_SPACE:
        return "'" + text
    return text


def _decimal_text(value: Decimal) -> str:
    return format(value, "f")  # never "1E+2": a spreadsheet would read that as text or a float


def _csv_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, str):
        return neutralised(cell)
    if isinstance(cell, Decimal):
        return _decimal_text(cell)
    return cell.isoformat() if isinstance(cell, date | datetime) else str(cell)


def to_csv(table: Table) -> bytes:
    """RFC 4180 CSV, UTF-8 with a byte order mark."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralised(name) for name in table.columns])
    for row in table.rows:
        writer.writerow([_csv_text(cell) for cell in row])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """One sheet per table; text cells are always string cells (never formulas)."""
    if not tables:
        raise ValueError("an XLSX export needs at least one table")
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title))
        for column, name in enumerate(table.columns, start=1):
            _put(sheet.cell(row=1, column=column), name)
        for number, row in enumerate(table.rows, start=2):
            for column, value in enumerate(row, start=1):
                _put(sheet.cell(row=number, column=column), value)
        for column, name in enumerate(table.columns, start=1):
            sheet.column_dimensions[get_column_letter(column)].width = max(10, min(40, len(name) + 2))
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _put(cell: object, value: Cell) -> None:
    if value is None:
        return
    if isinstance(value, str):
        # openpyxl would store a leading "=" as a formula: set the value, then force a string.
        # XML 1.0 cannot hold most control characters; they are replaced, not dropped silently.
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", neutralised(value))
        cell.value = text  # type: ignore[attr-defined]
        cell.data_type = "s"  # type: ignore[attr-defined]
        return
    if isinstance(value, datetime):
        cell.value = value.isoformat()  # type: ignore[attr-defined]
        cell.data_type = "s"  # type: ignore[attr-defined]
        return
    cell.value = value  # type: ignore[attr-defined]
    if isinstance(value, Decimal):
        cell.number_format = _MONEY_FORMAT if value.as_tuple().exponent == -2 else "General"  # type: ignore[attr-defined]
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"  # type: ignore[attr-defined]


def _sheet_title(title: str) -> str:
    # Excel refuses these in a sheet name and names longer than 31 characters.
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'") or "Sheet"
    return cleaned[:_MAX_SHEET_TITLE]


def attachment(filename: str) -> str:
    """A Content-Disposition header value for a download (names are ours: ASCII, no quotes)."""
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in filename)
    return f'attachment; filename="{safe}"'
