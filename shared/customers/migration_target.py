"""The document store as one migration run sees it: point reads, lookups of what was
stored before the run, and writes collected into chunks.

Writes are queued and sent by ``flush``, once per chunk of source rows:

- SQLite: the whole chunk in one transaction (``SqliteDocumentStore.write_many``), so a crash
  keeps whole chunks only, and one commit waits for the disk instead of one per document.
- Any other store (Cosmos DB): document by document, many at a time on a thread pool. A
  chunk goes out in waves, each starting when the one before has finished, so a record's
  satellites (its history entry, its search terms, a contract's index entry) are stored
  before the record itself: a record found stored has all of them. A rerun therefore
  only has to look at the record.

A write refused because the store changed meanwhile (an id taken, an ETag moved: someone
used the system during the migration) stops the run with ``MigrationInterrupted``; every
earlier chunk is kept, and running again carries on from there.

Lookups of stored records by a field other than their id (accounts by payment reference,
contracts by account) are needed only for what was stored before the run, and only when
the container held any then. On SQLite each such query scans the container, so the first
one reads the field for the whole container in one pass and answers the rest from that.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from shared.platform.documents import (
    BatchFailed,
    BatchOperation,
    ConcurrencyConflict,
    Document,
    DocumentAlreadyExists,
    DocumentStore,
    DocumentStoreError,
)
from shared.platform.documents.sqlite_store import SqliteDocumentStore


class MigrationInterrupted(Exception):
    """The store refused or failed a write; what earlier chunks wrote is kept."""


@dataclass(frozen=True)
class _Write:
    container: str
    op: BatchOperation
    wave: int


# Waves: satellites first, then the records, then what is derived from them.
SATELLITES, RECORDS, DERIVED = 0, 1, 2


class MigrationTarget:
    def __init__(self, documents: DocumentStore, *, dry_run: bool, workers: int = 16) -> None:
        self.documents = documents
        self.dry_run = dry_run
        self._workers = workers
        self._pending: list[_Write] = []
        self._held_before: dict[tuple[str, str], bool] = {}
        self._indexes: dict[tuple[str, str, str], dict[Any, list[tuple[str, str]]]] = {}
        # What the run cost the store: documents written per container, point reads, and
        # the time spent sending writes (the benchmark projects Cosmos DB from these).
        self.written: dict[str, int] = {}
        self.reads = 0
        self.write_seconds = 0.0
        self._sqlite = documents if isinstance(documents, SqliteDocumentStore) else None

    # --- reading ----------------------------------------------------------------------------

    def note_what_is_held(self, container: str, kind: str) -> None:
        """Remember whether the container holds any document of ``kind`` now, before the run
        writes anything: when it held none, nothing of that kind can be "already there"."""
        self._held_before[(container, kind)] = bool(self.documents.container(container).query({"kind": kind}, limit=1))

    def held_before(self, container: str, kind: str) -> bool:
        return self._held_before.get((container, kind), True)

    def find(self, container: str, doc_id: str, partition: str) -> Document | None:
        self.reads += 1
        return self.documents.container(container).find(doc_id, partition)

    def stored_where(self, container: str, kind: str, field: str, value: Any) -> list[Document]:
        """Documents of ``kind`` whose ``field`` equals ``value``, as stored when first asked
        in this run (on SQLite) or now (elsewhere); empty when the container held none of
        that kind before the run."""
        if not self.held_before(container, kind):
            return []
        if self._sqlite is None:
            return self.documents.container(container).query({"kind": kind, field: value})
        key = (container, kind, field)
        if key not in self._indexes:
            self._indexes[key] = self._sqlite.field_index(container, kind=kind, field=field)
        found = []
        for partition, doc_id in self._indexes[key].get(value, ()):
            doc = self.find(container, doc_id, partition)
            if doc is not None and doc.get(field) == value:
                found.append(doc)
        return found

    # --- writing ----------------------------------------------------------------------------

    def create(self, container: str, document: Mapping[str, Any], *, wave: int = RECORDS) -> None:
        self._queue(container, BatchOperation("create", document=dict(document)), wave)

    def upsert(self, container: str, document: Mapping[str, Any], *, wave: int = SATELLITES) -> None:
        self._queue(container, BatchOperation("upsert", document=dict(document)), wave)

    def replace(self, container: str, document: Mapping[str, Any], *, etag: str, wave: int) -> None:
        body = {k: v for k, v in document.items() if k != "_etag"}
        self._queue(container, BatchOperation("replace", document=body, etag=etag), wave)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        writes, self._pending = self._pending, []
        if not writes:
            return
        started = time.perf_counter()
        try:
            if self._sqlite is not None:
                ordered = sorted(writes, key=lambda w: w.wave)  # stable: rows keep their order
                self._sqlite.write_many([(w.container, w.op) for w in ordered])
            else:
                for wave in sorted({w.wave for w in writes}):
                    self._send_parallel([w for w in writes if w.wave == wave])
        except BatchFailed as failed:
            raise MigrationInterrupted(_why(failed.cause)) from None
        except DocumentStoreError as error:
            raise MigrationInterrupted(_why(error)) from None
        finally:
            self.write_seconds += time.perf_counter() - started
        for write in writes:
            self.written[write.container] = self.written.get(write.container, 0) + 1

    def _queue(self, container: str, op: BatchOperation, wave: int) -> None:
        if not self.dry_run:
            self._pending.append(_Write(container, op, wave))

    def _send_parallel(self, writes: list[_Write]) -> None:
        def send(write: _Write) -> None:
            container = self.documents.container(write.container)
            document = write.op.document
            assert document is not None
            senders: dict[str, Callable[[], Any]] = {
                "create": lambda: container.create(document),
                "upsert": lambda: container.upsert(document),
                "replace": lambda: container.replace(document, etag=write.op.etag),
            }
            senders[write.op.kind]()

        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            # list() re-raises the first failure once every write has been tried.
            list(pool.map(send, writes))


def _why(error: DocumentStoreError) -> str:
    if isinstance(error, DocumentAlreadyExists | ConcurrencyConflict):
        return (
            f"{error}. The store changed while the migration ran (someone else wrote to it); "
            "what earlier chunks wrote is kept: run the migration again to carry on"
        )
    return f"{error}. What earlier chunks wrote is kept: run the migration again to carry on"
