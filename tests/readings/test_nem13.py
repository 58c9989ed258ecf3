from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from shared.readings.model import NEM_TIME, ImportResult
from shared.readings.nem13 import NEM13, AccumulationRead, parse_nem13

# The AEMO MDFF specification's own NEM13 example, record for record.
SPEC_HEADER = "100,NEM13,200506081149,UNITEDDP,NEMMCO"
SPEC_250 = (
    "250,1234567890,1141,01,11,11,METSER66,E,000021.2,20031001103230,A,,,000534.5,20040201100030,"
    "E64,77,,343.5,kWh,20040509,20040202125010,20040203000130"
)
SPEC_550 = "550,N,,A,S01009"

FIELDS_250 = [
    "RecordIndicator", "NMI", "NMIConfiguration", "RegisterID", "NMISuffix", "MDMDataStreamIdentifier",
    "MeterSerialNumber", "DirectionIndicator", "PreviousRegisterRead", "PreviousRegisterReadDateTime",
    "PreviousQualityMethod", "PreviousReasonCode", "PreviousReasonDescription", "CurrentRegisterRead",
    "CurrentRegisterReadDateTime", "CurrentQualityMethod", "CurrentReasonCode", "CurrentReasonDescription",
    "Quantity", "UOM", "NextScheduledReadDate", "UpdateDateTime", "MSATSLoadDateTime",
]  # fmt: skip


def record(**changes: str) -> str:
    """The spec's 250 with some fields changed, by their names in the spec."""
    fields = dict(zip(FIELDS_250, SPEC_250.split(","), strict=True))
    assert set(changes) <= set(fields), set(changes) - set(fields)
    return ",".join({**fields, **changes}.values())


def nem13(*records: str, newline: str = "\n") -> str:
    return newline.join([SPEC_HEADER, *records, "900"]) + newline


def parse(text: str) -> ImportResult:
    return parse_nem13(text, source="test.csv")


def reads_by_time(result: ImportResult) -> dict[datetime, AccumulationRead]:
    return {r.read_at: r for r in result.register_reads if isinstance(r, AccumulationRead)}


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=NEM_TIME)


# -- the spec's example ---------------------------------------------------------------------


def test_the_spec_example_gives_its_previous_and_its_current_read() -> None:
    result = parse(nem13(SPEC_250, SPEC_550))

    assert result.status == "accepted"
    assert result.errors == [] and result.warnings == []
    assert (result.sender, result.recipient) == ("UNITEDDP", "NEMMCO")
    assert result.created_at == datetime(2005, 6, 8, 11, 49, tzinfo=NEM_TIME)
    previous, current = result.register_reads
    assert isinstance(previous, AccumulationRead) and isinstance(current, AccumulationRead)

    assert (previous.which, previous.value, previous.index_read) == ("previous", Decimal("21.2"), "000021.2")
    assert previous.read_at == datetime(2003, 10, 1, 10, 32, 30, tzinfo=NEM_TIME)
    assert (previous.quality_method, previous.reason_code, previous.read_type) == ("A", None, "actual")
    assert (previous.trans_code, previous.ret_service_order) == ("N", "")
    assert previous.quantity is None

    assert (current.which, current.value, current.index_read) == ("current", Decimal("534.5"), "000534.5")
    assert current.read_at == datetime(2004, 2, 1, 10, 0, 30, tzinfo=NEM_TIME)
    assert (current.quality_method, current.reason_code, current.read_type) == ("E64", 77, "estimated")
    assert (current.trans_code, current.ret_service_order) == ("A", "S01009")


def test_the_quantity_is_taken_as_sent_not_recomputed_from_the_reads() -> None:
    current = parse(nem13(SPEC_250)).register_reads[1]

    # 534.5 - 21.2 = 513.3, but the MDP's quantity (after multiplier and rollover) is 343.5.
    assert isinstance(current, AccumulationRead)
    assert current.quantity == Decimal("343.5")
    assert (current.quantity_stored, current.stored_unit, current.uom) == (343_500, "Wh", "kWh")


