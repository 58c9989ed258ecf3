"""What the migration needs from the embedded SQLite store beyond the document port: many
writes in one transaction, and one pass over a container for a field's values.

The port's ``batch`` is one partition of one container (Cosmos DB's limit, which SQLite
honours so that nothing passes on SQLite that Cosmos DB would refuse). A household's
records live in a dozen partitions of six containers, so through the port every record is
a transaction of its own, each waiting for its commit to reach the disk: that is most of
why loading through the service manages about a dozen households a second. Cosmos DB has
no cross-partition transaction to offer; SQLite has, so the migration uses it there.

These two functions are the bodies proposed for ``SqliteDocumentStore.write_many`` and
``SqliteDocumentStore.field_index``; they call the store's own method when it has one, so
adding the methods to ``sqlite_store.py`` needs no change here. Until then they use the
store's ``writing``/``reading`` connections and its containers' ``_apply``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.platform.documents import BatchFailed, BatchOperation, DocumentStoreError
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.platform.documents.validation import checked_document, field_path

FieldIndex = dict[Any, list[tuple[str, str]]]  # value -> [(partition, id)]


def write_many(store: SqliteDocumentStore, writes: Sequence[tuple[str, BatchOperation]]) -> None:
    """Run create/replace/upsert operations on any containers and partitions in one
    transaction: all of them or none. BatchFailed names the first that failed (an id
    already taken, a stale ETag), after which nothing of the call is stored."""
    own = getattr(store, "write_many", None)
    if own is not None:
        own(writes)
        return
    prepared = []
    for name, op in writes:
        container = store.container(name)
        if op.document is None or op.kind == "delete":
            raise ValueError(f"{name}: write_many takes create, replace and upsert operations")
        document = checked_document(op.document, name, container.partition_key)
        prepared.append((container, BatchOperation(op.kind, document=document, etag=op.etag)))
    with store.writing() as db:
        for index, (container, op) in enumerate(prepared):
            assert op.document is not None
            try:
                container._apply(db, op.document[container.partition_key], op)
            except DocumentStoreError as cause:
                raise BatchFailed(container.name, index, cause) from None


def field_index(store: SqliteDocumentStore, container: str, *, kind: str, field: str) -> FieldIndex:
    """Where each value of ``field`` is, over the container's documents of that ``kind``,
    read in one pass without decoding the documents (for equality lookups the store would
    otherwise answer with a scan each)."""
    own = getattr(store, "field_index", None)
    if own is not None:
        result: FieldIndex = own(container, kind=kind, field=field)
        return result
    store.container(container)  # an unknown container is refused by name
    json_path = "$." + ".".join(field_path(field))
    index: FieldIndex = {}
    with store.reading() as db:
        cursor = db.execute(
            "SELECT partition, id, json_extract(body, ?) FROM documents "
            "WHERE container = ? AND json_extract(body, '$.kind') = ?",
            (json_path, container, kind),
        )
        for partition, doc_id, value in cursor:
            index.setdefault(value, []).append((partition, doc_id))
    return index
