"""The migration command, sentence by sentence, on a small book of CSV files
(``migration_data/book``) holding good rows and one of each kind of bad row. Every count
below is worked out by hand from those files; the comments say how."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from shared.customers.containers import ACCOUNTS, CONTRACTS, CUSTOMERS, METERS, SERVICE_POINTS
from shared.customers.errors import RecordConflict
from shared.customers.migration import migrate
from shared.customers.migration_report import MigrationReport
from shared.customers.records import Account as BillingAccount
from shared.customers.records import ServicePoint as BillingServicePoint
from shared.platform.documents import DocumentStore
from shared.resources import DOCUMENT_CONTAINERS, PAYMENTS, READINGS, TARIFFS

BOOK = Path(__file__).parent / "migration_data" / "book"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    folder = tmp_path / "book"
    shutil.copytree(BOOK, folder)
    return folder


def run(documents: DocumentStore, folder: Path, clock: Any, **options: Any) -> MigrationReport:
    return migrate(folder, documents, clock=clock, **options)


def edit(folder: Path, file: str, old: str, new: str) -> None:
    path = folder / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new))


def totals(report: MigrationReport) -> dict[str, tuple[int, int, int, int]]:
    """Per entity: (source rows, loaded, already there, refused)."""
    return {
        entity: (tally["sourceRows"], tally["loaded"], tally["alreadyThere"], tally["refused"])
        for entity, data in report.to_json()["entities"].items()
        for tally in [data["total"]]
    }


def by_branch(report: MigrationReport, entity: str) -> dict[str, tuple[int, int, int, int]]:
    branches = report.to_json()["entities"][entity]["branches"]
    return {b: (t["sourceRows"], t["loaded"], t["alreadyThere"], t["refused"]) for b, t in branches.items()}


def snapshot(documents: DocumentStore) -> dict[tuple[str, str, str], str]:
    """Every stored document's ETag: any write at all changes one."""
    return {
        (c.name, doc[c.partition_key], doc["id"]): doc["_etag"]
        for c in DOCUMENT_CONTAINERS
        for doc in documents.container(c.name).query()
    }


# Rows per file (header excluded): customers 5, accounts 8, service points 6, meters 6,
# contracts 8, opening balances 6, readings 6.
FIRST_RUN = {
    # CUS-4's ABN fails its check digits.
    "customers": (5, 4, 0, 1),
    # ACC-4 belongs to the refused CUS-4; ACC-6 quotes ACC-1's reference; ACC-8's BPAY check digit is wrong.
    "accounts": (8, 5, 0, 3),
    # 31200455774's checksum character should be 3.
    "servicePoints": (6, 5, 0, 1),
    # MTR-9 is at the refused service point; MTR-2 appears again at another service point.
    "meters": (6, 4, 0, 2),
    # CON-6 overlaps CON-1; CON-7's tariff is unknown; CON-8's account was refused.
    "contracts": (8, 5, 0, 3),
    # ACC-4 refused; ACC-5's amount has three decimals; ACC-1 given twice.
    "openingBalances": (6, 3, 0, 3),
    # E9 is no register of MTR-1; MTR-2 read before it was installed; 123456 needs six dials; MTR-9 refused.
    "readings": (6, 2, 0, 4),
}

REFUSED = [
    ("customers.csv", 5, "CUS-4", "taxId", "'18123456788' is not a valid Australian Business Number"),
    ("accounts.csv", 5, "ACC-4", "customerId", "customer CUS-4 was refused (customers.csv row 5)"),
    ("accounts.csv", 7, "ACC-6", "paymentReference", "71000012 is already account ACC-1's reference"),
    ("accounts.csv", 9, "ACC-8", "paymentReference", "its check digit should be 9"),
    ("service_points.csv", 6, "31200455774", "servicePointId", "the AEMO checksum of 3120045577 is 3"),
    ("meters.csv", 6, "MTR-9", "servicePointId", "service point 3120045577 was refused (service_points.csv row 6)"),
    (
        "meters.csv",
        7,
        "MTR-2",
        "serial",
        "meter MTR-2 is installed at service point 6203778810 from 2026-06-30T14:00:00+00:00 until now: "
        "a meter is in one place at a time (meters.csv row 3)",
    ),
    ("contracts.csv", 6, "CON-6", "start", "contract CON-1 (sales, 2026-07-01 to open-ended) already covers supply"),
    ("contracts.csv", 7, "CON-7", "tariffId", "no tariff 'res-gold-2026'"),
    ("contracts.csv", 8, "CON-8", "accountId", "account ACC-4 was refused (accounts.csv row 5)"),
    ("opening_balances.csv", 5, "ACC-4", "accountId", "account ACC-4 was refused (accounts.csv row 5)"),
    ("opening_balances.csv", 6, "ACC-5", "amount", "45.005 has more decimals than AUD's 2"),
    ("opening_balances.csv", 7, "ACC-1", "accountId", "ACC-1 given twice in opening_balances.csv: first at row 2"),
    ("readings.csv", 4, "MTR-1", "register", "meter MTR-1 has no register 'E9'"),
    ("readings.csv", 5, "MTR-2", "readAt", "meter MTR-2 was not installed anywhere at 2026-06-01T09:00:00+10:00"),
    ("readings.csv", 6, "MTR-1", "value", "a read from 0 to below 100000 (5 dials)"),
    ("readings.csv", 7, "MTR-9", "meterSerial", "meter MTR-9 was refused (meters.csv row 6)"),
]


