"""Webhook signatures: verified on the raw body, fresh in both directions, rotatable."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

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


def test_the_signature_is_stripes_scheme_worked_out_with_hmac():
    # v1 = hex(HMAC-SHA256(secret, "<t>.<raw body>")), the header "t=<t>,v1=<mac>".
    body, secret, t = b'{"id":"evt_1","object":"event"}', "whsec_vector", 1_793_610_000
    mac = hmac.new(b"whsec_vector", b'1793610000.{"id":"evt_1","object":"event"}', hashlib.sha256).hexdigest()
    assert sign(body, secret=secret, timestamp=t) == f"t=1793610000,v1={mac}"
    at = datetime.fromtimestamp(t, UTC)
    assert verify(body, f"t={t},v1={mac}", secrets=[secret], now=at, tolerance_seconds=300) == t
    assert verify(body, f"t={t},v1={'0' * 64},v1={mac}", secrets=["whsec_other", secret], now=at, tolerance_seconds=300)


def test_the_tolerance_holds_to_the_second_both_ways():
    header = sign(BODY, secret="whsec_a", timestamp=T)
    for seconds in (-300, 300):
        later = NOW + timedelta(seconds=seconds)
        assert verify(BODY, header, secrets=["whsec_a"], now=later, tolerance_seconds=300) == T
    for seconds in (-301, 301):  # the timestamp 5 min 1 s in the future, then 5 min 1 s stale
        with pytest.raises(InvalidSignature, match="tolerance"):
            verify(BODY, header, secrets=["whsec_a"], now=NOW + timedelta(seconds=seconds), tolerance_seconds=300)
