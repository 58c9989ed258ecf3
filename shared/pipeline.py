"""The pipeline's message handlers, one per queue, the same code under Service Bus and
the in-process bus. Each is idempotent (see the service each one calls) and lets errors
raise, so the bus retries and finally dead-letters with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from shared.bootstrap import Platform
from shared.invoicing.bill_cycle import BillingPeriod
from shared.invoicing.billing import BillingService, Supplier
from shared.invoicing.delivery import InvoiceDelivery
from shared.invoicing.pdf import PaymentDetails
from shared.payments.processing import READERS as PAYMENT_PROVIDERS
from shared.payments.processing import EventProcessor
from shared.platform.messaging import Handler, Message
from shared.readings.intake import import_meter_file
from shared.resources import (
    QUEUE_BILL_REQUESTED,
    QUEUE_INVOICE_RENDER,
    QUEUE_PAYMENT_RECEIVED,
    QUEUE_READING_RECEIVED,
    QUEUE_STOCK_EVENT,
    STOCK_EVENTS,
)
from shared.stock.events import record_stock_event


class PoisonMessage(ValueError):
    """A message that can never succeed (a field missing or malformed)."""


def _field(message: Message, name: str) -> Any:
    value = message.body.get(name)
    if value in (None, ""):
        raise PoisonMessage(f"{message.queue} message {message.message_id}: field {name!r} is missing")
    return value


def _date(message: Message, name: str) -> date:
    try:
        return date.fromisoformat(_field(message, name))
    except (TypeError, ValueError):
        raise PoisonMessage(f"{message.queue} message {message.message_id}: {name!r} is not a date") from None


def message_handlers(platform: Platform) -> Mapping[str, Handler]:
    settings = platform.settings
    billing = BillingService(
        platform.documents, platform.bus, supplier=Supplier(settings.legal_entity, settings.legal_entity_abn)
    )
    delivery = InvoiceDelivery(
        platform.documents,
        platform.blobs,
        platform.mailer,
        sender=settings.mail_from,
        payment=PaymentDetails(settings.bpay_biller_code or None, settings.payment_bank_account or None),
    )
    payments = EventProcessor(platform.documents, platform.bus)

    def on_reading_received(message: Message) -> None:
        import_meter_file(
            platform.documents,
            platform.blobs,
            import_id=_field(message, "importId"),
            blob_name=_field(message, "blob"),
            now=platform.clock(),
        )

    def on_bill_requested(message: Message) -> None:
        billing.bill(
            account_id=_field(message, "accountId"),
            period=BillingPeriod(_date(message, "periodStart"), _date(message, "periodEnd")),
            now=platform.clock(),
            run_id=message.body.get("runId") or "adhoc",
            message_id=message.message_id,
            delivery=message.delivery_count,
        )

    def on_invoice_render(message: Message) -> None:
        delivery.deliver(
            invoice_id=_field(message, "invoiceId"), account_id=_field(message, "accountId"), now=platform.clock()
        )

    def on_payment_received(message: Message) -> None:
        # Messages from before providers were named came from the generic gateway.
        provider = message.body.get("provider") or "gateway"
        if provider not in PAYMENT_PROVIDERS:
            raise PoisonMessage(f"{message.queue} message {message.message_id}: unknown provider {provider!r}")
        payments.process(provider=provider, event_id=_field(message, "eventId"), now=platform.clock())

    def on_stock_event(message: Message) -> None:
        record_stock_event(platform.documents.container(STOCK_EVENTS.name), dict(message.body))

    return {
        QUEUE_READING_RECEIVED: on_reading_received,
        QUEUE_BILL_REQUESTED: on_bill_requested,
        QUEUE_INVOICE_RENDER: on_invoice_render,
        QUEUE_PAYMENT_RECEIVED: on_payment_received,
        QUEUE_STOCK_EVENT: on_stock_event,
    }
