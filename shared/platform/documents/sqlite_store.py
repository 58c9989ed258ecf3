"""The embedded document store: every container in one SQLite file.

Several threads and several processes (Functions workers, the CLI) share one file, so:
WAL mode lets readers run beside a writer; every thread has its own connection; every
write opens with ``BEGIN IMMEDIATE``, taking the write lock before it reads the ETag it
compares, which makes replace-with-etag a real compare-and-set across processes.

Queries are served by indexes, as Cosmos DB serves them by indexing every path, so an
equality query costs what it finds, not what the container holds. Each query *shape*
(container; the fields compared, sorted; one partition or all; the order-by field and its
direction) gets its own partial expression index the first time it is asked::

    CREATE INDEX "docs:webhook-events:status,waitingFor:partition" ON documents
        (container, json_extract(body, '$.status'), json_extract(body, '$.waitingFor'), partition)
        WHERE container = 'webhook-events'

Why this design (measured with ``benchmarks/sqlite_queries.py``, figures in BENCHMARKS.md):

- The JSON paths and the container name are SQL *literals*: an index on an expression is
  used only when the query repeats that expression's text, and a bound parameter never
  repeats it. Field parts are checked identifiers (``field_path``) and container names are
  checked at start-up, so nothing needs quoting; values stay bound parameters.
- *Partial* (``WHERE container = '...'``): all containers share one table, so an index
  covers only its container's rows and a write elsewhere pays nothing for it.
- One index per shape rather than per field: every column of the query is an equality in
  the index (or, after them, the order-by field in its direction, so ``order_by`` with
  ``limit`` reads the first rows in order and stops), and no guess is needed about which
  of two fields is the more selective.
- ``INDEXED BY`` names the shape's index: without statistics (no ``ANALYZE``) SQLite
  prices a search of the primary key by container as well as the expression index and
  takes the primary key, which is the scan this replaces. Forcing the index the store
  built for exactly this query is deterministic; tests check the plan.
- Made lazily, not declared: whatever a caller queries is served, with no list of fields
  to keep in step with the code. The cost is once per shape: the first query builds the
  index over the rows already there (0.2-0.4 s per 50,000 documents here), under the write
  lock. A reader never waits long for that lock (``_INDEX_LOCK_WAIT_SECONDS``): when it is busy
  the query scans as before and the index is tried again a little later.
  ``CREATE INDEX IF NOT EXISTS`` makes several processes racing for the same index safe.
- The cost on writes: every index of a container is kept up to date on each write to it
  (one JSON parse per write, which SQLite shares between the expressions of a statement).

JSON's types stay apart as before: the index answers ``json_extract(...) = ?`` and a
``json_type`` check on each row found keeps true from 1 and "1" from 1.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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
    checked_start_after,
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


# How long a query waits for the write lock to build its index before scanning instead, and
# how long it then scans before trying again: an index is an optimisation, a reader must
# not wait behind a long write for it.
_INDEX_LOCK_WAIT_SECONDS = 0.25
_INDEX_RETRY_SECONDS = 5.0

_CONTAINER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def _json_path(path: FieldPath) -> str:
    return "$." + ".".join(path)  # parts are checked identifiers: nothing to quote


def _field(path: FieldPath) -> str:
    """The expression, with its path as a literal so that it matches an index's text."""
    return f"json_extract(body, '{_json_path(path)}')"


def _equals(path: FieldPath, value: Any) -> tuple[str, list[Any]]:
    """SQL matching a JSON field equal to ``value`` with JSON's types kept apart (true is
    not 1, "1" is not 1). The first term is the one an index answers; ``json_type`` then
    throws out a row whose field only compares equal in SQL (true stored as 1, an object
    whose JSON text is the string asked for)."""
    field, kind = _field(path), f"json_type(body, '{_json_path(path)}')"
    if value is None:  # json_extract is NULL for a missing field too; json_type is 'null' only for null
        return f"{field} IS NULL AND {kind} = 'null'", []
    if isinstance(value, bool):
        return f"{field} = ? AND {kind} = ?", [int(value), "true" if value else "false"]
    if isinstance(value, int | float):
        return f"{field} = ? AND {kind} IN ('integer', 'real')", [value]
    if isinstance(value, str):
        return f"{field} = ? AND {kind} = 'text'", [value]
    # Objects and arrays compare as canonical JSON text: bodies are stored with sorted keys.
    return f"{field} = ? AND {kind} = '{'object' if isinstance(value, dict) else 'array'}'", [_encode(value)]


