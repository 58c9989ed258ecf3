"""The document store contract, the same sentences for SQLite and for Cosmos DB."""

from __future__ import annotations

import pytest

from shared.platform.documents import (
    BatchFailed,
    BatchOperation,
    ConcurrencyConflict,
    DocumentAlreadyExists,
    DocumentNotFound,
    DocumentStore,
)
from shared.platform.documents.cosmos_store import CosmosDocumentStore
from shared.resources import INVOICES


def invoice(doc_id: str, account: str = "acc-1", **fields: object) -> dict[str, object]:
    return {"id": doc_id, INVOICES.partition_key: account, **fields}


def without_etag(document: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in document.items() if key != "_etag"}


def ids(documents: list[dict[str, object]]) -> list[object]:
    return [d["id"] for d in documents]


@pytest.fixture
def invoices(store: DocumentStore):
    return store.container(INVOICES.name)


def test_a_created_document_reads_back_with_an_etag_and_no_system_fields(invoices):
    created = invoices.create(invoice("inv-1", total={"minor": 12345, "currency": "AUD"}, lines=[1, 2]))

    read = invoices.get("inv-1", "acc-1")

    assert read == created
    assert without_etag(read) == invoice("inv-1", total={"minor": 12345, "currency": "AUD"}, lines=[1, 2])
    assert isinstance(read["_etag"], str) and read["_etag"]
    assert invoices.find("inv-1", "acc-1") == read


def test_a_missing_document_is_none_for_find_and_not_found_for_get(invoices):
    assert invoices.find("nope", "acc-1") is None
    with pytest.raises(DocumentNotFound) as raised:
        invoices.get("nope", "acc-1")
    assert (raised.value.container, raised.value.doc_id, raised.value.partition) == ("invoices", "nope", "acc-1")


def test_creating_a_taken_id_fails_and_keeps_the_original(invoices):
    original = invoices.create(invoice("inv-1", total=1))

    with pytest.raises(DocumentAlreadyExists):
        invoices.create(invoice("inv-1", total=2))

    assert invoices.get("inv-1", "acc-1") == original


def test_the_same_id_in_two_partitions_is_two_documents(invoices):
    invoices.create(invoice("inv-1", "acc-1", total=1))
    invoices.create(invoice("inv-1", "acc-2", total=2))

    assert invoices.get("inv-1", "acc-1")["total"] == 1
    assert invoices.get("inv-1", "acc-2")["total"] == 2
    invoices.delete("inv-1", "acc-1")
    assert invoices.find("inv-1", "acc-1") is None
    assert invoices.get("inv-1", "acc-2")["total"] == 2


def test_replace_with_the_current_etag_writes_and_changes_the_etag(invoices):
    read = invoices.create(invoice("inv-1", status="draft"))

    written = invoices.replace({**read, "status": "issued"}, etag=read["_etag"])

    assert written["_etag"] != read["_etag"]
    assert invoices.get("inv-1", "acc-1") == written
    assert written["status"] == "issued"


def test_replace_with_a_stale_etag_is_a_conflict_and_changes_nothing(invoices):
    first = invoices.create(invoice("inv-1", status="draft"))
    second = invoices.replace({**first, "status": "issued"}, etag=first["_etag"])

    with pytest.raises(ConcurrencyConflict) as raised:
        invoices.replace({**first, "status": "void"}, etag=first["_etag"])

    assert raised.value.doc_id == "inv-1"
    assert invoices.get("inv-1", "acc-1") == second


def test_replace_without_an_etag_overwrites_whatever_is_there(invoices):
    invoices.create(invoice("inv-1", status="draft"))
    invoices.replace(invoice("inv-1", status="issued"), etag=None)
    assert invoices.get("inv-1", "acc-1")["status"] == "issued"


@pytest.mark.parametrize("etag", [None, "some-etag"])
def test_replacing_a_missing_document_is_not_found(invoices, etag):
    with pytest.raises(DocumentNotFound):
        invoices.replace(invoice("ghost"), etag=etag)
    assert invoices.find("ghost", "acc-1") is None


