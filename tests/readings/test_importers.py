from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest

from shared.readings import importers
from shared.readings.importers import (
    IMPORTERS,
    Head,
    UnknownFormat,
    detect_file,
    detect_format,
    read_meter_file,
    read_meter_stream,
)
from shared.readings.model import ImportResult
from shared.readings.spreadsheet import template_xlsx
from tests.readings.nem12_text import block, day, nem12

NOW = datetime(2024, 6, 1, tzinfo=UTC)
NEM12_TEXT = nem12(block(), day(value="0.25"))
NEM13_TEXT = (
    "100,NEM13,200506081149,UNITEDDP,NEMMCO\n"
    "250,1234567890,1141,01,11,11,METSER66,E,000021.2,20031001103230,A,,,000534.5,20040201100030,"
    "E64,77,,343.5,kWh,20040509,20040202125010,20040203000130\n"
    "550,N,,A,S01009\n"
    "900\n"
)
READS_CSV = (
    "meterSerial,register,readAt,value,readType,readerId\r\n"
    "MTR001,E1,2024-05-01T09:30:00+10:00,012345.6,actual,FIELD-07\r\n"
)


def zipped(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def read(data: bytes, name: str = "upload", file_format: str = "auto") -> importers.MeterFile:
    return read_meter_stream(io.BytesIO(data), file_name=name, file_format=file_format, now=NOW)


# -- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (NEM12_TEXT.encode(), "nem12"),
        (NEM13_TEXT.encode(), "nem13"),
        (READS_CSV.encode(), "csv"),
        (("\ufeff" + NEM12_TEXT).encode(), "nem12"),  # Excel's byte-order mark
        (("\r\n,,,\r\n" + NEM13_TEXT).encode(), "nem13"),  # blank lines before the header
        (NEM12_TEXT.replace("NEM12", "nem12", 1).encode(), "nem12"),
        (READS_CSV.replace("meterSerial,", "METERSERIAL,").replace("\r\n", ",,\r\n", 1).encode(), "csv"),
        (template_xlsx(), "xlsx"),
        (zipped(**{"a.csv": NEM12_TEXT.encode()}), "nem12"),
        (zipped(**{"folder/b.V01": NEM13_TEXT.encode()}), "nem13"),
        (zipped(**{"reads.csv": READS_CSV.encode()}), "csv"),
    ],
    ids=["nem12", "nem13", "csv", "bom", "blank-lines", "lower-case", "padded-csv", "xlsx", "zip12", "zip13", "zipcsv"],
)
def test_the_format_is_detected_from_the_content(data: bytes, expected: str) -> None:
    assert detect_format(data, "upload.bin") == expected


def test_the_file_name_does_not_decide_the_format() -> None:
    assert detect_format(NEM12_TEXT.encode(), "looks-like.xlsx") == "nem12"
    assert detect_format(template_xlsx(), "looks-like.csv") == "xlsx"


def test_a_zipped_file_is_detected_with_the_member_to_read() -> None:
    detected = detect_file(io.BytesIO(zipped(**{"inner.csv": NEM12_TEXT.encode()})), "outer.zip")

    assert (detected.importer.name, detected.member) == ("nem12", "inner.csv")


def test_the_first_bytes_are_enough_for_a_long_text_file() -> None:
    long_file = nem12(block(), *[day(date=f"202401{d:02d}") for d in range(1, 29)]).encode()
    assert len(long_file) > importers.HEAD_BYTES
    assert long_file[importers.HEAD_BYTES - 1 : importers.HEAD_BYTES] != b"\n"  # cut in the middle of a line

    assert detect_format(long_file[: importers.HEAD_BYTES], "big.csv") == "nem12"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "upload.bin: empty file"),
        (b"\r\n,,,\r\n", "upload.bin: empty file"),
        (b"100,NEM14,200506081149,A,B\n900\n", "version 'NEM14'; only NEM12 and NEM13"),
        (b"Date,Description,Amount\n2025-01-01,Coffee,-5.50\n", "not a format GridLedger reads"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old binary Excel (.xls)"),
        (zipped(**{"a.csv": b"x", "b.csv": b"y"}), "exactly one meter-data file; this one holds a.csv, b.csv"),
        (zipped(), "this one holds nothing"),
        (zipped(**{"inner.zip": zipped(**{"a.csv": NEM12_TEXT.encode()})}), "a zip inside the zip"),
        (b"PK\x03\x04" + bytes(40), "starts like a zip but is not a readable one"),
    ],
    ids=["empty", "blank", "nem14", "bank-statement", "xls", "two-members", "no-members", "zip-in-zip", "broken-zip"],
)
def test_a_file_in_no_known_format_is_refused_naming_the_file_and_why(data: bytes, message: str) -> None:
    with pytest.raises(UnknownFormat, match=r"^upload\.bin: ") as raised:
        detect_format(data, "upload.bin")

    assert message in str(raised.value)


