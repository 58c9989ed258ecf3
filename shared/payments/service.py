"""The generic gateway's webhook (``POST /v1/webhooks/payments``, header ``GridLedger-Signature``):
receiving an event, and applying it through the same ledger as every other gateway.

Receiving: the event id is inserted first, under the store's unique-id constraint, before
any effect (the check-then-act race is the classic webhook bug). A duplicate delivery of an
event still pending re-sends the bus message, because a crash between storing the event and
sending would otherwise lose the payment; the bus drops the duplicate send by message id
and the handler adds nothing anyway.

Applying: ``processing.EventProcessor``, the same for every gateway: the payment's posting
set is created under the payment's id, so a replay posts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.payments.facts import EventRejected
from shared.payments.gateway import PROVIDER, PaymentEvent, facts_from_payload
from shared.payments.inbox import WebhookInbox
from shared.payments.ledger_service import PaymentLedger
from shared.payments.processing import EventProcessor
from shared.platform.documents import DocumentStore
from shared.platform.messaging import MessageSender
from shared.resources import QUEUE_PAYMENT_RECEIVED


@dataclass(frozen=True)
class Received:
    event_id: str
    duplicate: bool


class PaymentService:
    def __init__(self, documents: DocumentStore, bus: MessageSender) -> None:
        self._inbox = WebhookInbox(documents)
        self._documents = documents
        self._bus = bus

    def check(self, event: PaymentEvent) -> None:
        """Raise EventRejected (naming the body's field) for a payment the ledger cannot take."""
        ledger = PaymentLedger(self._documents, self._bus)
        for fact in facts_from_payload(event.model_dump_json(by_alias=True)):
            try:
                ledger.check(fact)
            except EventRejected as exc:
                raise EventRejected(exc.code, exc.message, f"data.{exc.field}") from None

    def receive(self, event: PaymentEvent, *, raw: bytes, now: datetime) -> Received:
        recorded = self._inbox.record(provider=PROVIDER, event_id=event.id, event_type=event.type, raw=raw, now=now)
        if not recorded.duplicate or recorded.status in ("received", "held"):
            self._bus.send(QUEUE_PAYMENT_RECEIVED, {"eventId": event.id, "provider": PROVIDER}, message_id=event.id)
        return Received(event.id, recorded.duplicate)

    def refuse(self, *, raw: bytes, code: str, reason: str, now: datetime, event_id: str | None = None) -> None:
        """Keep a refused request for inspection, never to be applied."""
        self._inbox.refuse(provider=PROVIDER, raw=raw, code=code, reason=reason, now=now, event_id=event_id)

    def apply(self, *, event_id: str, now: datetime) -> str:
        """Apply a received payment through the ledger; returns the event's status."""
        return EventProcessor(self._documents, self._bus).process(provider=PROVIDER, event_id=event_id, now=now)
