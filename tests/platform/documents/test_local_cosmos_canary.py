"""What the local Cosmos server (@vercel/cosmosdb-server) really guarantees, measured.

Other tests skip on what this records, never on an assumption. If an assertion here
fails, the server changed: revisit every skip that cites "(canary)" and the guarantees
`cosmos_store` declares, then update the expectation below.
"""

from __future__ import annotations

import pytest

from shared.platform.documents import StoreGuarantees
from tests.support.cosmos_server import LocalCosmosFindings, measure_local_cosmos, measure_local_cosmos_guarantees
from tests.support.processes import free_port

EXPECTED = LocalCosmosFindings(
    etag_conflict=True,
    duplicate_id_conflict=True,
    atomic_batch=False,  # runs a batch's operations one by one, no rollback
    batch_operations=frozenset({"create"}),  # upsert/replace/delete need a per-operation partition key the SDK omits
)


@pytest.mark.servers
def test_the_local_server_still_behaves_as_documented(cosmos_store):
    findings = measure_local_cosmos(cosmos_store)

    assert findings.etag_conflict, "the local server no longer refuses a stale ETag (412)"
    assert findings.duplicate_id_conflict, "the local server no longer refuses a duplicate id (409)"
    assert findings == EXPECTED, (
        f"the local Cosmos server changed: measured {findings}, documented {EXPECTED}; "
        "revisit the '(canary)' skips and the guarantees cosmos_store declares"
    )


@pytest.mark.servers
def test_the_cosmos_store_under_test_declares_what_was_measured(cosmos_store):
    measured = measure_local_cosmos_guarantees(cosmos_store)

    assert measured == StoreGuarantees(atomic_batch=False, change_feed=False)
    assert cosmos_store.guarantees == measured


@pytest.mark.servers
def test_a_store_for_real_cosmos_promises_atomic_batches_by_default(cosmos_server):
    from shared.platform.documents.cosmos_store import CosmosDocumentStore

    store = CosmosDocumentStore(cosmos_server.endpoint, cosmos_server.key, "canary-defaults", verify_tls=False)
    try:
        assert store.guarantees == StoreGuarantees(atomic_batch=True)
    finally:
        store.close()


def test_a_missing_server_install_fails_the_run_instead_of_skipping(tmp_path, monkeypatch):
    import tests.support.cosmos_server as support

    monkeypatch.setattr(support.CosmosServer, "executable", tmp_path / "missing" / "cli.js")
    server = support.CosmosServer(tmp_path / "server.log", free_port())

    with pytest.raises(pytest.fail.Exception, match="run scripts/test"):
        server.start()
    assert not server.running
