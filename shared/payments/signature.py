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


# The HMACs a configured gateway may use; anything weaker is not offered.
ALGORITHMS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


def sign(payload: bytes, *, secret: str, timestamp: int, algorithm: str = "sha256") -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, ALGORITHMS[algorithm]).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(
    payload: bytes,
    header: str | None,
    *,
    secrets: list[str],
    now: datetime,
    tolerance_seconds: int,
    algorithm: str = "sha256",
) -> int:
    """Return the signed timestamp, or raise InvalidSignature saying why."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unsupported signature algorithm {algorithm!r}: one of {', '.join(ALGORITHMS)}")
    if not secrets:
        raise InvalidSignature("no signing secret is configured")
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
        expected = sign(payload, secret=secret, timestamp=timestamp, algorithm=algorithm).split("v1=", 1)[1]
        if any(hmac.compare_digest(expected, mac) for mac in macs):
            return timestamp
    raise InvalidSignature("no signature matches")
