from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from shared.readings import spreadsheet
from shared.readings.model import ImportResult
from shared.readings.spreadsheet import (
    COLUMNS,
    SheetRead,
    looks_like_reads_csv,
    parse_csv,
    read_csv,
    read_xlsx,
    template_csv,
    template_xlsx,
)

NOW = datetime(2024, 6, 1, tzinfo=UTC)
AEST = timezone(timedelta(hours=10))
HEADER = "meterSerial,register,readAt,value,readType,readerId"
GOOD = "MTR001,E1,2024-05-01T09:30:00+10:00,012345.6,actual,FIELD-07"


def csv_text(*rows: str) -> str:
    return "\r\n".join([HEADER, *rows]) + "\r\n"


def parse(text: str) -> ImportResult:
    return parse_csv(text, source="reads.csv", now=NOW)


def located(result: ImportResult) -> list[tuple[int | None, str | None]]:
    return [(e.line, e.field) for e in result.errors]


def workbook_bytes(rows: list[list[Any]], *, extra_sheet: list[list[Any]] | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    if extra_sheet is not None:
        other = workbook.create_sheet("Other")
        for row in extra_sheet:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parse_xlsx(data: bytes) -> ImportResult:
    return read_xlsx(io.BytesIO(data), source="reads.xlsx", now=NOW)


# -- CSV: good rows ---------------------------------------------------------------------------


def test_a_csv_row_becomes_a_register_read_with_its_row_number() -> None:
    result = parse(csv_text(GOOD, "MTR002,E1,2024-05-02T08:00:00Z,7,Customer,CUST-1"))

    assert (result.status, result.errors) == ("accepted", [])
    first, second = result.register_reads
    assert isinstance(first, SheetRead) and isinstance(second, SheetRead)
    assert (first.meter_serial, first.register_id, first.reader_id) == ("MTR001", "E1", "FIELD-07")
    assert first.value == Decimal("12345.6")
    assert first.read_at == datetime(2024, 4, 30, 23, 30, tzinfo=UTC)
    assert (first.read_type, first.photo_ref, first.source_line) == ("actual", None, 2)
    assert (second.value, second.read_type, second.source_line) == (Decimal("7"), "customer", 3)


def test_columns_may_come_in_any_order_and_letter_case_with_the_optional_photo() -> None:
    text = "READAT,value,meterserial,readerId,photoRef,readType,Register\r\n"
    text += "2024-05-01T09:30:00+10:00,5.5,MTR001,FIELD-07,photos/1.jpg,estimated,E1\r\n"

    (read,) = parse(text).register_reads

    assert (read.meter_serial, read.register_id, read.value) == ("MTR001", "E1", Decimal("5.5"))
    assert (read.read_type, read.photo_ref) == ("estimated", "photos/1.jpg")


def test_blank_rows_are_skipped_but_still_counted_in_row_numbers() -> None:
    result = parse(csv_text("", ",,,,,", GOOD))

    assert [r.source_line for r in result.register_reads if isinstance(r, SheetRead)] == [4]


def test_excel_padding_after_the_header_and_the_rows_is_ignored() -> None:
    result = parse(HEADER + ",,\r\n" + GOOD + ",,\r\n")

    assert (result.status, len(result.register_reads)) == ("accepted", 1)


# -- CSV: bad rows are reported by row and column, the rest kept ------------------------------


def test_each_bad_row_is_reported_with_its_row_and_column_and_the_rest_kept() -> None:
    result = parse(
        csv_text(
            GOOD,
            "MTR001,E1,2024-05-01T09:30:00,1,actual,FIELD-07",  # row 3: no UTC offset
            "MTR001,E1,2024-07-01T09:30:00+10:00,1,actual,FIELD-07",  # row 4: after NOW
            "MTR001,E1,2024-05-03T09:30:00+10:00,1e3,actual,FIELD-07",  # row 5: exponent
            "MTR001,E1,2024-05-04T09:30:00+10:00,1,guessed,FIELD-07",  # row 6: unknown read type
            "MTR001,,2024-05-05T09:30:00+10:00,1,actual,FIELD-07",  # row 7: blank register
            "MTR001,E1,2024-05-06T09:30:00+10:00",  # row 8: short row
        )
    )

    assert result.status == "partial"
    assert located(result) == [
        (3, "readAt"),
        (4, "readAt"),
        (5, "value"),
        (6, "readType"),
        (7, "register"),
        (8, "readType"),
        (8, "readerId"),
        (8, "value"),
    ]
    assert [e.message for e in result.errors[:2]] == [
        "no UTC offset: a read time must say where it was taken, e.g. +10:00",
        "2024-07-01T09:30:00+10:00 is in the future",
    ]
    assert result.errors[-1].message == "missing"
    assert len(result.register_reads) == 1


def test_the_same_meter_register_and_time_twice_keeps_the_first_row() -> None:
    same_instant = "MTR001,E1,2024-04-30T23:30:00+00:00,999,actual,FIELD-08"

    result = parse(csv_text(GOOD, same_instant))

    assert located(result) == [(3, None)]
    assert result.errors[0].message == "the same meterSerial, register and readAt as row 2"
    assert [r.value for r in result.register_reads] == [Decimal("12345.6")]


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("meterSerial", '=HYPERLINK("http://x","MTR001")'),
        ("meterSerial", "+61400000000"),
        ("register", "-E1"),
        ("readerId", "@SUM(A1)"),
        ("readerId", "\tFIELD-07"),
        ("readerId", "\rFIELD-07"),
        ("readerId", "  =1+1"),  # the mobile rules strip: it would be stored as "=1+1"
        ("readType", '="actual"'),
        ("readAt", "=NOW()"),
        ("value", "=A1*2"),
    ],
)
def test_a_cell_that_could_run_as_a_formula_is_refused_not_stored(column: str, cell: str) -> None:
    cells = dict(zip(COLUMNS, GOOD.split(","), strict=True))
    cells[column] = '"' + cell.replace('"', '""') + '"'

    result = parse(csv_text(",".join(cells.values())))

    assert result.status == "rejected" and result.register_reads == []
    assert located(result) == [(2, column)]
    assert "formulas are refused" in result.errors[0].message