def test_the_book_loads_what_is_valid_and_names_every_refused_row(documents, book, clock):
    report = run(documents, book, clock)

    assert totals(report) == FIRST_RUN
    assert report.exit_code == 1
    refused = report.to_json()["refused"]
    assert [(r["file"], r["row"], r["id"], r["field"]) for r in refused] == [e[:4] for e in REFUSED]
    for entry, (*_, reason) in zip(refused, REFUSED, strict=True):
        assert reason in entry["reason"]


def test_counts_are_kept_per_branch(documents, book, clock):
    report = run(documents, book, clock)

    assert by_branch(report, "customers") == {"NSW": (3, 2, 0, 1), "TAS": (1, 1, 0, 0), "VIC": (1, 1, 0, 0)}
    # An account's branch is its own column, refused or not.
    assert by_branch(report, "accounts") == {"NSW": (4, 2, 0, 2), "TAS": (1, 1, 0, 0), "VIC": (3, 2, 0, 1)}
    # A service point counts under the branch of its first contract's account; 31200455774 has none.
    assert by_branch(report, "servicePoints") == {
        "(none)": (1, 0, 0, 1),
        "NSW": (3, 3, 0, 0),
        "TAS": (1, 1, 0, 0),
        "VIC": (1, 1, 0, 0),
    }
    # A meter under its service point's: MTR-2's second row names 4102005555 (CON-7, ACC-3, NSW).
    assert by_branch(report, "meters") == {
        "(none)": (1, 0, 0, 1),
        "NSW": (3, 2, 0, 1),
        "TAS": (1, 1, 0, 0),
        "VIC": (1, 1, 0, 0),
    }
    # A contract under its account's: CON-6 is ACC-7's (VIC), CON-8 the refused ACC-4's (NSW).
    assert by_branch(report, "contracts") == {"NSW": (4, 2, 0, 2), "TAS": (1, 1, 0, 0), "VIC": (3, 2, 0, 1)}
    assert by_branch(report, "readings") == {"(none)": (1, 0, 0, 1), "NSW": (4, 2, 0, 2), "VIC": (1, 0, 0, 1)}


def test_opening_balances_are_summed_exactly_per_branch(documents, book, clock):
    report = run(documents, book, clock)

    assert report.to_json()["openingBalances"] == {
        # 120.50 + 0.00 loaded; 99.99 (ACC-4 refused) + 1.00 (ACC-1 again) refused.
        "NSW": {"AUD": {"source": "221.49", "loaded": "120.50", "refused": "100.99"}},
        # Three decimals: refused, and its sum stays exact.
        "TAS": {"AUD": {"source": "45.005", "loaded": "0.00", "refused": "45.005"}},
        "VIC": {"AUD": {"source": "-15.25", "loaded": "-15.25", "refused": "0.00"}},
    }
    stored = documents.container(PAYMENTS.name).get("opening-balance", "ACC-2")
    assert stored["kind"] == "opening-balance"
    assert stored["balance"] == {"amount": "-15.25", "minor": -1525, "currency": "AUD"}
    assert stored["postingSetId"] == "opening-balance:ACC-2"
    assert stored["asOf"] == "2026-09-30"
    # Posted to the ledger with it (ACC-3's 0.00 posts nothing).
    posted = documents.container(PAYMENTS.name).query({"kind": "posting-set"})
    assert sorted(d["id"] for d in posted) == ["opening-balance:ACC-1", "opening-balance:ACC-2"]


def test_running_it_again_changes_nothing(documents, book, clock):
    run(documents, book, clock)
    before = snapshot(documents)
    clock.advance(days=1)

    again = run(documents, book, clock)

    assert snapshot(documents) == before
    assert totals(again) == {
        entity: (source, 0, loaded, refused) for entity, (source, loaded, _, refused) in FIRST_RUN.items()
    }
    assert [(r["file"], r["row"], r["field"]) for r in again.to_json()["refused"]] == [
        (f, row, field) for f, row, _, field, _ in REFUSED
    ]
    assert again.to_json()["openingBalances"] == run(documents, book, clock).to_json()["openingBalances"]


