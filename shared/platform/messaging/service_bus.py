"""Azure Service Bus: the production bus.

Sending builds one ``ServiceBusMessage`` per call (JSON body, message id for the
namespace's duplicate detection, correlation id, application properties). Receiving is
the Functions host's job: a queue trigger hands us its message, ``message_from_trigger``
turns it into our ``Message`` and the same handler as in-process runs it. A handler that
raises makes the host abandon the message; Service Bus redelivers it until the queue's
``maxDeliveryCount`` and then dead-letters it with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.observability import current_correlation_id, new_correlation_id
from shared.platform.messaging import Message, MessagingError, UnknownQueue

CONTENT_TYPE = "application/json"


def build_service_bus_message(
    body: Mapping[str, Any],
    *,
    message_id: str,
    correlation_id: str | None,
    properties: Mapping[str, str] | None = None,
) -> Any:
    """The exact message put on the wire (a function of its own so tests can pin it)."""
    from azure.servicebus import ServiceBusMessage

    if not message_id:
        raise ValueError("message_id is required: Service Bus duplicate detection keys on it")
    return ServiceBusMessage(
        json.dumps(dict(body), separators=(",", ":"), sort_keys=True),
        message_id=message_id,
        correlation_id=correlation_id or current_correlation_id() or new_correlation_id(),
        content_type=CONTENT_TYPE,
        application_properties=dict(properties or {}),
    )


class _TriggerMessage(Protocol):
    """What the Functions host's ``azure.functions.ServiceBusMessage`` gives us."""

    message_id: str | None
    correlation_id: str | None
    delivery_count: int | None
    enqueued_time_utc: datetime | None
    application_properties: dict[str, Any]

    def get_body(self) -> bytes: ...


def message_from_trigger(msg: _TriggerMessage, *, queue: str) -> Message:
    """Decode a queue-triggered message; a body that is not a JSON object is an error the
    host retries and then dead-letters (a poison message must not be completed silently)."""
    raw = msg.get_body()
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MessagingError(f"{queue}: message {msg.message_id} body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise MessagingError(f"{queue}: message {msg.message_id} body must be a JSON object")
    enqueued = msg.enqueued_time_utc
    if enqueued is not None and enqueued.tzinfo is None:
        enqueued = enqueued.replace(tzinfo=UTC)
    properties = getattr(msg, "application_properties", None) or getattr(msg, "user_properties", None) or {}
    return Message(
        queue=queue,
        body=body,
        message_id=msg.message_id or "",
        correlation_id=msg.correlation_id,
        properties={str(k): str(v) for k, v in properties.items()},
        delivery_count=msg.delivery_count or 1,
        enqueued_at=enqueued,
    )


class ServiceBusSender:
    """Sends to Service Bus queues; the client is made on first send, not at import."""

    def __init__(
        self,
        *,
        queues: tuple[str, ...],
        connection_string: str | None = None,
        namespace: str | None = None,
    ) -> None:
        if not (connection_string or namespace):
            raise ValueError("a Service Bus connection string or fully qualified namespace is required")
        self._queues = set(queues)
        self._connection_string = connection_string
        self._namespace = namespace
        self._client: Any = None

    def _get_client(self) -> Any:
        if self._client is None:
            from azure.servicebus import ServiceBusClient

            if self._connection_string:
                self._client = ServiceBusClient.from_connection_string(self._connection_string)
            else:
                from azure.identity import DefaultAzureCredential  # managed identity in Azure

                self._client = ServiceBusClient(self._namespace, credential=DefaultAzureCredential())
        return self._client

    def send(
        self,
        queue: str,
        body: Mapping[str, Any],
        *,
        message_id: str,
        correlation_id: str | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        if queue not in self._queues:
            raise UnknownQueue(f"unknown queue {queue!r}")
        message = build_service_bus_message(
            body, message_id=message_id, correlation_id=correlation_id, properties=properties
        )
        with self._get_client().get_queue_sender(queue_name=queue) as sender:
            sender.send_messages(message)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