def test_upsert_creates_then_overwrites(invoices):
    created = invoices.upsert(invoice("inv-1", total=1))
    overwritten = invoices.upsert(invoice("inv-1", total=2))

    assert created["total"] == 1
    assert overwritten["_etag"] != created["_etag"]
    assert invoices.get("inv-1", "acc-1") == overwritten


def test_delete_removes_the_document_and_a_second_delete_is_not_found(invoices):
    invoices.create(invoice("inv-1"))

    invoices.delete("inv-1", "acc-1")

    assert invoices.find("inv-1", "acc-1") is None
    with pytest.raises(DocumentNotFound):
        invoices.delete("inv-1", "acc-1")


def test_delete_with_a_stale_etag_is_a_conflict_and_with_the_current_one_deletes(invoices):
    first = invoices.create(invoice("inv-1", v=1))
    current = invoices.replace({**first, "v": 2}, etag=first["_etag"])

    with pytest.raises(ConcurrencyConflict):
        invoices.delete("inv-1", "acc-1", etag=first["_etag"])
    assert invoices.get("inv-1", "acc-1") == current

    invoices.delete("inv-1", "acc-1", etag=current["_etag"])
    assert invoices.find("inv-1", "acc-1") is None


@pytest.fixture
def ledger(invoices):
    rows = [
        invoice("a", "acc-1", status="issued", number=3, period={"start": "2026-10-01"}, paid=True),
        invoice("b", "acc-1", status="draft", number=1, period={"start": "2026-11-01"}, paid=False),
        invoice("c", "acc-2", status="issued", number=2, period={"start": "2026-10-01"}, paid=1),
        invoice("d", "acc-2", status="issued", number=5, period={"start": "2026-11-01"}, paid=False),
        invoice("e", "acc-3", status="void", number=4, period={"start": "2026-10-01"}),
    ]
    for row in rows:
        invoices.create(row)
    return invoices


def test_query_filters_on_a_top_level_field_across_partitions(ledger):
    assert sorted(ids(ledger.query({"status": "issued"}))) == ["a", "c", "d"]


def test_query_filters_on_a_nested_field(ledger):
    assert sorted(ids(ledger.query({"period.start": "2026-10-01"}))) == ["a", "c", "e"]


def test_query_filters_combine_and_can_stay_inside_one_partition(ledger):
    assert ids(ledger.query({"status": "issued", "period.start": "2026-11-01"})) == ["d"]
    assert sorted(ids(ledger.query({"status": "issued"}, partition="acc-2"))) == ["c", "d"]
    assert sorted(ids(ledger.query(partition="acc-1"))) == ["a", "b"]
    assert ledger.query({"status": "void"}, partition="acc-1") == []


def test_query_tells_true_from_one_as_json_does(ledger):
    assert ids(ledger.query({"paid": True})) == ["a"]
    assert ids(ledger.query({"paid": 1})) == ["c"]


def test_query_orders_ascending_and_descending_and_limits(ledger):
    assert ids(ledger.query(order_by="number")) == ["b", "c", "a", "e", "d"]
    assert ids(ledger.query(order_by="-number")) == ["d", "e", "a", "c", "b"]
    assert ids(ledger.query({"status": "issued"}, order_by="-number", limit=2)) == ["d", "a"]
    assert ids(ledger.query(partition="acc-2", order_by="-number", limit=1)) == ["d"]


def test_query_results_carry_etags_like_reads(ledger):
    [found] = ledger.query({"status": "draft"})
    assert found == ledger.get("b", "acc-1")


def test_a_batch_runs_its_operations_in_order_inside_one_partition(invoices):
    results = invoices.batch(
        "acc-1",
        [BatchOperation("create", invoice("inv-1", total=1)), BatchOperation("create", invoice("inv-2", total=2))],
    )

    assert [without_etag(r) for r in results] == [invoice("inv-1", total=1), invoice("inv-2", total=2)]
    assert invoices.get("inv-1", "acc-1") == results[0]
    assert invoices.get("inv-2", "acc-1") == results[1]


