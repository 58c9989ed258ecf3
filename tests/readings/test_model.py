from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from shared.readings.model import NEM_TIME, IntervalDay, ReadingError


def interval_day(**changes: object) -> IntervalDay:
    fields: dict[str, object] = {
        "nmi": "NMI0000001",
        "suffix": "E1",
        "register_id": "1",
        "meter_serial": "MTR001",
        "uom": "kWh",
        "value_unit": "Wh",
        "is_energy": True,
        "interval_minutes": 30,
        "day": date(2024, 7, 1),
        "values_wh": np.arange(48),
        "quality": ["A"] * 48,
        "quality_method": "A",
        "reason_code": None,
        "reason_description": "",
        "update_datetime": datetime(2024, 7, 2, 10, tzinfo=NEM_TIME),
        "source_line": 3,
    }
    return IntervalDay(**{**fields, **changes})  # type: ignore[arg-type]


def test_an_interval_day_copies_its_arrays_and_freezes_them() -> None:
    values = np.arange(48)

    built = interval_day(values_wh=values)
    values[0] = 99

    assert built.values_wh[0] == 0 and built.values_wh.dtype == np.int64
    assert not built.values_wh.flags.writeable and not built.quality.flags.writeable
    assert built.total == sum(range(48))


def test_start_utc_is_midnight_market_time_whatever_the_season() -> None:
    winter = interval_day(day=date(2024, 7, 1))
    summer = interval_day(day=date(2024, 1, 1))

    assert winter.start_utc == datetime(2024, 6, 30, 14, tzinfo=UTC)
    assert summer.start_utc == datetime(2023, 12, 31, 14, tzinfo=UTC)
    assert (summer.end_utc - summer.start_utc).total_seconds() == 86_400


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"values_wh": np.arange(47)}, "values_wh has 47 entries, expected 48"),
        ({"quality": ["A"] * 96}, "quality has 96 entries, expected 48"),
        ({"interval_minutes": 10}, "not 5, 15 or 30"),
        ({"update_datetime": datetime(2024, 7, 2, 10)}, "timezone-aware"),
    ],
)
def test_an_inconsistent_interval_day_cannot_be_built(changes: dict[str, object], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        interval_day(**changes)


def test_a_reading_error_reads_well_without_a_line() -> None:
    error = ReadingError("x.zip", None, None, None, "unreadable zip")

    assert str(error) == "x.zip: unreadable zip"
    assert error.record is None
