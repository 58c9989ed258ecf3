"""FastAPI dependencies: the platform and the caller's idempotency key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from shared.bootstrap import Platform
from shared.runtime import get_platform

PlatformDep = Annotated[Platform, Depends(get_platform)]


def idempotency_key(
    key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", description="Required: a retried request with the same key is answered once"),
    ] = None,
) -> str:
    if not key or len(key) > 200 or not key.isprintable():
        raise HTTPException(
            400,
            {
                "error": "idempotency_key_required",
                "message": "send an Idempotency-Key header (1-200 printable characters) so a retry is stored once",
                "errors": [{"field": "Idempotency-Key", "message": "missing or malformed"}],
            },
        )
    return key


IdempotencyKey = Annotated[str, Depends(idempotency_key)]


# Who made a change: the signed-in user as App Service authentication passes it on, else
# the caller's own label (function keys identify no person).
PRINCIPAL_HEADER = "X-MS-CLIENT-PRINCIPAL-NAME"


def changed_by(request: Request, *, default: str = "api") -> str:
    return (request.headers.get(PRINCIPAL_HEADER) or default)[:200]


def if_match_required(
    value: Annotated[
        str | None, Header(alias="If-Match", description="The ETag you read: a stale one is a 412")
    ] = None,
) -> str:
    """Every update of a record names the version it read, so nobody overwrites a change
    they did not see: 428 without it."""
    if not value or not value.strip():
        raise HTTPException(
            428,
            {
                "error": "precondition_required",
                "message": "send If-Match with the ETag from GET, so you cannot overwrite a change you did not see",
                "errors": [{"field": "If-Match", "message": "missing"}],
            },
        )
    return value


IfMatch = Annotated[str, Depends(if_match_required)]
