"""Input rules both document stores enforce, so a caller that passes on SQLite cannot send
Cosmos DB something it would refuse (or, worse, something it would read differently)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from shared.platform.documents import BatchOperation, Document

# Cosmos DB refuses these in an id; SQLite would take them, so both refuse them.
_FORBIDDEN_ID_CHARACTERS = frozenset("/\\?#")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# The largest transactional batch Cosmos DB accepts.
MAX_BATCH_OPERATIONS = 100

# Fields a store keeps about a document; never stored as part of the caller's body.
STORE_FIELDS = frozenset({"_etag", "_rid", "_self", "_ts", "_attachments"})

FieldPath = tuple[str, ...]


def field_path(name: str) -> FieldPath:
    """Split ``"period.start"`` into its parts; each must be a plain identifier because the
    Cosmos store writes field names into query text (values always travel as parameters)."""
    parts = tuple(name.split(".")) if isinstance(name, str) else ()
    if not parts or not all(_IDENTIFIER.fullmatch(part) for part in parts):
        raise ValueError(f"field name {name!r} is not a dotted identifier (letters, digits and '_' only)")
    return parts


def checked_document(document: Mapping[str, Any], container: str, partition_key: str) -> Document:
    """The caller's document without store fields, after checking its id and partition key."""
    if not isinstance(document, Mapping):
        raise ValueError(f"{container}: a document must be a mapping, got {type(document).__name__}")
    doc_id = document.get("id")
    if not isinstance(doc_id, str) or not doc_id:
        raise ValueError(f"{container}: document field 'id' is missing or not a non-empty string")
    if _FORBIDDEN_ID_CHARACTERS.intersection(doc_id):
        raise ValueError(f"{container}: document field 'id' {doc_id!r} contains one of / \\ ? #")
    partition = document.get(partition_key)
    if not isinstance(partition, str) or not partition:
        raise ValueError(
            f"{container}: document field {partition_key!r} (the partition key) is missing or not a non-empty string"
        )
    return {key: value for key, value in document.items() if key not in STORE_FIELDS}


def checked_key(doc_id: str, partition: str, container: str) -> None:
    if not isinstance(doc_id, str) or not doc_id:
        raise ValueError(f"{container}: 'id' must be a non-empty string, got {doc_id!r}")
    checked_partition(partition, container)


def checked_partition(partition: str, container: str) -> None:
    if not isinstance(partition, str) or not partition:
        raise ValueError(f"{container}: the partition must be a non-empty string, got {partition!r}")


_FILTER_TYPES = (str, int, float, bool, type(None), dict, list)


def checked_where(where: Mapping[str, Any] | None) -> list[tuple[FieldPath, Any]]:
    """Equality filters as (path, value); values limited to what JSON (and so Cosmos DB) can hold."""
    filters = []
    for name, value in (where or {}).items():
        path = field_path(name)
        if not isinstance(value, _FILTER_TYPES):
            raise ValueError(f"query value for field {name!r} is a {type(value).__name__}; store and query JSON types")
        filters.append((path, value))
    return filters


def checked_order(order_by: str | None) -> tuple[FieldPath, bool] | None:
    """``"-issuedAt"`` is (("issuedAt",), descending=True)."""
    if order_by is None:
        return None
    descending = isinstance(order_by, str) and order_by.startswith("-")
    return field_path(order_by[1:] if descending else order_by), descending


def checked_start_after(start_after: object, order: tuple[FieldPath, bool] | None) -> str | int | None:
    """Keyset paging's "after this value": a string or integer, and only with an order."""
    if start_after is None:
        return None
    if order is None:
        raise ValueError("start_after needs order_by: it means 'after this value of the order field'")
    if isinstance(start_after, bool) or not isinstance(start_after, str | int):
        raise ValueError(f"start_after must be a string or an integer, got {start_after!r}")
    return start_after


def checked_limit(limit: int | None) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    return limit


def checked_batch(
    operations: Sequence[BatchOperation], partition: str, container: str, partition_key: str
) -> list[BatchOperation]:
    """The operations with their documents cleaned, each checked to belong to ``partition``."""
    if len(operations) > MAX_BATCH_OPERATIONS:
        raise ValueError(f"{container}: a batch holds at most {MAX_BATCH_OPERATIONS} operations, got {len(operations)}")
    cleaned = []
    for index, op in enumerate(operations):
        if op.kind == "delete":
            checked_key(op.doc_id, partition, container)  # type: ignore[arg-type]
            cleaned.append(op)
            continue
        if op.kind not in ("create", "replace", "upsert") or op.document is None:
            raise ValueError(f"{container}: batch operation #{index} ({op.kind}) needs a document")
        if op.etag is not None and op.kind != "replace":
            raise ValueError(f"{container}: batch operation #{index}: only replace and delete take an etag")
        document = checked_document(op.document, container, partition_key)
        if document[partition_key] != partition:
            raise ValueError(
                f"{container}: batch operation #{index} is for partition {document[partition_key]!r}, "
                f"not the batch's partition {partition!r}"
            )
        cleaned.append(BatchOperation(op.kind, document=document, etag=op.etag))
    return cleaned
