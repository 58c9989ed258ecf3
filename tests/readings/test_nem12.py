from __future__ import annotations

import itertools
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from shared.readings import IMPORTERS
from shared.readings.model import NEM_TIME, ImportResult, IntervalDay
from shared.readings.nem12 import MAX_LINE_CHARS, MAX_LISTED, parse_nem12, read_nem12_file
from tests.readings.nem12_text import END, HEADER, block, day, nem12

FIXTURES = Path(__file__).parent / "fixtures"
TWO_NMIS = (FIXTURES / "two_nmis_30min.csv").read_text()


def by_channel(result: ImportResult) -> dict[tuple[str, str, date], IntervalDay]:
    return {(d.nmi, d.suffix, d.day): d for d in result.days}


def parse(text: str) -> ImportResult:
    return parse_nem12(text, source="test.csv")


# -- a well-formed file ---------------------------------------------------------------------


def test_a_file_with_two_nmis_is_accepted_whole() -> None:
    result = parse(TWO_NMIS)

    assert result.status == "accepted"
    assert result.errors == [] and result.warnings == []
    assert sorted(by_channel(result)) == [
        ("NMI0000001", "B1", date(2024, 1, 1)),
        ("NMI0000001", "E1", date(2024, 1, 1)),
        ("NMI0000001", "E1", date(2024, 1, 2)),
        ("NMI0000002", "E1", date(2024, 1, 1)),
    ]
    assert (result.sender, result.recipient) == ("MDP1", "RETAILER1")
    assert result.created_at == datetime(2024, 1, 2, 10, 30, tzinfo=NEM_TIME)


def test_kwh_decimals_become_exact_wh_rounded_half_up() -> None:
    e1 = by_channel(parse(TWO_NMIS))[("NMI0000001", "E1", date(2024, 1, 1))]

    # 0.0005 kWh is 0.5 Wh -> 1 (half-even would say 0); 1.2345 kWh -> 1235 (a float gives 1234.4999...).
    assert e1.values_wh[:6].tolist() == [1, 1235, 2500, 125, 3000, 0]
    assert e1.values_wh.dtype == np.int64
    assert e1.total == 1 + 1235 + 2500 + 125 + 3000 + 42 * 250 == 17361
    assert (e1.uom, e1.value_unit, e1.is_energy) == ("kWh", "Wh", True)


def test_every_channel_day_totals_in_exact_wh() -> None:
    days = by_channel(parse(TWO_NMIS))

    assert days[("NMI0000001", "E1", date(2024, 1, 2))].total == 48_000
    assert days[("NMI0000001", "B1", date(2024, 1, 1))].total == 20 * 1500
    assert days[("NMI0000002", "E1", date(2024, 1, 1))].total == 48 * 333


def test_400_records_give_a_v_day_its_quality_per_interval() -> None:
    v_day = by_channel(parse(TWO_NMIS))[("NMI0000001", "E1", date(2024, 1, 2))]

    assert v_day.quality_method == "V"
    assert "".join(v_day.quality) == "A" * 10 + "SS" + "E" * 36
    assert [(q.start_interval, q.end_interval, q.quality_method, q.reason_code) for q in v_day.quality_details] == [
        (1, 10, "A", None),
        (11, 12, "S14", 76),
        (13, 48, "E52", None),
    ]


def test_a_day_keeps_where_it_came_from_and_its_version() -> None:
    days = by_channel(parse(TWO_NMIS))
    e1 = days[("NMI0000001", "E1", date(2024, 1, 1))]
    second_nmi = days[("NMI0000002", "E1", date(2024, 1, 1))]

    assert (e1.source, e1.source_line, e1.register_id, e1.meter_serial) == ("test.csv", 3, "1", "MTR001")
    assert e1.update_datetime == datetime(2024, 1, 2, 0, 30, tzinfo=UTC)
    assert e1.msats_load_datetime == datetime(2024, 1, 2, 11, 0, tzinfo=NEM_TIME)
    assert "".join(e1.quality) == "A" * 48
    assert second_nmi.source_line == 11
    assert [(b.trans_code, b.ret_service_order, b.index_read) for b in second_nmi.b2b_details] == [
        ("O", "SO1234", "012345")
    ]
    assert second_nmi.b2b_details[0].read_datetime == datetime(2024, 1, 1, 12, tzinfo=NEM_TIME)


