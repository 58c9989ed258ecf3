"""Wiring: the one place that picks concrete adapters from the settings.

Nothing here runs at import. The Functions entry, the CLI and the API each call
``build_platform()`` once, lazily, on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.config import Settings, load_settings
from shared.platform.blobs import BlobStore
from shared.platform.documents import DocumentStore
from shared.platform.mail import Mailer
from shared.platform.messaging import MessageSender
from shared.resources import QUEUES


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Platform:
    settings: Settings
    documents: DocumentStore
    blobs: BlobStore
    bus: MessageSender
    mailer: Mailer
    clock: Callable[[], datetime] = utc_now
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self._closers):
            close()
        self._closers.clear()


def build_documents(settings: Settings) -> DocumentStore:
    if settings.document_store == "cosmos":
        from shared.platform.documents.cosmos_store import CosmosDocumentStore

        key = settings.cosmos_key.get_secret_value() if settings.cosmos_key else None
        assert settings.cosmos_endpoint is not None  # checked by Settings
        return CosmosDocumentStore(
            settings.cosmos_endpoint, key, settings.cosmos_database, verify_tls=settings.cosmos_verify_tls
        )
    from shared.platform.documents.sqlite_store import SqliteDocumentStore

    settings.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    return SqliteDocumentStore(settings.sqlite_file)


def build_blobs(settings: Settings) -> BlobStore:
    if settings.blob_store == "azure":
        from shared.platform.blobs.azure_blob import AzureBlobStore

        conn = settings.blob_connection_string.get_secret_value() if settings.blob_connection_string else None
        return AzureBlobStore(connection_string=conn, account_url=settings.blob_account_url)
    from shared.platform.blobs.local_folder import LocalFolderBlobStore

    return LocalFolderBlobStore(settings.blob_folder)


def build_mailer(settings: Settings) -> Mailer:
    if settings.mailer == "smtp":
        from shared.platform.mail.smtp import SmtpMailer

        assert settings.smtp_host is not None  # checked by Settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            starttls=settings.smtp_starttls,
        )
    from shared.platform.mail.local_folder import LocalFolderMailer

    return LocalFolderMailer(settings.mail_dir)


def build_bus(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Any:
    if settings.bus == "servicebus":
        from shared.platform.messaging.service_bus import ServiceBusSender

        conn = settings.servicebus_connection_string
        return ServiceBusSender(
            queues=QUEUES,
            connection_string=conn.get_secret_value() if conn else None,
            namespace=settings.servicebus_namespace,
        )
    from shared.platform.messaging.in_process import InProcessBus

    # The platform's clock: the duplicate-detection window is time the business sees, so a
    # test clock moved a month on lets a month-old message id be sent again, as on Azure.
    return InProcessBus(settings.data_dir / "bus.sqlite3", queues=QUEUES, clock=clock)


def build_platform(settings: Settings | None = None, *, clock: Callable[[], datetime] = utc_now) -> Platform:
    settings = settings or load_settings()
    documents = build_documents(settings)
    blobs = build_blobs(settings)
    bus = build_bus(settings, clock)
    platform = Platform(settings, documents, blobs, bus, build_mailer(settings), clock)
    platform._closers += [documents.close, blobs.close, getattr(bus, "close", lambda: None)]
    return platform
