"""Customer records on SQLite and on Cosmos DB (the local server). Each store is built with
the customer-record containers that shared.resources does not list yet."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shared.customers.containers import NEW_CONTAINERS
from shared.customers.service import CustomerRecords
from shared.demo.sample_utility import FLAT_TARIFF, TOU_TARIFF
from shared.platform.documents import DocumentStore
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.resources import DOCUMENT_CONTAINERS, TARIFFS

ALL_CONTAINERS = DOCUMENT_CONTAINERS + NEW_CONTAINERS


@pytest.fixture
def records_sqlite(tmp_path) -> Iterator[DocumentStore]:
    store = SqliteDocumentStore(tmp_path / "records.sqlite3", ALL_CONTAINERS)
    yield store
    store.close()


@pytest.fixture
def records_cosmos(cosmos_server, local_cosmos_findings) -> Iterator[DocumentStore]:
    """A database of the test's own (the local server keeps one in memory per name)."""
    from shared.platform.documents.cosmos_store import CosmosDocumentStore

    store = CosmosDocumentStore(
        cosmos_server.endpoint,
        cosmos_server.key,
        f"test-{uuid.uuid4().hex[:12]}",
        verify_tls=False,
        containers=ALL_CONTAINERS,
        guarantees=local_cosmos_findings.guarantees,
        endpoint_discovery=False,
    )
    yield store
    store.close()


# Every request to the local Cosmos server opens a new TLS connection (about 50 ms), so a
# test there costs seconds: the tests that exercise what differs between the stores (queries
# across partitions, ordering, ETags, racing writers) run on both, the rest on SQLite.
BOTH_STORES = pytest.mark.parametrize(
    "documents", ["sqlite", pytest.param("cosmos", marks=pytest.mark.servers)], indirect=True
)


@pytest.fixture
def documents(request: pytest.FixtureRequest) -> DocumentStore:
    kind = getattr(request, "param", "sqlite")
    store: DocumentStore = request.getfixturevalue(f"records_{kind}")
    for tariff in (FLAT_TARIFF, TOU_TARIFF):
        store.container(TARIFFS.name).create(tariff)
    return store


@pytest.fixture
def records(documents, clock) -> CustomerRecords:
    """The service on the store, its clock the suite's hand-moved one (2 Nov 2026, 09:00 UTC)."""
    return CustomerRecords(documents, clock=clock)
