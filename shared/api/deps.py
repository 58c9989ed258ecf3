"""FastAPI dependencies: the platform and the caller's idempotency key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException

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
