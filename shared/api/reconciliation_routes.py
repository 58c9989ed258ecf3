"""Payments reconciliation over HTTP: the report for a period, and the gateway payout upload it
reconciles against. No business logic here: ``shared.payments.reconciliation_service`` and
``shared.payments.payouts`` do the work; this maps it onto HTTP."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from shared.api.deps import PlatformDep
from shared.payments.payouts import PayoutFileRejected
from shared.payments.reconciliation import Period
from shared.payments.reconciliation_service import Format, PayoutStore, ReconciliationService, render
from shared.platform.exports import attachment

router = APIRouter(tags=["payments"])

_NAME = r"^[A-Za-z0-9_\-.:]{1,80}$"  # channels such as "stripe", "bank:PL61109010140000071219812874", "cash:SYD"


def _invalid(field: str, message: str) -> HTTPException:
    return HTTPException(
        422,
        {
            "error": "validation_failed",
            "message": f"{message}; nothing was done",
            "errors": [{"field": field, "message": message}],
        },
    )


@router.get(
    "/v1/reconciliation",
    summary="Payments reconciliation for [from, to) in a time zone: by channel, branch and total, with differences",
    responses={
        200: {
            "content": {
                "application/json": {},
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        }
    },
)
def reconciliation_report(
    platform: PlatformDep,
    date_from: Annotated[date, Query(alias="from", description="first local day, YYYY-MM-DD")],
    date_to: Annotated[date, Query(alias="to", description="the day after the last, YYYY-MM-DD (exclusive)")],
    tz: Annotated[str, Query(description="IANA time zone the days are in", max_length=64)] = "UTC",
    branch: Annotated[str | None, Query(pattern=_NAME)] = None,
    channel: Annotated[str | None, Query(pattern=_NAME)] = None,
    fmt: Annotated[Format, Query(alias="format")] = "json",
) -> Response:
    try:
        period = Period(date_from, date_to, tz)
    except ValueError as exc:
        raise _invalid("tz" if "time zone" in str(exc) else "to", str(exc)) from None
    report = ReconciliationService(platform.documents).report(period, branch=branch or None, channel=channel or None)
    if fmt == "json":
        return JSONResponse(report.to_json())
    rendered = render(report, fmt)
    return Response(
        rendered.body, media_type=rendered.content_type, headers={"Content-Disposition": attachment(rendered.filename)}
    )


@router.post(
    "/v1/payouts/stripe",
    summary="Upload Stripe's itemized payout reconciliation report (CSV); each line stored once by balance transaction",
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def upload_stripe_payouts(
    request: Request,
    platform: PlatformDep,
    file_name: Annotated[str, Query(alias="fileName", pattern=r"^[A-Za-z0-9_\-. ]{1,120}$")] = "payouts.csv",
    timezone: Annotated[str, Query(description="the zone the report was run in (for non-_utc columns)")] = "UTC",
) -> JSONResponse:
    raw = await request.body()
    if not raw.strip():
        raise _invalid("body", "the body is empty: send the report's CSV as the request body")
    store = PayoutStore(platform.documents)
    try:
        result = await run_in_threadpool(
            store.import_stripe_csv, raw, file_name=file_name, time_zone=timezone, now=platform.clock()
        )
    except PayoutFileRejected as exc:
        errors: list[dict[str, Any]] = [e.to_json() for e in exc.errors]
        raise HTTPException(
            422,
            {"error": "file_rejected", "message": f"{file_name} cannot be read; nothing was stored", "errors": errors},
        ) from None
    # Lines already stored stay stored: a file whose every line is refused is a 422, any other 200.
    return JSONResponse(result.to_json(), 422 if result.status == "rejected" else 200)
