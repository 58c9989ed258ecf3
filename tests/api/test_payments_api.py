"""The payment webhook, called the way a gateway calls it."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.api.payment_routes import SIGNATURE_HEADER
from shared.demo.billing_month import run_billing_month
from shared.invoicing.invoice import Invoice
from shared.payments.signature import sign
from shared.resources import INVOICES, PAYMENTS, WEBHOOK_EVENTS


@pytest.fixture
def billed(platform, api):
    run_billing_month(platform)  # five issued invoices, the first one already paid
    unpaid = [
        Invoice.from_json(d)
        for d in platform.documents.container(INVOICES.name).query(order_by="number")
        if d["status"] != "paid"
    ]
    return unpaid[0]


def event(invoice: Invoice, *, event_id: str, payment_id: str, amount: int | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": "payment.succeeded",
            "created": 1793000000,
            "data": {
                "paymentId": payment_id,
                "amount": invoice.total.minor if amount is None else amount,
                "currency": "AUD",
                "reference": invoice.payment_reference,
                "paidAt": "2026-11-02T08:59:00+00:00",
            },
        }
    ).encode()


def post(api, platform, raw: bytes, *, secret: str | None = None, timestamp: int | None = None):
    ts = int(platform.clock().timestamp()) if timestamp is None else timestamp
    header = sign(raw, secret=secret or platform.settings.webhook_secrets[0], timestamp=ts)
    return api.post("/v1/webhooks/payments", content=raw, headers={SIGNATURE_HEADER: header})


def reload(platform, invoice: Invoice) -> Invoice:
    return Invoice.from_json(platform.documents.container(INVOICES.name).get(invoice.invoice_id, invoice.account_id))


def test_the_same_webhook_many_times_at_once_pays_once(api, platform, billed):
    raw = event(billed, event_id="evt_dup", payment_id="pay_dup")
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: post(api, platform, raw), range(30)))
    assert {a.status_code for a in answers} == {200}
    assert sum(not a.json()["duplicate"] for a in answers) == 1
    platform.bus.drain()
    paid = reload(platform, billed)
    assert paid.status.value == "paid" and paid.amount_paid == billed.total
    assert paid.applied_payments == ("pay_dup",)
    assert len(platform.documents.container(PAYMENTS.name).query({"id": "pay_dup"})) == 1


def test_a_part_payment_leaves_the_rest_due(api, platform, billed):
    post(api, platform, event(billed, event_id="evt_part", payment_id="pay_part", amount=1000))
    platform.bus.drain()
    part = reload(platform, billed)
    assert part.status.value == "partly_paid"
    assert part.amount_due.minor == billed.total.minor - 1000


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
    assert reload(platform, billed).amount_paid is None
    kept = platform.documents.container(WEBHOOK_EVENTS.name).query({"status": "refused"})
    assert len(kept) == 1 and kept[0]["payload"]


def test_a_signed_but_malformed_event_is_a_422_naming_the_field(api, platform, billed):
    body = json.loads(event(billed, event_id="evt_x", payment_id="pay_x"))
    body["data"]["amount"] = "12.50"
    response = post(api, platform, json.dumps(body).encode())
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "data.amount"


def test_a_payment_with_an_unknown_reference_is_kept_unallocated(api, platform, billed):
    raw = json.loads(event(billed, event_id="evt_unk", payment_id="pay_unk"))
    raw["data"]["reference"] = "999999"
    post(api, platform, json.dumps(raw).encode())
    platform.bus.drain()
    [payment] = platform.documents.container(PAYMENTS.name).query({"id": "pay_unk"})
    assert payment["status"] == "unallocated"