def test_a_market_day_starts_at_14_00_utc_the_day_before() -> None:
    e1 = by_channel(parse(TWO_NMIS))[("NMI0000001", "E1", date(2024, 1, 1))]

    assert e1.start_utc == datetime(2023, 12, 31, 14, 0, tzinfo=UTC)
    assert e1.end_utc == datetime(2024, 1, 1, 14, 0, tzinfo=UTC)


def test_a_sydney_dst_change_day_is_still_48_half_hours_of_market_time() -> None:
    result = parse(nem12(block(), day("20240407")))  # Sydney leaves DST that morning

    (only,) = result.days
    assert only.interval_count == 48 and only.values_wh.size == 48
    assert only.start_utc == datetime(2024, 4, 6, 14, 0, tzinfo=UTC)


def test_crlf_lines_give_the_same_days_as_lf() -> None:
    crlf = parse(TWO_NMIS.replace("\n", "\r\n"))

    assert crlf.status == "accepted"
    assert {k: d.total for k, d in by_channel(crlf).items()} == {
        k: d.total for k, d in by_channel(parse(TWO_NMIS)).items()
    }


def test_lines_can_come_from_a_generator_read_once() -> None:
    lines = (line for line in TWO_NMIS.splitlines(keepends=True))

    result = parse_nem12(lines, source="stream")

    assert result.status == "accepted" and len(result.days) == 4
    assert next(lines, None) is None


def test_a_fatal_error_stops_reading_an_endless_stream() -> None:
    after_the_end = itertools.chain([HEADER, block(), day(), END, block()], itertools.repeat(day()))
    no_header = itertools.chain([block()], itertools.repeat(day()))

    assert parse_nem12(after_the_end, source="endless").errors[0].line == 5
    assert parse_nem12(no_header, source="endless").errors[0].line == 1


def test_the_importer_registry_knows_nem12() -> None:
    result = IMPORTERS["NEM12"].parse(TWO_NMIS, source="registry")

    assert result.status == "accepted" and len(result.days) == 4


@pytest.mark.parametrize(("minutes", "count"), [(5, 288), (15, 96)])
def test_five_and_fifteen_minute_days(minutes: int, count: int) -> None:
    result = parse(nem12(block(minutes=minutes), day(minutes=minutes, value="0.01")))

    (only,) = result.days
    assert result.status == "accepted"
    assert (only.interval_minutes, only.values_wh.size, only.total) == (minutes, count, count * 10)
    assert only.start_utc == datetime(2023, 12, 31, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("uom", "value", "expected_wh"),
    [
        ("Wh", "1500", 1500),
        ("WH", "1500.5", 1501),  # half-up even for Wh with decimals
        ("MWh", "0.0012345", 1235),
        ("mwh", "2", 2_000_000),
        ("KWH", "1.5", 1500),
    ],
)
def test_energy_units_are_converted_to_wh_in_any_case(uom: str, value: str, expected_wh: int) -> None:
    (only,) = parse(nem12(block(uom=uom), day(value=value))).days

    assert only.values_wh[0] == expected_wh
    assert (only.uom, only.value_unit, only.is_energy) == (uom, "Wh", True)


def test_reactive_energy_keeps_its_own_unit_so_it_cannot_be_billed_as_wh() -> None:
    (only,) = parse(nem12(block(suffix="Q1", uom="kvarh"), day(value="2.222"))).days

    assert (only.value_unit, only.is_energy, int(only.values_wh[0])) == ("VArh", True, 2222)


def test_demand_units_are_kept_as_milli_units_and_flagged_not_energy() -> None:
    (only,) = parse(nem12(block(suffix="K1", uom="kW"), day(value="1.2345"))).days

    assert (only.value_unit, only.is_energy, int(only.values_wh[0])) == ("mW", False, 1_234_500)


def test_accepted_arrays_cannot_be_changed() -> None:
    (only,) = parse(nem12(block(), day())).days

    with pytest.raises(ValueError):
        only.values_wh[0] = 1
    with pytest.raises(ValueError):
        only.quality[0] = "E"


def test_blank_lines_byte_order_mark_and_spreadsheet_padding_are_tolerated() -> None:
    text = "\ufeff" + nem12("", block() + ",,,,", day() + ",,,", ",,,,,,")

    result = parse(text)

    assert result.status == "accepted" and result.days[0].total == 24_000