def test_a_dry_run_reports_the_same_and_stores_nothing(documents, book, clock):
    before = snapshot(documents)

    dry = run(documents, book, clock, dry_run=True)

    assert snapshot(documents) == before
    assert dry.to_json()["store"]["documentsWritten"] == {}
    real = run(documents, book, clock)
    unlike = {"dryRun": None, "seconds": None, "store": None}
    assert {**dry.to_json(), **unlike} == {**real.to_json(), **unlike}


def test_chunks_do_not_change_the_outcome(documents, book, clock, tmp_path):
    from shared.customers.containers import NEW_CONTAINERS
    from shared.platform.documents.sqlite_store import SqliteDocumentStore

    small = SqliteDocumentStore(tmp_path / "chunks.sqlite3", DOCUMENT_CONTAINERS + NEW_CONTAINERS)
    try:
        for tariff in documents.container(TARIFFS.name).query():
            small.container(TARIFFS.name).create(tariff)
        whole = run(documents, book, clock)
        in_twos = run(small, book, clock, chunk_rows=2)

        def stored(store: DocumentStore) -> dict[tuple[str, str], dict[str, Any]]:
            return {
                (c.name, d["id"] + "@" + d[c.partition_key]): {k: v for k, v in d.items() if k != "_etag"}
                for c in DOCUMENT_CONTAINERS
                for d in store.container(c.name).query()
            }

        # Only how often a service point's contract index is rewritten differs.
        unlike = {"seconds": None, "store": None}
        assert {**in_twos.to_json(), **unlike} == {**whole.to_json(), **unlike}
        assert stored(small) == stored(documents)
    finally:
        small.close()


def test_migrated_records_work_through_the_service_like_any_other(documents, book, clock, records):
    run(documents, book, clock)

    olivia = records.customer("CUS-1")
    history = records.history("customer", "CUS-1")
    assert [(c.revision, c.action, c.by) for c in history] == [(1, "migrate", "migration")]
    assert [s.record.customer_id for s in records.search_customers(name="nguyen")] == ["CUS-1"]
    assert [s.record.customer_id for s in records.search_customers(nmi="41020033117")] == ["CUS-1"]
    assert [s.record.customer_id for s in records.search_customers(payment_reference="71000012")] == ["CUS-1"]
    updated = records.update_customer("CUS-1", {"segment": "small-business"}, etag=olivia.etag, by="officer")
    assert updated.revision == 2
    assert records.customer("CUS-5").record.life_support is True
    # An account with no e-mail of its own gets the customer's, as through the API; by post: none.
    assert records.account("ACC-1").record.email == "olivia.nguyen@example.com.au"
    assert records.account("ACC-2").record.email is None
    # The contract index is what the service checks a new contract against.
    with pytest.raises(RecordConflict, match="CON-1"):
        records.create_contract(
            {
                "contractId": "CON-99",
                "accountId": "ACC-7",
                "servicePointId": "4102003311",
                "contractKind": "sales",
                "tariffId": "res-flat-2026",
                "start": "2026-12-01",
                "billingCycles": {"variable": "monthly", "fixed": "monthly"},
            },
            by="officer",
        )
    # Billing's view: the account bills its sales contract, the service point reads its meter.
    account = documents.container(ACCOUNTS.name).get("ACC-1", "ACC-1")
    assert BillingAccount.is_billable(account)
    billed = BillingAccount.from_document(account)
    assert (billed.service_point_id, billed.tariff_id, billed.billed_through.isoformat()) == (
        "4102003311",
        "res-flat-2026",
        "2026-07-01",
    )
    point = BillingServicePoint.from_document(documents.container(SERVICE_POINTS.name).get("4102009902", "4102009902"))
    assert (point.meter_kind, point.meter_serial, point.register_id) == ("interval", "MTR-3", "E1")
    # ACC-2 holds a sales and a connection contract at 6203778810: billing follows the sales one.
    assert documents.container(ACCOUNTS.name).get("ACC-2", "ACC-2")["tariffId"] == "res-flat-2026"
    reads = documents.container(READINGS.name).query({"kind": "register"}, partition="4102003311", order_by="readAt")
    assert [(r["meterSerial"], r["value"], r["source"]) for r in reads] == [
        ("MTR-1", "10234", "migration"),
        ("MTR-1", "10456.5", "migration"),
    ]


