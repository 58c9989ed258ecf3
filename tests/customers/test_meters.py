"""Meters and registers, and the rule that a meter is in one place at a time."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from shared.customers.errors import InvalidRecord, RecordConflict
from shared.customers.meter import Meter

SYDNEY = ZoneInfo("Australia/Sydney")
JULY = datetime(2026, 7, 1, tzinfo=SYDNEY)
OCTOBER = datetime(2026, 10, 15, 9, 30, tzinfo=SYDNEY)

BASIC = {
    "serial": "MTR-D110231",
    "meterKind": "accumulation",
    "registers": [
        {"registerId": "E1", "unit": "kWh", "dialCount": 5, "multiplier": "1"},
        {"registerId": "E2", "unit": "kWh", "dialCount": 5, "multiplier": "40"},
    ],
}


def meter() -> Meter:
    return Meter.from_document(BASIC)


def problems(error: pytest.ExceptionInfo[InvalidRecord]) -> dict[str, str]:
    return {e.field: e.message for e in error.value.errors}


def test_registers_know_their_rollover():
    e1, e2 = meter().registers
    assert (e1.rollover, e2.multiplier) == (Decimal(100000), Decimal(40))


def test_a_bad_meter_names_each_field():
    with pytest.raises(InvalidRecord) as raised:
        Meter.from_document(
            {
                "serial": "MTR/1",
                "meterKind": "interval",
                "registers": [
                    {"registerId": "E1", "unit": "kWh", "dialCount": 0},
                    {"registerId": "E2", "unit": "furlongs", "dialCount": 5, "multiplier": 1.5},
                    {"registerId": "B1", "unit": "kWh", "dialCount": 5},
                    {"registerId": "B1", "unit": "kWh", "dialCount": 6},
                ],
            }
        )
    assert set(problems(raised)) == {
        "serial",
        "intervalMinutes",
        "registers.0.dialCount",
        "registers.1.unit",
        "registers.1.multiplier",
        "registers.3.registerId",
    }


def test_an_accumulation_meter_has_no_interval_length():
    with pytest.raises(InvalidRecord) as raised:
        Meter.from_document({**BASIC, "intervalMinutes": 30})
    assert list(problems(raised)) == ["intervalMinutes"]


def test_installed_in_one_place_then_moved_after_removal():
    first = meter().install(service_point_id="4102003311", at=JULY, first_reads={"E1": "10234", "E2": 5})
    assert first.current is not None and first.current.service_point_id == "4102003311"
    assert first.to_document()["servicePointId"] == "4102003311"

    with pytest.raises(RecordConflict) as raised:
        first.install(service_point_id="4102009902", at=OCTOBER, first_reads={})
    assert "installed at service point 4102003311" in problems(raised)["serial"]

    removed = first.remove(service_point_id="4102003311", at=OCTOBER, final_reads={"E1": "10546.5", "E2": "7"})
    assert removed.current is None and removed.to_document()["servicePointId"] is None
    moved = removed.install(service_point_id="4102009902", at=OCTOBER, first_reads={})
    assert [i.service_point_id for i in moved.installations] == ["4102003311", "4102009902"]


def test_a_backdated_installation_may_not_overlap_an_earlier_one():
    installed = meter().install(service_point_id="4102003311", at=OCTOBER, first_reads={})
    with pytest.raises(RecordConflict):
        installed.install(service_point_id="4102009902", at=JULY, first_reads={})


def test_the_same_installation_twice_is_a_retry_not_a_conflict():
    once = meter().install(service_point_id="4102003311", at=JULY, first_reads={"E1": "10234"})
    assert once.install(service_point_id="4102003311", at=JULY, first_reads={"E1": "10234.0"}) is once
    removed = once.remove(service_point_id="4102003311", at=OCTOBER, final_reads={"E1": "1", "E2": "2"})
    assert removed.remove(service_point_id="4102003311", at=OCTOBER, final_reads={"E1": "1", "E2": "2"}) is removed


def test_reads_must_fit_the_dials_and_a_removal_reads_every_register():
    with pytest.raises(InvalidRecord) as raised:
        meter().install(service_point_id="4102003311", at=JULY, first_reads={"E1": "100000", "E9": "1", "E2": "-1"})
    assert set(problems(raised)) == {"firstReads.E1", "firstReads.E9", "firstReads.E2"}
    installed = meter().install(service_point_id="4102003311", at=JULY, first_reads={})
    with pytest.raises(InvalidRecord) as raised:
        installed.remove(service_point_id="4102003311", at=OCTOBER, final_reads={"E1": "1"})
    assert list(problems(raised)) == ["finalReads.E2"]


def test_a_removal_must_be_where_and_after_the_meter_went_in():
    installed = meter().install(service_point_id="4102003311", at=OCTOBER, first_reads={})
    reads = {"E1": "1", "E2": "1"}
    with pytest.raises(RecordConflict, match="not at service point 4102009902"):
        installed.remove(service_point_id="4102009902", at=OCTOBER, final_reads=reads)
    with pytest.raises(RecordConflict, match="after the installation"):
        installed.remove(service_point_id="4102003311", at=JULY, final_reads=reads)


def test_a_time_without_offset_is_refused():
    with pytest.raises(ValueError, match="no UTC offset"):
        meter().install(service_point_id="4102003311", at=datetime(2026, 7, 1), first_reads={})


def test_a_retired_meter_is_not_installed():
    retired = Meter.from_document({**BASIC, "status": "retired"})
    with pytest.raises(RecordConflict, match="retired"):
        retired.install(service_point_id="4102003311", at=JULY, first_reads={})
