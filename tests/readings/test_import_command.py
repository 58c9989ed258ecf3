"""``python -m shared.cli readings import``: operators script against its JSON and exit status."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.cli import main
from shared.platform.documents import DocumentStore, StorageUnavailable
from shared.readings.import_command import run_import
from shared.resources import READINGS, SERVICE_POINTS
from tests.readings.nem12_text import HEADER, block, day, nem12

NOW = datetime(2024, 6, 1, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"

# The AEMO MDFF specification's own examples.
SPEC_NEM12 = "\n".join(
    [
        "100,NEM12,200506081149,UNITEDDP,NEMMCO",
        "200,NEM1201009,E1E2,1,E1,N1,01009,kWh,30,20050610",
        "300,20050301,0,0,0,0,0,0,0,0,0,0,0,0,0.461,0.810,0.568,1.234,1.353,1.507,1.344,1.773,0.848,1.271,"
        "0.895,1.327,1.013,1.793,0.988,0.985,0.876,0.555,0.760,0.938,0.566,0.512,0.970,0.760,0.731,0.615,0.886,"
        "0.531,0.774,0.712,0.598,0.670,0.587,0.657,0.345,0.231,A,,,20050310121004,20050310182204",
        "500,O,S01009,20050310121004,",
        "900",
    ]
)
SPEC_NEM13 = "\n".join(
    [
        "100,NEM13,200506081149,UNITEDDP,NEMMCO",
        "250,1234567890,1141,01,11,11,METSER66,E,000021.2,20031001103230,A,,,000534.5,20040201100030,"
        "E64,77,,343.5,kWh,20040509,20040202125010,20040203000130",
        "550,N,,A,S01009",
        "900",
    ]
)
READS_CSV = (
    "meterSerial,register,readAt,value,readType,readerId\r\n"
    "MTR001,E1,2024-05-01T09:30:00+10:00,012345.6,actual,FIELD-07\r\n"
    "MTR404,E1,2024-05-01T09:40:00+10:00,5,actual,FIELD-07\r\n"
)


def write(tmp_path: Path, text: str, name: str = "meter.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    status = main(["readings", "import", *args, "--json"])
    return status, json.loads(capsys.readouterr().out)


class Borrowed:
    """The test's store, lent to the command, which closes what it is given."""

    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents
        self.guarantees = documents.guarantees

    def container(self, name: str) -> Any:
        return self.documents.container(name)

    def close(self) -> None:
        pass


def store_run(documents: DocumentStore, path: Path, **options: Any) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    status = run_import(str(path), as_json=True, open_store=lambda: Borrowed(documents), now=NOW, out=out, **options)
    return status, json.loads(out.getvalue())


@pytest.fixture
def documents(tmp_path: Path) -> Iterator[DocumentStore]:
    """The embedded document store (SQLite) in a temporary folder."""
    from shared.bootstrap import build_documents
    from shared.config import load_settings

    store = build_documents(load_settings(data_dir=tmp_path / "var"))
    yield store
    store.close()


def add_service_point(documents: DocumentStore, nmi: str, meter_serial: str) -> None:
    documents.container(SERVICE_POINTS.name).create({"id": nmi, "servicePointId": nmi, "meterSerial": meter_serial})


# -- the summary of a file: exact values worked out by hand -----------------------------------


def test_48_intervals_of_a_quarter_kwh_are_12_kwh(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, nem12(block(), day(date="20240101", value="0.250")))

    status, report = cli_json(capsys, str(path), "--dry-run")

    assert status == 0
    assert report == {
        "file": str(path),
        "format": "nem12",
        "status": "accepted",
        "dryRun": True,
        "errors": [],
        "warnings": [],
        "channels": [
            {
                "nmi": "NMI0000001",
                "suffix": "E1",
                "uom": "kWh",
                "intervals": 48,
                "kwh": "12.000",  # 48 x 0.250
                "quality": {"A": 48},
                "first": "2024-01-01T00:00:00+10:00",  # interval 1 starts at market midnight
                "last": "2024-01-01T23:30:00+10:00",  # interval 48 starts 30 minutes before the next day
            }
        ],
        "reads": 0,
        "stored": None,
    }