def test_a_quoted_free_text_reason_with_a_comma_is_read_as_one_field() -> None:
    line = day(quality="S14", reason="0").replace(",S14,0,,", ',S14,0,"meter bypassed, estimated",')

    (only,) = parse(nem12(block(), line)).days

    assert (only.quality_method, only.reason_code, only.reason_description) == (
        "S14",
        0,
        "meter bypassed, estimated",
    )


# -- zips and files on disk -----------------------------------------------------------------


def test_a_zip_holding_one_csv_is_read(tmp_path: Path) -> None:
    archive = tmp_path / "NEM12#0001#MDP1#RETAILER1.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("NEM12#0001#MDP1#RETAILER1.csv", TWO_NMIS.replace("\n", "\r\n"))

    result = read_nem12_file(archive)

    assert result.status == "accepted"
    assert sum(d.total for d in result.days) == 17361 + 48_000 + 30_000 + 15_984
    assert result.source == "NEM12#0001#MDP1#RETAILER1.zip:NEM12#0001#MDP1#RETAILER1.csv"


def test_a_plain_file_with_any_extension_is_read(tmp_path: Path) -> None:
    path = tmp_path / "meterdata.V01"
    path.write_bytes(TWO_NMIS.replace("\n", "\r\n").encode())

    result = read_nem12_file(path)

    assert result.status == "accepted" and len(result.days) == 4
    assert result.days[0].source == "meterdata.V01"


def test_a_zip_with_two_files_is_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.csv", TWO_NMIS)
        zf.writestr("b.csv", TWO_NMIS)

    result = read_nem12_file(archive)

    assert result.status == "rejected" and result.days == []
    assert "a.csv, b.csv" in result.errors[0].message


def test_a_corrupt_zip_is_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("a.csv", TWO_NMIS)
    data = bytearray(archive.read_bytes())
    at = data.index(b"300,20240101")
    data[at : at + 3] = b"301"  # same length, wrong CRC
    archive.write_bytes(bytes(data))

    result = read_nem12_file(archive)

    assert result.status == "rejected" and result.days == []
    assert "unreadable zip" in result.errors[0].message


def test_a_file_that_is_not_utf8_is_rejected_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        nem12(block(), day(quality="S14", reason="0").replace(",S14,0,,", ",S14,0,caf\xe9,")).encode("latin-1")
    )

    result = read_nem12_file(path)

    assert result.status == "rejected"
    assert (result.errors[0].line, result.errors[0].message) == (3, "not UTF-8 text (file rejected)")


def test_an_endless_line_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text(HEADER + "\n" + "2" * (MAX_LINE_CHARS * 4) + "\n" + END + "\n")

    result = read_nem12_file(path)

    assert result.status == "rejected" and result.errors[0].line == 2
    assert "longer than" in result.errors[0].message


# -- the envelope: what rejects a whole file ------------------------------------------------


def assert_file_rejected(result: ImportResult, *, line: int | None, record: str | None, says: str) -> None:
    assert result.status == "rejected"
    assert result.days == []
    (error,) = result.errors
    assert (error.line, error.record_type) == (line, record)
    assert says in error.message and "file rejected" in error.message


def test_a_missing_900_rejects_the_file() -> None:
    text = nem12(block(), day()).removesuffix(END + "\n")

    assert_file_rejected(parse(text), line=None, record="900", says="truncated")


def test_a_900_with_fields_is_broken_and_rejects_the_file() -> None:
    text = nem12(block(), day()).replace(END, "900,20240101")

    assert_file_rejected(parse(text), line=4, record="900", says="broken 900")


def test_a_900_cut_short_is_no_900() -> None:
    result = parse(nem12(block(), day()).replace(END, "90"))

    assert result.status == "rejected" and result.days == []
    # The stray line also abandons the day it interrupts; then the missing 900 rejects everything.
    assert [(e.line, e.record_type) for e in result.errors] == [(4, "90"), (3, "300"), (None, "900")]


def test_a_missing_100_rejects_the_file() -> None:
    text = nem12(block(), day()).removeprefix(HEADER + "\n")

    assert_file_rejected(parse(text), line=1, record="200", says="no 100 header")


