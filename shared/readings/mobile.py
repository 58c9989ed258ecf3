"""Register reads sent by field staff from the mobile app, checked before anything is stored.

A batch is a JSON list of reads. Each item is checked on its own and every problem is
reported with the item's index and field, so the app can point the reader at the exact
entry to fix. Only items without any problem become ``RegisterRead``; whether a batch with
errors is stored in part or refused whole is the caller's choice.

Values arrive as strings (preferred) or JSON numbers. A number the JSON decoder made into
a float is accepted only if its shortest repr has at most 15 significant digits: every
decimal literal that short survives the trip through a double unchanged, so nothing is
invented; longer ones must be sent as strings. (Decoding with ``parse_float=Decimal``
avoids floats altogether.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast, get_args

from shared.readings.model import ReadType, RegisterRead

MAX_BATCH_ITEMS = 1000
MAX_TEXT_CHARS = 64  # serials, register ids, reader ids, photo references
MAX_INTEGER_DIGITS = 10
CLOCK_SKEW = timedelta(minutes=5)  # phones' clocks run ahead; more than this is a wrong date
READ_TYPES: tuple[str, ...] = get_args(ReadType)

_DECIMAL = re.compile(r"\d+(?:\.\d+)?\Z")  # no sign, no exponent, digits both sides of a point
_FIELDS = {"meterSerial", "register", "value", "readAt", "readType", "readerId", "photoRef"}
_REQUIRED = _FIELDS - {"photoRef"}


@dataclass(frozen=True)
class ItemError:
    index: int  # position of the item in the batch
    field: str | None  # None when the item as a whole is wrong
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


class BatchTooLarge(ValueError):
    """More items than one request may carry: refuse the whole batch (HTTP 413)."""


class _Invalid(ValueError):
    pass


def validate_register_reads(
    items: list[dict[str, Any]], *, now: datetime
) -> tuple[list[RegisterRead], list[ItemError]]:
    """Valid reads, and the problems of the others. ``now`` is the receiving server's clock."""
    if not isinstance(items, list):
        raise TypeError(f"a batch is a list of reads, not {_json_type(items)}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if len(items) > MAX_BATCH_ITEMS:
        raise BatchTooLarge(f"{len(items)} items in one batch; at most {MAX_BATCH_ITEMS}")
    reads: list[RegisterRead] = []
    errors: list[ItemError] = []
    seen: dict[tuple[str, str, datetime], int] = {}
    for index, item in enumerate(items):
        problems = list(_item_problems(index, item, now))
        if problems:
            errors.extend(problems)
            continue
        read = _to_read(item, now)
        key = (read.meter_serial, read.register_id, read.read_at)
        if key in seen:
            # An app retry after a lost response sends the same read twice in one batch.
            errors.append(ItemError(index, None, f"the same meter, register and readAt as item {seen[key]}"))
            continue
        seen[key] = index
        reads.append(read)
    return reads, errors


def _item_problems(index: int, item: Any, now: datetime) -> list[ItemError]:
    if not isinstance(item, dict):
        return [ItemError(index, None, f"an item must be an object, not {type(item).__name__}")]
    problems = [ItemError(index, name, "unknown field") for name in sorted(set(item) - _FIELDS, key=str)]
    problems += [ItemError(index, name, "missing") for name in sorted(_REQUIRED - set(item))]
    checks: dict[str, Callable[[Any], object]] = {
        "meterSerial": _text,
        "register": _text,
        "readerId": _text,
        "value": _dial_value,
        "readAt": lambda raw: _read_at(raw, now),
        "readType": _read_type,
        "photoRef": lambda raw: None if raw is None else _text(raw),
    }
    for name, check in checks.items():
        if name in item:
            try:
                check(item[name])
            except _Invalid as exc:
                problems.append(ItemError(index, name, str(exc)))
    return problems


def _to_read(item: dict[str, Any], now: datetime) -> RegisterRead:
    photo = item.get("photoRef")
    return RegisterRead(
        meter_serial=_text(item["meterSerial"]),
        register_id=_text(item["register"]),
        value=_dial_value(item["value"]),
        read_at=_read_at(item["readAt"], now),
        read_type=_read_type(item["readType"]),
        reader_id=_text(item["readerId"]),
        photo_ref=None if photo is None else _text(photo),
    )


def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise _Invalid(f"must be a string, not {_json_type(raw)}")
    text = raw.strip()
    if not text:
        raise _Invalid("blank")
    if len(text) > MAX_TEXT_CHARS:
        raise _Invalid(f"longer than {MAX_TEXT_CHARS} characters")
    return text


def _dial_value(raw: Any) -> Decimal:
    """The register as read: a non-negative decimal of at most 10 integer digits."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        raise _Invalid(f"must be a number or a numeric string, not {_json_type(raw)}")
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise _Invalid(f"{raw!r} is not a number")
        text = repr(raw)
        if "e" in text or sum(c.isdigit() for c in text.lstrip("-0.")) > 15:
            raise _Invalid(f"{text} is too long for a JSON number; send it as a string")
    elif isinstance(raw, Decimal):
        if not raw.is_finite():
            raise _Invalid(f"{raw} is not a number")
        text = format(raw, "f")
    else:
        text = str(raw).strip()
    if text.startswith("-"):
        raise _Invalid(f"negative value {text[:40]!r}")
    if not _DECIMAL.match(text):
        raise _Invalid(f"{text[:40]!r} is not a decimal number like 012345.6")
    if len(text) > MAX_TEXT_CHARS:
        raise _Invalid(f"longer than {MAX_TEXT_CHARS} characters")
    value = Decimal(text)
    if value >= 10**MAX_INTEGER_DIGITS:
        raise _Invalid(f"more than {MAX_INTEGER_DIGITS} integer digits")
    return value


def _read_at(raw: Any, now: datetime) -> datetime:
    if not isinstance(raw, str):
        raise _Invalid(f"must be an ISO 8601 string, not {_json_type(raw)}")
    try:
        read_at = datetime.fromisoformat(raw)
    except ValueError:
        raise _Invalid(f"{raw[:40]!r} is not an ISO 8601 date and time") from None
    if read_at.tzinfo is None:
        raise _Invalid("no UTC offset: a read time must say where it was taken, e.g. +10:00")
    if read_at > now + CLOCK_SKEW:
        raise _Invalid(f"{raw} is in the future")
    return read_at


def _read_type(raw: Any) -> ReadType:
    if raw not in READ_TYPES:
        raise _Invalid(f"{raw!r} is not one of {', '.join(READ_TYPES)}")
    return cast(ReadType, raw)


def _json_type(raw: Any) -> str:
    return {dict: "object", list: "array", bool: "boolean", type(None): "null"}.get(type(raw), type(raw).__name__)