def test_the_spec_example_day_totals_31_444_kwh(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, report = cli_json(capsys, str(write(tmp_path, SPEC_NEM12)), "--dry-run")

    # 12 zero intervals, then 36 values; summed six at a time:
    # 5.933 + 7.458 + 6.210 + 4.506 + 4.249 + 3.088 = 31.444
    assert status == 0
    (channel,) = report["channels"]
    assert (channel["nmi"], channel["suffix"], channel["kwh"]) == ("NEM1201009", "E1", "31.444")
    assert (channel["intervals"], channel["quality"]) == (48, {"A": 48})
    assert (channel["first"], channel["last"]) == ("2005-03-01T00:00:00+10:00", "2005-03-01T23:30:00+10:00")


def test_five_minute_days_and_several_days_are_summed_per_channel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = nem12(
        block(minutes=5),
        day(date="20240101", value="0.001", minutes=5),
        day(date="20240102", value="0.002", minutes=5),
    )

    _, report = cli_json(capsys, str(write(tmp_path, text)), "--dry-run")

    (channel,) = report["channels"]
    assert channel["intervals"] == 2 * 288
    assert channel["kwh"] == "0.864"  # 288 x 0.001 + 288 x 0.002 = 0.288 + 0.576
    assert (channel["first"], channel["last"]) == ("2024-01-01T00:00:00+10:00", "2024-01-02T23:55:00+10:00")


def test_every_energy_unit_is_converted_to_kwh_and_reactive_energy_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = nem12(
        block(suffix="E1", configuration="E1B1Q1", uom="Wh"),
        day(value="250"),  # 48 x 250 Wh = 12 kWh
        block(suffix="B1", configuration="E1B1Q1", uom="MWh"),
        day(value="0.0005"),  # 48 x 0.5 kWh = 24 kWh
        block(suffix="Q1", configuration="E1B1Q1", uom="kVArh"),
        day(value="1"),
    )

    _, report = cli_json(capsys, str(write(tmp_path, text)), "--dry-run")

    assert [(c["suffix"], c["uom"], c["kwh"]) for c in report["channels"]] == [
        ("B1", "MWh", "24.000"),
        ("E1", "Wh", "12.000"),
        ("Q1", "kVArh", None),  # kVArh is not kWh
    ]


def test_quality_counts_intervals_after_the_400_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixture = (FIXTURES / "two_nmis_30min.csv").read_text()

    _, report = cli_json(capsys, str(write(tmp_path, fixture)), "--dry-run")

    e1 = next(c for c in report["channels"] if (c["nmi"], c["suffix"]) == ("NMI0000001", "E1"))
    # Day 1 all A (48); day 2 is V: 400s give A 1-10, S 11-12, E 13-48.
    assert e1["quality"] == {"A": 48 + 10, "E": 36, "S": 2}
    assert e1["intervals"] == 96
    assert e1["kwh"] == "65.361"  # 17.361 on day 1 (see test_nem12) + 48 x 1.000 on day 2


# -- accepted, partial, rejected --------------------------------------------------------------


def test_a_bad_day_makes_the_file_partial_with_exit_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = day(date="20240102", values=["0.25", "0.25", "-1", *["0.25"] * 45])
    text = nem12(block(), day(date="20240101", value="0.25"), bad)

    status, report = cli_json(capsys, str(write(tmp_path, text)), "--dry-run")

    assert (status, report["status"]) == (1, "partial")
    assert report["errors"] == [
        {
            "line": 4,
            "record": "300",
            "field": "IntervalValue3",
            "message": "negative interval value '-1' (channel-day rejected)",
        }
    ]
    assert [(c["kwh"], c["intervals"]) for c in report["channels"]] == [("12.000", 48)]


def test_a_file_without_its_900_is_rejected_with_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "\n".join([HEADER, block(), day()]) + "\n")

    status, report = cli_json(capsys, str(path), "--dry-run")

    assert (status, report["status"], report["channels"]) == (2, "rejected", [])
    assert [(e["line"], e["record"]) for e in report["errors"]] == [(None, "900")]


@pytest.mark.parametrize("target", ["missing.csv", "."])
def test_a_missing_or_unreadable_file_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    path = tmp_path / target

    status, report = cli_json(capsys, str(path), "--dry-run")

    assert (status, report["status"], report["format"]) == (2, "rejected", None)
    (error,) = report["errors"]
    assert error["message"].startswith(f"{path}: cannot read the file: ")


def test_an_unknown_format_name_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, report = cli_json(capsys, str(write(tmp_path, SPEC_NEM12)), "--format", "nem14", "--dry-run")

    assert status == 2
    assert report["errors"][0]["message"] == "unknown --format 'nem14': use one of auto, nem12, nem13, xlsx, csv"


def test_a_file_in_no_format_exits_2_saying_what_was_expected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "Date,Amount\n2025-01-01,5\n", "bank.csv")

    status, report = cli_json(capsys, str(path), "--dry-run")

    assert (status, report["format"]) == (2, None)
    assert report["errors"][0]["message"].startswith(f"{path}: not a format GridLedger reads")


