"""Bad input is refused before it reaches either store, naming what is wrong."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.platform.documents import BatchOperation, DocumentStore
from shared.resources import INVOICES


@pytest.fixture
def invoices(store: DocumentStore):
    return store.container(INVOICES.name)


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"accountId": "acc-1"}, "'id'"),
        ({"id": 7, "accountId": "acc-1"}, "'id'"),
        ({"id": "", "accountId": "acc-1"}, "'id'"),
        ({"id": "a/b", "accountId": "acc-1"}, "'id'"),
        ({"id": "inv-1"}, "'accountId'"),
        ({"id": "inv-1", "accountId": 42}, "'accountId'"),
    ],
)
def test_a_document_without_a_usable_id_or_partition_key_is_refused(invoices, document, named):
    for write in (invoices.create, invoices.upsert, lambda d: invoices.replace(d, etag=None)):
        with pytest.raises(ValueError, match=named):
            write(document)
    assert invoices.query() == []


@pytest.mark.parametrize("field", ['status"] OR 1=1 --', "a b", "", "period..start", "1st", "c.x-y", "naïve"])
def test_a_field_name_that_is_not_a_dotted_identifier_is_refused(invoices, field):
    with pytest.raises(ValueError, match="field name") as raised:
        invoices.query({field: "x"})
    assert repr(field) in str(raised.value)
    with pytest.raises(ValueError, match="field name"):
        invoices.query(order_by=field)
    with pytest.raises(ValueError, match="field name"):
        invoices.query(order_by="-" + field)


def test_values_travel_as_parameters_so_quotes_in_them_are_just_text(invoices):
    invoices.create({"id": "inv-1", "accountId": "acc-1", "name": "O'Brien \" OR 1=1 --"})

    assert [d["id"] for d in invoices.query({"name": "O'Brien \" OR 1=1 --"})] == ["inv-1"]
    assert invoices.query({"name": "' OR '1'='1"}) == []


@pytest.mark.parametrize("limit", [0, -1, 2.5, True])
def test_a_limit_must_be_a_positive_integer(invoices, limit):
    with pytest.raises(ValueError, match="limit"):
        invoices.query(limit=limit)


def test_a_query_value_must_be_a_json_type(invoices):
    with pytest.raises(ValueError, match="'total'"):
        invoices.query({"total": Decimal("1.10")})


def test_a_document_with_a_value_json_cannot_hold_is_refused_and_not_stored(invoices):
    with pytest.raises(TypeError):
        invoices.create({"id": "inv-1", "accountId": "acc-1", "total": Decimal("1.10")})
    assert invoices.find("inv-1", "acc-1") is None


def test_a_batch_operation_for_another_partition_is_refused_before_anything_runs(invoices):
    with pytest.raises(ValueError, match="partition 'acc-2'"):
        invoices.batch(
            "acc-1",
            [
                BatchOperation("create", {"id": "inv-1", "accountId": "acc-1"}),
                BatchOperation("create", {"id": "inv-2", "accountId": "acc-2"}),
            ],
        )
    assert invoices.query() == []


def test_a_batch_over_cosmos_limit_is_refused(invoices):
    operations = [BatchOperation("create", {"id": f"inv-{i}", "accountId": "acc-1"}) for i in range(101)]
    with pytest.raises(ValueError, match="at most 100"):
        invoices.batch("acc-1", operations)


@pytest.mark.parametrize(
    "operation",
    [
        BatchOperation("create"),
        BatchOperation("delete"),
        BatchOperation("upsert", {"id": "inv-1", "accountId": "acc-1"}, etag="e"),
        BatchOperation("create", {"accountId": "acc-1"}),
    ],
    ids=["create-without-document", "delete-without-id", "etag-on-upsert", "document-without-id"],
)
def test_a_malformed_batch_operation_is_refused(invoices, operation):
    with pytest.raises(ValueError):
        invoices.batch("acc-1", [operation])


def test_an_unknown_container_is_refused_with_the_known_names(store):
    with pytest.raises(ValueError, match=r"'invoice'.*invoices"):
        store.container("invoice")


@pytest.mark.parametrize("partition", ["", None])
def test_reads_need_a_partition(invoices, partition):
    with pytest.raises(ValueError, match="partition"):
        invoices.find("inv-1", partition)