def test_an_empty_file_is_rejected() -> None:
    assert_file_rejected(parse(""), line=None, record="100", says="empty file")


def test_records_after_the_900_reject_the_file() -> None:
    text = nem12(block(), day()) + nem12(block("NMI0000002"), day())  # two files concatenated

    assert_file_rejected(parse(text), line=5, record=None, says="after the 900")


def test_a_second_100_rejects_the_file() -> None:
    assert_file_rejected(parse(nem12(block(), day(), HEADER)), line=4, record="100", says="second 100")


def test_a_nem13_file_is_not_read_as_nem12() -> None:
    text = nem12().replace("NEM12", "NEM13")

    assert_file_rejected(parse(text), line=1, record="100", says="not NEM12")


def test_a_nem13_record_inside_a_nem12_file_rejects_it() -> None:
    text = nem12(block(), day(), "250,NMI0000001,11,1,11,N1,MTR001,E,000100")

    assert_file_rejected(parse(text), line=4, record="250", says="NEM13 record")


# -- a bad 200: its block only --------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad_block", "field", "says"),
    [
        (block("NMI0000001", uom="furlongs"), "UOM", "unknown unit"),
        (block("NMI0000001", uom=""), "UOM", "unknown unit"),
        (block("NMI0000001", minutes=10), "IntervalLength", "not 5, 15 or 30"),
        (block("NMI000001"), "NMI", "not 10 letters or digits"),  # a leading zero lost in a spreadsheet
        (block("NMI0000001", suffix="B1", configuration="E1Q1"), "NMISuffix", "not in NMIConfiguration"),
        (block("NMI0000001", register=""), "RegisterID", "blank"),
        ("200,NMI0000001,E1,1,E1,N1,MTR001", None, "short 200"),
    ],
)
def test_a_bad_200_rejects_its_block_and_keeps_the_other_nmis(bad_block: str, field: str | None, says: str) -> None:
    text = nem12(bad_block, day("20240101"), day("20240102"), "400,1,48,A,,", block("NMI0000002"), day("20240101"))

    result = parse(text)

    assert result.status == "partial"
    assert [(d.nmi, d.day) for d in result.days] == [("NMI0000002", date(2024, 1, 1))]
    (error,) = result.errors  # the block's own 300 and 400 lines are skipped, not reported one by one
    assert (error.line, error.record_type, error.field) == (2, "200", field)
    assert says in error.message and "block rejected" in error.message


def test_a_file_whose_only_block_is_bad_is_rejected() -> None:
    result = parse(nem12(block(uom="furlongs"), day()))

    assert result.status == "rejected" and result.days == []


# -- a bad 300 (or its 400/500): that channel-day only --------------------------------------


def assert_only_day_rejected(result: ImportResult, *, line: int, field: str | None, says: str) -> None:
    assert result.status == "partial"
    assert [(d.nmi, d.day) for d in result.days] == [
        ("NMI0000001", date(2024, 1, 2)),
        ("NMI0000002", date(2024, 1, 1)),
    ]
    (error,) = result.errors
    assert (error.line, error.field) == (line, field)
    assert says in error.message and "channel-day rejected" in error.message


def file_with_bad_first_day(bad_day: str, *after: str) -> str:
    return nem12(block(), bad_day, *after, day("20240102"), block("NMI0000002"), day("20240101"))


def test_a_short_300_rejects_that_day_with_its_line_number() -> None:
    text = file_with_bad_first_day(day(values=["0.5"] * 47))

    assert_only_day_rejected(parse(text), line=3, field="IntervalValue", says="expected 48 interval values")
    assert "found 47" in parse(text).errors[0].message


def test_a_300_with_fifteen_minute_values_under_a_thirty_minute_200_is_rejected() -> None:
    text = file_with_bad_first_day(day(values=["0.5"] * 96))

    assert_only_day_rejected(parse(text), line=3, field="IntervalValue", says="found 96")


def test_a_300_cut_off_after_the_date_is_rejected() -> None:
    assert_only_day_rejected(
        parse(file_with_bad_first_day("300,20240101,V,,,20240102120025,")),
        line=3,
        field="IntervalValue",
        says="found 0",
    )


