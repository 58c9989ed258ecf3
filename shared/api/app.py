"""The FastAPI application: middleware, error shapes and routers.

Errors are machine-readable and name what is wrong: ``{"error": code, "message": ...,
"errors": [{"field": "items.0.value", "message": ...}]}``. No route holds business
logic; each calls a service in its capability package.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.api import (
    bank_routes,
    billing_routes,
    call_centre_routes,
    catalog_routes,
    collections_routes,
    consumption_routes,
    credit_note_routes,
    customer_routes,
    payment_routes,
    rating_routes,
    reading_routes,
    reconciliation_routes,
    record_export_routes,
    service_request_routes,
    statement_routes,
    stock_routes,
    stripe_routes,
    tariff_routes,
    text_block_routes,
)
from shared.api.limits import BodySizeLimit
from shared.observability import CORRELATION_HEADER, correlation, log_event
from shared.platform.blobs import BlobNotFound, BlobStorageUnavailable, InvalidBlobName
from shared.platform.documents import DocumentNotFound, StorageUnavailable

log = logging.getLogger(__name__)


def error_body(code: str, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return body


def _field_path(loc: tuple[Any, ...]) -> str:
    # ("body", "items", 0, "value") -> "items.0.value": the client's own names, not ours.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _field_error(error: dict[str, Any]) -> dict[str, Any]:
    if error["type"] == "json_invalid":
        # FastAPI puts the character offset where a field name would be: name the body instead.
        where = error["loc"][-1] if len(error["loc"]) > 1 else "?"
        return {"field": "body", "message": f"malformed JSON at character {where}", "type": "json_invalid"}
    return {"field": _field_path(tuple(error["loc"])), "message": error["msg"], "type": error["type"]}


def _configured_limit() -> int:
    from shared.runtime import get_platform

    return get_platform().settings.max_request_bytes


def create_app(*, max_request_bytes: int | None = None) -> FastAPI:
    app = FastAPI(
        title="GridLedger API",
        version="0.1.0",
        description="Meter readings in, invoices out, payments applied: the utility billing platform's API.",
    )

    @app.middleware("http")
    async def correlate(request: Request, call_next: Any) -> Any:
        with correlation(request.headers.get(CORRELATION_HEADER)) as cid:
            response = await call_next(request)
            response.headers[CORRELATION_HEADER] = cid
            return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_field_error(e) for e in exc.errors()]
        return JSONResponse(
            error_body("validation_failed", "the request is not valid; nothing was stored", errors), 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict):
            return JSONResponse(exc.detail, exc.status_code, headers=exc.headers)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)

    @app.exception_handler(DocumentNotFound)
    @app.exception_handler(BlobNotFound)
    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body("not_found", "no such resource"), 404)

    @app.exception_handler(InvalidBlobName)
    async def bad_name(_: Request, exc: InvalidBlobName) -> JSONResponse:
        return JSONResponse(
            error_body("validation_failed", str(exc), [{"field": "fileName", "message": str(exc)}]), 422
        )

    @app.exception_handler(StorageUnavailable)
    @app.exception_handler(BlobStorageUnavailable)
    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        log_event(log, "storage unavailable", logging.ERROR, error=str(exc))
        return JSONResponse(
            error_body("storage_unavailable", "storage is unavailable; nothing was stored, retry later"),
            503,
            headers={"Retry-After": "30"},
        )

    @app.get("/health", tags=["operations"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(reading_routes.router)
    app.include_router(billing_routes.router)
    app.include_router(payment_routes.router)
    app.include_router(stock_routes.router)
    app.include_router(catalog_routes.router)
    # Before the records' routes: /v1/customers/export is not the customer 'export'.
    app.include_router(record_export_routes.router)
    app.include_router(customer_routes.router)
    app.include_router(service_request_routes.router)
    app.include_router(call_centre_routes.router)
    app.include_router(collections_routes.router)
    app.include_router(reconciliation_routes.router)
    app.include_router(tariff_routes.router)
    app.include_router(bank_routes.router)
    app.include_router(credit_note_routes.router)
    app.include_router(statement_routes.router)
    app.include_router(text_block_routes.router)
    app.include_router(rating_routes.router)
    app.include_router(stripe_routes.router)
    app.include_router(consumption_routes.router)
    app.add_middleware(BodySizeLimit, max_bytes=max_request_bytes or _configured_limit)
    return app
