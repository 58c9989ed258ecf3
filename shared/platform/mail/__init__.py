"""Outgoing e-mail (invoices to customers). SMTP in production (Azure Communication
Services speaks SMTP too), a local folder of .eml files as the embedded default."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class MailError(Exception):
    """Sending failed; the caller's message handler lets it raise so the bus retries."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "application/pdf"
    data: bytes


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    sender: str
    # A stable id (e.g. "invoice-INV-2026-000001") so a redelivered message does not mail twice:
    # it becomes the Message-ID header and the local folder's file name.
    message_key: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> None: ...
