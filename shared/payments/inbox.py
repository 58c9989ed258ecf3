"""Every webhook a gateway sends us, kept: accepted, ignored, held or refused.

An accepted event is stored under its own id in the provider's partition *before* any
effect, with ``create``: the unique-id constraint, not a read-then-write check, decides
which of twenty simultaneous deliveries is the first. Each event's record then says what
became of it, so an operator can answer "did we get it, and what did it do?":

- ``received``: accepted and queued for the ledger;
- ``ignored``: a type we do not handle, kept and logged, answered 2xx;
- ``held``: waiting for the event it modifies (a refund before its payment);
- ``applied``: the ledger has it (``outcomes`` says what each part did);
- ``rejected``: accepted at the door, refused by the ledger (e.g. a currency mismatch
  found only once the payment arrived); nothing posted;
- ``refused``: refused at the door (bad signature, stale, malformed): never applied,
  stored under a ``refused:`` id so it can never be mistaken for the real event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.platform.documents import DocumentAlreadyExists, DocumentStore
from shared.resources import WEBHOOK_EVENTS

MAX_KEPT_BYTES = 65536  # of a refused body: enough to inspect, bounded however large the request


@dataclass(frozen=True)
class Recorded:
    event_id: str
    duplicate: bool
    status: str  # the stored record's status (the first delivery's, for a duplicate)


class WebhookInbox:
    def __init__(self, documents: DocumentStore) -> None:
        self._events = documents.container(WEBHOOK_EVENTS.name)

    def record(
        self, *, provider: str, event_id: str, event_type: str, raw: bytes, now: datetime, status: str = "received"
    ) -> Recorded:
        try:
            self._events.create(
                {
                    "id": event_id,
                    WEBHOOK_EVENTS.partition_key: provider,
                    "kind": "event",
                    "type": event_type,
                    "status": status,
                    "receivedAt": now.isoformat(),
                    "payload": raw.decode("utf-8"),
                }
            )
            return Recorded(event_id, duplicate=False, status=status)
        except DocumentAlreadyExists:
            existing = self._events.find(event_id, provider) or {}
            return Recorded(event_id, duplicate=True, status=str(existing.get("status", status)))

    def refuse(
        self, *, provider: str, raw: bytes, code: str, reason: str, now: datetime, event_id: str | None = None
    ) -> str:
        """Keep a refused request for inspection. A signed event's repeats share one record;
        an unsigned request's id is not to be trusted, so each gets its own."""
        refused_id = f"refused:{event_id}:{code}" if event_id else f"refused:{uuid.uuid4().hex}"
        try:
            self._events.create(
                {
                    "id": refused_id,
                    WEBHOOK_EVENTS.partition_key: provider,
                    "kind": "event",
                    "status": "refused",
                    "code": code,
                    "reason": reason,
                    "eventId": event_id,
                    "receivedAt": now.isoformat(),
                    "payload": raw[:MAX_KEPT_BYTES].decode("utf-8", errors="replace"),
                }
            )
        except DocumentAlreadyExists:
            pass  # the gateway retried an event we refused already
        return refused_id

    def get(self, provider: str, event_id: str) -> dict[str, Any]:
        return self._events.get(event_id, provider)

    def find(self, provider: str, event_id: str) -> dict[str, Any] | None:
        return self._events.find(event_id, provider)

    def mark(
        self,
        provider: str,
        event_id: str,
        *,
        status: str,
        outcomes: list[str],
        now: datetime,
        waiting_for: str | None = None,
        waiting_for_charge: str | None = None,
    ) -> None:
        """Say what became of the event. Bookkeeping only, never the guard: the posting
        sets' own ids are, so a lost or doubled mark changes no money."""
        doc = self._events.get(event_id, provider)
        doc.update(
            status=status,
            outcomes=outcomes,
            processedAt=now.isoformat(),
            waitingFor=waiting_for,
            waitingForCharge=waiting_for_charge,
        )
        self._events.replace(doc, etag=None)

    def held_for(self, provider: str, *, posting_id: str, charge_id: str | None) -> list[str]:
        """Ids of held events waiting for this posting set (or for a payment of this charge)."""
        waiting = self._events.query({"status": "held", "waitingFor": posting_id}, partition=provider)
        if charge_id:
            waiting += self._events.query({"status": "held", "waitingForCharge": charge_id}, partition=provider)
        return sorted({doc["id"] for doc in waiting})

    def with_status(self, status: str, provider: str | None = None) -> list[dict[str, Any]]:
        return self._events.query({"kind": "event", "status": status}, partition=provider)
