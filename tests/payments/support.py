"""Test helpers for payments: accounts and issued invoices put straight into the store
(no rating, no PDF: fast), Stripe events as Stripe sends them, and their signatures
computed here with hmac, independently of the code under test."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from shared.bootstrap import Platform, build_blobs, build_bus, build_mailer, build_platform
from shared.config import load_settings
from shared.invoicing.invoice import Invoice, InvoiceStatus, Party
from shared.money import Money
from shared.platform.documents import DocumentStore
from shared.rating.lines import ChargeLine, TaxLine
from shared.resources import ACCOUNTS, INVOICES, PAYMENTS, WEBHOOK_EVENTS

SECRET = "whsec_test_current"
OLD_SECRET = "whsec_test_previous"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # the `clock` fixture's time


def ledger_platform(tmp_path: Any, clock: Any, documents: DocumentStore | None = None) -> Platform:
    """The embedded platform with a Stripe secret (two, as during a rotation); on ``documents``
    (e.g. a store on the local Cosmos server) when given, which the caller then closes."""
    settings = load_settings(data_dir=tmp_path / "var", stripe_webhook_secret=f"{SECRET},{OLD_SECRET}")
    if documents is None:
        return build_platform(settings, clock=clock)
    bus = build_bus(settings)
    platform = Platform(settings, documents, build_blobs(settings), bus, build_mailer(settings), clock)
    platform._closers.append(bus.close)
    return platform


# -- accounts and invoices -----------------------------------------------------------------


def seed_account(documents: DocumentStore, account_id: str, reference: str) -> None:
    documents.container(ACCOUNTS.name).create(
        {"id": account_id, "accountId": account_id, "paymentReference": reference}
    )


def issue_invoice(
    documents: DocumentStore,
    *,
    account_id: str,
    number: str,
    total_cents: int,
    issue_date: date,
    reference: str,
    currency: str = "AUD",
    emailed: bool = False,
) -> Invoice:
    """An issued invoice of ``total_cents`` including GST of 1/11 (rounded down to the cent)."""
    total = Money.from_minor(total_cents, currency)
    tax = Money.from_minor(total_cents // 11, currency)
    net = total - tax
    start = issue_date.replace(day=1) - timedelta(days=1)
    start = start.replace(day=1)
    line = ChargeLine(
        "Energy", "usage", "T1", "v1", start, issue_date, Decimal(1), "bill", net.amount, net, "GST", Decimal("0.10")
    )
    draft = Invoice(
        invoice_id=f"{account_id}:{number}",
        account_id=account_id,
        series="INV-2026",
        supplier=Party("GridLedger Energy Pty Ltd", ("1 Energy Way",), tax_id="51 824 753 556"),
        customer=Party(f"Customer {account_id}", ("2 Test St",), email=f"{account_id.lower()}@example.com"),
        service_point_id=f"NMI{account_id[-4:]}",
        service_address="2 Test St",
        period_start=start,
        period_end=issue_date,
        currency=currency,
        lines=(line,),
        taxes=(TaxLine("GST", Decimal("0.10"), net, tax),),
        subtotal=net,
        tax_total=tax,
        total=total,
        payment_reference=reference,
    )
    issued_at = datetime.combine(issue_date, datetime.min.time(), tzinfo=UTC)
    invoice = draft.issue(
        number=number, issue_date=issue_date, due_date=issue_date + timedelta(days=14), issued_at=issued_at
    )
    if emailed:
        invoice = replace(invoice, emailed_at=issued_at, status=InvoiceStatus.SENT)
    documents.container(INVOICES.name).create(invoice.to_json())
    return invoice


def invoice_now(documents: DocumentStore, invoice: Invoice) -> Invoice:
    return Invoice.from_json(documents.container(INVOICES.name).get(invoice.invoice_id, invoice.account_id))


def posting_docs(documents: DocumentStore, **where: Any) -> list[dict[str, Any]]:
    return documents.container(PAYMENTS.name).query({"kind": "posting-set", **where})


def event_doc(documents: DocumentStore, event_id: str, provider: str = "stripe") -> dict[str, Any]:
    return documents.container(WEBHOOK_EVENTS.name).get(event_id, provider)


def refused_docs(documents: DocumentStore, provider: str = "stripe") -> list[dict[str, Any]]:
    return documents.container(WEBHOOK_EVENTS.name).query({"status": "refused"}, partition=provider)


# -- Stripe events, as Stripe sends them -------------------------------------------------------


def stripe_event(event_id: str, event_type: str, obj: dict[str, Any], *, created: int | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(NOW.timestamp()) if created is None else created,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
            "data": {"object": obj},
        }
    ).encode()


def metadata(reference: str | None) -> dict[str, str]:
    return {"payment_reference": reference} if reference else {}


def payment_intent_succeeded(
    event_id: str, pi: str, amount: int, reference: str | None, *, charge: str | None = None, currency: str = "aud"
) -> bytes:
    return stripe_event(
        event_id,
        "payment_intent.succeeded",
        {
            "id": pi,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount,
            "currency": currency,
            "status": "succeeded",
            "latest_charge": charge,
            "metadata": metadata(reference),
        },
    )


def charge_succeeded(
    event_id: str,
    charge: str,
    pi: str | None,
    amount: int,
    reference: str | None,
    *,
    captured: int | None = None,
    event_type: str = "charge.succeeded",
) -> bytes:
    return stripe_event(
        event_id,
        event_type,
        {
            "id": charge,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount if captured is None else captured,
            "amount_refunded": 0,
            "captured": captured != 0,
            "currency": "aud",
            "paid": True,
            "payment_intent": pi,
            "metadata": metadata(reference),
        },
    )


def invoice_paid(event_id: str, stripe_invoice: str, pi: str, amount: int, reference: str | None) -> bytes:
    return stripe_event(
        event_id,
        "invoice.paid",
        {
            "id": stripe_invoice,
            "object": "invoice",
            "amount_paid": amount,
            "currency": "aud",
            "payment_intent": pi,
            "charge": None,
            "paid_out_of_band": False,
            "metadata": metadata(reference),
        },
    )


def charge_refunded(
    event_id: str, charge: str, pi: str | None, amount: int, refunds: list[tuple[str, int]], *, amount_refunded: int
) -> bytes:
    """``refunds`` newest first, as Stripe lists them."""
    return stripe_event(
        event_id,
        "charge.refunded",
        {
            "id": charge,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": amount_refunded,
            "captured": True,
            "currency": "aud",
            "payment_intent": pi,
            "refunded": amount_refunded == amount,
            "metadata": {},
            "refunds": {
                "object": "list",
                "has_more": False,
                "data": [
                    {"id": rid, "object": "refund", "amount": ramount, "currency": "aud", "status": "succeeded"}
                    for rid, ramount in refunds
                ],
            },
        },
    )


def dispute_event(
    event_id: str, event_type: str, dispute: str, charge: str, pi: str | None, amount: int, status: str
) -> bytes:
    return stripe_event(
        event_id,
        event_type,
        {
            "id": dispute,
            "object": "dispute",
            "amount": amount,
            "currency": "aud",
            "charge": charge,
            "payment_intent": pi,
            "reason": "fraudulent",
            "status": status,
        },
    )


def stripe_signature(raw: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> str:
    """Stripe's scheme, worked here with hmac: v1 = HMAC-SHA256(secret, "<t>.<raw body>")."""
    t = int(NOW.timestamp()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), str(t).encode() + b"." + raw, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class OneCallAtATime:
    """A document store whose calls go through one at a time: for the Cosmos store under
    concurrent requests.

    azure-cosmos 4.17's retry policy writes into the client-wide ``last_response_headers``
    (a known gap, Azure/azure-sdk-for-python#33496), so threads sharing one client fail now
    and then with "OrderedDict mutated during iteration", and CosmosDocumentStore shares one
    client. Serialising single calls keeps what the exactly-once test is about: twenty
    requests interleaving their look-up, judgement and create, meeting at the server's
    unique id. (The local server runs one request at a time anyway.)"""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self.guarantees = store.guarantees
        self._lock = threading.Lock()

    def container(self, name: str) -> Any:
        return _OneCallAtATime(self._store.container(name), self._lock)

    def close(self) -> None:
        self._store.close()


class _OneCallAtATime:
    def __init__(self, container: Any, lock: threading.Lock) -> None:
        self._container, self._lock = container, lock
        self.name, self.partition_key = container.name, container.partition_key

    def __getattr__(self, attribute: str) -> Any:
        method = getattr(self._container, attribute)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(*args, **kwargs)

        return call
