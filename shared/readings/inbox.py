"""The readings inbox: every meter-data file, uploaded over HTTP or dropped into the
``readings-inbox`` blob container, enters the same way.

A file becomes an import named by its content's SHA-256, so the same bytes sent twice (a
retried upload, a provider re-sending yesterday's file, a blob trigger firing twice) are one
import. The file is kept under ``incoming/`` until the ``reading-received`` handler imports
it and moves it to ``processed/`` or ``rejected/`` with its error report beside it.

Operators and metering data providers drop files under ``drop/``; the blob trigger (or, on
the embedded defaults, ``python -m shared.cli readings scan-inbox``) queues each one and
removes it from ``drop/``. Only that prefix is watched, so the handler's own writes to
``processed/`` and ``rejected/`` never trigger it again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, unquote

from shared.platform.blobs import BlobNotFound, BlobStore
from shared.platform.documents import DocumentStore
from shared.platform.messaging import MessageSender
from shared.resources import BLOB_READINGS_INBOX, IMPORTS, QUEUE_READING_RECEIVED

DROP_PREFIX = "drop/"
INCOMING_PREFIX = "incoming/"


@dataclass(frozen=True)
class QueuedFile:
    import_id: str
    status: str  # "queued" for a new file, else the earlier import's status
    new: bool


def file_name_metadata(file_name: str) -> str:
    # Blob metadata must be printable ASCII; a provider's file name may not be.
    return quote(file_name, safe=" #._-")


def file_name_from_metadata(value: str) -> str:
    return unquote(value)


def queue_meter_file(
    documents: DocumentStore,
    blobs: BlobStore,
    bus: MessageSender,
    *,
    data: bytes,
    file_name: str,
    content_type: str,
    channel: Literal["upload", "drop"],
) -> QueuedFile:
    """Keep the file and queue its import, once per distinct content.

    Order matters for a crash at any point: the blob is written before the import record and
    the record before the message, and each step repeats harmlessly, so a retry finishes
    what an interrupted call started and never queues the same content twice as two imports.
    """
    import_id = hashlib.sha256(data).hexdigest()[:32]
    imports = documents.container(IMPORTS.name)
    existing = imports.find(import_id, import_id)
    if existing is not None and existing.get("status") != "queued":
        return QueuedFile(import_id, existing["status"], new=False)
    blob_name = f"{INCOMING_PREFIX}{import_id}"
    blobs.put(
        BLOB_READINGS_INBOX,
        blob_name,
        data,
        content_type=content_type,
        metadata={"fileName": file_name_metadata(file_name), "channel": channel},
    )
    if existing is None:
        imports.upsert(
            {
                "id": import_id,
                "importId": import_id,
                "file": file_name,
                "channel": channel,
                "blob": blob_name,
                "status": "queued",
            }
        )
    bus.send(QUEUE_READING_RECEIVED, {"importId": import_id, "blob": blob_name}, message_id=f"import:{import_id}")
    return QueuedFile(import_id, "queued", new=existing is None)


def accept_dropped_file(
    documents: DocumentStore, blobs: BlobStore, bus: MessageSender, *, blob_name: str
) -> QueuedFile | None:
    """Queue a file dropped under ``drop/`` and remove it from there. None when the blob is
    already gone (a second trigger for a file the first one handled)."""
    if not blob_name.startswith(DROP_PREFIX):
        raise ValueError(f"{BLOB_READINGS_INBOX}/{blob_name}: only files under {DROP_PREFIX} are picked up")
    try:
        blob = blobs.get(BLOB_READINGS_INBOX, blob_name)
    except BlobNotFound:
        return None
    file_name = blob_name.removeprefix(DROP_PREFIX)
    queued = queue_meter_file(
        documents,
        blobs,
        bus,
        data=blob.data,
        file_name=file_name,
        content_type=blob.content_type or "application/octet-stream",
        channel="drop",
    )
    blobs.delete(BLOB_READINGS_INBOX, blob_name)
    return queued


def accept_trigger_path(platform: Any, trigger_path: str) -> QueuedFile | None:
    """The blob trigger's entry: ``trigger_path`` is "readings-inbox/drop/<name>"."""
    name = trigger_path.removeprefix(f"{BLOB_READINGS_INBOX}/")
    return accept_dropped_file(platform.documents, platform.blobs, platform.bus, blob_name=name)


def scan_inbox(documents: DocumentStore, blobs: BlobStore, bus: MessageSender) -> list[tuple[str, QueuedFile]]:
    """What the blob trigger does, for every file waiting under ``drop/`` (embedded defaults)."""
    picked = []
    for info in blobs.list(BLOB_READINGS_INBOX, prefix=DROP_PREFIX):
        queued = accept_dropped_file(documents, blobs, bus, blob_name=info.name)
        if queued is not None:
            picked.append((info.name.removeprefix(DROP_PREFIX), queued))
    return picked
