"""Receiving a Stripe webhook: verify, judge, record once, queue; the ledger work runs on the bus.

In this order, and nothing before the signature:
1. the ``Stripe-Signature`` header is verified over the raw body (HMAC-SHA256 of
   ``t.body``, constant-time, any configured secret, any ``v1``; the timestamp within the
   tolerance in both directions: Stripe's own library accepts a future one, we do not);
2. the body is read; a repeat of an event already accepted is answered from its record
   (judged once, stored once); a type we do not handle is kept as ``ignored`` and answered
   2xx (Stripe would otherwise retry it for days);
3. what the event means is judged: a malformed object, an amount that does not fit, a
   currency the account is not billed in are refused with a 4xx and kept for an operator;
4. the event is stored under its own id (``create``: the unique id decides which of many
   simultaneous deliveries is first) and queued for the ``payment-received`` handler.

A repeat of an event still pending is queued again: a crash between storing and queuing
must not strand it. The bus drops the repeated message by id, and the handler adds nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from shared.observability import log_event
from shared.payments.facts import EventRejected, Fact
from shared.payments.inbox import Recorded, WebhookInbox
from shared.payments.ledger_service import PaymentLedger
from shared.payments.signature import InvalidSignature, verify
from shared.payments.stripe_events import PROVIDER, StripeEvent, facts_of, is_handled, parse_event
from shared.platform.documents import DocumentStore
from shared.platform.messaging import MessageSender
from shared.resources import QUEUE_PAYMENT_RECEIVED

log = logging.getLogger(__name__)

PENDING = frozenset({"received", "held"})


class StripeNotConfigured(RuntimeError):
    """No signing secret is set, so no request can be verified (STRIPE_WEBHOOK_SECRET)."""


@dataclass(frozen=True)
class StripeReceipt:
    event_id: str
    event_type: str
    duplicate: bool
    status: str  # "queued" | "ignored" | what an earlier delivery's record says


class StripeWebhook:
    def __init__(
        self, documents: DocumentStore, bus: MessageSender, *, secrets: list[str], tolerance_seconds: int
    ) -> None:
        self._inbox = WebhookInbox(documents)
        self._ledger = PaymentLedger(documents, bus)
        self._bus = bus
        self._secrets = secrets
        self._tolerance = tolerance_seconds

    def receive(self, raw: bytes, signature: str | None, *, now: datetime) -> StripeReceipt:
        """Raise StripeNotConfigured, InvalidSignature or EventRejected; each refusal is kept."""
        if not self._secrets:
            raise StripeNotConfigured("STRIPE_WEBHOOK_SECRET is not set: no Stripe webhook can be verified")
        try:
            verify(raw, signature, secrets=self._secrets, now=now, tolerance_seconds=self._tolerance)
        except InvalidSignature as exc:
            # Kept for inspection (a secret rotated on one side only looks like this), never applied.
            self._inbox.refuse(provider=PROVIDER, raw=raw, code="invalid_signature", reason=exc.reason, now=now)
            log_event(log, "stripe webhook refused", logging.WARNING, reason=exc.reason)
            raise
        event: StripeEvent | None = None
        try:
            event = parse_event(raw)
            earlier = self._inbox.find(PROVIDER, event.id)
            if earlier is not None and earlier.get("payload") == raw.decode("utf-8"):
                # A repeat of a verified event we hold already: it was judged the first time.
                return self._repeat(event, Recorded(event.id, duplicate=True, status=str(earlier["status"])))
            if not is_handled(event.type):
                return self._ignore(event, raw, now)
            for fact in facts_of(event):
                self._check(fact)
        except EventRejected as exc:
            event_id = event.id if event is not None else None
            self._inbox.refuse(
                provider=PROVIDER, raw=raw, code=exc.code, reason=exc.message, now=now, event_id=event_id
            )
            log_event(log, "stripe event refused", logging.WARNING, eventId=event_id, code=exc.code, field=exc.field)
            raise
        recorded = self._inbox.record(provider=PROVIDER, event_id=event.id, event_type=event.type, raw=raw, now=now)
        return self._repeat(event, recorded) if recorded.duplicate else self._queue(event, recorded)

    def _queue(self, event: StripeEvent, recorded: Recorded) -> StripeReceipt:
        self._bus.send(
            QUEUE_PAYMENT_RECEIVED, {"eventId": event.id, "provider": PROVIDER}, message_id=f"{PROVIDER}:{event.id}"
        )
        return StripeReceipt(event.id, event.type, recorded.duplicate, "queued")

    def _repeat(self, event: StripeEvent, recorded: Recorded) -> StripeReceipt:
        if recorded.status in PENDING:
            return self._queue(event, recorded)  # maybe never queued: a crash between storing and sending
        return StripeReceipt(event.id, event.type, True, recorded.status)

    def _check(self, fact: Fact) -> None:
        try:
            self._ledger.check(fact)
        except EventRejected as exc:  # the ledger names its own field; the gateway's is inside data.object
            raise EventRejected(exc.code, exc.message, f"data.object.{exc.field}") from None

    def _ignore(self, event: StripeEvent, raw: bytes, now: datetime) -> StripeReceipt:
        recorded = self._inbox.record(
            provider=PROVIDER, event_id=event.id, event_type=event.type, raw=raw, now=now, status="ignored"
        )
        log_event(log, "stripe event type not handled: kept, ignored", eventId=event.id, type=event.type)
        return StripeReceipt(event.id, event.type, recorded.duplicate, "ignored")
