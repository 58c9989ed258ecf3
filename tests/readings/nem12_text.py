"""Small builders for NEM12 test files, so each test shows only the records it is about."""

from __future__ import annotations

from collections.abc import Iterable

from shared.readings.model import IntervalDay

HEADER = "100,NEM12,202401021030,MDP1,RETAILER1"
END = "900"
UPDATED = "20240102103000"


def block(
    nmi: str = "NMI0000001",
    suffix: str = "E1",
    *,
    uom: str = "kWh",
    minutes: int | str = 30,
    configuration: str | None = None,
    serial: str = "MTR001",
    register: str = "1",
) -> str:
    return f"200,{nmi},{configuration or suffix},{register},{suffix},N1,{serial},{uom},{minutes},"


def day(
    date: str = "20240101",
    value: str = "0.5",
    *,
    minutes: int = 30,
    values: list[str] | None = None,
    quality: str = "A",
    reason: str = "",
    updated: str = UPDATED,
) -> str:
    values = values if values is not None else [value] * (1440 // minutes)
    return f"300,{date},{','.join(values)},{quality},{reason},,{updated},"


def nem12(*records: str, newline: str = "\n") -> str:
    """A whole file: header, the records, end."""
    return newline.join([HEADER, *records, END]) + newline


def day_rows(days: Iterable[IntervalDay]) -> list[tuple[object, ...]]:
    """Everything a parsed channel-day holds, in comparable form (values as a list)."""
    return [
        (
            d.nmi,
            d.suffix,
            d.day,
            d.source_line,
            d.values_wh.tolist(),
            "".join(d.quality),
            d.quality_method,
            d.reason_code,
            d.reason_description,
            d.update_datetime,
            d.msats_load_datetime,
            d.quality_details,
            d.b2b_details,
            d.value_unit,
        )
        for d in days
    ]
