"""The ``payment-received`` handler's work: one stored webhook event into the ledger.

The event is read back from the inbox (what the endpoint stored is what is applied, so a
message body cannot smuggle anything in), translated into facts by its gateway's reader,
and each fact recorded. Running it again for the same event adds nothing.

Holding: when a fact must wait for another (a refund before its payment), the event is
marked ``held`` naming what it waits for, and then looked at once more. The predecessor's
handler posts first and looks for held events second; we mark first and look again
second. Whichever runs later sees the other, so a held event cannot be forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from pydantic import ValidationError

from shared.observability import log_event
from shared.payments import gateway, stripe_events
from shared.payments.facts import EventRejected, Fact
from shared.payments.inbox import WebhookInbox
from shared.payments.ledger_service import Outcome, PaymentLedger
from shared.platform.documents import DocumentStore
from shared.platform.messaging import MessageSender

log = logging.getLogger(__name__)

Reader = Callable[[bytes], list[Fact]]

READERS: Mapping[str, Reader] = {
    stripe_events.PROVIDER: stripe_events.facts_from_payload,
    gateway.PROVIDER: gateway.facts_from_payload,
}


# An event is marked applied or rejected only after all its effects, so a later delivery of
# it (a bus redelivery, a release) has nothing left to do.
FINISHED = frozenset({"ignored", "refused", "applied", "rejected"})


class UnknownProvider(ValueError):
    pass


class EventProcessor:
    def __init__(
        self, documents: DocumentStore, bus: MessageSender, *, readers: Mapping[str, Reader] = READERS
    ) -> None:
        self._inbox = WebhookInbox(documents)
        self._ledger = PaymentLedger(documents, bus)
        self._readers = readers

    @property
    def ledger(self) -> PaymentLedger:
        return self._ledger

    def process(self, *, provider: str, event_id: str, now: datetime) -> str:
        """Apply one received event; returns the status it ends in."""
        reader = self._readers.get(provider)
        if reader is None:
            raise UnknownProvider(f"no reader for payment provider {provider!r}; known: {sorted(self._readers)}")
        stored = self._inbox.get(provider, event_id)
        if stored.get("status") in FINISHED:
            return str(stored["status"])  # marked last, after every effect: nothing left to do
        try:
            facts = reader(str(stored["payload"]).encode("utf-8"))
        except (EventRejected, ValidationError) as exc:
            # It passed the endpoint's checks, so only a reader changed since: keep it, refuse it.
            reason = exc.message if isinstance(exc, EventRejected) else str(exc).splitlines()[0]
            self._inbox.mark(provider, event_id, status="rejected", outcomes=[f"rejected: {reason}"], now=now)
            return "rejected"

        outcomes = self._record(facts, event_id, now)
        held = [o for o in outcomes if o.status == "held"]
        if held:
            self._mark(provider, event_id, "held", outcomes, now, held[0])
            outcomes = self._record(facts, event_id, now)  # look again: see the module's note
            held = [o for o in outcomes if o.status == "held"]
            if held:
                log_event(log, "payment event held", eventId=event_id, waitingFor=held[0].waiting_for)
                return "held"
        status = "rejected" if any(o.status == "rejected" for o in outcomes) else "applied"
        self._mark(provider, event_id, status, outcomes, now)
        log_event(log, f"payment event {status}", eventId=event_id, outcomes=[o.describe() for o in outcomes])
        return status

    def _record(self, facts: list[Fact], event_id: str, now: datetime) -> list[Outcome]:
        return [self._ledger.record(fact, event_id=event_id, now=now) for fact in facts]

    def _mark(
        self,
        provider: str,
        event_id: str,
        status: str,
        outcomes: list[Outcome],
        now: datetime,
        held: Outcome | None = None,
    ) -> None:
        self._inbox.mark(
            provider,
            event_id,
            status=status,
            outcomes=[o.describe() for o in outcomes],
            now=now,
            waiting_for=held.waiting_for if held else None,
            waiting_for_charge=held.waiting_for_charge if held else None,
        )