def skip_unless_batch_runs_everything(store: DocumentStore, request: pytest.FixtureRequest) -> None:
    if isinstance(store, CosmosDocumentStore):
        findings = request.getfixturevalue("local_cosmos_findings")
        if findings.batch_operations != {"create", "upsert", "replace", "delete"}:
            pytest.skip("local Cosmos server runs only create inside a batch sent by the Python SDK (canary)")


def test_a_batch_upserts_replaces_with_an_etag_and_deletes(invoices, store, request):
    skip_unless_batch_runs_everything(store, request)
    read = invoices.create(invoice("inv-1", status="draft"))
    invoices.create(invoice("inv-2"))

    results = invoices.batch(
        "acc-1",
        [
            BatchOperation("replace", {**read, "status": "issued"}, etag=read["_etag"]),
            BatchOperation("upsert", invoice("inv-3", total=3)),
            BatchOperation("delete", doc_id="inv-2"),
        ],
    )

    assert invoices.get("inv-1", "acc-1") == results[0]
    assert results[0]["status"] == "issued"
    assert invoices.get("inv-3", "acc-1") == results[1]
    assert results[2] == {"id": "inv-2", "accountId": "acc-1"}
    assert invoices.find("inv-2", "acc-1") is None


def test_a_batch_replace_with_a_stale_etag_fails_the_batch(invoices, store, request):
    skip_unless_batch_runs_everything(store, request)
    read = invoices.create(invoice("inv-1", v=1))
    invoices.replace({**read, "v": 2}, etag=read["_etag"])

    with pytest.raises(BatchFailed) as raised:
        invoices.batch("acc-1", [BatchOperation("replace", {**read, "v": 3}, etag=read["_etag"])])

    assert raised.value.index == 0
    assert isinstance(raised.value.cause, ConcurrencyConflict)
    assert invoices.get("inv-1", "acc-1")["v"] == 2


def test_a_failing_batch_names_the_operation_that_failed(invoices):
    invoices.create(invoice("taken"))

    with pytest.raises(BatchFailed) as raised:
        invoices.batch("acc-1", [BatchOperation("create", invoice("new")), BatchOperation("create", invoice("taken"))])

    assert raised.value.index == 1
    assert isinstance(raised.value.cause, DocumentAlreadyExists)
    assert "#1" in str(raised.value)


def test_a_failing_batch_leaves_nothing_written_where_batches_are_atomic(invoices, store):
    if not store.guarantees.atomic_batch:
        pytest.skip("local Cosmos server batch is not atomic (canary)")
    invoices.create(invoice("taken", total=0))

    with pytest.raises(BatchFailed):
        invoices.batch(
            "acc-1",
            [
                BatchOperation("create", invoice("new-1")),
                BatchOperation("upsert", invoice("taken", total=99)),
                BatchOperation("create", invoice("taken")),
            ],
        )

    assert invoices.find("new-1", "acc-1") is None
    assert invoices.get("taken", "acc-1")["total"] == 0


def test_an_empty_batch_does_nothing(invoices):
    assert invoices.batch("acc-1", []) == []


def test_keyset_paging_reads_after_a_value_of_the_order_field(ledger):
    # number order: b, c, a, e, d (see above); paging two at a time visits each once.
    first = ledger.query(order_by="number", limit=2)
    second = ledger.query(order_by="number", limit=2, start_after=first[-1]["number"])
    third = ledger.query(order_by="number", limit=2, start_after=second[-1]["number"])
    assert [ids(first), ids(second), ids(third)] == [["b", "c"], ["a", "e"], ["d"]]
    assert ids(ledger.query(order_by="-number", start_after=first[-1]["number"])) == ["b"]
    assert ids(ledger.query({"status": "issued"}, order_by="number", start_after=first[0]["number"])) == ["c", "a", "d"]
    with pytest.raises(ValueError, match="order_by"):
        ledger.query(start_after="x")
    with pytest.raises(ValueError, match="string or an integer"):
        ledger.query(order_by="number", start_after=1.5)
