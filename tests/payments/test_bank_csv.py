"""The CSV statement reader on its own: the layout it accepts, and each bad line named by line
and field while the good lines are kept. Also the reference and bank-id rules it feeds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from shared.money import Money
from shared.payments.bank_csv import parse_csv
from shared.payments.bank_statements import (
    StatementRefused,
    detect_format,
    entry_bank_ids,
    parse_statement,
    reference_in,
)

DATA = Path(__file__).parent / "data"
HEADER = "bookingDate,valueDate,amount,currency,reference,bankReference,payerName,account\n"


def test_the_sample_statement_reads_as_the_documented_layout():
    parsed = parse_csv((DATA / "statement.csv").read_bytes(), account=None)

    first = parsed.entries[0]
    assert (first.line, first.booking_date, first.value_date) == (2, date(2026, 11, 2), date(2026, 11, 2))
    assert (first.amount, first.credit, first.reference) == (Money(Decimal("100.00"), "AUD"), True, "71000012")
    assert (first.bank_ref, first.payer_name, first.account) == ("CBA-0001", "J Citizen", "062000-12345678")
    fee = next(e for e in parsed.entries if e.line == 6)
    assert (fee.amount, fee.credit) == (Money(Decimal("15.00"), "AUD"), False)
    assert [e.line for e in parsed.entries] == [2, 3, 4, 6, 7, 9]
    assert [(e.line, e.field) for e in parsed.errors] == [(5, "amount"), (8, "bookingDate")]


def test_a_byte_order_mark_crlf_and_any_header_spelling_are_accepted():
    data = (
        "\ufeffBooking Date;AMOUNT;Currency;Reference;payer_name\r\n"
        "2026-11-02;12.50;aud;71000012;Jo\r\n"
        "2026-11-03;7;AUD;;\r\n"
    ).encode()
    parsed = parse_csv(data, account="NO93 8601 1117 947")

    assert [(e.line, e.amount, e.reference, e.payer_name) for e in parsed.entries] == [
        (2, Money(Decimal("12.50"), "AUD"), "71000012", "Jo"),
        (3, Money(Decimal("7"), "AUD"), None, None),
    ]
    assert {e.account for e in parsed.entries} == {"NO9386011117947"}  # compacted, upper case
    assert parsed.errors == ()


def test_a_quoted_field_spanning_lines_keeps_the_following_line_numbers_right():
    data = (
        HEADER + '2026-11-02,,1.00,AUD,"line one\nline two",B1,,ACC-1\n' + "2026-11-02,,x,AUD,1,B2,,ACC-1\n"
    ).encode()
    parsed = parse_csv(data, account=None)

    assert [(e.line, e.remittance) for e in parsed.entries] == [(2, "line one\nline two")]
    assert [(e.line, e.field) for e in parsed.errors] == [(4, "amount")]


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ("2026-13-01,,1.00,AUD,1,B,,ACC-1", "bookingDate", "not a date"),
        ("02/11/2026,,1.00,AUD,1,B,,ACC-1", "bookingDate", "not a date"),
        (",,1.00,AUD,1,B,,ACC-1", "bookingDate", "empty"),
        ("2026-11-02,2026-11-31,1.00,AUD,1,B,,ACC-1", "valueDate", "not a date"),
        ("2026-11-02,,1.005,AUD,1,B,,ACC-1", "amount", "more decimals than AUD"),
        ("2026-11-02,,1 000.00,AUD,1,B,,ACC-1", "amount", "no thousands separators"),
        ("2026-11-02,,0.00,AUD,1,B,,ACC-1", "amount", "zero"),
        ("2026-11-02,,1e3,AUD,1,B,,ACC-1", "amount", "decimal"),
        ("2026-11-02,,1.00,SEK,1,B,,ACC-1", "currency", "SEK"),
        ("2026-11-02,,1.00,AUD,1,B,,ACC/1", "account", "not an IBAN"),
        ("2026-11-02,,1.00,AUD,1,B,,", "account", "no account"),
        ("2026-11-02,,1.00,AUD,1,B", "line", "has 6 fields, the header 8"),
    ],
)
def test_a_bad_line_is_named_by_line_and_field_and_the_good_lines_are_kept(row, field, words):
    good = "2026-11-02,,3.00,AUD,71000012,OK-1,,ACC-1"
    parsed = parse_csv((HEADER + good + "\n" + row + "\n" + good.replace("OK-1", "OK-2") + "\n").encode(), account=None)

    assert [e.bank_ref for e in parsed.entries] == ["OK-1", "OK-2"]
    (error,) = parsed.errors
    assert (error.line, error.field) == (3, field)
    assert words in error.message


def test_a_broken_quote_reports_the_rest_of_the_file_as_not_read():
    data = (HEADER + '2026-11-02,,1.00,AUD,"unterminated,B1,,ACC-1\n2026-11-02,,2.00,AUD,1,B2,,ACC-1\n').encode()
    parsed = parse_csv(data, account=None)

    assert parsed.entries == ()
    (error,) = parsed.errors
    assert error.line == 2 and error.field == "line" and "the rest not read" in error.message


@pytest.mark.parametrize(
    ("data", "field", "line", "words"),
    [
        (b"", "body", None, "empty"),
        (b"bookingDate,amount,currency\n2026-11-02,1.00,AUD\n", "reference", 1, "lacks column(s) reference"),
        (b"bookingDate,amount,Amount,currency,reference\n", "amount", 1, "appears twice"),
        (HEADER.encode(), "body", 1, "no lines"),
        (HEADER.encode() + b"2026-11-02,,1.00,AUD,caf\xe9,B,,ACC-1\n", "encoding", 2, "not UTF-8"),
    ],
)
def test_a_file_with_a_bad_header_or_encoding_is_refused_whole(data, field, line, words):
    with pytest.raises(StatementRefused) as refused:
        parse_statement(data, fmt="csv", account=None)
    assert (refused.value.field, refused.value.line) == (field, line)
    assert words in refused.value.message


def test_a_bad_account_given_for_the_whole_file_refuses_it():
    with pytest.raises(StatementRefused) as refused:
        parse_csv(HEADER.encode() + b"2026-11-02,,1.00,AUD,1,B,,\n", account="my account!")
    assert refused.value.field == "account"


def test_the_format_is_read_from_the_content():
    assert detect_format(b"\xef\xbb\xbf  <?xml version='1.0'?><Document/>") == "camt053"
    assert detect_format(b"bookingDate,amount\n") == "csv"
    with pytest.raises(StatementRefused) as refused:
        parse_statement(b"x", fmt="mt940", account=None)
    assert refused.value.field == "format"


# -- references and bank ids --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("71000012", "71000012"),
        (" 7100 0012 ", "71000012"),
        ("CRN 71000012 October", "71000012"),  # 71000012 passes MOD10; nothing else is digits
        ("Faktura KID 1234 5678 903 takk", "12345678903"),
        ("Invoice 2026 ref 71000012", "71000012"),  # 2026 fails MOD10 (check digit would be 8)
        ("ref 71000013", "ref 71000013"),  # the only number fails its check digit: kept as text
        ("71000012 and 71000020", "71000012 and 71000020"),  # two valid references: the text
        ("", None),
        ("   ", None),
    ],
)
def test_the_payment_reference_is_read_from_the_remittance_text(text, reference):
    assert reference_in(text) == reference


def test_entries_without_a_bank_id_are_keyed_by_their_values_and_their_occurrence():
    header = "bookingDate,amount,currency,reference,account\n"
    a = "2026-11-02,20.00,AUD,71000012,ACC-1\n"
    b = "2026-11-02,20.00,AUD,71000020,ACC-1\n"
    one = parse_csv((header + a + b + a).encode(), account=None).entries
    other = parse_csv((header + b + a + a).encode(), account=None).entries

    ids_one, ids_other = entry_bank_ids(one), entry_bank_ids(other)
    assert len(set(ids_one)) == 3  # the two equal payments stay two
    # Same payments in another order (other line numbers): the same ids.
    assert sorted(ids_one) == sorted(ids_other)
    assert ids_one[0] == ids_other[1] and ids_one[2] == ids_other[2]
    assert all(i.startswith("h") and len(i) == 33 for i in ids_one)


def test_a_bank_id_with_characters_no_store_takes_is_hashed_not_altered():
    data = (HEADER + "2026-11-02,,1.00,AUD,1,2026/11#7,,ACC-1\n2026-11-02,,1.00,AUD,1,2026_11_7,,ACC-1\n").encode()
    ids = entry_bank_ids(parse_csv(data, account=None).entries)

    assert ids[0].startswith("r") and "/" not in ids[0] and "#" not in ids[0]
    assert ids[1] == "2026_11_7"
