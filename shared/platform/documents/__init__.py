"""Document storage: JSON documents in named containers, each split into logical partitions.

The shape follows Cosmos DB (the Azure implementation) because it is the weaker model:
ETags for optimistic concurrency, unique ids per partition, and transactions only inside
one partition. The SQLite default implements exactly the same contract, no more, so code
that passes on SQLite cannot lean on a guarantee Cosmos DB does not give.

A document is a plain ``dict`` with a string ``id`` and the container's partition key
field. Stores add ``_etag`` on every read and write; callers pass it back to ``replace``
or ``delete`` to say "only if nobody changed it since I read it".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Document = dict[str, Any]


class DocumentStoreError(Exception):
    """Base for every storage failure callers may want to handle."""


class DocumentNotFound(DocumentStoreError):
    def __init__(self, container: str, doc_id: str, partition: str) -> None:
        super().__init__(f"{container}: no document {doc_id!r} in partition {partition!r}")
        self.container, self.doc_id, self.partition = container, doc_id, partition


class DocumentAlreadyExists(DocumentStoreError):
    def __init__(self, container: str, doc_id: str, partition: str) -> None:
        super().__init__(f"{container}: document {doc_id!r} already exists in partition {partition!r}")
        self.container, self.doc_id, self.partition = container, doc_id, partition


class ConcurrencyConflict(DocumentStoreError):
    """The document changed since the caller read it (its ETag no longer matches)."""

    def __init__(self, container: str, doc_id: str, partition: str) -> None:
        super().__init__(
            f"{container}: document {doc_id!r} in partition {partition!r} was changed by someone "
            "else since it was read (ETag mismatch); read it again and retry"
        )
        self.container, self.doc_id, self.partition = container, doc_id, partition


class BatchFailed(DocumentStoreError):
    """One operation of a transactional batch failed; on a store whose batch is atomic
    (``StoreGuarantees.atomic_batch``) none of the batch's operations took effect."""

    def __init__(self, container: str, index: int, cause: DocumentStoreError) -> None:
        super().__init__(f"{container}: batch operation #{index} failed: {cause}")
        self.container, self.index, self.cause = container, index, cause


class StorageUnavailable(DocumentStoreError):
    """The store could not be reached (network, server down, throttled beyond retries).
    Safe to retry: nothing was written, or the write is idempotent by design."""


@dataclass(frozen=True)
class BatchOperation:
    """One step of a transactional batch inside a single partition."""

    kind: Literal["create", "replace", "upsert", "delete"]
    document: Document | None = None  # create / replace / upsert
    doc_id: str | None = None  # delete
    etag: str | None = None  # replace / delete: only if unchanged


@dataclass(frozen=True)
class StoreGuarantees:
    """What a store really promises; the canary test records these for the local servers."""

    atomic_batch: bool
    change_feed: bool = False


class Container(Protocol):
    name: str
    partition_key: str

    def get(self, doc_id: str, partition: str) -> Document:
        """Return the document or raise DocumentNotFound."""

    def find(self, doc_id: str, partition: str) -> Document | None:
        """Return the document, or None when there is none."""

    def create(self, document: Mapping[str, Any]) -> Document:
        """Insert; raise DocumentAlreadyExists when the id is taken in that partition."""

    def replace(self, document: Mapping[str, Any], *, etag: str | None) -> Document:
        """Overwrite an existing document. With an ``etag``, only if it is unchanged since
        read (else ConcurrencyConflict). Raise DocumentNotFound when it does not exist."""

    def upsert(self, document: Mapping[str, Any]) -> Document:
        """Create or overwrite, unconditionally."""

    def delete(self, doc_id: str, partition: str, *, etag: str | None = None) -> None:
        """Delete; DocumentNotFound when absent, ConcurrencyConflict on an ETag mismatch."""

    def query(
        self,
        where: Mapping[str, Any] | None = None,
        *,
        partition: str | None = None,
        order_by: str | None = None,
        limit: int | None = None,
        start_after: str | int | None = None,
    ) -> list[Document]:
        """Documents whose top-level fields equal every value in ``where`` (nested fields
        with dots: ``"period.start"``). ``partition=None`` queries across partitions.

        ``start_after`` (needs ``order_by``) keeps only documents whose order field sorts
        strictly after it (before it when descending): keyset paging, one read of ``limit``
        documents at any depth. The order field must be unique (an id), or ties are skipped."""

    def batch(self, partition: str, operations: Sequence[BatchOperation]) -> list[Document]:
        """Run the operations inside one partition, in order. Raise BatchFailed naming
        the failing operation. Atomic where ``guarantees.atomic_batch`` says so."""


class DocumentStore(Protocol):
    guarantees: StoreGuarantees

    def container(self, name: str) -> Container:
        """The container of that name (one of shared.resources.DOCUMENT_CONTAINERS)."""

    def close(self) -> None: ...


__all__ = [
    "BatchFailed",
    "BatchOperation",
    "ConcurrencyConflict",
    "Container",
    "Document",
    "DocumentAlreadyExists",
    "DocumentNotFound",
    "DocumentStore",
    "DocumentStoreError",
    "StorageUnavailable",
    "StoreGuarantees",
]
