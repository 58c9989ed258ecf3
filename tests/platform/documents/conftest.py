"""The contract runs against both stores: `store` is the SQLite file store, then a Cosmos
store on the local server (declaring the guarantees the canary measured there)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.platform.documents import DocumentStore
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from tests.support.cosmos_server import CosmosServer
from tests.support.processes import free_port


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[SqliteDocumentStore]:
    store = SqliteDocumentStore(tmp_path / "documents.sqlite3")
    yield store
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("cosmos", marks=pytest.mark.servers)])
def store(request: pytest.FixtureRequest) -> DocumentStore:
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def own_cosmos_server(tmp_path) -> Iterator[CosmosServer]:
    """A server of the test's own, for stopping: the session's server keeps its data."""
    server = CosmosServer(tmp_path / "cosmosdb-server.log", free_port())
    server.start()
    yield server
    server.stop()
