"""Service Bus queue triggers, one per pipeline step.

Each decodes the host's message and hands it to the same handler the in-process bus
runs. A handler that raises makes the host abandon the message: Service Bus redelivers
it and, after the queue's maxDeliveryCount, dead-letters it with the error.
"""

from __future__ import annotations

import azure.functions as func

from shared.observability import correlation
from shared.platform.messaging.service_bus import message_from_trigger
from shared.resources import (
    QUEUE_BILL_REQUESTED,
    QUEUE_INVOICE_RENDER,
    QUEUE_PAYMENT_RECEIVED,
    QUEUE_READING_RECEIVED,
    QUEUE_STOCK_EVENT,
)
from shared.runtime import get_handlers

CONNECTION = "ServiceBusConnection"

bp = func.Blueprint()


def dispatch(msg: func.ServiceBusMessage, queue: str) -> None:
    message = message_from_trigger(msg, queue=queue)
    with correlation(message.correlation_id):
        get_handlers()[queue](message)


@bp.function_name("reading_received")
@bp.service_bus_queue_trigger(arg_name="msg", queue_name=QUEUE_READING_RECEIVED, connection=CONNECTION)
def reading_received(msg: func.ServiceBusMessage) -> None:
    dispatch(msg, QUEUE_READING_RECEIVED)


@bp.function_name("bill_requested")
@bp.service_bus_queue_trigger(arg_name="msg", queue_name=QUEUE_BILL_REQUESTED, connection=CONNECTION)
def bill_requested(msg: func.ServiceBusMessage) -> None:
    dispatch(msg, QUEUE_BILL_REQUESTED)


@bp.function_name("invoice_render")
@bp.service_bus_queue_trigger(arg_name="msg", queue_name=QUEUE_INVOICE_RENDER, connection=CONNECTION)
def invoice_render(msg: func.ServiceBusMessage) -> None:
    dispatch(msg, QUEUE_INVOICE_RENDER)


@bp.function_name("payment_received")
@bp.service_bus_queue_trigger(arg_name="msg", queue_name=QUEUE_PAYMENT_RECEIVED, connection=CONNECTION)
def payment_received(msg: func.ServiceBusMessage) -> None:
    dispatch(msg, QUEUE_PAYMENT_RECEIVED)


@bp.function_name("stock_event")
@bp.service_bus_queue_trigger(arg_name="msg", queue_name=QUEUE_STOCK_EVENT, connection=CONNECTION)
def stock_event(msg: func.ServiceBusMessage) -> None:
    dispatch(msg, QUEUE_STOCK_EVENT)