def test_a_negative_value_is_refused_by_the_mobile_rules() -> None:
    result = parse(csv_text(GOOD.replace("012345.6", "-5")))

    assert located(result) == [(2, "value")]
    assert result.errors[0].message == "negative value '-5'"


def test_a_refused_cell_does_not_hide_the_other_problems_of_its_row() -> None:
    result = parse(csv_text("=cmd,E1,2024-05-01T09:30:00,1,actual,FIELD-07"))

    assert located(result) == [(2, "meterSerial"), (2, "readAt")]


def test_values_beyond_the_headers_columns_are_refused() -> None:
    result = parse(csv_text(GOOD + ",surprise"))

    assert located(result) == [(2, None)]
    assert "beyond the 6 columns" in result.errors[0].message


def test_a_row_that_is_not_utf8_is_reported_and_the_others_kept() -> None:
    data = csv_text(GOOD, "MTR\xe9,E1,2024-05-02T09:30:00+10:00,1,actual,F").encode("utf-8")
    data = data.replace("é".encode(), b"\xe9")  # Latin-1, as an old Excel export writes it

    result = read_csv(io.BytesIO(data), source="reads.csv", now=NOW)

    assert result.status == "partial"
    assert located(result) == [(3, None)]
    assert "not UTF-8" in result.errors[0].message


def test_read_csv_accepts_a_byte_order_mark_and_leaves_the_file_open() -> None:
    raw = io.BytesIO(("\ufeff" + csv_text(GOOD)).encode("utf-8"))

    result = read_csv(raw, source="reads.csv", now=NOW)

    assert (result.status, len(result.register_reads)) == ("accepted", 1)
    assert not raw.closed


def test_errors_beyond_the_listing_limit_are_counted() -> None:
    bad = "MTR001,E1,not-a-date,1,actual,F"
    result = parse(csv_text(*[bad] * (spreadsheet.MAX_LISTED + 5)))

    assert len(result.errors) == spreadsheet.MAX_LISTED + 1
    assert result.errors[-1].message == "5 more not listed"


# -- CSV: the header --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        (HEADER + "\r\n", "no reads"),
        ("\r\n" + csv_text(GOOD), "row 1 is blank"),
        (csv_text(GOOD).replace("readerId", "reader"), "column 6: unknown column 'reader'"),
        (csv_text(GOOD).replace(",readerId", ",readerId,register"), "column 7: register appears twice"),
        (csv_text(GOOD).replace(",readerId", ""), "missing column readerId"),
        (HEADER.replace(",", ";") + "\r\n" + GOOD.replace(",", ";"), "separated by semicolons"),
        (csv_text(GOOD).replace("readAt,", ",readAt,"), "column 3: unknown column ''"),
    ],
    ids=["empty", "header-only", "blank-row-1", "unknown", "twice", "missing", "semicolons", "gap"],
)
def test_a_file_without_the_templates_header_is_rejected_whole(text: str, message: str) -> None:
    result = parse(text)

    assert result.status == "rejected" and result.register_reads == []
    assert len(result.errors) == 1
    assert message in result.errors[0].message and "file rejected" in result.errors[0].message


