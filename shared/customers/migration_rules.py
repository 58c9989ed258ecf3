"""How the migration's rows name service points and installation times. The rules across
records that the migration and the service share are in ``record_rules``."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from shared.customers import fields
from shared.customers.metering_ids import parse_nmi

_NMI_WITH_CHECKSUM = re.compile(r"^[A-HJ-NP-Z0-9]{11}$")


def point_key(text: str) -> str:
    """The service point id a row names, as stored: an NMI keeps its first ten characters
    (its eleventh is the checksum, checked where the service point itself is read)."""
    value = text.replace(" ", "").upper()
    return value[:10] if _NMI_WITH_CHECKSUM.match(value) else value


def point_reference(text: str) -> str:
    """A service point id as another row names it: an NMI given with its checksum must have
    the right one (ValueError otherwise), and is then known by its first ten characters."""
    value = text.replace(" ", "").upper()
    return parse_nmi(value).value if _NMI_WITH_CHECKSUM.match(value) else value


def installed_at(text: str, time_zone: str) -> datetime:
    """An ISO date-time with its offset, or a date: the start of that day at the service point."""
    if len(text) == 10:
        day = fields.iso_date(text)
        return datetime.combine(day, time.min, tzinfo=ZoneInfo(time_zone))
    return fields.aware_datetime(text)
