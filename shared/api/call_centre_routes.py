"""The call centre's webhook: its ticketing system opens service requests by customer id.

Signed like the payment gateway (``t=<unix>,v1=<hex HMAC-SHA256>`` over ``"<t>.<raw body>"``)
with its own secret, verified over the raw body before anything is parsed. The ticket's own
id (``externalRef``) is required and makes a redelivered webhook open nothing new.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import ConfigDict, Field, ValidationError

from shared.api.deps import PlatformDep
from shared.api.service_request_routes import RequestIn, public
from shared.observability import log_event
from shared.payments.signature import InvalidSignature, verify
from shared.service_requests.request import LINK_KINDS, RequestError
from shared.service_requests.service import ServiceRequests, UnknownCustomer

router = APIRouter(prefix="/v1/webhooks", tags=["service requests"])
log = logging.getLogger(__name__)

SIGNATURE_HEADER = "GridLedger-Signature"
CHANNEL = "call-centre"


class TicketIn(RequestIn):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    customer_id: str = Field(alias="customerId", min_length=1, max_length=40)
    external_ref: str = Field(alias="externalRef", min_length=1, max_length=100)  # required here
    agent: str = Field(default="call-centre", min_length=1, max_length=100)


def _refuse(status: int, code: str, message: str, field: str) -> HTTPException:
    return HTTPException(status, {"error": code, "message": message, "errors": [{"field": field, "message": message}]})


@router.post(
    "/call-centre/service-requests",
    status_code=201,
    summary="Call-centre ticket webhook: opens a service request once per ticket (HMAC signed)",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def call_centre_ticket(request: Request, response: Response, platform: PlatformDep) -> dict[str, Any]:
    raw = await request.body()
    settings = platform.settings
    if not settings.call_centre_secrets:
        raise _refuse(503, "not_configured", "GRIDLEDGER_CALL_CENTRE_WEBHOOK_SECRETS is not set", SIGNATURE_HEADER)
    try:
        verify(
            raw,
            request.headers.get(SIGNATURE_HEADER),
            secrets=settings.call_centre_secrets,
            now=platform.clock(),
            tolerance_seconds=settings.webhook_tolerance_seconds,
        )
    except InvalidSignature as exc:
        log_event(log, "call-centre webhook refused", logging.WARNING, reason=exc.reason)
        raise _refuse(401, "invalid_signature", exc.reason, SIGNATURE_HEADER) from None
    try:
        ticket = TicketIn.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]} for e in exc.errors()]
        message = "the ticket is not valid; nothing was opened"
        raise HTTPException(422, {"error": "validation_failed", "message": message, "errors": errors}) from None
    fields = ticket.model_dump(by_alias=True, mode="json", exclude={"customer_id", "agent"})
    fields["links"] = {k: v for k, v in fields["links"].items() if v and k in LINK_KINDS}
    service = ServiceRequests(platform.documents, clock=platform.clock)
    try:
        opened, new = service.open(ticket.customer_id, fields, by=f"{CHANNEL}:{ticket.agent}", channel=CHANNEL)
    except UnknownCustomer:
        raise _refuse(404, "not_found", f"no customer {ticket.customer_id}", "customerId") from None
    except RequestError as error:
        raise _refuse(422, "validation_failed", str(error), error.field) from None
    if not new:
        response.status_code = 200  # the same ticket again: the request it opened before
    return public(opened, now=platform.clock())
