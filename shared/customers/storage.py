"""One kind of customer record in its container, with its change history.

Every write bumps the record's ``revision`` and describes itself in ``lastChange`` on the
record's own document, in the same write. The history container gets a copy afterwards,
under an id made from the revision, so copying twice stores it once. Before a record is
overwritten, its previous ``lastChange`` is copied (again, harmlessly, if it was already):
a crash between the two writes therefore loses no history, and a history read also shows
a ``lastChange`` whose copy has not landed yet. Cosmos DB has no transaction across
partitions; this is the outbox pattern on one document.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from shared.customers.containers import RECORD_CHANGES
from shared.customers.history import Change, changed_fields
from shared.observability import log_event
from shared.platform.documents import (
    ConcurrencyConflict,
    Container,
    Document,
    DocumentAlreadyExists,
    DocumentStore,
    DocumentStoreError,
)
from shared.resources import DocumentContainer

log = logging.getLogger(__name__)

# Written by the store or this module, never taken from a client or a domain record.
META_FIELDS = ("revision", "createdAt", "createdBy", "updatedAt", "updatedBy", "lastChange")

# The keyword a document store's ``query`` would take to read "in id order, after this id"
# (keyset pagination). The port (``Container.query``) filters by equality only, so neither
# store offers it yet; a store that does is used that way without a change here.
KEYSET_KEYWORD = "start_after"


class KeysetUnsupported(LookupError):
    """The store cannot read "after this id": ``Container.query`` has no ``start_after``."""


def supports_keyset(container: Container) -> bool:
    """Whether this container's ``query`` takes ``start_after`` (a range condition on the
    ordering field), the port change keyset pagination needs."""
    try:
        parameters = inspect.signature(container.query).parameters
    except (TypeError, ValueError):  # a builtin or a mock without a signature
        return False
    return KEYSET_KEYWORD in parameters


class Record(Protocol):
    @property
    def record_id(self) -> str: ...

    def to_document(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=Record)


def same_etag(a: str, b: str) -> bool:
    """ETags compared as HTTP sends them or not: Cosmos DB's carry quotes, SQLite's do not,
    clients may add ``W/`` or drop the quotes."""
    return normalized_etag(a) == normalized_etag(b)


def normalized_etag(etag: str) -> str:
    value = etag.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


@dataclass(frozen=True)
class Stored(Generic[R]):
    record: R
    document: Document  # as stored, with meta fields and the billing view; without _etag
    etag: str

    @property
    def revision(self) -> int:
        return int(self.document.get("revision", 0))


class RecordStore(Generic[R]):
    def __init__(
        self,
        documents: DocumentStore,
        container: DocumentContainer,
        *,
        record_type: str,
        parse: Callable[[Mapping[str, Any]], R],
        clock: Callable[[], datetime],
    ) -> None:
        self.container: Container = documents.container(container.name)
        self.partition_key = container.partition_key
        self.record_type = record_type
        self._parse = parse
        self._changes = documents.container(RECORD_CHANGES.name)
        self._clock = clock
        self.keyset = supports_keyset(self.container)

    # --- reading ----------------------------------------------------------------------------

    def find(self, record_id: str, partition: str | None = None) -> Stored[R] | None:
        doc = self.container.find(record_id, partition or record_id)
        if doc is None or doc.get("kind") != self.record_type:
            return None
        return self.stored(doc)

    def stored(self, doc: Mapping[str, Any]) -> Stored[R]:
        body = {k: v for k, v in doc.items() if k != "_etag"}
        return Stored(self._parse(body), body, str(doc["_etag"]))

    def query(
        self,
        where: Mapping[str, Any],
        *,
        partition: str | None = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[Stored[R]]:
        docs = self.container.query(
            {**where, "kind": self.record_type}, partition=partition, order_by=order_by, limit=limit
        )
        return [self.stored(doc) for doc in docs]

    def documents(self, where: Mapping[str, Any], *, limit: int) -> list[Document]:
        """Documents of this record type in id order, as stored and unparsed: an export shows
        a record written before today's field rules rather than failing on it."""
        docs = self.container.query({**where, "kind": self.record_type}, order_by="id", limit=limit)
        return [{k: v for k, v in doc.items() if k != "_etag"} for doc in docs]

    def documents_after(self, where: Mapping[str, Any], *, after: str | None, limit: int) -> list[Document]:
        """Like ``documents``, but only those whose id sorts after ``after``: one indexed read
        of ``limit`` documents however deep into the container (KeysetUnsupported when the
        store cannot say "after")."""
        return [{k: v for k, v in doc.items() if k != "_etag"} for doc in self._after(where, after, limit)]

    def query_after(self, where: Mapping[str, Any], *, after: str | None, limit: int) -> list[Stored[R]]:
        """Records in id order after the id ``after`` (KeysetUnsupported as above)."""
        return [self.stored(doc) for doc in self._after(where, after, limit)]

    def _after(self, where: Mapping[str, Any], after: str | None, limit: int) -> list[Document]:
        if not self.keyset:
            raise KeysetUnsupported(f"{self.container.name}: the document store cannot query after an id")
        keyset = {KEYSET_KEYWORD: after} if after is not None else {}
        return self.container.query(
            {**where, "kind": self.record_type},
            order_by="id",
            limit=limit,
            **keyset,  # type: ignore[call-arg]  # beyond the port until it gains start_after
        )

    def history(self, record_id: str, current: Stored[R] | None = None) -> list[Change]:
        docs = self._changes.query(partition=self._key(record_id), order_by="revision")
        changes = {int(d["revision"]): Change.from_document(d) for d in docs}
        pending = current.document.get("lastChange") if current else None
        if pending and int(pending["revision"]) not in changes:
            changes[int(pending["revision"])] = Change.from_document(pending)
        return [changes[r] for r in sorted(changes)]

    # --- writing ----------------------------------------------------------------------------

    def create(self, record: R, *, by: str, extra: Mapping[str, Any] | None = None) -> Stored[R]:
        """Store a new record (DocumentAlreadyExists when its id is taken). ``extra`` adds
        fields that are not the record's own (billing's view)."""
        now = self._clock()
        fields = record.to_document()
        change = Change(self.record_type, record.record_id, 1, now, by, "create", changed_fields(None, fields))
        doc = {
            **(extra or {}),
            **fields,
            "revision": 1,
            "createdAt": now.isoformat(),
            "createdBy": by,
            "updatedAt": now.isoformat(),
            "updatedBy": by,
            "lastChange": change.to_document(),
        }
        written = self.container.create(doc)
        self._copy_change(doc["lastChange"], required=False)
        return self.stored(written)

    def replace(
        self,
        current: Stored[R],
        record: R,
        *,
        by: str,
        action: str = "update",
    ) -> Stored[R]:
        """Overwrite ``current`` with ``record`` if nobody changed it since it was read
        (ConcurrencyConflict otherwise). Fields that are not the record's own are kept."""
        fields = record.to_document()
        changes = changed_fields(current.record.to_document(), fields)
        if not changes:
            return current  # nothing to write, no revision to add
        # The change about to be overwritten must be in the history first: if that copy
        # fails, so does this write.
        self._copy_change(current.document.get("lastChange"), required=True)
        now = self._clock()
        revision = current.revision + 1
        change = Change(self.record_type, record.record_id, revision, now, by, action, changes)
        doc = {
            **current.document,
            **fields,
            "revision": revision,
            "updatedAt": now.isoformat(),
            "updatedBy": by,
            "lastChange": change.to_document(),
        }
        written = self.container.replace(doc, etag=current.etag)
        self._copy_change(doc["lastChange"], required=False)
        return self.stored(written)

    def set_derived(
        self,
        record_id: str,
        values: Mapping[str, Any],
        partition: str | None = None,
        *,
        first_time: Mapping[str, Any] | None = None,
    ) -> None:
        """Write fields other modules read but no client sets (billing's view of the
        record), keeping whatever else changed meanwhile; ``first_time`` fields only where
        the document has none yet. No revision: the change is already in the history of the
        record it was derived from."""
        for _ in range(10):
            doc = self.container.get(record_id, partition or record_id)
            wanted = {**{k: v for k, v in (first_time or {}).items() if doc.get(k) is None}, **values}
            if all(doc.get(k) == v for k, v in wanted.items()):
                return
            try:
                self.container.replace({**doc, **wanted}, etag=doc["_etag"])
                return
            except ConcurrencyConflict:
                continue  # billing moved billedThrough meanwhile: read again
        raise ConcurrencyConflict(self.container.name, record_id, partition or record_id)

    # --- internals --------------------------------------------------------------------------

    def _key(self, record_id: str) -> str:
        return f"{self.record_type}:{record_id}"

    def _copy_change(self, change: Mapping[str, Any] | None, *, required: bool) -> None:
        """Copy a record's ``lastChange`` into the history. After a write it is best effort:
        the record is stored and holds its change, which the next write (or a history read)
        picks up, so the caller is not told "failed" about a write that succeeded."""
        if not change:
            return
        key = self._key(change["recordId"])
        try:
            self._changes.create({**change, "id": f"{int(change['revision']):08d}", "recordKey": key})
        except DocumentAlreadyExists:
            pass  # copied before: the id is the revision, so a copy is stored once
        except DocumentStoreError as error:
            if required:
                raise
            log_event(log, "change history copy deferred", logging.WARNING, record=key, error=str(error))
