"""The Stripe-compatible webhook, at the path gateways are configured with: ``POST /webhooks/stripe``.

No business logic here: ``shared.payments.stripe_webhook`` verifies, judges, records and
queues; this maps its refusals onto HTTP. Stripe treats any 2xx as delivered and retries
anything else for days, so only a request we will never accept gets a 4xx, and a missing
secret (our mistake, not the sender's) is a 503 it will retry.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from shared.api.deps import PlatformDep
from shared.payments.facts import EventRejected
from shared.payments.signature import InvalidSignature
from shared.payments.stripe_webhook import StripeNotConfigured, StripeWebhook

router = APIRouter(tags=["payments"])

SIGNATURE_HEADER = "Stripe-Signature"

# A body that is not a Stripe event at all is a 400; a known event with a field we cannot
# accept (a bad amount, a foreign currency) is a 422 naming the field.
_STATUS = {"malformed_event": 400}


@router.post(
    "/webhooks/stripe",
    summary="Stripe webhook (Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>)",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def stripe_webhook(
    request: Request,
    platform: PlatformDep,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> dict[str, Any]:
    raw = await request.body()
    settings = platform.settings
    webhook = StripeWebhook(
        platform.documents,
        platform.bus,
        secrets=settings.stripe_webhook_secrets,
        tolerance_seconds=settings.webhook_tolerance_seconds,
    )
    try:
        # The store and bus calls block: run them off the event loop so deliveries overlap.
        receipt = await run_in_threadpool(webhook.receive, raw, signature, now=platform.clock())
    except StripeNotConfigured as exc:
        raise HTTPException(
            503, {"error": "not_configured", "message": str(exc)}, headers={"Retry-After": "300"}
        ) from None
    except InvalidSignature as exc:
        raise HTTPException(
            401,
            {
                "error": "invalid_signature",
                "message": exc.reason,
                "errors": [{"field": SIGNATURE_HEADER, "message": exc.reason}],
            },
        ) from None
    except EventRejected as exc:
        raise HTTPException(
            _STATUS.get(exc.code, 422),
            {
                "error": exc.code,
                "message": f"{exc.message}; nothing was applied",
                "errors": [{"field": exc.field, "message": exc.message}],
            },
        ) from None
    return {
        "received": True,
        "eventId": receipt.event_id,
        "type": receipt.event_type,
        "duplicate": receipt.duplicate,
        "status": receipt.status,
    }
