"""Reliability checklist item 21: the store's server stopped mid-run -> a clear error the
caller can retry on, and nothing half-written."""

from __future__ import annotations

import sqlite3
import time
from decimal import Decimal

import pytest

from shared.platform.documents import BatchOperation, DocumentStoreError, StorageUnavailable
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.resources import INVOICES
from tests.support.cosmos_server import open_store


def invoice(doc_id: str, **fields: object) -> dict[str, object]:
    return {"id": doc_id, INVOICES.partition_key: "acc-1", **fields}


def assert_clear(error: DocumentStoreError, names: str) -> None:
    message = str(error)
    assert names in message
    assert len(message) < 400 and "Traceback" not in message, message
    assert error.__suppress_context__, "the SDK's exception chain leaked into the store's error"


@pytest.mark.servers
def test_a_stopped_cosmos_server_is_a_quick_clear_error_and_a_restarted_one_serves_again(own_cosmos_server):
    server = own_cosmos_server
    store = open_store(server)
    invoices = store.container(INVOICES.name)
    invoices.create(invoice("inv-1"))

    server.stop()
    calls = {
        "get": lambda: invoices.get("inv-1", "acc-1"),
        "create": lambda: invoices.create(invoice("inv-2")),
        "query": lambda: invoices.query({"status": "issued"}),
        "batch": lambda: invoices.batch("acc-1", [BatchOperation("create", invoice("inv-3"))]),
    }
    for name, call in calls.items():
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as raised:
            call()
        assert time.monotonic() - started < 15, f"{name} took too long to give up"
        assert_clear(raised.value, server.endpoint)

    server.start()
    # The local server keeps nothing across a restart: the old store reaches it again but
    # its database is gone (that server answers 500 there, real Cosmos DB 404/1003).
    with pytest.raises(DocumentStoreError) as raised:
        invoices.create(invoice("inv-4"))
    assert not isinstance(raised.value, StorageUnavailable)
    assert_clear(raised.value, "container 'invoices'")
    fresh = open_store(server).container(INVOICES.name)
    fresh.create(invoice("inv-5"))
    assert fresh.get("inv-5", "acc-1")["id"] == "inv-5"


@pytest.mark.servers
def test_a_cosmos_server_that_stops_answering_times_out_as_unavailable(own_cosmos_server):
    server = own_cosmos_server
    invoices = open_store(server, timeout_seconds=1).container(INVOICES.name)
    invoices.create(invoice("inv-1"))

    server.pause()
    try:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as raised:
            invoices.get("inv-1", "acc-1")
        assert time.monotonic() - started < 10
        assert_clear(raised.value, server.endpoint)
    finally:
        server.resume()
    assert invoices.get("inv-1", "acc-1")["id"] == "inv-1"


@pytest.mark.servers
def test_opening_a_cosmos_store_on_a_dead_endpoint_says_which(own_cosmos_server):
    server = own_cosmos_server
    server.stop()

    with pytest.raises(StorageUnavailable) as raised:
        open_store(server)

    assert_clear(raised.value, server.endpoint)


def test_a_sqlite_file_locked_past_the_busy_timeout_is_unavailable_and_nothing_is_written(tmp_path):
    path = tmp_path / "documents.sqlite3"
    store = SqliteDocumentStore(path, busy_timeout_seconds=0.2)
    invoices = store.container(INVOICES.name)
    other_process = sqlite3.connect(path, isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")  # another writer holding the lock

    with pytest.raises(StorageUnavailable) as raised:
        invoices.create(invoice("inv-1"))
    assert str(path) in str(raised.value)

    other_process.execute("ROLLBACK")
    other_process.close()
    assert invoices.find("inv-1", "acc-1") is None
    invoices.create(invoice("inv-1"))  # the same call, retried, now works
    assert invoices.get("inv-1", "acc-1")["id"] == "inv-1"
    store.close()


def test_a_sqlite_batch_that_breaks_mid_way_leaves_nothing_half_written(sqlite_store):
    invoices = sqlite_store.container(INVOICES.name)
    invoices.create(invoice("kept", total=1))

    # Operation #2 cannot be stored (Decimal is not JSON): it fails after #0 and #1 ran.
    with pytest.raises(TypeError):
        invoices.batch(
            "acc-1",
            [
                BatchOperation("create", invoice("new")),
                BatchOperation("upsert", invoice("kept", total=2)),
                BatchOperation("create", invoice("bad", total=Decimal("1.10"))),
            ],
        )

    assert invoices.find("new", "acc-1") is None
    assert invoices.get("kept", "acc-1")["total"] == 1
    invoices.create(invoice("after"))  # and the store is not left inside a transaction
    assert sqlite_store.container(INVOICES.name).get("after", "acc-1")["id"] == "after"
