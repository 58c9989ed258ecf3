"""Answering a retried POST with the first answer.

HTTP triggers never retry; callers (a mobile app on a train, a gateway) do. The first
successful response is stored under (scope, key) with a hash of the request; a retry with
the same key and body gets that response back, a different body under the same key is
refused. The work itself is idempotent too, so a crash between doing the work and saving
the response only means the retry does the work again, storing nothing twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import HTTPException

from shared.platform.documents import Container, DocumentAlreadyExists


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]


def request_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _doc_id(key: str) -> str:
    # Keys are client text; a hash keeps ids within what every store accepts.
    return hashlib.sha256(key.encode()).hexdigest()


def replay(records: Container, *, scope: str, key: str, body_hash: str) -> StoredResponse | None:
    stored = records.find(_doc_id(key), scope)
    if stored is None:
        return None
    if stored["requestHash"] != body_hash:
        raise HTTPException(
            409,
            {
                "error": "idempotency_key_reused",
                "message": "this Idempotency-Key was used for a different request body",
                "errors": [{"field": "Idempotency-Key", "message": "reused with a different body"}],
            },
        )
    return StoredResponse(stored["statusCode"], stored["response"])


def remember(
    records: Container, *, scope: str, key: str, body_hash: str, response: StoredResponse, now: datetime
) -> None:
    try:
        records.create(
            {
                "id": _doc_id(key),
                "scope": scope,
                "requestHash": body_hash,
                "statusCode": response.status_code,
                "response": response.body,
                "createdAt": now.isoformat(),
            }
        )
    except DocumentAlreadyExists:
        pass  # a concurrent retry finished first with the same work: either answer is right