def test_both_reads_name_the_channel_meter_register_and_version() -> None:
    for read in parse(nem13(SPEC_250)).register_reads:
        assert isinstance(read, AccumulationRead)
        assert (read.nmi, read.suffix, read.register_id, read.meter_serial) == ("1234567890", "11", "01", "METSER66")
        assert read.direction == "E"
        assert read.update_datetime == datetime(2004, 2, 2, 12, 50, 10, tzinfo=NEM_TIME)
        assert (read.source_line, read.reader_id) == (2, "UNITEDDP")


def test_the_pdf_transcription_with_a_stray_space_parses_the_same() -> None:
    # The spec's PDF prints "20040509, 20040202125010" with a space.
    spaced = SPEC_250.replace(",20040202125010", ", 20040202125010")

    assert parse(nem13(spaced)).register_reads == parse(nem13(SPEC_250)).register_reads


def test_crlf_a_byte_order_mark_and_the_importer_object_give_the_same_reads() -> None:
    plain = parse(nem13(SPEC_250, SPEC_550)).register_reads

    assert parse("\ufeff" + nem13(SPEC_250, SPEC_550, newline="\r\n")).register_reads == plain
    assert NEM13.parse(nem13(SPEC_250, SPEC_550), source="test.csv").register_reads == plain


def test_a_wh_register_keeps_its_quantity_in_wh() -> None:
    current = parse(nem13(record(UOM="Wh", Quantity="343.5"))).register_reads[1]

    assert isinstance(current, AccumulationRead)
    assert (current.quantity_stored, current.stored_unit) == (344, "Wh")  # 343.5 Wh half-up


# -- a register's history ---------------------------------------------------------------------


def test_consecutive_records_share_a_read_which_is_kept_once_with_its_quantity() -> None:
    first = record(
        CurrentRegisterRead="000600.0", CurrentRegisterReadDateTime="20040301100000", CurrentQualityMethod="A",
        CurrentReasonCode="", Quantity="65.5", UpdateDateTime="20040302000000",
    )  # fmt: skip
    second = record(
        PreviousRegisterRead="000600.0", PreviousRegisterReadDateTime="20040301100000",
        CurrentRegisterRead="000700.0", CurrentRegisterReadDateTime="20040401100000", CurrentQualityMethod="A",
        CurrentReasonCode="", Quantity="100", UpdateDateTime="20040402000000",
    )  # fmt: skip

    result = parse(nem13(second, first))  # out of order on purpose

    assert result.status == "accepted" and result.warnings == []
    reads = reads_by_time(result)
    assert sorted(reads) == [at("20031001103230"), at("20040301100000"), at("20040401100000")]
    shared = reads[at("20040301100000")]
    assert (shared.value, shared.quantity, shared.source_line) == (Decimal("600.0"), Decimal("65.5"), 3)
    assert reads[at("20040401100000")].quantity == Decimal("100")


def test_a_later_version_of_a_read_replaces_the_earlier_with_a_warning() -> None:
    estimate = record()
    actual = record(CurrentRegisterRead="000530.0", CurrentQualityMethod="A", CurrentReasonCode="",
                    Quantity="339", UpdateDateTime="20040210000000")  # fmt: skip

    result = parse(nem13(estimate, actual))

    assert result.status == "accepted"
    current = reads_by_time(result)[at("20040201100030")]
    assert (current.value, current.quality_method, current.read_type) == (Decimal("530.0"), "A", "actual")
    assert [w.line for w in result.warnings] == [3]
    assert "replaces the older version at line 2" in result.warnings[0].message


def test_two_different_versions_with_the_same_stamp_are_both_rejected() -> None:
    other = record(CurrentRegisterRead="000530.0")

    result = parse(nem13(SPEC_250, other))

    assert result.status == "partial"  # the shared previous read is kept
    assert list(reads_by_time(result)) == [at("20031001103230")]
    assert [(e.line, e.record, e.field) for e in result.errors] == [(3, "250", "UpdateDateTime")]
    assert "differs from line 2" in result.errors[0].message


