"""The `cosmos_server` fixture: the Cosmos DB REST server (@vercel/cosmosdb-server) from
node_modules, on a free loopback port, and `cosmos_store`, a store on a fresh database.

The server keeps everything in memory: `stop()` then `start()` (same port, for outage
tests) comes back EMPTY, without the databases and containers made before. A test that
restarts it should use its own `CosmosServer`, not the session's, so it wipes nobody else.

What the server really guarantees is measured, not assumed: `measure_local_cosmos` runs
the checks the canary test asserts, and `cosmos_store` declares the measured guarantees.
"""

from __future__ import annotations

import contextlib
import ssl
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shared.platform.documents import (
    BatchFailed,
    BatchOperation,
    ConcurrencyConflict,
    DocumentAlreadyExists,
    DocumentStore,
    DocumentStoreError,
    StoreGuarantees,
)
from shared.resources import IDEMPOTENCY
from tests.support.processes import REPO_ROOT, LocalServer, free_port

if TYPE_CHECKING:
    from shared.platform.documents.cosmos_store import CosmosDocumentStore

COSMOS_CLI = REPO_ROOT / "node_modules" / "@vercel" / "cosmosdb-server" / "lib" / "cli.js"
# The Cosmos DB emulator's published key; the local server accepts any key, this one by convention.
EMULATOR_KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMSvtQ+4r8nWn/9bQ=="


class CosmosServer(LocalServer):
    """One server process; HTTPS with a self-signed certificate (connect with verify_tls=False).
    Its data lives in memory only: a stop loses it."""

    program = "cosmosdb-server"
    executable = COSMOS_CLI
    key = EMULATOR_KEY

    def __init__(self, log: Path, port: int) -> None:
        super().__init__(log, port)
        self.endpoint = f"https://127.0.0.1:{port}/"

    def command(self) -> list[str]:
        return ["node", str(COSMOS_CLI), "--host", "127.0.0.1", "-p", str(self.port)]

    def answering(self) -> bool:
        # Any HTTP answer (even 401) means the server is serving, not merely listening.
        insecure = ssl.create_default_context()
        insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
        try:
            urllib.request.urlopen(self.endpoint, timeout=1, context=insecure).close()
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True


def open_store(
    server: CosmosServer, guarantees: StoreGuarantees | None = None, *, timeout_seconds: float = 5.0
) -> CosmosDocumentStore:
    """A store on a database of its own, so tests sharing the server never see each other's data."""
    from shared.platform.documents.cosmos_store import CosmosDocumentStore  # the SDK only when a test needs it

    return CosmosDocumentStore(
        server.endpoint,
        server.key,
        f"test-{uuid.uuid4().hex[:12]}",
        verify_tls=False,
        guarantees=guarantees,
        endpoint_discovery=False,
        timeout_seconds=timeout_seconds,
    )


@dataclass(frozen=True)
class LocalCosmosFindings:
    etag_conflict: bool  # replace with a stale ETag refused (HTTP 412)
    duplicate_id_conflict: bool  # a second create of an id in one partition refused (HTTP 409)
    atomic_batch: bool  # a batch whose 2nd operation failed left its 1st undone
    batch_operations: frozenset[str]  # the kinds of BatchOperation the server runs at all

    @property
    def guarantees(self) -> StoreGuarantees:
        # No change feed: neither the server nor the store's contract offers one.
        return StoreGuarantees(atomic_batch=self.atomic_batch, change_feed=False)


def measure_local_cosmos(store: DocumentStore) -> LocalCosmosFindings:
    """Probe what the server behind ``store`` enforces, through the store itself."""
    container = store.container(IDEMPOTENCY.name)
    partition = f"canary-{uuid.uuid4().hex[:8]}"

    def doc(doc_id: str, **fields: object) -> dict[str, object]:
        return {"id": doc_id, IDEMPOTENCY.partition_key: partition, **fields}

    first = container.create(doc("etag", n=1))
    container.replace(doc("etag", n=2), etag=first["_etag"])
    try:
        container.replace(doc("etag", n=3), etag=first["_etag"])
        etag_conflict = False
    except ConcurrencyConflict:
        etag_conflict = True

    try:
        container.create(doc("etag"))
        duplicate_id_conflict = False
    except DocumentAlreadyExists:
        duplicate_id_conflict = True

    try:
        container.batch(partition, [BatchOperation("create", doc("batch-1")), BatchOperation("create", doc("etag"))])
        raise AssertionError("a batch creating an existing id succeeded")
    except BatchFailed as failed:
        assert failed.index == 1, f"batch failure blamed on operation #{failed.index}, expected #1"
    atomic_batch = container.find("batch-1", partition) is None

    probes = {
        "create": BatchOperation("create", doc("probe-create")),
        "upsert": BatchOperation("upsert", doc("etag", n=4)),
        "replace": BatchOperation("replace", doc("etag", n=5)),
        "delete": BatchOperation("delete", doc_id="etag"),
    }
    batch_operations = set()
    for kind, probe in probes.items():
        with contextlib.suppress(DocumentStoreError):
            container.batch(partition, [probe])
            batch_operations.add(kind)
    return LocalCosmosFindings(etag_conflict, duplicate_id_conflict, atomic_batch, frozenset(batch_operations))


def measure_local_cosmos_guarantees(store: DocumentStore) -> StoreGuarantees:
    return measure_local_cosmos(store).guarantees


@pytest.fixture(scope="session")
def cosmos_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CosmosServer]:
    server = CosmosServer(tmp_path_factory.mktemp("cosmos") / "cosmosdb-server.log", free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def local_cosmos_findings(cosmos_server: CosmosServer) -> LocalCosmosFindings:
    store = open_store(cosmos_server)
    try:
        return measure_local_cosmos(store)
    finally:
        store.close()


@pytest.fixture
def cosmos_store(cosmos_server: CosmosServer, local_cosmos_findings: LocalCosmosFindings) -> Iterator[DocumentStore]:
    """A CosmosDocumentStore on a fresh database, declaring what the server was measured to give."""
    store = open_store(cosmos_server, local_cosmos_findings.guarantees)
    try:
        yield store
    finally:
        store.close()
