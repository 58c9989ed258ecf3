"""Readings in: mobile-app batches and meter-data file uploads."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from shared.api.deps import IdempotencyKey, PlatformDep
from shared.api.idempotency import StoredResponse, remember, replay, request_hash
from shared.platform.documents import DocumentNotFound
from shared.readings.inbox import queue_meter_file
from shared.readings.intake import accept_register_batch
from shared.resources import IDEMPOTENCY, IMPORTS

router = APIRouter(prefix="/v1/readings", tags=["readings"])

HARD_MAX_BATCH_ITEMS = 10_000  # the setting GRIDLEDGER_MAX_BATCH_ITEMS may lower it


class RegisterReadBatch(BaseModel):
    """A field app's upload: each item is checked on its own and answered on its own."""

    model_config = ConfigDict(extra="forbid")
    items: list[dict[str, Any]] = Field(min_length=1, max_length=HARD_MAX_BATCH_ITEMS)


@router.post("/register-reads", summary="Upload a batch of register reads (mobile apps)")
async def post_register_reads(
    request: Request, batch: RegisterReadBatch, platform: PlatformDep, key: IdempotencyKey
) -> JSONResponse:
    if len(batch.items) > platform.settings.max_batch_items:
        raise HTTPException(
            413,
            {
                "error": "batch_too_large",
                "message": f"at most {platform.settings.max_batch_items} items per batch; nothing was stored",
                "errors": [{"field": "items", "message": f"{len(batch.items)} items"}],
            },
        )
    body_hash = request_hash(await request.body())
    records = platform.documents.container(IDEMPOTENCY.name)
    scope = "register-reads"
    earlier = replay(records, scope=scope, key=key, body_hash=body_hash)
    if earlier is not None:
        return JSONResponse(earlier.body, earlier.status_code, headers={"Idempotent-Replayed": "true"})
    results = accept_register_batch(platform.documents, batch.items, now=platform.clock())
    body = {
        "accepted": sum(r.status == "accepted" for r in results),
        "rejected": sum(r.status == "rejected" for r in results),
        "items": [{"index": r.index, "status": r.status, "errors": r.errors} for r in results],
    }
    remember(
        records, scope=scope, key=key, body_hash=body_hash, response=StoredResponse(200, body), now=platform.clock()
    )
    return JSONResponse(body, 200)


_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._#\- ]{0,199}$")


@router.post(
    "/files",
    status_code=202,
    summary="Upload a meter-data file (NEM12, optionally zipped)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def post_meter_file(
    request: Request,
    platform: PlatformDep,
    file_name: Annotated[str, Query(alias="fileName", description="The file's own name, kept for the operator")],
) -> dict[str, Any]:
    if not _FILE_NAME.match(file_name):
        raise HTTPException(
            422,
            {
                "error": "validation_failed",
                "message": "fileName may hold letters, digits, spaces and . _ # - only",
                "errors": [{"field": "fileName", "message": "not a plain file name"}],
            },
        )
    data = await request.body()
    if not data:
        raise HTTPException(
            422,
            {
                "error": "validation_failed",
                "message": "the file is empty",
                "errors": [{"field": "body", "message": "empty"}],
            },
        )
    # The same bytes uploaded twice are the same import: a retried upload imports once.
    queued = queue_meter_file(
        platform.documents,
        platform.blobs,
        platform.bus,
        data=data,
        file_name=file_name,
        content_type=request.headers.get("content-type", "application/octet-stream"),
        channel="upload",
    )
    import_id, status = queued.import_id, queued.status
    return {"importId": import_id, "status": status, "statusUrl": f"/v1/readings/imports/{import_id}"}


@router.get("/imports/{import_id}", summary="An import's status, counts and errors")
def get_import(import_id: str, platform: PlatformDep) -> dict[str, Any]:
    record = platform.documents.container(IMPORTS.name).find(import_id, import_id)
    if record is None:
        raise DocumentNotFound(IMPORTS.name, import_id, import_id)
    return {k: v for k, v in record.items() if not k.startswith("_") and k != "id"}
