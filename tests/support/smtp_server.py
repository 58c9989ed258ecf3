"""The `smtp_server` fixture: a real SMTP server (aiosmtpd) on a free loopback port that
keeps every message it receives, so tests read back exactly what went over the wire."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support.processes import free_port


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _Collector:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[ReceivedMail] = []

    # aiosmtpd calls handlers by this exact name.
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.append(ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self._collector = _Collector()
        self._controller = Controller(self._collector, hostname=self.host, port=self.port)

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._collector.lock:
            return list(self._collector.received)

    def clear(self) -> None:
        with self._collector.lock:
            self._collector.received.clear()

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
