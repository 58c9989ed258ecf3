"""The generic gateway's webhook (POST /v1/webhooks/payments), called the way a gateway calls
it; its payments go through the same ledger as Stripe's.

Account ACC-1 (payment reference 71000019) owes one issued invoice of 142.86.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from shared.api.payment_routes import SIGNATURE_HEADER
from shared.invoicing.invoice import Invoice
from shared.payments.ledger_command import check_ledger
from shared.payments.signature import sign
from shared.resources import WEBHOOK_EVENTS
from tests.payments.support import event_doc, invoice_now, issue_invoice, posting_docs, seed_account

REF = "71000019"


@pytest.fixture
def billed(platform, api) -> Invoice:
    seed_account(platform.documents, "ACC-1", REF)
    return issue_invoice(
        platform.documents,
        account_id="ACC-1",
        number="INV-2026-000001",
        total_cents=14286,
        issue_date=date(2026, 11, 2),
        reference=REF,
    )


def event(
    invoice: Invoice, *, event_id: str, payment_id: str, amount: int | None = None, currency: str = "AUD"
) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": "payment.succeeded",
            "created": 1793000000,
            "data": {
                "paymentId": payment_id,
                "amount": invoice.total.minor if amount is None else amount,
                "currency": currency,
                "reference": invoice.payment_reference,
                "paidAt": "2026-11-02T08:59:00+00:00",
            },
        }
    ).encode()


def post(api, platform, raw: bytes, *, secret: str | None = None, timestamp: int | None = None):
    ts = int(platform.clock().timestamp()) if timestamp is None else timestamp
    header = sign(raw, secret=secret or platform.settings.webhook_secrets[0], timestamp=ts)
    return api.post("/v1/webhooks/payments", content=raw, headers={SIGNATURE_HEADER: header})


def test_the_same_webhook_many_times_at_once_pays_once(api, platform, billed):
    raw = event(billed, event_id="evt_dup", payment_id="pay_dup")
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: post(api, platform, raw), range(30)))
    assert {a.status_code for a in answers} == {200}
    assert sum(not a.json()["duplicate"] for a in answers) == 1
    platform.bus.drain()
    paid = invoice_now(platform.documents, billed)
    assert paid.status.value == "paid" and paid.amount_paid == billed.total
    assert paid.applied_payments == ("pay_dup",)
    assert [d["id"] for d in posting_docs(platform.documents)] == ["payment:gateway:pay_dup"]
    assert check_ledger(platform.documents).balanced


def test_a_part_payment_leaves_the_rest_due(api, platform, billed):
    post(api, platform, event(billed, event_id="evt_part", payment_id="pay_part", amount=1000))
    platform.bus.drain()
    part = invoice_now(platform.documents, billed)
    assert part.status.value == "partly_paid"
    assert part.amount_due.minor == billed.total.minor - 1000


def test_two_payments_that_overpay_leave_the_invoice_paid_and_the_rest_as_credit(api, platform, billed):
    post(api, platform, event(billed, event_id="evt_a", payment_id="pay_a", amount=10000))
    post(api, platform, event(billed, event_id="evt_b", payment_id="pay_b", amount=10000))
    platform.bus.drain()
    paid = invoice_now(platform.documents, billed)
    assert (paid.status.value, paid.applied_payments) == ("paid", ("pay_a", "pay_b"))
    assert len(posting_docs(platform.documents, type="payment")) == 2


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "altered body", "stale", "future", "no header"],
)
def test_a_forged_altered_or_stale_webhook_is_refused_kept_and_not_applied(api, platform, billed, tamper):
    raw = event(billed, event_id="evt_bad", payment_id="pay_bad")
    now = int(platform.clock().timestamp())
    if tamper == "wrong secret":
        response = post(api, platform, raw, secret="whsec_attacker")
    elif tamper == "altered body":
        header = sign(raw, secret=platform.settings.webhook_secrets[0], timestamp=now)
        forged = raw.replace(b'"amount": ', b'"amount": 9')
        response = api.post("/v1/webhooks/payments", content=forged, headers={SIGNATURE_HEADER: header})
    elif tamper == "stale":
        response = post(api, platform, raw, timestamp=now - 3600)
    elif tamper == "future":
        response = post(api, platform, raw, timestamp=now + 600)
    else:
        response = api.post("/v1/webhooks/payments", content=raw)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    platform.bus.drain()
    assert invoice_now(platform.documents, billed).amount_paid is None
    assert posting_docs(platform.documents) == []
    kept = platform.documents.container(WEBHOOK_EVENTS.name).query({"status": "refused"})
    assert len(kept) == 1 and kept[0]["payload"]


def test_a_signed_but_malformed_event_is_a_422_naming_the_field(api, platform, billed):
    body = json.loads(event(billed, event_id="evt_x", payment_id="pay_x"))
    body["data"]["amount"] = "12.50"
    response = post(api, platform, json.dumps(body).encode())
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "data.amount"


def test_a_payment_in_a_currency_the_account_is_not_billed_in_is_refused(api, platform, billed):
    response = post(api, platform, event(billed, event_id="evt_nzd", payment_id="pay_nzd", currency="NZD"))
    assert response.status_code == 422
    assert (response.json()["error"], response.json()["errors"][0]["field"]) == ("currency_mismatch", "data.currency")
    platform.bus.drain()
    assert posting_docs(platform.documents) == []
    [kept] = platform.documents.container(WEBHOOK_EVENTS.name).query({"status": "refused"})
    assert kept["code"] == "currency_mismatch"


def test_a_payment_with_an_unknown_reference_waits_in_suspense(api, platform, billed):
    raw = json.loads(event(billed, event_id="evt_unk", payment_id="pay_unk"))
    raw["data"]["reference"] = "999999"
    post(api, platform, json.dumps(raw).encode())
    platform.bus.drain()
    [payment] = posting_docs(platform.documents)
    assert (payment["id"], payment["accountId"]) == ("payment:gateway:pay_unk", "unallocated")
    assert "suspense" in event_doc(platform.documents, "evt_unk", provider="gateway")["outcomes"][0]
    assert invoice_now(platform.documents, billed).amount_paid is None


def test_a_utility_configures_the_header_and_hmac_its_gateway_uses(tmp_path, clock):
    """A gateway that signs with HMAC-SHA512 in its own header: that is accepted, the
    default header or the SHA-256 MAC of the same secret is not."""
    from fastapi.testclient import TestClient

    from shared.api.app import create_app
    from shared.bootstrap import build_platform
    from shared.config import load_settings
    from shared.runtime import use_platform

    settings = load_settings(
        data_dir=tmp_path / "var",
        payment_webhook_secrets="whsec_sha512",
        payment_webhook_signature_header="X-Acme-Signature",
        payment_webhook_algorithm="sha512",
    )
    platform = build_platform(settings, clock=clock)
    use_platform(platform)
    try:
        seed_account(platform.documents, "ACC-1", REF)
        billed = issue_invoice(
            platform.documents,
            account_id="ACC-1",
            number="INV-2026-000001",
            total_cents=14286,
            issue_date=date(2026, 11, 2),
            reference=REF,
        )
        raw = event(billed, event_id="evt_512", payment_id="pay_512")
        now = int(clock().timestamp())
        with TestClient(create_app(max_request_bytes=64 * 1024)) as api:
            sha256 = sign(raw, secret="whsec_sha512", timestamp=now)
            sha512 = sign(raw, secret="whsec_sha512", timestamp=now, algorithm="sha512")
            wrong_mac = api.post("/v1/webhooks/payments", content=raw, headers={"X-Acme-Signature": sha256})
            wrong_header = api.post("/v1/webhooks/payments", content=raw, headers={SIGNATURE_HEADER: sha512})
            right = api.post("/v1/webhooks/payments", content=raw, headers={"X-Acme-Signature": sha512})
        assert (wrong_mac.status_code, wrong_header.status_code, right.status_code) == (401, 401, 200)
        assert wrong_header.json()["errors"][0]["field"] == "X-Acme-Signature"
        platform.bus.drain()
        assert invoice_now(platform.documents, billed).status.value == "paid"
    finally:
        use_platform(None)
        platform.close()


def test_an_unknown_hmac_is_refused_when_the_settings_load():
    from shared.config import SettingsError, load_settings

    with pytest.raises(SettingsError, match="PAYMENT_WEBHOOK_ALGORITHM"):
        load_settings(payment_webhook_algorithm="md5")