def test_a_corrected_source_row_loads_on_the_next_run_with_what_depends_on_it(documents, book, clock):
    run(documents, book, clock)
    edit(book, "customers.csv", "18123456788", "18123456789")  # CUS-4's ABN, as the old system should have had it

    again = run(documents, book, clock)

    # CUS-4, then its account ACC-4, its contract CON-8 and its opening balance now load.
    assert totals(again)["customers"] == (5, 1, 4, 0)
    assert totals(again)["accounts"] == (8, 1, 5, 2)
    assert totals(again)["contracts"] == (8, 1, 5, 2)
    assert totals(again)["openingBalances"] == (6, 1, 3, 2)
    assert again.to_json()["openingBalances"]["NSW"]["AUD"] == {
        "source": "221.49",
        "loaded": "220.49",
        "refused": "1.00",
    }
    assert documents.container(ACCOUNTS.name).get("ACC-4", "ACC-4")["tariffId"] == "res-flat-2026"


def test_a_row_that_differs_from_what_is_stored_is_refused_not_overwritten(documents, book, clock):
    run(documents, book, clock)
    edit(book, "customers.csv", "CUS-1,person,Olivia Nguyen,", "CUS-1,person,Olivia Tran,")

    again = run(documents, book, clock)

    first = again.refusals[0]
    assert (first.file, first.row, first.field) == ("customers.csv", 2, "name")
    assert "the stored customer CUS-1 differs in name" in first.reason
    assert documents.container(CUSTOMERS.name).get("CUS-1", "CUS-1")["name"] == "Olivia Nguyen"
    # Its account still stands on the stored customer.
    assert totals(again)["accounts"] == (8, 0, 5, 3)


def test_a_meter_the_store_has_at_another_service_point_is_refused(documents, book, clock, records):
    records.create_service_point(
        {
            "servicePointId": "4102007777",
            "country": "AU",
            "address": "1 Elsewhere Street, Newtown NSW 2042",
            "timeZone": "Australia/Sydney",
            "networkOperator": "Ausgrid",
            "region": "AU-NSW",
        },
        by="officer",
    )
    records.create_meter(
        {
            "serial": "MTR-3",
            "meterKind": "interval",
            "intervalMinutes": 30,
            "registers": [
                {"registerId": "E1", "unit": "kWh", "dialCount": 6},
                {"registerId": "B1", "unit": "kWh", "dialCount": 6},
            ],
        },
        by="officer",
    )
    from datetime import datetime
    from zoneinfo import ZoneInfo

    at = datetime(2026, 6, 1, tzinfo=ZoneInfo("Australia/Sydney"))
    records.install_meter("MTR-3", service_point_id="4102007777", at=at, first_reads={}, by="officer")

    report = run(documents, book, clock)

    refusal = next(r for r in report.refusals if r.file == "meters.csv" and r.row == 4)
    assert refusal.field == "serial"
    assert "meter MTR-3 is installed at service point 4102007777" in refusal.reason
    assert "a meter is in one place at a time" in refusal.reason
    assert documents.container(METERS.name).get("MTR-3", "MTR-3")["servicePointId"] == "4102007777"


def test_a_row_with_more_values_than_the_header_is_refused_alone(documents, book, clock):
    edit(book, "service_points.csv", "Australia/Hobart,TasNetworks,AU-TAS", "Australia/Hobart,TasNetworks,AU-TAS,x")

    report = run(documents, book, clock)

    refusal = next(r for r in report.refusals if r.file == "service_points.csv" and r.row == 5)
    assert (refusal.row, refusal.field, refusal.reason) == (5, None, "1 value(s) beyond the 6 columns of the header")
    # Everything at 8000112233 now has no service point: MTR-5, CON-5 and the row counts follow.
    assert totals(report)["servicePoints"] == (6, 4, 0, 2)
    assert totals(report)["meters"] == (6, 3, 0, 3)


def test_contracts_of_an_existing_account_are_checked_against_its_stored_contracts(documents, book, clock):
    run(documents, book, clock)
    # A second sales contract for ACC-2 at another service point in the same period: billing
    # bills one service point per account, so the service refuses it, and so does the migration.
    edit(
        book,
        "contracts.csv",
        "CON-9,ACC-2,6203778810,connection,res-flat-2026,,2026-07-01,,,",
        "CON-9,ACC-2,6203778810,connection,res-flat-2026,,2026-07-01,,,\n"
        "CON-10,ACC-2,4102005555,sales,res-flat-2026,,2026-08-01,,monthly,monthly",
    )

    again = run(documents, book, clock)

    refusal = next(r for r in again.refusals if r.file == "contracts.csv" and r.row == 10)
    assert refusal.field == "accountId"
    assert "account ACC-2 already has sales contract CON-2 at 6203778810" in refusal.reason