def test_a_zipped_file_is_imported_from_its_member(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "delivery.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("NEM12#1#MDP1#RET1.csv", nem12(block(), day(value="0.25")))

    status, report = cli_json(capsys, str(path), "--dry-run")

    assert (status, report["format"], report["channels"][0]["kwh"]) == (0, "nem12", "12.000")


# -- register-read formats --------------------------------------------------------------------


def test_a_nem13_file_reports_its_reads_and_no_channels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, report = cli_json(capsys, str(write(tmp_path, SPEC_NEM13, "basic.V01")), "--dry-run")

    assert (status, report["format"], report["status"]) == (0, "nem13", "accepted")
    assert (report["channels"], report["reads"]) == ([], 2)  # the previous and the current read


def test_a_reads_csv_with_a_bad_row_is_partial_and_names_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = READS_CSV + "MTR002,E1,yesterday,5,actual,FIELD-07\r\n"

    status, report = cli_json(capsys, str(write(tmp_path, text, "reads.txt")), "--format", "csv", "--dry-run")

    assert (status, report["format"], report["reads"]) == (1, "csv", 2)
    assert [(e["line"], e["record"], e["field"]) for e in report["errors"]] == [(4, None, "readAt")]


# -- the summary for people -------------------------------------------------------------------


def test_without_json_a_short_summary_is_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = day(date="20240102", values=["x", *["0.25"] * 47])
    path = write(tmp_path, nem12(block(), day(date="20240101", value="0.25"), bad))

    status = main(["readings", "import", str(path), "--dry-run"])

    assert status == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: partial (nem12)",
        "  NMI0000001 E1: 48 intervals, 12.000 kWh, quality A 48, "
        "2024-01-01T00:00:00+10:00 to 2024-01-01T23:30:00+10:00",
        "  dry run: nothing stored",
        "errors (1):",
        "  line 4, record 300, IntervalValue1: interval value 'x' is not a number (channel-day rejected)",
    ]


# -- storing ----------------------------------------------------------------------------------


def test_a_dry_run_never_opens_the_store(tmp_path: Path) -> None:
    def no_store() -> Any:
        raise AssertionError("a dry run must not open the store")

    status = run_import(str(write(tmp_path, SPEC_NEM12)), dry_run=True, open_store=no_store, out=io.StringIO())

    assert status == 0


def test_storing_keeps_known_nmis_and_reports_unknown_ones_by_line(documents: DocumentStore, tmp_path: Path) -> None:
    add_service_point(documents, "NMI0000001", "MTR001")
    text = nem12(block("NMI0000001"), day(value="0.25"), block("NMI0000002"), day(value="0.5"))
    path = write(tmp_path, text)

    status, report = store_run(documents, path)

    assert (status, report["status"], report["dryRun"]) == (1, "partial", False)
    assert report["stored"] == {"days": {"stored": 1, "replaced": 0, "unchanged": 0, "kept-newer": 0}, "reads": 0}
    assert report["errors"] == [
        {"line": 5, "record": "300", "field": "NMI", "message": "no service point has NMI NMI0000002"}
    ]
    (doc,) = documents.container(READINGS.name).query(partition="NMI0000001")
    assert (doc["day"], sum(doc["valuesWh"]), doc["source"]) == ("2024-01-01", 12_000, str(path))


def test_importing_the_same_file_again_changes_nothing(documents: DocumentStore, tmp_path: Path) -> None:
    add_service_point(documents, "NMI0000001", "MTR001")
    path = write(tmp_path, nem12(block(), day(value="0.25")))

    first = store_run(documents, path)
    again = store_run(documents, path)

    assert first[0] == again[0] == 0
    assert first[1]["stored"]["days"]["stored"] == 1
    assert again[1]["stored"]["days"] == {"stored": 0, "replaced": 0, "unchanged": 1, "kept-newer": 0}
    assert len(documents.container(READINGS.name).query(partition="NMI0000001")) == 1


