"""Messaging: the pipeline's steps talk through queues, at least once.

Every handler must be idempotent, because both implementations redeliver: Service Bus
after a failed or expired lock, the in-process bus after a handler raises. A handler that
raises is retried up to ``MAX_DELIVERY_COUNT`` times and then dead-lettered with the
error as its reason. Handlers never swallow errors: on Service Bus a handler that returns
normally completes the message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Message:
    queue: str
    body: dict[str, Any]
    message_id: str  # the sender's idempotency key: duplicate sends are dropped
    correlation_id: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)
    delivery_count: int = 1
    enqueued_at: datetime | None = None


Handler = Callable[[Message], None]


class MessageSender(Protocol):
    def send(
        self,
        queue: str,
        body: Mapping[str, Any],
        *,
        message_id: str,
        correlation_id: str | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        """Queue a message. ``correlation_id=None`` takes the current one from the log
        context, so a whole chain of messages shares the id of the request that began it."""


class MessagingError(Exception):
    pass


class UnknownQueue(MessagingError):
    pass