@pytest.mark.servers
@pytest.mark.parametrize("documents", ["cosmos"], indirect=True)
def test_on_cosmos_db_the_book_loads_the_same_and_a_second_run_changes_nothing(documents, book, clock):
    report = run(documents, book, clock)

    assert totals(report) == FIRST_RUN
    assert [(r.file, r.row, r.field) for r in report.refusals] == [(f, row, field) for f, row, _, field, _ in REFUSED]
    account = documents.container(ACCOUNTS.name).get("ACC-3", "ACC-3")
    assert (account["servicePointId"], account["tariffId"], account["billedThrough"]) == (
        "4102009902",
        "res-tou-2026",
        "2026-07-01",
    )
    index = documents.container(CONTRACTS.name).get("contracts", "4102003311")
    assert sorted(index["contracts"]) == ["CON-1"]
    before = snapshot(documents)

    again = run(documents, book, clock)

    assert snapshot(documents) == before
    assert totals(again)["contracts"] == (8, 0, 5, 3)
    assert again.to_json()["openingBalances"] == report.to_json()["openingBalances"]


def test_a_store_failure_stops_the_run_and_the_next_run_carries_on(documents, book, clock, tmp_path):
    from shared.customers.containers import NEW_CONTAINERS
    from shared.platform.documents import StorageUnavailable
    from shared.platform.documents.sqlite_store import SqliteDocumentStore

    class Flaky(SqliteDocumentStore):
        """Its disk fills up at the n-th chunk written from when it is armed (the store's own
        housekeeping, such as building a query index, is not counted)."""

        countdown: int | None = None

        def write_many(self, writes):  # type: ignore[no-untyped-def,override]
            if self.countdown is not None:
                self.countdown -= 1
                if self.countdown == 0:
                    raise StorageUnavailable("SQLite database is unavailable: database or disk is full")
            return super().write_many(writes)

    flaky = Flaky(tmp_path / "flaky.sqlite3", DOCUMENT_CONTAINERS + NEW_CONTAINERS)
    try:
        for tariff in documents.container(TARIFFS.name).query():
            flaky.container(TARIFFS.name).create(tariff)
        flaky.countdown = 3  # customers go in chunks of two rows: the third (row 6, CUS-5) fails

        stopped = run(flaky, book, clock, chunk_rows=2)

        assert stopped.exit_code == 2
        assert "disk is full" in (stopped.interrupted or "")
        assert sorted(d["id"] for d in flaky.container(CUSTOMERS.name).query()) == ["CUS-1", "CUS-2", "CUS-3"]
        flaky.countdown = None

        carried_on = run(flaky, book, clock, chunk_rows=2)

        assert totals(carried_on)["customers"] == (5, 1, 3, 1)
        assert totals(carried_on)["contracts"] == FIRST_RUN["contracts"]
        run(documents, book, clock)  # the same book, in one go, into the test's own store

        def stored(store: DocumentStore) -> dict[tuple[str, str], dict[str, Any]]:
            return {
                (c.name, d["id"] + "@" + d[c.partition_key]): {k: v for k, v in d.items() if k != "_etag"}
                for c in DOCUMENT_CONTAINERS
                for d in store.container(c.name).query()
            }

        assert stored(flaky) == stored(documents)
    finally:
        flaky.close()


def test_a_second_run_mends_a_billing_view_a_stopped_run_left_unwritten(documents, book, clock):
    run(documents, book, clock)
    accounts, points = documents.container(ACCOUNTS.name), documents.container(SERVICE_POINTS.name)
    account, point = accounts.get("ACC-1", "ACC-1"), points.get("4102009902", "4102009902")
    # As a run stopped between a chunk's records and their views (on Cosmos DB, between waves) leaves them.
    accounts.replace({**account, "servicePointId": None, "tariffId": None, "billingCycle": None}, etag=account["_etag"])
    points.replace({**point, "meterKind": None, "meterSerial": None, "registerId": None}, etag=point["_etag"])

    again = run(documents, book, clock)

    assert again.to_json()["store"]["documentsWritten"] == {"accounts": 1, "service-points": 1}
    mended = accounts.get("ACC-1", "ACC-1")
    assert (mended["servicePointId"], mended["tariffId"], mended["billingCycle"], mended["billedThrough"]) == (
        "4102003311",
        "res-flat-2026",
        "monthly",
        "2026-07-01",
    )
    assert points.get("4102009902", "4102009902")["meterSerial"] == "MTR-3"