def test_nem13_reads_are_stored_under_their_nmi(documents: DocumentStore, tmp_path: Path) -> None:
    add_service_point(documents, "1234567890", "METSER66")

    status, report = store_run(documents, write(tmp_path, SPEC_NEM13))

    assert (status, report["stored"]["reads"]) == (0, 2)
    docs = documents.container(READINGS.name).query({"kind": "register"}, partition="1234567890")
    assert sorted((d["value"], d["readType"]) for d in docs) == [("21.2", "actual"), ("534.5", "estimated")]
    # What the meter-data provider said about each read is kept for audit and for billing.
    previous, current = sorted(docs, key=lambda d: d["readAt"])
    assert (previous["qualityMethod"], previous["indexRead"], previous["direction"]) == ("A", "000021.2", "E")
    assert (current["qualityMethod"], current["reasonCode"], current["indexRead"]) == ("E64", 77, "000534.5")
    # 343.5 kWh used since the previous read, kept as integer Wh; the 550 gives each read's
    # transaction code (previous N, current A) and the current one's service order.
    assert (current["uom"], current["quantityStored"], current["transCode"]) == ("kWh", 343500, "A")
    assert current["retServiceOrder"] == "S01009" and previous["transCode"] == "N"
    assert "quantityStored" not in previous and previous["suffix"] == "11"


def test_nem13_reads_for_an_unknown_nmi_are_reported_once_per_record(documents: DocumentStore, tmp_path: Path) -> None:
    status, report = store_run(documents, write(tmp_path, SPEC_NEM13))

    assert (status, report["status"]) == (2, "rejected")  # nothing kept
    assert report["errors"] == [
        {"line": 2, "record": "250", "field": "NMI", "message": "no service point has NMI 1234567890"}
    ]


def test_spreadsheet_reads_find_their_service_point_by_meter_and_name_the_row(
    documents: DocumentStore, tmp_path: Path
) -> None:
    add_service_point(documents, "NMI0000001", "MTR001")

    status, report = store_run(documents, write(tmp_path, READS_CSV))

    assert (status, report["status"], report["stored"]["reads"]) == (1, "partial", 1)
    assert report["errors"] == [
        {"line": 3, "record": None, "field": "meterSerial", "message": "no service point has meter MTR404"}
    ]
    (doc,) = documents.container(READINGS.name).query({"kind": "register"}, partition="NMI0000001")
    assert (doc["meterSerial"], doc["value"], doc["readAt"]) == ("MTR001", "12345.6", "2024-04-30T23:30:00+00:00")


class _FailingWrites:
    """A readings container whose writes fail after ``allowed`` of them."""

    def __init__(self, real: Any, allowed: int) -> None:
        self.real, self.allowed = real, allowed

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.real, name)
        if name not in ("create", "replace", "upsert"):
            return attribute

        def write(*args: Any, **kwargs: Any) -> Any:
            if self.allowed == 0:
                raise StorageUnavailable("the store went away")
            self.allowed -= 1
            return attribute(*args, **kwargs)

        return write


class _FlakyStore:
    def __init__(self, real: DocumentStore, allowed: int) -> None:
        self.real, self.guarantees = real, real.guarantees
        self.readings = _FailingWrites(real.container(READINGS.name), allowed)

    def container(self, name: str) -> Any:
        return self.readings if name == READINGS.name else self.real.container(name)

    def close(self) -> None:
        pass


def test_a_store_failing_part_way_reports_what_was_kept_and_that_a_rerun_is_safe(
    documents: DocumentStore, tmp_path: Path
) -> None:
    add_service_point(documents, "NMI0000001", "MTR001")
    path = write(tmp_path, nem12(block(), day(date="20240101"), day(date="20240102")))

    status, report = store_run(_FlakyStore(documents, allowed=1), path)  # type: ignore[arg-type]

    assert (status, report["status"]) == (1, "partial")
    assert report["stored"]["days"]["stored"] == 1
    assert report["errors"][-1]["message"] == (
        "storing stopped part-way, 1 kept: the store went away; "
        "what was stored is kept, and importing the file again is safe"
    )
    rerun_status, rerun = store_run(documents, path)
    assert rerun_status == 0
    assert rerun["stored"]["days"] == {"stored": 1, "replaced": 0, "unchanged": 1, "kept-newer": 0}


# -- the real command line --------------------------------------------------------------------


def test_python_m_shared_cli_stores_through_the_configured_store(tmp_path: Path) -> None:
    from shared.bootstrap import build_documents
    from shared.config import load_settings

    data_dir = tmp_path / "var"
    documents = build_documents(load_settings(data_dir=data_dir))
    add_service_point(documents, "NEM1201009", "01009")
    path = write(tmp_path, SPEC_NEM12)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDLEDGER_")}

    run = subprocess.run(
        [sys.executable, "-m", "shared.cli", "readings", "import", str(path), "--json"],
        cwd=REPO,
        env={**env, "GRIDLEDGER_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    try:
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        assert (report["status"], report["stored"]["days"]["stored"]) == ("accepted", 1)
        (doc,) = documents.container(READINGS.name).query(partition="NEM1201009")
        assert sum(doc["valuesWh"]) == 31_444
    finally:
        documents.close()
