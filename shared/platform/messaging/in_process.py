"""The embedded bus: queues in a SQLite file, delivered in this process.

It keeps Service Bus's promises that handlers depend on, so the same handler code is
exercised the same way locally: at-least-once delivery (a message is completed only after
its handler returns), a maximum delivery count, a dead-letter store with the failure
reason that can be listed and replayed, and duplicate detection by message id within a
window (only for sends, as on Service Bus: redeliveries are not duplicates).

Messages survive a crash of the process: whatever was pending is delivered by the next
``drain()``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.observability import correlation, current_correlation_id, log_event, new_correlation_id
from shared.platform.messaging import Handler, Message, UnknownQueue
from shared.resources import MAX_DELIVERY_COUNT

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    correlation_id TEXT,
    body TEXT NOT NULL,
    properties TEXT NOT NULL,
    enqueued_at TEXT NOT NULL,
    delivery_count INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'active',  -- active | completed | dead
    dead_letter_reason TEXT,
    dead_letter_description TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS messages_active ON messages(state, seq);
CREATE INDEX IF NOT EXISTS messages_by_id ON messages(queue, message_id);
"""


@dataclass(frozen=True)
class DeadLetter:
    seq: int
    queue: str
    message_id: str
    correlation_id: str | None
    body: dict[str, Any]
    delivery_count: int
    reason: str
    description: str
    enqueued_at: str


@dataclass(frozen=True)
class DrainReport:
    delivered: int
    completed: int
    retried: int
    dead_lettered: int


