"""Payments that come without a gateway: bank statement uploads, cash and agent receipts,
and the queue of money no reference matched.

No business logic here: ``shared.payments.bank_statements``, ``manual_payments`` and
``unmatched`` do the work; this maps their answers and refusals onto HTTP.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from shared.api.deps import IdempotencyKey, IfMatch, PlatformDep, changed_by
from shared.api.idempotency import StoredResponse, remember, replay, request_hash
from shared.money import Money
from shared.payments import unmatched
from shared.payments.bank_statements import BankStatements
from shared.payments.bank_statements import public as public_statement
from shared.payments.ledger_service import PaymentLedger
from shared.payments.manual_payments import ManualPayment, ManualPayments, ManualRefused
from shared.platform.documents import ConcurrencyConflict
from shared.resources import IDEMPOTENCY

router = APIRouter(tags=["payments"])

_CODE = r"^[A-Za-z0-9][A-Za-z0-9_\-.]{0,39}$"
_FORMATS = {"text/csv": "csv", "application/xml": "camt053", "text/xml": "camt053"}


def _refusal(status: int, code: str, message: str, field: str) -> HTTPException:
    return HTTPException(status, {"error": code, "message": message, "errors": [{"field": field, "message": message}]})


# -- bank statements ------------------------------------------------------------------------


@router.post(
    "/v1/bank-statements",
    summary="Import a bank statement (CSV or camt.053): each credit posted once, each line answered",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/xml": {"schema": {"type": "string"}},
            },
        }
    },
)
async def post_bank_statement(
    request: Request,
    platform: PlatformDep,
    fmt: Annotated[
        Literal["auto", "csv", "camt053"] | None,
        Query(alias="format", description="Overrides the Content-Type; auto reads the content"),
    ] = None,
    account: Annotated[
        str | None, Query(description="Our bank account, for a CSV without an account column", max_length=40)
    ] = None,
    file_name: Annotated[str | None, Query(alias="fileName", max_length=200)] = None,
) -> JSONResponse:
    data = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    chosen = fmt or _FORMATS.get(content_type, "auto")
    service = BankStatements(platform.documents, platform.bus)
    report = await run_in_threadpool(
        service.import_file, data, fmt=chosen, account=account, file_name=file_name, now=platform.clock()
    )
    body = {**report.to_json(), "statusUrl": f"/v1/bank-statements/{report.statement_id}"}
    if report.status == "refused":
        error = report.error or {}
        body["errors"] = [error]
        body["error"] = "statement_refused"
        body["message"] = f"the statement was refused, nothing posted: {error.get('message')}"
        return JSONResponse(body, 422)
    return JSONResponse(body, 200)


@router.get("/v1/bank-statements/{statement_id}", summary="An imported statement: its lines' outcomes and counts")
def get_bank_statement(statement_id: str, platform: PlatformDep) -> dict[str, Any]:
    found = BankStatements(platform.documents, platform.bus).get(statement_id)
    if found is None:
        raise HTTPException(404, {"error": "not_found", "message": f"no bank statement {statement_id!r}"})
    return public_statement(found)


# -- cash and agents --------------------------------------------------------------------------


class ManualPaymentIn(BaseModel):
    """A receipt from a branch till or an agent. ``amount`` is a decimal string ("12.50")."""

    model_config = ConfigDict(extra="forbid")

    channel: Literal["cash", "agent"]
    branch: str = Field(pattern=_CODE, description="the branch that took (or receives) the money")
    agent_id: str | None = Field(None, alias="agentId", pattern=_CODE, description="required for channel agent")
    receipt_number: str = Field(alias="receiptNumber", pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-.]{0,59}$")
    amount: str = Field(pattern=r"^\d{1,9}(\.\d{1,2})?$", description="decimal string, e.g. '120.50'")
    currency: Literal["AUD", "PLN", "NOK", "EUR", "USD", "NZD"]
    payment_reference: str | None = Field(None, alias="paymentReference", min_length=2, max_length=40)
    invoice_number: str | None = Field(None, alias="invoiceNumber", min_length=1, max_length=40)
    payer_name: str | None = Field(None, alias="payerName", max_length=200)
    received_at: AwareDatetime = Field(alias="receivedAt")


@router.post("/v1/payments/manual", summary="Record a cash or agent payment (Idempotency-Key required)")
async def post_manual_payment(
    request: Request, payment: ManualPaymentIn, platform: PlatformDep, key: IdempotencyKey
) -> JSONResponse:
    amount = Decimal(payment.amount)
    if amount <= 0:
        raise _refusal(422, "validation_failed", "amount must be more than zero", "amount")
    body_hash = request_hash(await request.body())
    records = platform.documents.container(IDEMPOTENCY.name)
    scope = "manual-payments"
    earlier = replay(records, scope=scope, key=key, body_hash=body_hash)
    if earlier is not None:
        return JSONResponse(earlier.body, earlier.status_code, headers={"Idempotent-Replayed": "true"})
    entry = ManualPayment(
        channel=payment.channel,
        branch=payment.branch,
        agent_id=payment.agent_id,
        receipt_number=payment.receipt_number,
        amount=Money(amount, payment.currency),
        reference=payment.payment_reference,
        received_at=payment.received_at,
        invoice_number=payment.invoice_number,
        payer_name=payment.payer_name,
    )
    now = platform.clock()
    try:
        result = await run_in_threadpool(
            ManualPayments(platform.documents, platform.bus).record,
            entry,
            by=changed_by(request, default="branch-staff"),
            now=now,
        )
    except ManualRefused as refused:
        raise _refusal(refused.status, refused.code, refused.message, refused.field) from None
    status = 201 if result.new else 200
    remember(
        records, scope=scope, key=key, body_hash=body_hash, response=StoredResponse(status, result.to_json()), now=now
    )
    return JSONResponse(result.to_json(), status)


# -- the unmatched queue ------------------------------------------------------------------------


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str = Field(alias="accountId", min_length=1, max_length=100)
    invoice_number: str | None = Field(None, alias="invoiceNumber", min_length=1, max_length=40)


@router.get("/v1/unmatched-payments", summary="Money no reference matched, oldest first")
def list_unmatched(
    platform: PlatformDep,
    channel: Annotated[Literal["bank", "cash", "agent", "stripe", "gateway"] | None, Query()] = None,
    status: Annotated[Literal["open", "assigned", "all"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    chosen = None if status == "all" else status
    items = unmatched.UnmatchedQueue(platform.documents).list(channel=channel, status=chosen)
    page = items[offset : offset + limit]
    following = offset + limit if offset + limit < len(items) else None
    query = "&".join(f"{k}={v}" for k, v in (("channel", channel), ("status", status)) if v)  # the same filter
    return {
        "items": [unmatched.public(item) for item in page],
        "total": len(items),
        "offset": offset,
        "limit": limit,
        "next": None
        if following is None
        else f"/v1/unmatched-payments?{query + '&' if query else ''}offset={following}&limit={limit}",
    }


def _etag(doc: dict[str, Any]) -> str:
    return str(doc["_etag"])


@router.get("/v1/unmatched-payments/{item_id}", summary="One unmatched payment, with its ETag for assigning it")
def get_unmatched(item_id: str, response: Response, platform: PlatformDep) -> dict[str, Any]:
    try:
        item = unmatched.UnmatchedQueue(platform.documents).get(item_id)
    except unmatched.ItemNotFound as missing:
        raise HTTPException(404, {"error": "not_found", "message": str(missing)}) from None
    response.headers["ETag"] = _etag(item)
    return unmatched.public(item)


@router.post(
    "/v1/unmatched-payments/{item_id}/assign",
    summary="Move an unmatched payment from suspense to an account (If-Match: the ETag you read)",
)
def assign_unmatched(
    item_id: str, body: AssignIn, request: Request, response: Response, platform: PlatformDep, if_match: IfMatch
) -> dict[str, Any]:
    queue = unmatched.UnmatchedQueue(platform.documents)
    try:
        item = queue.get(item_id)
        assigned = queue.assign(
            item_id,
            etag=_matching_etag(if_match, item),
            account_id=body.account_id,
            invoice_number=body.invoice_number,
            ledger=PaymentLedger(platform.documents, platform.bus),
            by=changed_by(request),
            now=platform.clock(),
        )
    except unmatched.ItemNotFound as missing:
        raise HTTPException(404, {"error": "not_found", "message": str(missing)}) from None
    except ConcurrencyConflict:
        raise HTTPException(
            412,
            {
                "error": "etag_mismatch",
                "message": "the item changed since you read it: GET it again",
                "errors": [{"field": "If-Match", "message": "stale"}],
            },
        ) from None
    except unmatched.AssignRefused as refused:
        raise _refusal(refused.status, refused.code, refused.message, refused.field) from None
    response.headers["ETag"] = _etag(assigned.item)
    return {**unmatched.public(assigned.item), "postingId": assigned.posting_id, "newlyPosted": assigned.newly_posted}


def _matching_etag(if_match: str, item: dict[str, Any]) -> str:
    """The item's ETag when If-Match names it (quoted or not), else what was sent (stale)."""
    sent = if_match.strip()
    return _etag(item) if sent.strip('"') == _etag(item).strip('"') else sent
