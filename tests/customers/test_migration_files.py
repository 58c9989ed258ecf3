"""A migration folder whose files cannot be used stops before anything is written, naming the
file and where in it; and the command's wiring: exit status and JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from shared.cli import main
from shared.customers.migration import migrate
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.resources import CUSTOMERS, DOCUMENT_CONTAINERS, TARIFFS

BOOK = Path(__file__).parent / "migration_data" / "book"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    folder = tmp_path / "book"
    shutil.copytree(BOOK, folder)
    return folder


def nothing_stored(documents) -> bool:
    return all(documents.container(c.name).query(limit=1) == [] for c in DOCUMENT_CONTAINERS if c.name != TARIFFS.name)


def test_a_file_not_in_utf8_stops_the_run_naming_its_line(documents, book, clock):
    text = (book / "customers.csv").read_text().replace("Grace Williams", "Zoë Williams")
    (book / "customers.csv").write_bytes(text.encode("cp1252"))  # ë is one byte, 0xEB, in cp1252

    report = migrate(book, documents, clock=clock)

    assert report.exit_code == 2
    assert [(p.file, p.line) for p in report.file_problems] == [("customers.csv", 6)]
    assert "not UTF-8: byte 0xeb" in report.file_problems[0].message
    assert report.to_json()["entities"]["customers"]["total"]["sourceRows"] == 0
    assert nothing_stored(documents)


def test_a_missing_column_stops_the_run(documents, book, clock):
    lines = (book / "accounts.csv").read_text().splitlines()
    (book / "accounts.csv").write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")

    report = migrate(book, documents, clock=clock)

    assert [str(p) for p in report.file_problems] == [
        "accounts.csv line 1: missing column paymentReference; required: accountId, customerId, country, name, "
        "billingAddress1, branch, paymentTermsDays, paymentReference"
    ]
    assert report.exit_code == 2
    assert nothing_stored(documents)


def test_a_misspelt_column_is_not_silently_dropped(documents, book, clock):
    path = book / "contracts.csv"
    path.write_text(path.read_text().replace("networkTariff", "netwrkTariff", 1))

    report = migrate(book, documents, clock=clock)

    (problem,) = report.file_problems
    assert (problem.file, problem.line) == ("contracts.csv", 1)
    assert problem.message.startswith("unknown column 'netwrkTariff'")


def test_every_unusable_file_is_named_at_once(documents, book, clock):
    (book / "readings.csv").unlink()
    (book / "meters.csv").write_text("")
    (book / "contracts.csv").write_text('contractId,accountId\n"CON-1,ACC-1\n')

    report = migrate(book, documents, clock=clock)

    assert [(p.file, p.line) for p in report.file_problems] == [
        ("meters.csv", 1),
        ("contracts.csv", 1),
        ("readings.csv", None),
    ]
    assert report.file_problems[0].message.startswith("no header row")
    assert report.file_problems[2].message.startswith("missing: expected ")
    assert nothing_stored(documents)


def test_a_broken_quote_makes_the_file_unreadable(documents, book, clock):
    path = book / "service_points.csv"
    path.write_text(path.read_text() + '4102006666,AU,"unterminated\n')

    report = migrate(book, documents, clock=clock)

    (problem,) = report.file_problems
    assert problem.file == "service_points.csv"
    assert "not readable as CSV" in problem.message


def test_the_command_prints_one_json_document_and_exits_1_when_rows_were_refused(tmp_path, book, monkeypatch, capsys):
    from shared.demo.sample_utility import FLAT_TARIFF, TOU_TARIFF

    monkeypatch.setenv("GRIDLEDGER_DATA_DIR", str(tmp_path / "var"))
    (tmp_path / "var").mkdir()
    store = SqliteDocumentStore(tmp_path / "var" / "gridledger.sqlite3")
    for tariff in (FLAT_TARIFF, TOU_TARIFF):
        store.container(TARIFFS.name).create(tariff)
    store.close()

    status = main(["migrate", "--from", str(book), "--json"])

    report = json.loads(capsys.readouterr().out)
    assert status == 1
    assert (report["status"], report["exitCode"], report["dryRun"]) == ("refusals", 1, False)
    assert report["entities"]["customers"]["total"] == {"sourceRows": 5, "loaded": 4, "alreadyThere": 0, "refused": 1}
    assert report["refusedRows"] == 17
    stored = SqliteDocumentStore(tmp_path / "var" / "gridledger.sqlite3")
    try:
        assert stored.container(CUSTOMERS.name).get("CUS-1", "CUS-1")["name"] == "Olivia Nguyen"
    finally:
        stored.close()


def test_the_command_exits_2_for_a_missing_folder_and_0_when_everything_loaded(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRIDLEDGER_DATA_DIR", str(tmp_path / "var"))
    (tmp_path / "var").mkdir()

    assert main(["migrate", "--from", str(tmp_path / "nowhere"), "--dry-run"]) == 2
    assert "customers.csv: missing: expected" in capsys.readouterr().out

    empty = tmp_path / "empty"
    shutil.copytree(BOOK, empty)
    for path in empty.iterdir():
        path.write_text(path.read_text().splitlines()[0] + "\n")  # headers only
    assert main(["migrate", "--from", str(empty)]) == 0
    assert "Result: loaded (exit 0)" in capsys.readouterr().out
