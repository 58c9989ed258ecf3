"""Personalised invoice and statement texts: create, read, change and delete blocks (changes
name the ETag they read), and preview what one account would get."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Response

from shared.api.deps import IfMatch, PlatformDep
from shared.api.statement_routes import statement_service
from shared.invoicing.statement_service import AccountNotFound
from shared.invoicing.statements import StatementError
from shared.invoicing.text_block_store import TextBlockExists, TextBlockNotFound, TextBlockStore
from shared.invoicing.text_blocks import PLACEMENTS, TextBlock, TextBlockError, block_from_request
from shared.platform.documents import ConcurrencyConflict

router = APIRouter(prefix="/v1/text-blocks", tags=["text blocks"])

FIELDS = {"blockId", "placement", "texts", "conditions", "priority", "activeFrom", "activeTo"}
EXAMPLE = {
    "blockId": "overdue-reminder",
    "placement": "invoice-top",
    "texts": {"en-AU": "{first_name}, {overdue_amount} is overdue: please pay it now."},
    "conditions": {"balanceStates": ["overdue"], "segments": ["residential"]},
    "priority": 10,
    "activeFrom": "2026-11-01",
}
BlockBody = Annotated[dict[str, Any], Body(examples=[EXAMPLE])]


def _invalid(field: str, message: str) -> HTTPException:
    return HTTPException(
        422, {"error": "validation_failed", "message": message, "errors": [{"field": field, "message": message}]}
    )


def _not_found(block_id: str) -> HTTPException:
    return HTTPException(404, {"error": "not_found", "message": f"no text block {block_id}"})


def _checked(block_id: Any, body: dict[str, Any]) -> TextBlock:
    unknown = sorted(set(body) - FIELDS - {"variable"})  # "variable" is derived: echoed back harmlessly
    if unknown:
        raise _invalid(unknown[0], "unknown field")
    try:
        return block_from_request(block_id, body)
    except TextBlockError as error:
        raise _invalid(error.field, error.message) from None


def _public(block: TextBlock) -> dict[str, Any]:
    return {k: v for k, v in block.to_document().items() if k not in ("id", "kind")}


@router.post("", status_code=201, summary="Add a text block (placeholders are checked here)")
def create_block(body: BlockBody, response: Response, platform: PlatformDep) -> dict[str, Any]:
    block = _checked(body.get("blockId"), body)
    try:
        response.headers["ETag"] = TextBlockStore(platform.documents).create(block)
    except TextBlockExists as error:
        raise HTTPException(409, {"error": "already_exists", "message": str(error)}) from None
    return _public(block)


@router.get("", summary="Every text block, by id")
def list_blocks(platform: PlatformDep, placement: str | None = None) -> list[dict[str, Any]]:
    blocks = TextBlockStore(platform.documents).all()
    return [_public(b) for b in blocks if placement is None or b.placement == placement]


@router.get("/preview", summary="The texts an account would get at a placement, on a day (default: today)")
def preview(
    platform: PlatformDep,
    account_id: Annotated[str, Query(alias="accountId", max_length=60)],
    placement: Annotated[str, Query()],
    on: Annotated[date | None, Query(description="the account's local date")] = None,
) -> dict[str, Any]:
    if placement not in PLACEMENTS:
        raise _invalid("placement", f"one of {', '.join(PLACEMENTS)}")
    service = statement_service(platform)
    try:
        facts = service.account(account_id)
        texts = service.texts_for(account_id, placement, on=on)
    except AccountNotFound as missing:
        raise HTTPException(404, {"error": "not_found", "message": str(missing)}) from None
    except StatementError as error:
        raise HTTPException(409, {"error": "preview_not_possible", "message": str(error)}) from None
    return {
        "accountId": account_id,
        "placement": placement,
        "locale": facts.locale,
        "texts": [{"blockId": t.block_id, "priority": t.priority, "text": t.text} for t in texts],
    }


@router.get("/{block_id}", summary="One text block, with its ETag for a later change")
def get_block(block_id: str, response: Response, platform: PlatformDep) -> dict[str, Any]:
    try:
        block, etag = TextBlockStore(platform.documents).get(block_id)
    except TextBlockNotFound:
        raise _not_found(block_id) from None
    response.headers["ETag"] = etag
    return _public(block)


@router.put("/{block_id}", summary="Replace a text block (If-Match: the ETag you read)")
def replace_block(
    block_id: str, body: BlockBody, response: Response, platform: PlatformDep, if_match: IfMatch
) -> dict[str, Any]:
    if body.get("blockId", block_id) != block_id:
        raise _invalid("blockId", "the id is the one in the path; it cannot change")
    block = _checked(block_id, body)
    try:
        response.headers["ETag"] = TextBlockStore(platform.documents).replace(block, etag=if_match.strip('"'))
    except TextBlockNotFound:
        raise _not_found(block_id) from None
    except ConcurrencyConflict:
        raise HTTPException(
            412, {"error": "etag_mismatch", "message": "the text block changed since you read it: GET it again"}
        ) from None
    return _public(block)


@router.delete("/{block_id}", status_code=204, summary="Delete a text block (If-Match: the ETag you read)")
def delete_block(block_id: str, platform: PlatformDep, if_match: IfMatch) -> Response:
    try:
        TextBlockStore(platform.documents).delete(block_id, etag=if_match.strip('"'))
    except TextBlockNotFound:
        raise _not_found(block_id) from None
    except ConcurrencyConflict:
        raise HTTPException(
            412, {"error": "etag_mismatch", "message": "the text block changed since you read it: GET it again"}
        ) from None
    return Response(status_code=204)
