"""The embedded store answers equality and order-by queries from indexes it builds on first
use, without giving up JSON's types, and without making a reader wait for a busy writer."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest

from shared.platform.documents import sqlite_store
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.resources import INVOICES, WEBHOOK_EVENTS, DocumentContainer


@pytest.fixture
def path(tmp_path):
    return tmp_path / "documents.sqlite3"


@pytest.fixture
def store(path) -> Iterator[SqliteDocumentStore]:
    opened = SqliteDocumentStore(path)
    yield opened
    opened.close()


def ids(documents: list[dict[str, object]]) -> list[object]:
    return [d["id"] for d in documents]


def index_names(path) -> list[str]:
    with sqlite3.connect(path) as db:
        return sorted(name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'"))


def uses_only(plan: list[str], index: str) -> bool:
    """One search, through that index, with no sorting left over."""
    return len(plan) == 1 and plan[0].startswith(f"SEARCH documents USING INDEX {index} (")


@pytest.fixture
def events(store):
    """Stripe events in their one partition, as the webhook inbox keeps them."""
    container = store.container(WEBHOOK_EVENTS.name)
    rows = [
        ("evt_1", "applied", None, "2026-11-01T09:00:00+00:00"),
        ("evt_2", "held", "payment:pi_1", "2026-11-01T09:05:00+00:00"),
        ("evt_3", "held", "payment:pi_2", "2026-11-01T09:01:00+00:00"),
        ("evt_4", "applied", None, "2026-11-01T09:05:00+00:00"),
    ]
    for event_id, status, waiting, received in rows:
        container.create(
            {
                "id": event_id,
                "provider": "stripe",
                "kind": "event",
                "status": status,
                "waitingFor": waiting,
                "receivedAt": received,
            }
        )
    return container


def test_an_equality_query_inside_a_partition_searches_its_own_index(events):
    where = {"status": "held", "waitingFor": "payment:pi_2"}

    assert ids(events.query(where, partition="stripe")) == ["evt_3"]
    assert uses_only(events.query_plan(where, partition="stripe"), "docs:webhook-events:status,waitingFor:partition")


def test_an_equality_query_across_partitions_searches_its_index_not_the_whole_container(store):
    accounts = store.container("accounts")
    for n in range(3):
        accounts.create({"id": f"ACC{n}", "accountId": f"ACC{n}", "paymentReference": f"GL{n}"})

    assert ids(accounts.query({"paymentReference": "GL1"})) == ["ACC1"]
    plan = accounts.query_plan({"paymentReference": "GL1"})
    assert uses_only(plan, "docs:accounts:paymentReference:all")
    assert "<expr>=?" in plan[0]  # the field itself is searched, not only the container


def test_the_order_of_the_fields_asked_does_not_make_a_second_index(events, path):
    events.query({"status": "held", "waitingFor": "payment:pi_1"}, partition="stripe")
    events.query({"waitingFor": "payment:pi_1", "status": "held"}, partition="stripe")

    assert index_names(path) == ["docs:webhook-events:status,waitingFor:partition"]


def test_ordering_with_a_limit_reads_the_index_in_order_and_breaks_ties_by_id(events):
    # evt_2 and evt_4 share 09:05; the tie goes to the smaller id, in both directions.
    newest = events.query({"kind": "event"}, partition="stripe", order_by="-receivedAt", limit=3)
    oldest = events.query({"kind": "event"}, order_by="receivedAt", limit=3)

    assert ids(newest) == ["evt_2", "evt_4", "evt_3"]
    assert ids(oldest) == ["evt_1", "evt_3", "evt_2"]
    assert uses_only(
        events.query_plan({"kind": "event"}, partition="stripe", order_by="-receivedAt", limit=3),
        "docs:webhook-events:kind:partition:order=-receivedAt",
    )
    assert uses_only(
        events.query_plan({"kind": "event"}, order_by="receivedAt"), "docs:webhook-events:kind:all:order=receivedAt"
    )


def test_reading_a_whole_partition_or_container_builds_no_index(events, path):
    assert sorted(ids(events.query(partition="stripe"))) == ["evt_1", "evt_2", "evt_3", "evt_4"]
    assert len(events.query()) == 4

    assert index_names(path) == []
    assert events.query_plan(partition="stripe") == ["SEARCH documents USING PRIMARY KEY (container=? AND partition=?)"]


@pytest.fixture
def typed(store):
    """One field holding each JSON type, with values that SQL alone would call equal."""
    invoices = store.container(INVOICES.name)
    values = {
        "true": True,
        "one": 1,
        "one-real": 1.0,
        "one-text": "1",
        "false": False,
        "zero": 0,
        "null": None,
        "object": {"a": 1, "b": [2]},
        "object-as-text": '{"a":1,"b":[2]}',
        "array": [1],
        "array-as-text": "[1]",
    }
    for name, value in values.items():
        invoices.create({"id": name, "accountId": "acc-1", "v": value})
    invoices.create({"id": "missing", "accountId": "acc-1"})
    return invoices


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, ["true"]),
        (1, ["one", "one-real"]),  # JSON numbers: 1 and 1.0 are the same number
        (1.0, ["one", "one-real"]),
        ("1", ["one-text"]),
        (False, ["false"]),
        (0, ["zero"]),
        (None, ["null"]),  # not the document without the field
        ({"b": [2], "a": 1}, ["object"]),  # key order does not matter, the text lookalike does not match
        ('{"a":1,"b":[2]}', ["object-as-text"]),
        ([1], ["array"]),
        ("[1]", ["array-as-text"]),
        ("true", []),
    ],
)
def test_the_index_keeps_json_types_apart(typed, value, expected):
    assert sorted(ids(typed.query({"v": value}))) == expected
    assert sorted(ids(typed.query({"v": value}, partition="acc-1"))) == expected
    assert uses_only(typed.query_plan({"v": value}), "docs:invoices:v:all")


def test_an_index_is_built_over_the_documents_already_there_and_kept_up_to_date(store):
    invoices = store.container(INVOICES.name)
    invoices.create({"id": "old", "accountId": "acc-1", "status": "issued"})
    assert ids(invoices.query({"status": "issued"})) == ["old"]  # built here, over "old"

    invoices.create({"id": "new", "accountId": "acc-2", "status": "issued"})
    invoices.replace({"id": "old", "accountId": "acc-1", "status": "paid"}, etag=None)

    assert ids(invoices.query({"status": "issued"})) == ["new"]
    assert ids(invoices.query({"status": "paid"})) == ["old"]


def test_an_index_holds_only_its_own_containers_rows(store, path):
    store.container(INVOICES.name).create({"id": "i", "accountId": "acc-1", "status": "issued"})
    store.container("accounts").create({"id": "a", "accountId": "acc-1", "status": "issued"})

    assert ids(store.container(INVOICES.name).query({"status": "issued"})) == ["i"]
    with sqlite3.connect(path) as db:
        (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'docs:invoices:status:all'").fetchone()
        (entries,) = db.execute(
            "SELECT count(*) FROM documents INDEXED BY \"docs:invoices:status:all\" WHERE container = 'invoices'"
        ).fetchone()
    assert sql.endswith("WHERE container = 'invoices'")
    assert entries == 1


def test_a_store_opened_later_uses_an_index_already_built_even_while_a_writer_holds_the_lock(path, events):
    events.query({"status": "held"}, partition="stripe")  # built by the first store
    later = SqliteDocumentStore(path)  # another process, say
    other_writer = sqlite3.connect(path, isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")
    try:
        held = later.container(WEBHOOK_EVENTS.name)
        assert sorted(ids(held.query({"status": "held"}, partition="stripe"))) == ["evt_2", "evt_3"]
        assert uses_only(
            held.query_plan({"status": "held"}, partition="stripe"), "docs:webhook-events:status:partition"
        )
    finally:
        other_writer.execute("ROLLBACK")
        other_writer.close()
        later.close()


def test_a_busy_writer_makes_the_first_query_scan_then_the_index_comes_later(path, store, monkeypatch):
    monkeypatch.setattr(sqlite_store, "_INDEX_RETRY_SECONDS", 0.0)
    invoices = store.container(INVOICES.name)
    invoices.create({"id": "inv-1", "accountId": "acc-1", "status": "issued"})
    other_process = sqlite3.connect(path, isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")  # a long write elsewhere holds the lock

    began = time.monotonic()
    assert ids(invoices.query({"status": "issued"})) == ["inv-1"]  # answered by a scan
    waited = time.monotonic() - began
    assert waited < 2.0  # about _INDEX_LOCK_WAIT_SECONDS, nowhere near the 10 s busy timeout
    assert index_names(path) == []
    other_process.execute("ROLLBACK")
    other_process.close()

    assert ids(invoices.query({"status": "issued"})) == ["inv-1"]
    assert index_names(path) == ["docs:invoices:status:all"]
    invoices.create({"id": "inv-2", "accountId": "acc-1", "status": "issued"})  # writes wait as long as before
    assert uses_only(invoices.query_plan({"status": "issued"}), "docs:invoices:status:all")


def test_after_a_refused_build_the_store_scans_until_the_retry_time(path, store):
    invoices = store.container(INVOICES.name)
    invoices.create({"id": "inv-1", "accountId": "acc-1", "status": "issued"})
    other_process = sqlite3.connect(path, isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")
    assert ids(invoices.query({"status": "issued"})) == ["inv-1"]
    other_process.execute("ROLLBACK")
    other_process.close()

    # The lock is free now, but the 5 s back-off has not passed: still a scan, and no wait.
    assert invoices.query_plan({"status": "issued"}) == ["SEARCH documents USING PRIMARY KEY (container=?)"]
    assert index_names(path) == []


def test_stores_racing_to_build_the_same_index_all_answer(path):
    stores = [SqliteDocumentStore(path) for _ in range(4)]
    stores[0].container(INVOICES.name).create({"id": "inv-1", "accountId": "acc-1", "status": "issued"})
    answers: list[list[object]] = []
    start = threading.Barrier(len(stores))

    def ask(store: SqliteDocumentStore) -> None:
        start.wait()
        answers.append(ids(store.container(INVOICES.name).query({"status": "issued"})))

    threads = [threading.Thread(target=ask, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()

    assert answers == [["inv-1"]] * 4
    assert index_names(path) == ["docs:invoices:status:all"]


def test_a_container_name_that_cannot_be_an_sql_literal_is_refused(path):
    with pytest.raises(ValueError, match='container name "it\'s" must be letters, digits'):
        SqliteDocumentStore(path, containers=[DocumentContainer("it's", "id")])
