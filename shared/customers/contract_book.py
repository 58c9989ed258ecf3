"""The contracts of one service point, kept consistent without a transaction.

Contracts covering the same thing at a service point must never overlap, yet two branch
officers may add contracts for it at the same moment. Every contract of a service point is
therefore also listed in one index document in its partition; a change is checked against
that index and made by replacing the index with its ETag, so of two racing writers one
wins and the other re-checks against the winner. The contract's own document is written
from the index afterwards.

The index is the truth and the documents follow it: a crash between the two writes leaves
an index entry without (or ahead of) its document, and the next write at that service
point, or a retry of the same request, writes the document from the index. This needs
nothing but single-document ETags, which every store has (the local Cosmos server runs only
creates in a batch, and Cosmos DB batches are limited to one partition anyway).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from shared.customers.contract import Contract
from shared.customers.storage import RecordStore, Stored
from shared.platform.documents import ConcurrencyConflict, Container, DocumentAlreadyExists

INDEX_ID = "contracts"
RETRIES = 5


class ContractBook:
    def __init__(self, contracts: RecordStore[Contract]) -> None:
        self._store = contracts
        self._container: Container = contracts.container
        self._partition_key = contracts.partition_key

    def write(
        self,
        contract: Contract,
        *,
        by: str,
        check: Callable[[Contract, list[Contract], dict[str, Stored[Contract]]], None],
    ) -> Stored[Contract]:
        """Add or change ``contract`` at its service point. ``check`` sees the other contracts
        there (from the index) and the stored documents, and raises to refuse; it runs
        again whenever another writer got in first."""
        partition = contract.service_point_id
        for _ in range(RETRIES):
            index = self._index(partition)
            documents = self._follow(index)
            listed = _listed(index)
            others = [c for cid, c in listed.items() if cid != contract.contract_id]
            check(contract, others, documents)
            if listed.get(contract.contract_id) == contract:
                return documents[contract.contract_id]  # listed already: a retry after a crash, or no change
            entries = dict(index.get("contracts", {}))
            entries[contract.contract_id] = {"contract": contract.to_document(), "by": by}
            try:
                index = self._container.replace(
                    {**{k: v for k, v in index.items() if k != "_etag"}, "contracts": entries}, etag=index["_etag"]
                )
            except ConcurrencyConflict:
                continue  # another contract at this service point came first: check again
            return self._follow(index, documents, only=contract.contract_id)[contract.contract_id]
        raise ConcurrencyConflict(self._container.name, INDEX_ID, partition)

    def documents(self, partition: str) -> dict[str, Stored[Contract]]:
        """The contract documents of a service point, brought in line with its index."""
        return self._follow(self._index(partition))

    def _index(self, partition: str) -> dict[str, Any]:
        index = self._container.find(INDEX_ID, partition)
        if index is None:
            with contextlib.suppress(DocumentAlreadyExists):
                self._container.create(
                    {"id": INDEX_ID, self._partition_key: partition, "kind": "contract-index", "contracts": {}}
                )
            index = self._container.get(INDEX_ID, partition)
        return index

    def _follow(
        self, index: dict[str, Any], known: dict[str, Stored[Contract]] | None = None, only: str | None = None
    ) -> dict[str, Stored[Contract]]:
        """Write every contract document the index is ahead of (or just ``only``'s, when the
        others were followed a moment ago and are ``known``); return them all."""
        partition = index[self._partition_key]
        if known is None:
            known = {s.record.contract_id: s for s in self._store.query({}, partition=partition)}
        stored = dict(known)
        for contract_id, entry in index.get("contracts", {}).items():
            if only is not None and contract_id != only:
                continue
            wanted = Contract.from_document(entry["contract"])
            for _ in range(RETRIES):
                current = stored.get(contract_id)
                if current is not None and current.record == wanted:
                    break
                try:
                    if current is None:
                        stored[contract_id] = self._store.create(wanted, by=entry["by"])
                    else:
                        stored[contract_id] = self._store.replace(current, wanted, by=entry["by"])
                    break
                except (DocumentAlreadyExists, ConcurrencyConflict):
                    # Another writer followed the index at the same moment: read what it wrote.
                    found = self._store.find(contract_id, partition)
                    if found is not None:
                        stored[contract_id] = found
        return stored


def _listed(index: dict[str, Any]) -> dict[str, Contract]:
    return {cid: Contract.from_document(entry["contract"]) for cid, entry in index.get("contracts", {}).items()}
