"""Readings coming in: mobile-app batches (answered item by item, at once) and meter-data
files (stored as a blob, then imported by the ``reading-received`` handler).

Whatever was accepted is stored before the caller hears "accepted", with ids derived from
the reading itself, so a retried upload or a redelivered import stores each reading once.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.observability import log_event
from shared.platform.blobs import BlobStore
from shared.platform.documents import DocumentStore
from shared.readings.file_import import status_after_storing, store_import
from shared.readings.history import store_register_read
from shared.readings.importers import read_meter_stream
from shared.readings.inbox import file_name_from_metadata
from shared.readings.mobile import validate_register_reads
from shared.resources import BLOB_READINGS_INBOX, IMPORTS, READINGS, SERVICE_POINTS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemResult:
    index: int
    status: str  # "accepted" | "rejected"
    errors: list[dict[str, Any]] = field(default_factory=list)
    reading_id: str | None = None


def accept_register_batch(documents: DocumentStore, items: list[dict[str, Any]], *, now: datetime) -> list[ItemResult]:
    reads, errors = validate_register_reads(items, now=now)
    service_points = documents.container(SERVICE_POINTS.name)
    readings = documents.container(READINGS.name)
    rejected: dict[int, list[dict[str, Any]]] = {}
    for error in errors:
        rejected.setdefault(error.index, []).append({"field": error.field, "message": error.message})
    results: dict[int, ItemResult] = {}
    valid_indexes = [i for i in range(len(items)) if i not in rejected]
    for index, read in zip(valid_indexes, reads, strict=True):
        matches = service_points.query({"meterSerial": read.meter_serial})
        if not matches:
            rejected[index] = [{"field": "meterSerial", "message": f"no service point has meter {read.meter_serial}"}]
            continue
        sp_id = matches[0]["servicePointId"]
        store_register_read(readings, sp_id, read, source="mobile")
        results[index] = ItemResult(index, "accepted")
    for index, errs in rejected.items():
        results[index] = ItemResult(index, "rejected", errs)
    return [results[i] for i in range(len(items))]


def import_meter_file(
    documents: DocumentStore, blobs: BlobStore, *, import_id: str, blob_name: str, now: datetime | None = None
) -> dict[str, Any]:
    """Import a meter-data file (NEM12, NEM13, or register reads as CSV or XLSX; zipped or
    not; the format read from the content) already stored in the readings inbox; record its
    status and move it to processed/ or rejected/ with its error report beside it.

    A store failure part-way raises (``StoringInterrupted``) so the bus retries: storing
    again is safe, the documents' ids come from the readings themselves."""
    imports = documents.container(IMPORTS.name)
    record = imports.find(import_id, import_id)
    if record is not None and record.get("status") in ("accepted", "partial", "rejected"):
        return record  # a redelivery of an import already done
    blob = blobs.get(BLOB_READINGS_INBOX, blob_name)
    file_name = file_name_from_metadata(blob.metadata["fileName"]) if "fileName" in blob.metadata else blob_name
    read = read_meter_stream(io.BytesIO(blob.data), file_name=file_name, now=now or datetime.now(UTC))
    stored = store_import(documents, read.result)
    status = status_after_storing(read.result, stored)
    errors = [
        {"line": e.line, "record": e.record, "field": e.field, "message": e.message}
        for e in (*read.result.errors, *stored.errors)
    ]
    counts = stored.days
    report = {
        "id": import_id,
        "importId": import_id,
        "file": file_name,
        "channel": blob.metadata.get("channel", "upload"),
        "blob": blob_name,
        "format": read.format,
        "status": status,
        "days": counts,
        "reads": stored.reads,
        "errors": errors[:1000],
        "errorCount": len(errors),
    }
    folder = "processed" if status != "rejected" else "rejected"
    target = f"{folder}/{blob_name.removeprefix('incoming/')}"
    blobs.put(BLOB_READINGS_INBOX, target, blob.data, content_type=blob.content_type, metadata=dict(blob.metadata))
    if errors:
        blobs.put(
            BLOB_READINGS_INBOX,
            f"{target}.errors.json",
            json.dumps(errors, indent=1).encode(),
            content_type="application/json",
        )
    imports.upsert(report)
    blobs.delete(BLOB_READINGS_INBOX, blob_name)
    log_event(log, "meter file imported", importId=import_id, status=status, **{k: v for k, v in counts.items()})
    return report
