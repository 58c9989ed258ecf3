"""Account statements: the figures as JSON, or the PDF the customer gets (kept, versioned, in
Blob storage)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response

from shared.api.deps import PlatformDep
from shared.invoicing.billing import Supplier
from shared.invoicing.invoice import Party
from shared.invoicing.statement_pdf import StatementRenderError
from shared.invoicing.statement_service import MAX_PERIOD_DAYS, AccountNotFound, StatementService
from shared.invoicing.statements import StatementError, statement_json

router = APIRouter(prefix="/v1/accounts", tags=["statements"])


def statement_service(platform: PlatformDep) -> StatementService:
    settings = platform.settings
    supplier = Supplier(settings.legal_entity, settings.legal_entity_abn)
    party = Party(supplier.name, supplier.address_lines, tax_id=supplier.abn)
    return StatementService(platform.documents, platform.blobs, supplier=party, clock=platform.clock)


def _invalid(field: str, message: str) -> HTTPException:
    return HTTPException(
        422, {"error": "validation_failed", "message": message, "errors": [{"field": field, "message": message}]}
    )


@router.get(
    "/{account_id}/statement",
    summary="The account's statement for [from, to] (local dates, both included): JSON or PDF",
    responses={200: {"content": {"application/pdf": {}}}},
)
def get_statement(
    account_id: str,
    platform: PlatformDep,
    start: Annotated[date, Query(alias="from", description="first day, the account's local date")],
    end: Annotated[date, Query(alias="to", description="last day, included")],
    format: Annotated[Literal["json", "pdf"], Query()] = "json",
) -> Any:
    if end < start:
        raise _invalid("to", f"{end} is before from {start}")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise _invalid("to", f"a statement covers at most {MAX_PERIOD_DAYS} days")
    service = statement_service(platform)
    try:
        if format == "json":
            statement, facts = service.statement(account_id, start, end)
            return {**statement_json(statement), "locale": facts.locale}
        stored, pdf = service.store(account_id, start, end)
    except AccountNotFound as missing:
        raise HTTPException(404, {"error": "not_found", "message": str(missing)}) from None
    except (StatementError, StatementRenderError) as error:
        # The stored records cannot make a statement (a malformed document, too many entries):
        # the message names the record; nothing was stored.
        raise HTTPException(409, {"error": "statement_not_possible", "message": str(error)}) from None
    filename = f"statement-{account_id}-{start.isoformat()}-{end.isoformat()}-v{stored.version}.pdf"
    headers = {
        "Content-Disposition": f'inline; filename="{filename}"',
        "ETag": f'"{stored.sha256}"',
        "X-Statement-Blob": stored.blob_name,
        "X-Statement-Version": str(stored.version),
    }
    return Response(pdf, media_type="application/pdf", headers=headers)
