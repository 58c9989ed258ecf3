"""The embedded document store: every container in one SQLite file.

Several threads and several processes (Functions workers, the CLI) share one file, so:
WAL mode lets readers run beside a writer; every thread has its own connection; every
write opens with ``BEGIN IMMEDIATE``, taking the write lock before it reads the ETag it
compares, which makes replace-with-etag a real compare-and-set across processes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared.platform.documents import (
    BatchFailed,
    BatchOperation,
    ConcurrencyConflict,
    Document,
    DocumentAlreadyExists,
    DocumentNotFound,
    DocumentStoreError,
    StorageUnavailable,
    StoreGuarantees,
)
from shared.platform.documents.validation import (
    FieldPath,
    checked_batch,
    checked_document,
    checked_key,
    checked_limit,
    checked_order,
    checked_partition,
    checked_where,
    field_path,
)
from shared.resources import DOCUMENT_CONTAINERS, DocumentContainer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    container TEXT NOT NULL,
    partition TEXT NOT NULL,
    id TEXT NOT NULL,
    etag TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (container, partition, id)
) WITHOUT ROWID
"""


def _new_etag() -> str:
    # Random rather than a counter: a document deleted and created again must not accept
    # an ETag read from its earlier life.
    return uuid.uuid4().hex


def _encode(document: Document) -> str:
    # Sorted keys so an equality filter on a nested object compares canonical JSON text.
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _json_path(path: FieldPath) -> str:
    return "$." + ".".join(path)  # parts are checked identifiers: nothing to quote


def _equals(path: FieldPath, value: Any) -> tuple[str, list[Any]]:
    """SQL matching a JSON field equal to ``value`` with JSON's types kept apart (true is not 1)."""
    json_path = _json_path(path)
    if value is None:
        return "json_type(body, ?) = 'null'", [json_path]
    if isinstance(value, bool):
        return "json_type(body, ?) = ?", [json_path, "true" if value else "false"]
    if isinstance(value, int | float):
        return "json_type(body, ?) IN ('integer', 'real') AND json_extract(body, ?) = ?", [json_path, json_path, value]
    if isinstance(value, str):
        return "json_type(body, ?) = 'text' AND json_extract(body, ?) = ?", [json_path, json_path, value]
    kind = "object" if isinstance(value, dict) else "array"
    return f"json_type(body, ?) = '{kind}' AND json_extract(body, ?) = ?", [json_path, json_path, _encode(value)]