def test_a_record_sent_twice_is_kept_once_and_said_so() -> None:
    result = parse(nem13(SPEC_250, SPEC_250))

    assert result.status == "accepted"
    assert len(result.register_reads) == 2
    assert [w.line for w in result.warnings] == [3]


# -- a bad 250 or 550 rejects that record only ------------------------------------------------


BAD_FIELDS = [
    ({"NMI": "12345"}, "NMI"),
    ({"NMIConfiguration": ""}, "NMIConfiguration"),
    ({"RegisterID": ""}, "RegisterID"),
    ({"NMISuffix": "21"}, "NMISuffix"),  # not in 1141
    ({"MeterSerialNumber": ""}, "MeterSerialNumber"),
    ({"DirectionIndicator": "X"}, "DirectionIndicator"),
    ({"PreviousRegisterRead": "-21.2"}, "PreviousRegisterRead"),
    ({"PreviousRegisterRead": ""}, "PreviousRegisterRead"),
    ({"CurrentRegisterRead": "5.345E+02"}, "CurrentRegisterRead"),
    ({"CurrentRegisterRead": "0000000000534.50"}, "CurrentRegisterRead"),  # 16 characters
    ({"PreviousRegisterReadDateTime": "20031301103230"}, "PreviousRegisterReadDateTime"),
    ({"CurrentRegisterReadDateTime": "200402011000"}, "CurrentRegisterReadDateTime"),  # DateTime12
    ({"CurrentRegisterReadDateTime": "20031001103229"}, "CurrentRegisterReadDateTime"),  # before previous
    ({"PreviousQualityMethod": "V"}, "PreviousQualityMethod"),
    ({"PreviousQualityMethod": "T"}, "PreviousQualityMethod"),
    ({"CurrentQualityMethod": "E"}, "CurrentQualityMethod"),
    ({"CurrentQualityMethod": "A64"}, "CurrentQualityMethod"),
    ({"CurrentQualityMethod": "S53", "CurrentReasonCode": ""}, "CurrentReasonCode"),
    ({"CurrentReasonCode": "110"}, "CurrentReasonCode"),
    ({"CurrentReasonCode": "0"}, "CurrentReasonDescription"),
    ({"Quantity": "-343.5"}, "Quantity"),
    ({"Quantity": ""}, "Quantity"),
    ({"UOM": "furlongs"}, "UOM"),
    ({"NextScheduledReadDate": "20040532"}, "NextScheduledReadDate"),
    ({"UpdateDateTime": ""}, "UpdateDateTime"),
    ({"MSATSLoadDateTime": "2004020300013"}, "MSATSLoadDateTime"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_FIELDS, ids=[f for _, f in BAD_FIELDS])
def test_a_bad_field_rejects_its_250_only_naming_line_record_and_field(changes: dict[str, str], field: str) -> None:
    good_elsewhere = record(NMI="2234567890")
    result = parse(nem13(record(**changes), SPEC_550, good_elsewhere))

    assert result.status == "partial"
    assert [(e.line, e.record, e.field) for e in result.errors] == [(2, "250", field)]
    assert "250 record rejected" in result.errors[0].message
    assert {r.nmi for r in result.register_reads if isinstance(r, AccumulationRead)} == {"2234567890"}


def test_a_250_broken_across_two_lines_rejects_it_and_names_both_lines() -> None:
    first_half, second_half = SPEC_250[:60], SPEC_250[60:]
    assert first_half.endswith(",20031001103") and second_half.startswith("230,A,")

    result = parse(nem13(first_half, second_half, record(NMI="2234567890")))

    assert result.status == "partial"
    assert [(e.line, e.record, e.field) for e in result.errors] == [(2, "250", None), (3, "230", None)]
    assert result.errors[0].message.startswith("short 250 record: 10 fields")
    assert result.errors[1].message == "unknown record type '230'"


def test_a_bad_550_rejects_its_250() -> None:
    result = parse(nem13(SPEC_250, "550,X,,A,S01009", record(NMI="2234567890")))

    assert result.status == "partial"
    assert [(e.line, e.record, e.field) for e in result.errors] == [(3, "550", "PreviousTransCode")]
    assert "250 at line 2" in result.errors[0].message
    assert {r.nmi for r in result.register_reads if isinstance(r, AccumulationRead)} == {"2234567890"}


def test_a_second_550_rejects_its_250() -> None:
    result = parse(nem13(SPEC_250, SPEC_550, SPEC_550))

    assert result.status == "rejected"  # nothing left
    assert [(e.line, e.record) for e in result.errors] == [(4, "550")]
    assert result.register_reads == []


def test_a_550_without_a_250_is_an_error_of_its_own() -> None:
    result = parse(nem13(SPEC_550, SPEC_250))

    assert result.status == "partial"
    assert [(e.line, e.record) for e in result.errors] == [(2, "550")]
    assert len(result.register_reads) == 2


def test_a_550_after_a_rejected_250_is_not_reported_again() -> None:
    result = parse(nem13(record(NMI="bad"), SPEC_550))

    assert [(e.line, e.field) for e in result.errors] == [(2, "NMI")]


def test_spreadsheet_padding_is_accepted_but_an_extra_value_is_not() -> None:
    assert parse(nem13(SPEC_250 + ",,,", SPEC_550 + ",,")).status == "accepted"

    result = parse(nem13(SPEC_250 + ",extra"))
    assert [(e.line, e.field) for e in result.errors] == [(2, None)]
    assert "at most 23 expected" in result.errors[0].message


# -- a broken envelope rejects the whole file -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "record", "message"),
    [
        ("", None, "100", "empty file"),
        (f"{SPEC_250}\n900\n", 1, "250", "no 100 header record"),
        (f"100,NEM12,200506081149,UNITEDDP,NEMMCO\n{SPEC_250}\n900\n", 1, "100", "version 'NEM12' is not NEM13"),
        (f"100,NEM13,2005060811,UNITEDDP,NEMMCO\n{SPEC_250}\n900\n", 1, "100", "'2005060811' is not a date"),
        (f"{SPEC_HEADER}\n{SPEC_250}\n", None, "900", "no 900 end record"),
        (f"{SPEC_HEADER}\n{SPEC_250}\n900,x\n", 3, "900", "broken 900"),
        (f"{SPEC_HEADER}\n{SPEC_250}\n900\n{SPEC_250}\n", 4, None, "after the 900"),
        (f"{SPEC_HEADER}\n{SPEC_HEADER}\n{SPEC_250}\n900\n", 2, "100", "a second 100"),
        (f"{SPEC_HEADER}\n200,NMI0000001,E1,1,E1,N1,M1,kWh,30,\n900\n", 2, "200", "a NEM12 record"),
        (f"{SPEC_HEADER}\n{SPEC_250}\n{'9' * 9000}\n900\n", 3, None, "longer than"),
    ],
    ids=["empty", "no-100", "nem12", "bad-date", "no-900", "900-fields", "after-900", "two-100", "nem12-rec", "long"],
)
def test_a_broken_envelope_rejects_the_whole_file(
    text: str, line: int | None, record: str | None, message: str
) -> None:
    result = parse(text)

    assert result.status == "rejected"
    assert result.register_reads == []
    assert [(e.line, e.record) for e in result.errors] == [(line, record)]
    assert message in result.errors[0].message and "file rejected" in result.errors[0].message


def test_a_file_with_only_a_header_and_an_end_is_accepted_and_empty() -> None:
    result = parse(nem13())

    assert (result.status, result.register_reads, result.errors) == ("accepted", [], [])
