"""Crediting an issued invoice in full, for billing operators.

``POST /v1/accounts/{accountId}/invoices/{number}/credit-notes`` with ``{"reason": ...}`` and an
``Idempotency-Key``. The credit note's own id comes from the invoice it credits, so however the
request is retried (same key, another key, a second operator) the invoice is credited once:
``201`` when this request issued the credit note, ``200`` with the same credit note when an
earlier request had; a retry with the same key and body gets the first answer back, and the
same key with another body is a ``409``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from shared.api.deps import IdempotencyKey, PlatformDep
from shared.api.idempotency import StoredResponse, remember, replay
from shared.invoicing.credit_notes import MAX_REASON_CHARS, CreditNotes, NotCreditable
from shared.platform.documents import DocumentNotFound
from shared.resources import IDEMPOTENCY, INVOICES

router = APIRouter(tags=["billing"])


class CreditNoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        min_length=1, max_length=MAX_REASON_CHARS, description="Why the invoice is credited; printed on the credit note"
    )


@router.post(
    "/v1/accounts/{account_id}/invoices/{number}/credit-notes",
    status_code=201,
    summary="Credit an issued invoice in full (one credit note per invoice, however often asked)",
)
def credit_invoice(
    account_id: str, number: str, body: CreditNoteRequest, platform: PlatformDep, key: IdempotencyKey
) -> JSONResponse:
    records = platform.documents.container(IDEMPOTENCY.name)
    scope = f"credit-notes:{account_id}"
    body_hash = hashlib.sha256(json.dumps({"number": number, **body.model_dump()}, sort_keys=True).encode()).hexdigest()
    earlier = replay(records, scope=scope, key=key, body_hash=body_hash)
    if earlier is not None:
        return JSONResponse(earlier.body, earlier.status_code, headers={"Idempotent-Replayed": "true"})
    credit_notes = CreditNotes(platform.documents, platform.bus)
    original = credit_notes.find_invoice(account_id, number=number)
    if original is None:
        # 404 whether the invoice is missing or another account's: no oracle for guessing.
        raise DocumentNotFound(INVOICES.name, number, account_id)
    try:
        outcome = credit_notes.credit(original, reason=body.reason, now=platform.clock())
    except NotCreditable as refused:
        raise HTTPException(
            422,
            {
                "error": "not_creditable",
                "message": f"{refused}; nothing was credited",
                "errors": [{"field": refused.field, "message": refused.message}],
            },
        ) from None
    note = outcome.credit_note
    answer: dict[str, Any] = {
        "creditNoteNumber": note.number,
        "kind": note.kind.value,
        "credits": {"number": original.number, "status": outcome.original.status.value},
        "reason": note.reason,
        "total": str(note.total.amount),
        "currency": note.currency,
        "creditNoteUrl": f"/v1/accounts/{account_id}/invoices/{note.number}",
        "pdfUrl": f"/v1/accounts/{account_id}/invoices/{note.number}/pdf",
    }
    status_code = 201 if outcome.created else 200
    remember(
        records,
        scope=scope,
        key=key,
        body_hash=body_hash,
        response=StoredResponse(status_code, answer),
        now=platform.clock(),
    )
    return JSONResponse(answer, status_code)
