"""The migration posts each opening balance to the ledger once: on the book of
``migration_data/book``, whose opening balances load for ACC-1 (120.50, NSW), ACC-2
(-15.25, VIC) and ACC-3 (0.00, which moves nothing), the rest being refused."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from shared.customers.migration import migrate
from shared.payments.ledger import RECEIVABLE, PostingSet
from shared.payments.ledger_command import check_ledger
from shared.platform.documents import DocumentStore
from shared.resources import PAYMENTS

BOOK = Path(__file__).parent / "migration_data" / "book"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    folder = tmp_path / "book"
    shutil.copytree(BOOK, folder)
    return folder


def posting_sets(documents: DocumentStore) -> dict[str, str]:
    """Each stored posting set's id and what it does to the receivable."""
    docs = documents.container(PAYMENTS.name).query({"kind": "posting-set"})
    return {doc["id"]: str(PostingSet.from_json(doc).change(RECEIVABLE).amount) for doc in docs}


def payments_etags(documents: DocumentStore) -> dict[str, str]:
    return {doc["id"] + "@" + doc["accountId"]: doc["_etag"] for doc in documents.container(PAYMENTS.name).query()}


def test_the_migration_posts_each_nonzero_opening_balance(documents, book, clock):
    migrate(book, documents, clock=clock)

    assert posting_sets(documents) == {"opening-balance:ACC-1": "120.50", "opening-balance:ACC-2": "-15.25"}
    assert check_ledger(documents).to_json()["balanced"] is True


def test_running_it_again_posts_nothing_and_reports_the_same(documents, book, clock):
    first = migrate(book, documents, clock=clock)
    before = payments_etags(documents)
    clock.advance(days=1)

    again = migrate(book, documents, clock=clock)

    assert payments_etags(documents) == before
    assert again.to_json()["openingBalances"] == first.to_json()["openingBalances"]
    assert again.to_json()["entities"]["openingBalances"]["total"] == {
        "sourceRows": 6,
        "loaded": 0,
        "alreadyThere": 3,
        "refused": 3,
    }
    assert "payments" not in again.to_json()["store"]["documentsWritten"]


def test_a_dry_run_posts_nothing(documents, book, clock):
    migrate(book, documents, clock=clock, dry_run=True)

    assert posting_sets(documents) == {}


def test_a_balance_stored_before_the_ledger_took_balances_up_is_posted_by_the_next_run(documents, book, clock):
    migrate(book, documents, clock=clock)
    documents.container(PAYMENTS.name).delete("opening-balance:ACC-1", "ACC-1")  # as an older migration left it
    assert not check_ledger(documents).balanced

    again = migrate(book, documents, clock=clock)

    assert posting_sets(documents) == {"opening-balance:ACC-1": "120.50", "opening-balance:ACC-2": "-15.25"}
    assert again.to_json()["entities"]["openingBalances"]["total"]["alreadyThere"] == 3  # the report is unchanged
    assert again.to_json()["store"]["documentsWritten"] == {"payments": 1}
    assert check_ledger(documents).balanced


def test_a_run_stopped_after_posting_carries_on_without_posting_twice(documents, book, clock):
    migrate(book, documents, clock=clock)
    # On Cosmos DB a run can stop after the posting set's wave and before the record's.
    documents.container(PAYMENTS.name).delete("opening-balance", "ACC-1")

    again = migrate(book, documents, clock=clock)

    assert again.to_json()["entities"]["openingBalances"]["total"]["loaded"] == 1
    assert again.to_json()["store"]["documentsWritten"] == {"payments": 1}  # the record only
    assert posting_sets(documents)["opening-balance:ACC-1"] == "120.50"
    assert check_ledger(documents).balanced


def test_a_source_row_that_disagrees_with_what_the_ledger_holds_is_refused(documents, book, clock):
    migrate(book, documents, clock=clock)
    documents.container(PAYMENTS.name).delete("opening-balance", "ACC-1")
    path = book / "opening_balances.csv"
    path.write_text(path.read_text().replace("ACC-1,2026-09-30,120.50,AUD", "ACC-1,2026-09-30,130.00,AUD"))

    again = migrate(book, documents, clock=clock)

    refused = [r for r in again.to_json()["refused"] if r["id"] == "ACC-1" and r["row"] == 2]
    assert [(r["file"], r["field"]) for r in refused] == [("opening_balances.csv", "amount")]
    assert "the ledger already holds opening-balance:ACC-1 of AUD 120.50" in refused[0]["reason"]
    assert posting_sets(documents)["opening-balance:ACC-1"] == "120.50"  # the books are not rewritten


def test_a_taker_racing_the_migration_posts_it_once(book, clock, tmp_path):
    """Another run posts ACC-1's balance between this run's look-up and its write: this run
    stops naming the conflict (its chunk is not stored), and the next run carries on."""
    from shared.customers.containers import NEW_CONTAINERS
    from shared.demo.sample_utility import FLAT_TARIFF, TOU_TARIFF
    from shared.money import Money
    from shared.payments.ledger import opening_balance_postings
    from shared.payments.ledger_store import LedgerStore
    from shared.platform.documents.sqlite_store import SqliteDocumentStore
    from shared.resources import DOCUMENT_CONTAINERS, TARIFFS

    class Racing(SqliteDocumentStore):
        raced = False

        def write_many(self, writes):  # type: ignore[no-untyped-def]
            if not self.raced and any((op.document or {}).get("id") == "opening-balance:ACC-1" for _, op in writes):
                self.raced = True
                other = opening_balance_postings(
                    account_id="ACC-1", as_of=date(2026, 9, 30), balance=Money("120.50", "AUD"), branch="NSW"
                )
                assert LedgerStore(self).add(other, posted_at=clock())
            super().write_many(writes)

    racing = Racing(tmp_path / "racing.sqlite3", DOCUMENT_CONTAINERS + NEW_CONTAINERS)
    try:
        for tariff in (FLAT_TARIFF, TOU_TARIFF):
            racing.container(TARIFFS.name).create(tariff)

        stopped = migrate(book, racing, clock=clock)

        assert "opening-balance:ACC-1" in (stopped.interrupted or "")
        assert racing.container(PAYMENTS.name).query({"kind": "opening-balance"}) == []  # the chunk was not stored

        carried_on = migrate(book, racing, clock=clock)

        assert carried_on.interrupted is None
        assert carried_on.to_json()["entities"]["openingBalances"]["total"]["loaded"] == 3
        assert posting_sets(racing) == {"opening-balance:ACC-1": "120.50", "opening-balance:ACC-2": "-15.25"}
        assert check_ledger(racing).balanced
    finally:
        racing.close()
