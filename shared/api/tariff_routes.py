"""Tariffs for tariff analysts: create, read, add versions, and bulk-load a file of versions.

Bodies are tariff version documents (shared/rating/TARIFF_FORMAT.md): rates as decimal
strings, unknown fields refused, every error naming its field. The tariff's ETag (from
GET) guards adding a version: If-Match is required (428 without it, 412 when stale).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from shared.api.deps import IfMatch, PlatformDep
from shared.rating.tariff import Tariff, TariffError
from shared.rating.tariff_store import (
    StaleTariff,
    StoredTariff,
    TariffBusy,
    TariffExists,
    TariffNotFound,
    TariffStore,
    apply_bulk,
    plan_bulk,
)

router = APIRouter(prefix="/v1/tariffs", tags=["tariffs"])

TariffBody = Annotated[dict[str, Any], Body(description="A tariff version document (TARIFF_FORMAT.md)")]


def _invalid(error: TariffError, status: int = 422) -> HTTPException:
    return HTTPException(
        status,
        {
            "error": "validation_failed",
            "message": str(error),
            "errors": [{"field": error.field, "message": error.problem}],
        },
    )


def _not_found(error: TariffNotFound) -> HTTPException:
    return HTTPException(404, {"error": "not_found", "message": str(error)})


def _stale(error: StaleTariff) -> HTTPException:
    return HTTPException(412, {"error": "etag_mismatch", "message": str(error)})


def _answer(stored: StoredTariff, status: int, **extra: Any) -> JSONResponse:
    return JSONResponse({**stored.to_json(), **extra}, status, headers={"ETag": f'"{stored.etag}"'})


def _parse(body: dict[str, Any]) -> Tariff:
    try:
        return Tariff.from_document(body)
    except TariffError as error:
        raise _invalid(error) from None


@router.post("", status_code=201, summary="Create a tariff with its first version")
def create_tariff(body: TariffBody, platform: PlatformDep) -> JSONResponse:
    tariff = _parse(body)
    try:
        stored = TariffStore(platform.documents).create(tariff, as_of=platform.clock())
    except TariffError as error:
        raise _invalid(error) from None
    except TariffExists as error:
        raise HTTPException(409, {"error": "already_exists", "message": str(error)}) from None
    return _answer(stored, 201)


@router.post(
    "/bulk",
    summary="Load many tariff versions: a JSON array of version documents (or one); ?dry_run=true shows the changes",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}},
)
async def bulk_load(
    request: Request, platform: PlatformDep, dry_run: Annotated[bool, Query(alias="dry_run")] = False
) -> JSONResponse:
    try:
        loaded = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        message = f"not JSON: {error}"
        raise HTTPException(
            400, {"error": "bad_file", "message": message, "errors": [{"index": None, "field": "", "message": message}]}
        ) from None
    items = loaded if isinstance(loaded, list) else [loaded]
    store, as_of = TariffStore(platform.documents), platform.clock()
    plan = plan_bulk(store, items, as_of=as_of)
    if dry_run:
        return JSONResponse({"dryRun": True, **plan.to_json()}, 200)
    if not plan.applicable:
        # All or nothing: one refused item and none is stored.
        return JSONResponse({"dryRun": False, "applied": False, **plan.to_json()}, 422)
    try:
        changed = apply_bulk(store, plan, as_of=as_of)
    except StaleTariff as error:
        raise _stale(error) from None
    except TariffExists as error:
        raise HTTPException(409, {"error": "already_exists", "message": str(error)}) from None
    return JSONResponse({"dryRun": False, "applied": True, "changedTariffs": changed, **plan.to_json()}, 200)


@router.get("/{tariff_id}", summary="A tariff with all its versions, and its ETag for adding a version")
def get_tariff(tariff_id: str, platform: PlatformDep) -> JSONResponse:
    try:
        return _answer(TariffStore(platform.documents).get(tariff_id), 200)
    except TariffNotFound as error:
        raise _not_found(error) from None


@router.post("/{tariff_id}/versions", summary="Add a version (If-Match: the tariff's ETag)")
def add_version(tariff_id: str, body: TariffBody, platform: PlatformDep, if_match: IfMatch) -> JSONResponse:
    tariff = _parse({"id": tariff_id, **body})
    if tariff.id != tariff_id:
        raise _invalid(TariffError("id", f"{tariff.id!r} is not the tariff in the path, {tariff_id!r}"))
    try:
        stored, outcome = TariffStore(platform.documents).add_version(tariff, as_of=platform.clock(), if_match=if_match)
    except TariffNotFound as error:
        raise _not_found(error) from None
    except StaleTariff as error:
        raise _stale(error) from None
    except TariffBusy as error:
        raise HTTPException(409, {"error": "busy", "message": str(error)}) from None
    except TariffError as error:
        raise _invalid(error, 409) from None
    return _answer(stored, 200 if outcome == "unchanged" else 201, outcome=outcome)


@router.get("/{tariff_id}/versions/{version}", summary="One version of a tariff")
def get_version(tariff_id: str, version: str, response: Response, platform: PlatformDep) -> dict[str, Any]:
    try:
        stored = TariffStore(platform.documents).get(tariff_id)
        found = stored.version(version)
    except TariffNotFound as error:
        raise _not_found(error) from None
    response.headers["ETag"] = f'"{stored.etag}"'
    return found.to_document()