class SqliteContainer:
    def __init__(self, store: SqliteDocumentStore, definition: DocumentContainer) -> None:
        self.name = definition.name
        self.partition_key = definition.partition_key
        self._store = store

    def get(self, doc_id: str, partition: str) -> Document:
        document = self.find(doc_id, partition)
        if document is None:
            raise DocumentNotFound(self.name, doc_id, partition)
        return document

    def find(self, doc_id: str, partition: str) -> Document | None:
        checked_key(doc_id, partition, self.name)
        with self._store.reading() as db:
            row = db.execute(
                "SELECT etag, body FROM documents WHERE container = ? AND partition = ? AND id = ?",
                (self.name, partition, doc_id),
            ).fetchone()
        return None if row is None else self._document(row)

    def create(self, document: Mapping[str, Any]) -> Document:
        body = checked_document(document, self.name, self.partition_key)
        with self._store.writing() as db:
            return self._create(db, body)

    def replace(self, document: Mapping[str, Any], *, etag: str | None) -> Document:
        body = checked_document(document, self.name, self.partition_key)
        with self._store.writing() as db:
            return self._replace(db, body, etag)

    def upsert(self, document: Mapping[str, Any]) -> Document:
        body = checked_document(document, self.name, self.partition_key)
        with self._store.writing() as db:
            return self._upsert(db, body)

    def delete(self, doc_id: str, partition: str, *, etag: str | None = None) -> None:
        checked_key(doc_id, partition, self.name)
        with self._store.writing() as db:
            self._delete(db, doc_id, partition, etag)

    def query(
        self,
        where: Mapping[str, Any] | None = None,
        *,
        partition: str | None = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[Document]:
        conditions, params = ["container = ?"], [self.name]
        if partition is not None:
            checked_partition(partition, self.name)
            conditions.append("partition = ?")
            params.append(partition)
        for path, value in checked_where(where):
            condition, values = _equals(path, value)
            conditions.append(condition)
            params.extend(values)
        sql = "SELECT etag, body FROM documents WHERE " + " AND ".join(conditions)
        order = checked_order(order_by)
        if order is not None:
            path, descending = order
            sql += f" ORDER BY json_extract(body, ?) {'DESC' if descending else 'ASC'}, partition, id"
            params.append(_json_path(path))
        if checked_limit(limit) is not None:
            sql += " LIMIT ?"
            params.append(limit)  # type: ignore[arg-type]
        with self._store.reading() as db:
            rows = db.execute(sql, params).fetchall()
        return [self._document(row) for row in rows]

    def batch(self, partition: str, operations: Sequence[BatchOperation]) -> list[Document]:
        checked_partition(partition, self.name)
        cleaned = checked_batch(operations, partition, self.name, self.partition_key)
        results: list[Document] = []
        # One transaction: the BatchFailed raised inside it rolls every earlier operation back.
        with self._store.writing() as db:
            for index, op in enumerate(cleaned):
                try:
                    results.append(self._apply(db, partition, op))
                except DocumentStoreError as cause:
                    raise BatchFailed(self.name, index, cause) from None
        return results

    def _apply(self, db: sqlite3.Connection, partition: str, op: BatchOperation) -> Document:
        if op.kind == "delete":
            assert op.doc_id is not None
            self._delete(db, op.doc_id, partition, op.etag)
            return {"id": op.doc_id, self.partition_key: partition}
        assert op.document is not None
        if op.kind == "create":
            return self._create(db, op.document)
        if op.kind == "replace":
            return self._replace(db, op.document, op.etag)
        return self._upsert(db, op.document)

    def _create(self, db: sqlite3.Connection, body: Document) -> Document:
        etag = _new_etag()
        try:
            db.execute(
                "INSERT INTO documents (container, partition, id, etag, body) VALUES (?, ?, ?, ?, ?)",
                (self.name, body[self.partition_key], body["id"], etag, _encode(body)),
            )
        except sqlite3.IntegrityError:
            raise DocumentAlreadyExists(self.name, body["id"], body[self.partition_key]) from None
        return {**body, "_etag": etag}

    def _replace(self, db: sqlite3.Connection, body: Document, etag: str | None) -> Document:
        doc_id, partition = body["id"], body[self.partition_key]
        self._check_etag(db, doc_id, partition, etag)
        new_etag = _new_etag()
        db.execute(
            "UPDATE documents SET etag = ?, body = ? WHERE container = ? AND partition = ? AND id = ?",
            (new_etag, _encode(body), self.name, partition, doc_id),
        )
        return {**body, "_etag": new_etag}

    def _upsert(self, db: sqlite3.Connection, body: Document) -> Document:
        etag = _new_etag()
        db.execute(
            "INSERT INTO documents (container, partition, id, etag, body) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (container, partition, id) DO UPDATE SET etag = excluded.etag, body = excluded.body",
            (self.name, body[self.partition_key], body["id"], etag, _encode(body)),
        )
        return {**body, "_etag": etag}

    def _delete(self, db: sqlite3.Connection, doc_id: str, partition: str, etag: str | None) -> None:
        self._check_etag(db, doc_id, partition, etag)
        db.execute(
            "DELETE FROM documents WHERE container = ? AND partition = ? AND id = ?", (self.name, partition, doc_id)
        )

    def _check_etag(self, db: sqlite3.Connection, doc_id: str, partition: str, etag: str | None) -> None:
        row = db.execute(
            "SELECT etag FROM documents WHERE container = ? AND partition = ? AND id = ?",
            (self.name, partition, doc_id),
        ).fetchone()
        if row is None:
            raise DocumentNotFound(self.name, doc_id, partition)
        if etag is not None and row[0] != etag:
            raise ConcurrencyConflict(self.name, doc_id, partition)

    @staticmethod
    def _document(row: tuple[str, str]) -> Document:
        etag, body = row
        return {**json.loads(body), "_etag": etag}


class SqliteDocumentStore:
    """Documents in one SQLite file (not ``:memory:``: each connection would see its own)."""

    def __init__(
        self,
        path: Path | str,
        containers: Sequence[DocumentContainer] = DOCUMENT_CONTAINERS,
        *,
        busy_timeout_seconds: float = 10.0,
    ) -> None:
        self.path = Path(path)
        self.guarantees = StoreGuarantees(atomic_batch=True)
        self._busy_timeout = busy_timeout_seconds
        self._containers = {c.name: SqliteContainer(self, c) for c in containers}
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        with self.writing() as db:
            db.execute(_SCHEMA)

    def container(self, name: str) -> SqliteContainer:
        try:
            return self._containers[name]
        except KeyError:
            raise ValueError(f"unknown document container {name!r}; known: {sorted(self._containers)}") from None

    # -- beyond the port: what only the embedded store can offer, for bulk loading -----------

    def write_many(self, writes: Sequence[tuple[str, BatchOperation]]) -> None:
        """Create/replace/upsert operations on any containers and partitions in ONE
        transaction: all of them or none. BatchFailed names the first that failed (an id
        already taken, a stale ETag), after which nothing of the call is stored.

        The port's ``batch`` stays one partition of one container (Cosmos DB's limit, kept
        here so nothing passes on SQLite that Cosmos DB would refuse). A bulk load whose
        records span many partitions would otherwise wait for one disk commit per record;
        Cosmos DB has no cross-partition transaction, SQLite has, so a loader may use it."""
        prepared = []
        for name, op in writes:
            container = self.container(name)
            if op.document is None or op.kind == "delete":
                raise ValueError(f"{name}: write_many takes create, replace and upsert operations")
            document = checked_document(op.document, name, container.partition_key)
            prepared.append((container, BatchOperation(op.kind, document=document, etag=op.etag)))
        with self.writing() as db:
            for index, (container, op) in enumerate(prepared):
                assert op.document is not None
                try:
                    container._apply(db, op.document[container.partition_key], op)
                except DocumentStoreError as cause:
                    raise BatchFailed(container.name, index, cause) from None

    def field_index(self, container: str, *, kind: str, field: str) -> dict[Any, list[tuple[str, str]]]:
        """Where each value of ``field`` is (value -> [(partition, id)]) over the container's
        documents of that ``kind``, read in one pass without decoding the documents: for a
        loader's many equality look-ups that ``query`` would answer with a scan each."""
        self.container(container)  # an unknown container is refused by name
        index: dict[Any, list[tuple[str, str]]] = {}
        with self.reading() as db:
            cursor = db.execute(
                "SELECT partition, id, json_extract(body, ?) FROM documents "
                "WHERE container = ? AND json_extract(body, '$.kind') = ?",
                (_json_path(field_path(field)), container, kind),
            )
            for partition, doc_id, value in cursor:
                index.setdefault(value, []).append((partition, doc_id))
        return index

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit: each read statement sees one committed snapshot."""
        with self._translated_errors():
            yield self._connection()

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the database's write lock from its first statement."""
        with self._translated_errors():
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # also when COMMIT itself failed
                    db.execute("ROLLBACK")
                raise

    @contextmanager
    def _translated_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            # "database is locked" after the busy timeout, disk full, I/O errors: retryable.
            raise StorageUnavailable(f"SQLite database {self.path} is unavailable: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise DocumentStoreError(f"SQLite database {self.path} failed: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise DocumentStoreError(f"the document store on {self.path} is closed")
        # A connection must not cross a fork, so the owning process is part of the key.
        owned = getattr(self._local, "connection", None)
        if owned is not None and self._local.pid == os.getpid():
            return owned
        db = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        db.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed invoice number must survive a power cut, not only a crash.
        db.execute("PRAGMA synchronous = FULL")
        self._local.connection, self._local.pid = db, os.getpid()
        with self._lock:
            self._connections.append(db)
        return db