def test_looks_like_reads_csv_knows_the_header_only() -> None:
    assert looks_like_reads_csv(HEADER)
    assert looks_like_reads_csv("\ufeff" + HEADER.upper() + ",photoRef,,")
    assert not looks_like_reads_csv(HEADER.replace(",readerId", ""))
    assert not looks_like_reads_csv("100,NEM12,202401021030,MDP1,RETAILER1")


# -- xlsx ---------------------------------------------------------------------------------------


def test_an_xlsx_row_becomes_a_read_and_a_number_cell_is_fine_for_the_value() -> None:
    data = workbook_bytes([list(COLUMNS), ["MTR001", "E1", "2024-05-01T09:30:00+10:00", 12345.6, "actual", "FIELD-07"]])

    result = parse_xlsx(data)

    assert (result.status, result.errors) == ("accepted", [])
    (read,) = result.register_reads
    assert (read.meter_serial, read.value) == ("MTR001", Decimal("12345.6"))
    assert read.read_at == datetime(2024, 5, 1, 9, 30, tzinfo=AEST)
    assert isinstance(read, SheetRead) and read.source_line == 2


@pytest.mark.parametrize(
    ("column", "cell", "message"),
    [
        ("meterSerial", 1234, "a number cell, which loses leading zeros"),
        ("readAt", datetime(2024, 5, 1, 9, 30), "an Excel date cell has no UTC offset"),
        ("readerId", True, "a TRUE/FALSE cell"),
        ("value", "=B2*2", "formulas are refused"),
        ("meterSerial", '=CONCAT("MTR","001")', "formulas are refused"),
    ],
)
def test_an_xlsx_cell_excel_typed_or_computed_is_refused(column: str, cell: Any, message: str) -> None:
    row: list[Any] = ["MTR001", "E1", "2024-05-01T09:30:00+10:00", "5", "actual", "FIELD-07"]
    row[COLUMNS.index(column)] = cell

    result = parse_xlsx(workbook_bytes([list(COLUMNS), row]))

    assert result.status == "rejected"
    assert located(result) == [(2, column)]
    assert message in result.errors[0].message


def test_only_the_first_worksheet_is_read_and_gaps_keep_excels_row_numbers() -> None:
    good = ["MTR001", "E1", "2024-05-01T09:30:00+10:00", "5", "actual", "FIELD-07"]
    data = workbook_bytes([list(COLUMNS), [], [], good], extra_sheet=[list(COLUMNS), good])

    result = parse_xlsx(data)

    assert [r.source_line for r in result.register_reads if isinstance(r, SheetRead)] == [4]


def test_a_workbook_that_is_not_one_is_rejected_naming_why() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")

    result = parse_xlsx(buffer.getvalue())

    assert result.status == "rejected"
    assert "not a readable .xlsx workbook" in result.errors[0].message


def test_a_workbook_unzipping_beyond_the_limit_is_refused_before_it_is_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    data = template_xlsx()
    unzipped = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    monkeypatch.setattr(spreadsheet, "MAX_XLSX_UNZIPPED_BYTES", unzipped - 1)

    result = parse_xlsx(data)

    assert result.status == "rejected"
    assert f"unzips to {unzipped:,} bytes" in result.errors[0].message


def test_xml_entity_expansion_is_refused_by_the_parser() -> None:
    import openpyxl.xml

    # openpyxl parses through defusedxml when it is installed (requirements pin it).
    assert openpyxl.xml.DEFUSEDXML is True


# -- the template -------------------------------------------------------------------------------


def test_the_csv_template_is_the_header_row_alone() -> None:
    assert template_csv() == "meterSerial,register,readAt,value,readType,readerId\r\n"
    assert parse(template_csv()).errors[0].message.startswith("no reads")


def test_the_xlsx_template_filled_in_imports_and_its_text_columns_are_text() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(template_xlsx()))
    reads = workbook.worksheets[0]
    assert reads.title == "Reads"
    assert [c.value for c in reads[1]] == list(COLUMNS)
    assert reads.column_dimensions["A"].number_format == "@"  # meterSerial: leading zeros kept
    assert reads.column_dimensions["D"].number_format == "General"  # value: a number is fine
    assert workbook.sheetnames == ["Reads", "Help"]

    reads.append(["0042", "E1", "2024-05-01T09:30:00+10:00", "000123.4", "actual", "FIELD-07"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = parse_xlsx(buffer.getvalue())

    assert (result.status, result.errors) == ("accepted", [])
    (read,) = result.register_reads
    assert (read.meter_serial, read.value) == ("0042", Decimal("123.4"))