def test_a_new_format_is_one_importer_added_to_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    @dataclass(frozen=True)
    class Ptpiree:
        name: str = "ptpiree"

        def recognises(self, head: Head) -> bool:
            return (head.first_line or "").startswith("PTPIREE;")

        def read(self, raw: IO[bytes], *, source: str, now: datetime) -> ImportResult:
            return ImportResult(source=source, status="accepted", sender=raw.read().decode().split(";")[1].strip())

    monkeypatch.setitem(IMPORTERS, "ptpiree", Ptpiree())

    assert detect_format(b"PTPIREE;OSD-1\n", "file.txt") == "ptpiree"
    meter_file = read(zipped(**{"pl.txt": b"PTPIREE;OSD-1\n"}), "pl.zip")
    assert (meter_file.format, meter_file.result.sender) == ("ptpiree", "OSD-1")
    assert meter_file.result.source == "pl.zip:pl.txt"


def test_the_registry_names_the_four_formats_in_detection_order() -> None:
    assert list(IMPORTERS) == ["nem12", "nem13", "xlsx", "csv"]


# -- reading ------------------------------------------------------------------------------------


def test_each_format_is_read_by_its_importer() -> None:
    nem12_file = read(NEM12_TEXT.encode())
    nem13_file = read(NEM13_TEXT.encode())
    csv_file = read(READS_CSV.encode())

    assert (nem12_file.format, nem12_file.result.status, len(nem12_file.result.days)) == ("nem12", "accepted", 1)
    assert nem12_file.result.days[0].total == 48 * 250
    assert (nem13_file.format, len(nem13_file.result.register_reads)) == ("nem13", 2)
    assert (csv_file.format, len(csv_file.result.register_reads)) == ("csv", 1)


def test_a_zipped_file_is_read_from_its_member_and_named_after_both() -> None:
    meter_file = read(zipped(**{"day.csv": NEM12_TEXT.encode()}), "delivery.zip")

    assert meter_file.result.status == "accepted"
    assert meter_file.result.source == "delivery.zip:day.csv"
    assert meter_file.result.days[0].source == "delivery.zip:day.csv"


def test_a_corrupt_zip_member_rejects_the_file() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("day.csv", NEM12_TEXT.encode())
    data = bytearray(buffer.getvalue())
    spot = data.index(b"0.25")
    data[spot : spot + 4] = b"0.26"  # the stored CRC no longer matches

    meter_file = read(bytes(data), "delivery.zip")

    assert meter_file.result.status == "rejected"
    assert meter_file.result.days == []
    assert "delivery.zip: unreadable zip" in meter_file.result.errors[0].message


def test_an_unknown_format_comes_back_as_a_rejected_result_not_an_exception() -> None:
    meter_file = read(b"hello\n", "note.txt")

    assert (meter_file.format, meter_file.result.status) == (None, "rejected")
    assert meter_file.result.errors[0].message.startswith("note.txt: not a format GridLedger reads")


def test_a_named_format_is_used_even_when_the_content_says_otherwise() -> None:
    meter_file = read(NEM12_TEXT.encode(), file_format="nem13")

    assert (meter_file.format, meter_file.result.status) == ("nem13", "rejected")
    assert "version 'NEM12' is not NEM13" in meter_file.result.errors[0].message


def test_a_named_format_still_unwraps_a_zip() -> None:
    meter_file = read(zipped(**{"day.csv": NEM12_TEXT.encode()}), "d.zip", file_format="nem12")

    assert (meter_file.result.status, meter_file.result.source) == ("accepted", "d.zip:day.csv")


def test_an_unknown_format_name_is_rejected() -> None:
    meter_file = read(NEM12_TEXT.encode(), file_format="nem14")

    assert meter_file.result.status == "rejected"
    assert "unknown format 'nem14'" in meter_file.result.errors[0].message


def test_reading_from_disk_streams_the_file_and_leaves_missing_files_to_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "meter.V01"
    path.write_bytes(NEM12_TEXT.encode())

    assert read_meter_file(path, now=NOW).result.status == "accepted"
    with pytest.raises(FileNotFoundError):
        read_meter_file(tmp_path / "missing.csv", now=NOW)


def test_reading_a_stream_leaves_it_open_for_its_owner() -> None:
    raw = io.BytesIO(NEM12_TEXT.encode())

    read_meter_stream(raw, file_name="x", now=NOW)

    assert not raw.closed


@pytest.mark.parametrize("module", ["nem13.py", "spreadsheet.py", "importers.py"])
def test_the_format_modules_stay_in_the_pure_domain_core(module: str) -> None:
    from tests.readings.test_purity import FORBIDDEN, imported_modules

    path = Path(importers.__file__).parent / module

    assert {name for name in imported_modules(path) if name.startswith(FORBIDDEN)} == set()