@dataclass(frozen=True)
class _QueryShape:
    """What a query compares and orders by, which is what its index is made of."""

    container: str
    fields: tuple[FieldPath, ...]  # sorted, so {"a", "b"} and {"b", "a"} share an index
    partitioned: bool
    order: tuple[FieldPath, bool] | None  # (path, descending)

    @property
    def indexable(self) -> bool:
        # A whole partition is its primary-key range already; a whole container is a scan either way.
        return bool(self.fields or self.order)

    @property
    def index_name(self) -> str:
        name = f"docs:{self.container}:{','.join('.'.join(p) for p in self.fields)}"
        name += ":partition" if self.partitioned else ":all"
        if self.order is not None:
            path, descending = self.order
            name += f":order={'-' if descending else ''}{'.'.join(path)}"
        return name

    def create_index_sql(self) -> str:
        # Equalities first (the container, each field, then the partition when the query
        # names one), then the order-by field: rows come out in order within the equal
        # ones. Across partitions the partition follows the order-by field, and the primary
        # key's id rides at the end of every index, which is the ORDER BY's tie-break.
        columns = ["container", *(_field(p) for p in self.fields)]
        if self.partitioned:
            columns.append("partition")
        if self.order is not None:
            path, descending = self.order
            columns.append(_field(path) + (" DESC" if descending else ""))
        if not self.partitioned:
            columns.append("partition")
        return (
            f'CREATE INDEX IF NOT EXISTS "{self.index_name}" ON documents ({", ".join(columns)}) '
            f"WHERE container = '{self.container}'"
        )


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
        start_after: str | int | None = None,
    ) -> list[Document]:
        sql, params = self._select(where, partition, order_by, limit, start_after)
        with self._store.reading() as db:
            rows = db.execute(sql, params).fetchall()
        return [self._document(row) for row in rows]

    def query_plan(
        self,
        where: Mapping[str, Any] | None = None,
        *,
        partition: str | None = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[str]:
        """How SQLite would run that ``query`` (EXPLAIN QUERY PLAN's lines): for tests,
        and for an operator asking why a query is slow. Like ``query``, it builds the
        shape's index if it is the first of its shape."""
        sql, params = self._select(where, partition, order_by, limit)
        with self._store.reading() as db:
            return [str(row[3]) for row in db.execute("EXPLAIN QUERY PLAN " + sql, params)]

    def _select(
        self,
        where: Mapping[str, Any] | None,
        partition: str | None,
        order_by: str | None,
        limit: int | None,
        start_after: str | int | None = None,
    ) -> tuple[str, list[Any]]:
        filters, order = checked_where(where), checked_order(order_by)
        after = checked_start_after(start_after, order)
        if partition is not None:
            checked_partition(partition, self.name)
        shape = _QueryShape(self.name, tuple(sorted(path for path, _ in filters)), partition is not None, order)
        index = self._store.index_for(shape)
        sql = "SELECT etag, body FROM documents" + (f' INDEXED BY "{index}"' if index is not None else "")
        # The container is a literal too: a partial index serves only a query whose WHERE
        # visibly implies the index's own ``container = '...'``.
        conditions, params = [f"container = '{self.name}'"], list[Any]()
        if partition is not None:
            conditions.append("partition = ?")
            params.append(partition)
        for path, value in filters:
            condition, values = _equals(path, value)
            conditions.append(condition)
            params.extend(values)
        if after is not None and order is not None:
            after_path, after_descending = order
            conditions.append(f"{_field(after_path)} {'<' if after_descending else '>'} ?")
            params.append(after)
        sql += " WHERE " + " AND ".join(conditions)
        if order is not None:
            path, descending = order
            sql += f" ORDER BY {_field(path)} {'DESC' if descending else 'ASC'}, partition, id"
        if checked_limit(limit) is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return sql, params

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
        for definition in containers:
            # Container names are written into SQL as literals (see the module docstring).
            if not _CONTAINER_NAME.fullmatch(definition.name):
                raise ValueError(f"container name {definition.name!r} must be letters, digits, '-' and '_'")
        self._containers = {c.name: SqliteContainer(self, c) for c in containers}
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        with self.writing() as db:
            db.execute(_SCHEMA)
            # Indexes already built (by an earlier run or another process) need no write lock.
            self._indexes = {
                str(name)
                for (name,) in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'documents'"
                )
            }
        self._index_retry_at: dict[str, float] = {}

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

    def index_for(self, shape: _QueryShape) -> str | None:
        """The name of the index serving queries of this shape, built now if it is the first
        such query; None when the shape needs none or its index cannot be built just now."""
        if not shape.indexable:
            return None
        name = shape.index_name
        if name in self._indexes:
            return name
        if time.monotonic() < self._index_retry_at.get(name, 0.0):
            return None
        try:
            with self._waiting_briefly(), self.writing() as db:
                db.execute(shape.create_index_sql())
        except StorageUnavailable:
            # Another writer held the lock (or is building this very index): scan this time.
            with self._lock:
                self._index_retry_at[name] = time.monotonic() + _INDEX_RETRY_SECONDS
            return None
        with self._lock:
            self._indexes.add(name)
        return name

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
    def _waiting_briefly(self) -> Iterator[None]:
        """This thread's connection waits at most _INDEX_LOCK_WAIT_SECONDS for the write lock."""
        db = self._connection()
        db.execute(f"PRAGMA busy_timeout = {int(min(self._busy_timeout, _INDEX_LOCK_WAIT_SECONDS) * 1000)}")
        try:
            yield
        finally:
            db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")

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
        # Room for every query shape's statement: the paths are literals, so each shape is its own SQL.
        db = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=512,
        )
        db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        db.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed invoice number must survive a power cut, not only a crash.
        db.execute("PRAGMA synchronous = FULL")
        self._local.connection, self._local.pid = db, os.getpid()
        with self._lock:
            self._connections.append(db)
        return db
