"""Service Bus at the message boundary: no emulator runs here, so pin the exact message we
put on the wire and prove the Functions trigger entry decodes what the host hands it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from azure.functions.servicebus import ServiceBusMessage as TriggerMessage

from functions import queues
from shared.observability import correlation
from shared.platform.messaging import Message, MessagingError, UnknownQueue
from shared.platform.messaging.service_bus import ServiceBusSender, build_service_bus_message, message_from_trigger


def test_the_message_sent_carries_id_correlation_properties_and_a_json_body():
    message = build_service_bus_message(
        {"accountId": "ACC-1", "periodStart": "2026-10-01"},
        message_id="bill:ACC-1:2026-10-01",
        correlation_id="req-7",
        properties={"runId": "cycle-2026-11-02"},
    )
    assert message.message_id == "bill:ACC-1:2026-10-01"
    assert message.correlation_id == "req-7"
    assert message.content_type == "application/json"
    assert message.application_properties == {"runId": "cycle-2026-11-02"}
    assert json.loads(b"".join(message.body)) == {"accountId": "ACC-1", "periodStart": "2026-10-01"}


def test_the_correlation_id_defaults_to_the_current_request():
    with correlation("req-from-http"):
        message = build_service_bus_message({}, message_id="m", correlation_id=None)
    assert message.correlation_id == "req-from-http"


def test_a_message_without_id_is_refused_because_duplicate_detection_needs_it():
    with pytest.raises(ValueError, match="message_id"):
        build_service_bus_message({}, message_id="", correlation_id=None)


def test_the_sender_refuses_unknown_queues_before_connecting():
    sender = ServiceBusSender(
        queues=("bill-requested",), connection_string="Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=v"
    )
    with pytest.raises(UnknownQueue):
        sender.send("nope", {}, message_id="m")


def trigger_message(body: bytes, **kwargs) -> TriggerMessage:
    defaults = dict(
        message_id="bill:ACC-1:2026-10-01",
        correlation_id="req-7",
        delivery_count=2,
        application_properties={},
        user_properties={},
    )
    return TriggerMessage(body=body, **{**defaults, **kwargs})


def test_the_trigger_entry_decodes_the_hosts_message():
    enqueued = datetime(2026, 11, 2, 1, 0)
    msg = trigger_message(b'{"accountId": "ACC-1"}', enqueued_time_utc=enqueued, application_properties={"runId": "r1"})
    decoded = message_from_trigger(msg, queue="bill-requested")
    assert decoded == Message(
        queue="bill-requested",
        body={"accountId": "ACC-1"},
        message_id="bill:ACC-1:2026-10-01",
        correlation_id="req-7",
        properties={"runId": "r1"},
        delivery_count=2,
        enqueued_at=enqueued.replace(tzinfo=UTC),
    )


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"\xff\xfe"])
def test_a_poison_body_raises_so_the_host_retries_and_dead_letters_it(body):
    with pytest.raises(MessagingError, match="bill-requested"):
        message_from_trigger(trigger_message(body), queue="bill-requested")


def test_what_the_sender_builds_the_trigger_decodes_to_the_same_message():
    sent = build_service_bus_message(
        {"eventId": "evt_1"}, message_id="evt_1", correlation_id="c1", properties={"a": "b"}
    )
    received = trigger_message(
        b"".join(sent.body), message_id=sent.message_id, correlation_id=sent.correlation_id,
        application_properties=dict(sent.application_properties), delivery_count=1,
    )  # fmt: skip
    decoded = message_from_trigger(received, queue="payment-received")
    assert (decoded.body, decoded.message_id, decoded.correlation_id, dict(decoded.properties)) == (
        {"eventId": "evt_1"}, "evt_1", "c1", {"a": "b"},
    )  # fmt: skip


def test_the_queue_trigger_runs_the_same_handler_as_the_in_process_bus(monkeypatch):
    seen: list[Message] = []
    monkeypatch.setattr(queues, "get_handlers", lambda: {"payment-received": seen.append})
    queues.payment_received(trigger_message(b'{"eventId": "evt_9"}', message_id="evt_9"))
    assert seen[0].queue == "payment-received" and seen[0].body == {"eventId": "evt_9"}
    assert seen[0].delivery_count == 2


def test_a_handler_error_propagates_out_of_the_trigger_so_the_message_is_not_completed(monkeypatch):
    def boom(message: Message) -> None:
        raise RuntimeError("cosmos unavailable")

    monkeypatch.setattr(queues, "get_handlers", lambda: {"bill-requested": boom})
    with pytest.raises(RuntimeError, match="cosmos unavailable"):
        queues.bill_requested(trigger_message(b"{}"))
