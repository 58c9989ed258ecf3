"""Reading a product manager's bulk file (CSV or XLSX) into rows, each with its row number
as the spreadsheet shows it (the header is row 1), so every error can point at a cell.

The layout is fixed and documented (``COLUMNS``); an unknown or missing column is an error
for the whole file, because a shifted column would otherwise load prices into names.

Going the other way, the template and the catalog export are written by the one safe table
writer (``shared.platform.exports``): a description typed as "-20% off" or "=cheap" opens in
Excel as text, never as a formula, and prices stay numbers. The export is in this layout, so
a product manager edits it and loads it back.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from shared.catalog.product import PriceVersion, Product
from shared.platform.exports import Cell, Table, to_csv, to_xlsx

REQUIRED = ("productId", "name", "kind", "unit", "taxCode", "currency", "price", "activeFrom")
OPTIONAL = ("priceValidFrom", "activeTo", "stockItemId", "description")
COLUMNS = REQUIRED + OPTIONAL
MAX_ROWS = 100_000
# A cell a spreadsheet would run as a formula when the file is opened again (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# The template's one example row: a product manager copies it rather than reading a manual.
_EXAMPLE: tuple[Cell, ...] = (
    "HWS-HP-270", "Heat pump hot water 270 L", "hardware", "each", "GST", "AUD", Decimal("3890.00"),
    date(2026, 12, 1), None, None, "STK-HP270", "Installed",
)  # fmt: skip
_SHEET = "Products"


class BulkFileError(ValueError):
    """The file as a whole cannot be read; nothing in it is applied."""


@dataclass(frozen=True)
class Row:
    number: int  # as the spreadsheet shows it: the header is row 1
    cells: dict[str, str]


def read_rows(data: bytes, *, file_name: str) -> list[Row]:
    rows = _xlsx_rows(data, file_name) if data[:4] == b"PK\x03\x04" else _csv_rows(data, file_name)
    header = next(rows, None)
    if header is None:
        raise BulkFileError(f"{file_name}: the file is empty")
    names = [h.strip() for h in header]
    unknown = [n for n in names if n not in COLUMNS]
    missing = [c for c in REQUIRED if c not in names]
    if unknown or missing:
        parts = ([f"unknown column(s) {', '.join(unknown)}"] if unknown else []) + (
            [f"missing column(s) {', '.join(missing)}"] if missing else []
        )
        raise BulkFileError(f"{file_name}: row 1: {'; '.join(parts)}; the columns are {', '.join(COLUMNS)}")
    if len(set(names)) != len(names):
        raise BulkFileError(f"{file_name}: row 1: a column appears twice")
    result = []
    for number, values in enumerate(rows, start=2):
        if number - 1 > MAX_ROWS:
            raise BulkFileError(f"{file_name}: more than {MAX_ROWS} rows; split the file")
        if not any(v.strip() for v in values):
            continue  # a blank line between blocks is not an error
        if len(values) > len(names):
            raise BulkFileError(f"{file_name}: row {number}: {len(values)} cells under {len(names)} columns")
        padded = list(values) + [""] * (len(names) - len(values))
        result.append(Row(number, {name: value.strip() for name, value in zip(names, padded, strict=True)}))
    return result


def _csv_rows(data: bytes, file_name: str) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise BulkFileError(f"{file_name}: row {line}: not UTF-8 (save the file as CSV UTF-8)") from None
    try:
        yield from csv.reader(io.StringIO(text, newline=""), strict=True)
    except csv.Error as error:
        raise BulkFileError(f"{file_name}: {error}") from None


def _xlsx_rows(data: bytes, file_name: str) -> Iterator[list[str]]:
    from openpyxl import load_workbook  # only when an XLSX arrives

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise BulkFileError(f"{file_name}: not a readable XLSX workbook ({error})") from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    # Excel stores dates as dates and prices as floats; turn them back into what was typed.
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value)


# -- writing: the template and the catalog in this layout -----------------------------------


def template_table() -> Table:
    return Table.of(_SHEET, COLUMNS, [_EXAMPLE])


def template_csv() -> bytes:
    """The bulk file's columns and the example row, as CSV (UTF-8 with a byte order mark)."""
    return to_csv(template_table())


def template_xlsx() -> bytes:
    return to_xlsx([template_table()])


def export_table(products: Iterable[Product], *, as_of: date) -> Table:
    """The catalog in the bulk layout, one row per product with the price in force on
    ``as_of`` (or its first price, for a product not on sale yet). ``priceValidFrom`` is left
    empty: loaded back unchanged, the file changes nothing."""
    ordered = sorted(products, key=lambda product: product.product_id)
    return Table.of(_SHEET, COLUMNS, [_product_row(p, as_of) for p in ordered])


def export_csv(products: Iterable[Product], *, as_of: date) -> bytes:
    return to_csv(export_table(products, as_of=as_of))


def export_xlsx(products: Iterable[Product], *, as_of: date) -> bytes:
    return to_xlsx([export_table(products, as_of=as_of)])


def _product_row(p: Product, as_of: date) -> tuple[Cell, ...]:
    return (
        p.product_id, p.name, p.kind.value, p.unit, p.tax_code, p.currency, _price_shown(p, as_of).amount,
        p.active_from, None, p.active_to, p.stock_item_id, p.description or None,
    )  # fmt: skip


def _price_shown(product: Product, as_of: date) -> PriceVersion:
    covering = [version for version in product.prices if version.covers(as_of)]
    return covering[0] if covering else product.prices[0]
