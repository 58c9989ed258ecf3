"""Webhook signatures: verified on the raw body, fresh in both directions, rotatable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.payments.signature import InvalidSignature, sign, verify

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
T = int(NOW.timestamp())
BODY = b'{"id":"evt_1","type":"payment.succeeded"}'


def check(body: bytes, header: str | None, secrets=("whsec_a",), now=NOW) -> int:
    return verify(body, header, secrets=list(secrets), now=now, tolerance_seconds=300)


def test_a_correctly_signed_body_is_accepted():
    assert check(BODY, sign(BODY, secret="whsec_a", timestamp=T)) == T


@pytest.mark.parametrize(
    ("body", "header", "reason"),
    [
        (BODY, None, "missing"),
        (BODY, "v1=abc", "needs t="),
        (BODY, f"t={T}", "needs t="),
        (BODY, "t=soon,v1=abc", "not an integer"),
        (BODY + b" ", sign(BODY, secret="whsec_a", timestamp=T), "no signature matches"),
        (BODY, sign(BODY, secret="whsec_wrong", timestamp=T), "no signature matches"),
        (BODY, sign(BODY, secret="whsec_a", timestamp=T - 301), "tolerance"),
        (BODY, sign(BODY, secret="whsec_a", timestamp=T + 600), "tolerance"),  # from the future
    ],
)
def test_bad_missing_altered_stale_or_future_signatures_are_refused(body, header, reason):
    with pytest.raises(InvalidSignature, match=reason):
        check(body, header)


def test_during_rotation_either_secret_and_either_v1_value_is_accepted():
    old = sign(BODY, secret="whsec_old", timestamp=T)
    new_mac = sign(BODY, secret="whsec_new", timestamp=T).split("v1=")[1]
    both = f"{old},v1={new_mac}"
    assert check(BODY, both, secrets=("whsec_new",)) == T
    assert check(BODY, old, secrets=("whsec_new", "whsec_old")) == T
    with pytest.raises(InvalidSignature):
        check(BODY, old, secrets=("whsec_new",))