class InProcessBus:
    def __init__(
        self,
        path: Path | str,
        *,
        queues: tuple[str, ...],
        max_delivery_count: int = MAX_DELIVERY_COUNT,
        duplicate_window: timedelta = timedelta(minutes=10),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._path = str(path)
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._queues = set(queues)
        self._max = max_delivery_count
        self._window = duplicate_window
        self._clock = clock
        self._handlers: dict[str, Handler] = {}
        self._local = threading.local()
        self._drain_lock = threading.Lock()
        self._db().executescript(_SCHEMA)  # executescript commits on its own

    # -- connections -------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- sending -----------------------------------------------------------------------

    def subscribe(self, queue: str, handler: Handler) -> None:
        self._check_queue(queue)
        self._handlers[queue] = handler

    def send(
        self,
        queue: str,
        body: Mapping[str, Any],
        *,
        message_id: str,
        correlation_id: str | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        self._check_queue(queue)
        if not message_id:
            raise ValueError("message_id is required: it is how duplicate sends are detected")
        now = self._clock()
        cid = correlation_id or current_correlation_id() or new_correlation_id()
        with self._tx() as db:
            earlier = db.execute(
                "SELECT enqueued_at FROM messages WHERE queue=? AND message_id=? ORDER BY seq DESC LIMIT 1",
                (queue, message_id),
            ).fetchone()
            if earlier and now - datetime.fromisoformat(earlier["enqueued_at"]) < self._window:
                log_event(log, "duplicate message dropped", queue=queue, messageId=message_id)
                return
            db.execute(
                "INSERT INTO messages(queue, message_id, correlation_id, body, properties, enqueued_at)"
                " VALUES (?,?,?,?,?,?)",
                (queue, message_id, cid, json.dumps(dict(body)), json.dumps(dict(properties or {})), now.isoformat()),
            )

    def _check_queue(self, queue: str) -> None:
        if queue not in self._queues:
            raise UnknownQueue(f"unknown queue {queue!r}; known: {', '.join(sorted(self._queues))}")

    # -- delivering --------------------------------------------------------------------

    def pending(self, queue: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM messages WHERE state='active'" + (" AND queue=?" if queue else "")
        return int(self._db().execute(sql, (queue,) if queue else ()).fetchone()[0])

    def drain(self, *, max_messages: int = 1_000_000) -> DrainReport:
        """Deliver until no active message is left (including those handlers send)."""
        delivered = completed = retried = dead = 0
        with self._drain_lock:
            while delivered < max_messages:
                row = self._db().execute("SELECT * FROM messages WHERE state='active' ORDER BY seq LIMIT 1").fetchone()
                if row is None:
                    break
                delivered += 1
                outcome = self._deliver(row)
                completed += outcome == "completed"
                retried += outcome == "retry"
                dead += outcome == "dead"
        return DrainReport(delivered, completed, retried, dead)

    def _deliver(self, row: sqlite3.Row) -> str:
        seq, queue = row["seq"], row["queue"]
        handler = self._handlers.get(queue)
        # The delivery count goes up before the handler runs, as Service Bus's does when it
        # locks a message: a process that dies inside the handler has still used a delivery.
        with self._tx() as db:
            db.execute("UPDATE messages SET delivery_count = delivery_count + 1 WHERE seq=?", (seq,))
        count = row["delivery_count"] + 1
        message = Message(
            queue=queue,
            body=json.loads(row["body"]),
            message_id=row["message_id"],
            correlation_id=row["correlation_id"],
            properties=json.loads(row["properties"]),
            delivery_count=count,
            enqueued_at=datetime.fromisoformat(row["enqueued_at"]),
        )
        with correlation(message.correlation_id):
            if handler is None:
                return self._dead_letter(seq, "NoHandler", f"no handler subscribed to queue {queue!r}")
            try:
                handler(message)
            except Exception as exc:  # the handler's failure is the message's, never the bus's
                error = f"{type(exc).__name__}: {exc}"
                log_event(
                    log,
                    "handler failed",
                    logging.WARNING,
                    queue=queue,
                    messageId=message.message_id,
                    deliveryCount=count,
                    error=error,
                )
                if count >= self._max:
                    return self._dead_letter(seq, "MaxDeliveryCountExceeded", error, traceback.format_exc())
                with self._tx() as db:
                    db.execute("UPDATE messages SET last_error=? WHERE seq=?", (error, seq))
                return "retry"
            with self._tx() as db:
                db.execute("UPDATE messages SET state='completed', last_error=NULL WHERE seq=?", (seq,))
            return "completed"

    def _dead_letter(self, seq: int, reason: str, description: str, detail: str | None = None) -> str:
        with self._tx() as db:
            db.execute(
                "UPDATE messages SET state='dead', dead_letter_reason=?, dead_letter_description=?, last_error=?"
                " WHERE seq=?",
                (reason, description, detail or description, seq),
            )
        log_event(log, "message dead-lettered", logging.ERROR, seq=seq, reason=reason, description=description)
        return "dead"

    # -- dead letters ------------------------------------------------------------------

    def dead_letters(self, queue: str | None = None) -> list[DeadLetter]:
        sql = "SELECT * FROM messages WHERE state='dead'" + (" AND queue=?" if queue else "") + " ORDER BY seq"
        rows = self._db().execute(sql, (queue,) if queue else ()).fetchall()
        return [
            DeadLetter(
                seq=r["seq"],
                queue=r["queue"],
                message_id=r["message_id"],
                correlation_id=r["correlation_id"],
                body=json.loads(r["body"]),
                delivery_count=r["delivery_count"],
                reason=r["dead_letter_reason"],
                description=r["dead_letter_description"],
                enqueued_at=r["enqueued_at"],
            )
            for r in rows
        ]

    def replay_dead_letters(self, queue: str | None = None, *, seqs: list[int] | None = None) -> int:
        """Put dead letters back on their queue with a fresh delivery count (after a fix)."""
        sql = (
            "UPDATE messages SET state='active', delivery_count=0, dead_letter_reason=NULL,"
            " dead_letter_description=NULL WHERE state='dead'"
        )
        args: list[Any] = []
        if queue:
            sql += " AND queue=?"
            args.append(queue)
        if seqs is not None:
            sql += f" AND seq IN ({','.join('?' * len(seqs))})"
            args.extend(seqs)
        with self._tx() as db:
            return db.execute(sql, args).rowcount