def test_an_unknown_quality_flag_rejects_that_day() -> None:
    assert_only_day_rejected(
        parse(file_with_bad_first_day(day(quality="T"))), line=3, field="QualityMethod", says="unknown quality flag 'T'"
    )


@pytest.mark.parametrize(
    ("quality", "reason", "field", "says"),
    [
        ("E", "", "QualityMethod", "needs a two-digit method"),
        ("A14", "", "QualityMethod", "takes no method"),
        ("S14", "", "ReasonCode", "needs a reason code"),
        ("F14", "110", "ReasonCode", "not 0-109"),
        ("S14", "0", "ReasonDescription", "needs a description"),
    ],
)
def test_quality_method_and_reason_rules(quality: str, reason: str, field: str, says: str) -> None:
    text = file_with_bad_first_day(day(quality=quality, reason=reason))

    assert_only_day_rejected(parse(text), line=3, field=field, says=says)


def test_blank_interval_values_reject_that_day() -> None:
    text = file_with_bad_first_day(day(value=""))

    assert_only_day_rejected(parse(text), line=3, field="IntervalValue1", says="blank interval value")
    assert "47 more" in parse(text).errors[0].message


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("1.2E+3", "exponent notation '1.2E+3'"),
        ("5e2", "exponent notation"),
        ("-0.5", "negative"),
        ("8. 77", "not a number"),
        ("0x10", "not a number"),
        ("1" * 30, "implausibly large"),
    ],
)
def test_values_that_are_not_plain_decimals_reject_that_day(value: str, says: str) -> None:
    values = ["0.5"] * 48
    values[16] = value

    assert_only_day_rejected(
        parse(file_with_bad_first_day(day(values=values))), line=3, field="IntervalValue17", says=says
    )


def test_a_bad_update_datetime_rejects_that_day() -> None:
    assert_only_day_rejected(
        parse(file_with_bad_first_day(day(updated="20240230103000"))), line=3, field="UpdateDateTime", says="not a date"
    )


def test_a_v_day_needs_a_400_for_every_interval() -> None:
    text = file_with_bad_first_day(day(quality="V"), "400,1,10,A,,", "400,21,40,S14,76,")

    assert_only_day_rejected(parse(text), line=3, field="QualityMethod", says="none for intervals 11-20, 41-48")


@pytest.mark.parametrize(
    ("bad_400", "field", "says"),
    [
        ("400,1,48,V,,", "QualityMethod", "V is not allowed in a 400"),
        ("400,1,49,A,,", "EndInterval", "not an interval number from 1 to 48"),
        ("400,,48,A,,", "StartInterval", "not an interval number"),
        ("400,30,20,A,,", "EndInterval", "before start interval"),
        ("400,1,48,X,,", "QualityMethod", "unknown quality flag"),
    ],
)
def test_a_bad_400_rejects_its_day(bad_400: str, field: str, says: str) -> None:
    text = file_with_bad_first_day(day(quality="V"), bad_400)

    assert_only_day_rejected(parse(text), line=4, field=field, says=says)
    assert "300 at line 3" in parse(text).errors[0].message


def test_overlapping_400_records_reject_the_day() -> None:
    text = file_with_bad_first_day(day(quality="V"), "400,1,30,A,,", "400,25,48,E52,,")

    assert_only_day_rejected(parse(text), line=5, field="StartInterval", says="overlap")


def test_a_400_contradicting_a_non_v_300_rejects_the_day() -> None:
    text = file_with_bad_first_day(day(quality="A"), "400,1,10,E52,,")

    assert_only_day_rejected(parse(text), line=4, field="QualityMethod", says="contradicts")


def test_an_actual_day_may_carry_400s_with_reason_codes() -> None:
    result = parse(nem12(block(), day(quality="A"), "400,1,10,A,79,", "400,11,48,A,,"))

    assert result.status == "accepted"
    assert result.days[0].quality_details[0].reason_code == 79


def test_a_bad_500_rejects_its_day() -> None:
    text = file_with_bad_first_day(day(), "500,Z,SO1,20240101120000,012345")

    assert_only_day_rejected(parse(text), line=4, field="TransCode", says="unknown TransCode")


