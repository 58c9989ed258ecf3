"""Webhook signatures, Stripe's scheme: ``t=<unix seconds>,v1=<hex HMAC-SHA256>``.

The MAC covers ``"<t>.<raw body>"``, so the body must be verified exactly as received,
before any JSON parsing. Several ``v1`` values may be present while a secret rotates,
and we accept any of our current secrets. A timestamp outside the tolerance is refused
in both directions: the official library accepts one from the future, we do not,
because a captured request replayed later must age out.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime


class InvalidSignature(Exception):
    """The request did not come from the gateway (or not recently). ``reason`` is safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sign(payload: bytes, *, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(payload: bytes, header: str | None, *, secrets: list[str], now: datetime, tolerance_seconds: int) -> int:
    """Return the signed timestamp, or raise InvalidSignature saying why."""
    if not header:
        raise InvalidSignature("missing signature header")
    timestamp: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise InvalidSignature("signature timestamp is not an integer") from None
        elif key == "v1":
            macs.append(value)
    if timestamp is None or not macs:
        raise InvalidSignature("signature header needs t= and at least one v1=")
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise InvalidSignature(f"signature timestamp outside the {tolerance_seconds} s tolerance")
    for secret in secrets:
        expected = sign(payload, secret=secret, timestamp=timestamp).split("v1=", 1)[1]
        if any(hmac.compare_digest(expected, mac) for mac in macs):
            return timestamp
    raise InvalidSignature("no signature matches")
