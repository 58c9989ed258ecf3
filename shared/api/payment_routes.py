"""The generic payment gateway's webhook: verify, record once, answer fast, apply asynchronously."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import ValidationError

from shared.api.deps import PlatformDep
from shared.observability import log_event
from shared.payments.facts import EventRejected
from shared.payments.gateway import PaymentEvent
from shared.payments.service import PaymentService
from shared.payments.signature import InvalidSignature, verify

router = APIRouter(prefix="/v1/webhooks", tags=["payments"])
log = logging.getLogger(__name__)

SIGNATURE_HEADER = "GridLedger-Signature"  # the default; see Settings.payment_webhook_signature_header


@router.post(
    "/payments",
    summary="Payment gateway webhook (HMAC signed: t=<unix>,v1=<hex> over '<t>.<raw body>' in the configured header)",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def payment_webhook(request: Request, platform: PlatformDep) -> dict[str, Any]:
    raw = await request.body()
    service = PaymentService(platform.documents, platform.bus)
    now = platform.clock()
    settings = platform.settings
    # The header name and HMAC are the utility's configuration, matching its gateway.
    header = settings.payment_webhook_signature_header
    try:
        verify(
            raw,
            request.headers.get(header),
            secrets=settings.webhook_secrets,
            now=now,
            tolerance_seconds=settings.webhook_tolerance_seconds,
            algorithm=settings.payment_webhook_algorithm,
        )
    except InvalidSignature as exc:
        # Kept for inspection (a rotation gone wrong looks like this), never applied.
        service.refuse(raw=raw, code="invalid_signature", reason=exc.reason, now=now)
        log_event(log, "webhook refused", logging.WARNING, reason=exc.reason)
        raise HTTPException(
            401, {"error": "invalid_signature", "message": exc.reason, "errors": [{"field": header}]}
        ) from None
    try:
        event = PaymentEvent.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]} for e in exc.errors()]
        service.refuse(raw=raw, code="validation_failed", reason="malformed event", now=now)
        raise HTTPException(
            422,
            {"error": "validation_failed", "message": "the event is not valid; nothing was applied", "errors": errors},
        ) from None
    try:
        service.check(event)
    except EventRejected as exc:
        service.refuse(raw=raw, code=exc.code, reason=exc.message, now=now, event_id=event.id)
        raise HTTPException(
            422, {"error": exc.code, "message": exc.message, "errors": [{"field": exc.field, "message": exc.message}]}
        ) from None
    received = service.receive(event, raw=raw, now=now)
    return {"received": True, "eventId": received.event_id, "duplicate": received.duplicate}
