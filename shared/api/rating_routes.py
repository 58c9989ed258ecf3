"""Bill preview for tariff analysts: rate interval usage against a tariff, storing nothing.

The same rules and the same JSON as ``python -m shared.cli rate`` (shared/rating/preview.py).
The request body is bounded by the API's body cap (``GRIDLEDGER_MAX_REQUEST_BYTES``, 5 MiB by
default: about a year of 5-minute usage rows), and the lists by the limits below.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NoReturn

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from shared.rating.preview import PreviewError, UsageRow, preview_bill, usage_rows_from_csv

router = APIRouter(tags=["rating"])

MAX_INTERVALS = 366 * 24 * 12  # a leap year of 5-minute intervals
_MAX_CSV_CHARS = MAX_INTERVALS * 64


class UsageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: str = Field(max_length=64, description="ISO 8601; local time in timeZone unless it carries an offset")
    kwh: str = Field(max_length=32, description='a decimal string, whole Wh: "0.512"')


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tariff: dict[str, Any] | list[dict[str, Any]] = Field(
        description="a GridLedger tariff document (or a list of versions of one tariff), or a URDB rate"
    )
    usage: list[UsageIn] | None = Field(default=None, max_length=MAX_INTERVALS, description="give usage or usageCsv")
    usage_csv: str | None = Field(
        default=None, alias="usageCsv", max_length=_MAX_CSV_CHARS, description="CSV text with the header start,kwh"
    )
    period_from: date = Field(alias="from", description="first local date (inclusive)")
    period_to: date = Field(alias="to", description="end local date (exclusive)")
    time_zone: str | None = Field(
        default=None, alias="timeZone", max_length=64, description="IANA zone; default the tariff's (required for URDB)"
    )


@router.post("/v1/rating/preview", summary="Preview a bill: rate interval usage against a tariff, storing nothing")
def preview(body: PreviewIn) -> dict[str, Any]:
    if (body.usage is None) == (body.usage_csv is None):
        _refuse("usage", "give exactly one of usage (a list of {start, kwh}) and usageCsv")
    try:
        if body.usage is not None:
            rows = [UsageRow(row.start, row.kwh, index) for index, row in enumerate(body.usage)]
        else:
            rows = usage_rows_from_csv(body.usage_csv or "")
        result = preview_bill(
            tariff=body.tariff,
            usage=rows,
            period_from=body.period_from,
            period_to=body.period_to,
            time_zone=body.time_zone,
        )
    except PreviewError as error:
        _refuse(_field(error, csv=body.usage is None), str(error))
    return result.to_json()


def _field(error: PreviewError, *, csv: bool) -> str:
    """The request's own name for what is wrong: ``tariff.components[1].rate``, ``usage.7.kwh``, ``usageCsv``."""
    if error.subject == "usage":
        if csv:
            return "usageCsv"
        return ".".join(str(part) for part in ("usage", error.line, error.field) if part not in (None, ""))
    if error.subject == "tariff" and error.field:
        return f"tariff{'' if error.field.startswith('[') else '.'}{error.field}"
    return error.subject


def _refuse(field: str, message: str) -> NoReturn:
    raise HTTPException(
        422,
        {
            "error": "validation_failed",
            "message": f"{message}; nothing was stored",
            "errors": [{"field": field, "message": message}],
        },
    )
