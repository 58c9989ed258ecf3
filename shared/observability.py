"""Structured logs that carry one correlation id from an HTTP request through every
message it causes, so an operator can follow one reading or one payment end to end.

The id lives in a context variable: the HTTP middleware sets it from the caller's
``X-Correlation-ID`` (or makes one), the bus copies it onto every message sent, and the
dispatcher sets it again from each message it delivers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

CORRELATION_HEADER = "X-Correlation-ID"


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def current_correlation_id() -> str | None:
    return _correlation_id.get()


@contextlib.contextmanager
def correlation(correlation_id: str | None) -> Iterator[str]:
    """Run a block under a correlation id (a new one when None is given)."""
    cid = correlation_id or new_correlation_id()
    token = _correlation_id.set(cid)
    try:
        yield cid
    finally:
        _correlation_id.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what Application Insights and `jq` both read well."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlationId": getattr(record, "correlation_id", None),
        }
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


_base_factory = logging.getLogRecordFactory()


def _record_with_correlation(*args: object, **kwargs: object) -> logging.LogRecord:
    # Stamped when the record is made, not when it is formatted: a handler may format it
    # later, on another thread, outside the request's context.
    record = _base_factory(*args, **kwargs)  # type: ignore[arg-type]
    if not hasattr(record, "correlation_id"):
        record.correlation_id = current_correlation_id()
    return record


if not getattr(logging.getLogRecordFactory(), "_gridledger", False):
    _record_with_correlation._gridledger = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(_record_with_correlation)


def configure_logging(level: str = "INFO", *, stream: object | None = None) -> None:
    """JSON logs on the root logger; safe to call more than once."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_gridledger", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter())
    handler._gridledger = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


def log_event(logger: logging.Logger, message: str, level: int = logging.INFO, **fields: object) -> None:
    """Log with structured fields (they become top-level JSON keys)."""
    logger.log(level, message, extra={"fields": fields})