def test_a_broken_line_inside_a_day_rejects_that_day() -> None:
    # A 300 broken across two physical lines: the second half starts with a value.
    half = day()
    text = file_with_bad_first_day(half[:60], half[60:])

    result = parse(text)

    assert result.status == "partial"
    assert [(e.line, e.record_type) for e in result.errors] == [(3, "300"), (4, half[60:].split(",")[0])]


def test_a_300_before_any_200_is_an_error() -> None:
    result = parse(nem12(day(), "400,1,48,A,,", block(), day()))

    assert result.status == "partial"
    assert [(e.line, e.record_type) for e in result.errors] == [(2, "300")]
    assert len(result.days) == 1


def test_a_400_without_a_300_is_an_error() -> None:
    result = parse(nem12(block(), "400,1,48,A,,", day()))

    assert [(e.line, e.record_type) for e in result.errors] == [(3, "400")]
    assert len(result.days) == 1


# -- the same channel-day twice -------------------------------------------------------------


def test_a_later_update_replaces_an_earlier_version_of_the_day() -> None:
    text = nem12(block(), day(value="1", updated="20240102100000"), day(value="2", updated="20240103100000"))

    result = parse(text)

    assert result.status == "accepted"
    (kept,) = result.days
    assert (kept.total, kept.source_line) == (48_000 * 2, 4)
    (warning,) = result.warnings
    assert warning.line == 4 and "replaces the older version at line 3" in warning.message


def test_an_older_update_arriving_later_is_ignored() -> None:
    text = nem12(block(), day(value="2", updated="20240103100000"), day(value="1", updated="20240102100000"))

    result = parse(text)

    (kept,) = result.days
    assert (kept.total, kept.source_line) == (48_000 * 2, 3)
    assert "ignored" in result.warnings[0].message


def test_the_same_day_in_another_block_of_the_same_channel_is_a_duplicate_too() -> None:
    text = nem12(block(), day(value="1"), block("NMI0000002"), day(), block(), day(value="3", updated="20240105000000"))

    days = by_channel(parse(text))

    assert days[("NMI0000001", "E1", date(2024, 1, 1))].total == 48 * 3000


def test_an_identical_repeat_is_ignored_with_a_note() -> None:
    result = parse(nem12(block(), day(), day()))

    assert result.status == "accepted" and len(result.days) == 1
    assert "repeats line 3" in result.warnings[0].message


def test_two_different_versions_with_the_same_stamp_are_both_rejected() -> None:
    result = parse(nem12(block(), day(value="1"), day(value="2"), block("NMI0000002"), day()))

    assert result.status == "partial"
    assert [d.nmi for d in result.days] == ["NMI0000002"]
    assert [(e.line, e.field) for e in result.errors] == [(4, "UpdateDateTime")]


def test_a_newer_version_after_a_conflict_is_accepted() -> None:
    result = parse(nem12(block(), day(value="1"), day(value="2"), day(value="3", updated="20240109000000")))

    assert [d.total for d in result.days] == [48 * 3000]
    assert result.status == "partial"  # the conflict is still reported


# -- errors carry what an operator needs ----------------------------------------------------


def test_errors_name_source_line_record_and_field() -> None:
    error = parse(file_with_bad_first_day(day(quality="T"))).errors[0]

    assert error.to_json() == {
        "source": "test.csv",
        "line": 3,
        "recordType": "300",
        "field": "QualityMethod",
        "message": "unknown quality flag 'T' (channel-day rejected)",
    }
    assert str(error).startswith("test.csv, line 3, record 300, QualityMethod: unknown quality flag")


def test_a_flood_of_errors_is_listed_up_to_a_limit_then_counted() -> None:
    result = parse(nem12(block(), *["999,junk"] * (MAX_LISTED + 5), day()))

    assert result.status == "partial" and len(result.days) == 1
    assert len(result.errors) == MAX_LISTED + 1
    assert result.errors[-1].message == "5 more not listed"


def test_decimal_totals_agree_with_decimal_arithmetic_on_a_long_file() -> None:
    values = [f"{i % 7}.{i:03d}5" for i in range(48)]
    days = [day(f"202401{d:02d}", values=values) for d in range(1, 29)]

    result = parse(nem12(block(), *days))

    expected = sum(int((Decimal(v) * 1000).to_integral_value(rounding="ROUND_HALF_UP")) for v in values)
    assert result.status == "accepted" and len(result.days) == 28
    assert {d.total for d in result.days} == {expected}
