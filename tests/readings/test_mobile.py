from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from shared.readings.mobile import MAX_BATCH_ITEMS, BatchTooLarge, ItemError, validate_register_reads
from shared.readings.model import RegisterRead

NOW = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
BRISBANE = timezone(timedelta(hours=10))


def item(**changes: Any) -> dict[str, Any]:
    read = {
        "meterSerial": "MTR001",
        "register": "E1",
        "value": "012345.6",
        "readAt": "2024-05-01T11:30:00+10:00",
        "readType": "actual",
        "readerId": "staff-17",
    }
    read.update(changes)
    return {k: v for k, v in read.items() if v is not DROP}


DROP = object()


def errors_of(*items: Any) -> list[tuple[int, str | None]]:
    _, errors = validate_register_reads(list(items), now=NOW)
    return [(e.index, e.field) for e in errors]


def only_error(changes: dict[str, Any]) -> ItemError:
    reads, errors = validate_register_reads([item(**changes)], now=NOW)
    assert reads == []
    (error,) = errors
    return error


# -- good batches ---------------------------------------------------------------------------


def test_a_good_read_becomes_a_register_read() -> None:
    reads, errors = validate_register_reads([item(photoRef="photos/2024/05/01/abc.jpg")], now=NOW)

    assert errors == []
    assert reads == [
        RegisterRead(
            meter_serial="MTR001",
            register_id="E1",
            value=Decimal("12345.6"),
            read_at=datetime(2024, 5, 1, 11, 30, tzinfo=BRISBANE),
            read_type="actual",
            reader_id="staff-17",
            photo_ref="photos/2024/05/01/abc.jpg",
        )
    ]
    assert reads[0].read_at.utcoffset() == timedelta(hours=10)  # the reader's offset is kept


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("000777", Decimal("777")),
        ("777.50", Decimal("777.50")),
        (777, Decimal("777")),
        (12345.6, Decimal("12345.6")),  # a JSON number decoded as float, taken by its repr
        (0.1, Decimal("0.1")),
        (Decimal("9999999999.999"), Decimal("9999999999.999")),
        ("0", Decimal("0")),
    ],
)
def test_values_as_strings_or_numbers_become_exact_decimals(value: Any, expected: Decimal) -> None:
    reads, errors = validate_register_reads([item(value=value)], now=NOW)

    assert errors == []
    assert reads[0].value == expected and str(reads[0].value) == str(expected)


def test_a_batch_decoded_with_decimal_floats_keeps_every_digit() -> None:
    batch = json.loads(
        '[{"meterSerial": "M1", "register": "E1", "value": 1234567890.123456789,'
        ' "readAt": "2024-05-01T01:00:00Z", "readType": "customer", "readerId": "r1"}]',
        parse_float=Decimal,
    )

    reads, errors = validate_register_reads(batch, now=NOW)

    assert errors == [] and reads[0].value == Decimal("1234567890.123456789")


@pytest.mark.parametrize("read_type", ["actual", "customer", "estimated"])
def test_each_read_type_is_accepted(read_type: str) -> None:
    reads, _ = validate_register_reads([item(readType=read_type)], now=NOW)

    assert reads[0].read_type == read_type


@pytest.mark.parametrize(
    "read_at",
    ["2024-05-01T01:00:00Z", "2024-05-01T02:05:00+00:00", "2024-05-01T12:04:59.999+10:00", "2019-01-01T00:00:00+08:00"],
)
def test_read_times_with_an_offset_up_to_five_minutes_ahead_are_accepted(read_at: str) -> None:
    reads, errors = validate_register_reads([item(readAt=read_at)], now=NOW)

    assert errors == [] and reads[0].read_at.tzinfo is not None


def test_photo_ref_may_be_absent_or_null() -> None:
    reads, errors = validate_register_reads([item(), item(photoRef=None, register="E2")], now=NOW)

    assert errors == [] and [r.photo_ref for r in reads] == [None, None]


def test_text_fields_are_trimmed() -> None:
    reads, _ = validate_register_reads([item(meterSerial="  MTR001 ")], now=NOW)

    assert reads[0].meter_serial == "MTR001"


# -- bad items ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"value": "-1"}, "value", "negative"),
        ({"value": -1}, "value", "negative"),
        ({"value": "12345678901"}, "value", "more than 10 integer digits"),
        ({"value": 10_000_000_000}, "value", "more than 10 integer digits"),
        ({"value": "1E3"}, "value", "not a decimal number"),
        ({"value": "1,5"}, "value", "not a decimal number"),
        ({"value": ""}, "value", "not a decimal number"),
        ({"value": ".5"}, "value", "not a decimal number"),
        ({"value": True}, "value", "not boolean"),
        ({"value": None}, "value", "not null"),
        ({"value": float("nan")}, "value", "not a number"),
        ({"value": 0.1 + 0.2}, "value", "send it as a string"),  # 0.30000000000000004: 17 digits
        ({"readAt": "2024-05-01T11:30:00"}, "readAt", "no UTC offset"),
        ({"readAt": "2024-05-01"}, "readAt", "no UTC offset"),
        ({"readAt": "yesterday"}, "readAt", "not an ISO 8601"),
        ({"readAt": 1714521600}, "readAt", "must be an ISO 8601 string"),
        ({"readAt": "2024-05-01T02:05:01Z"}, "readAt", "in the future"),
        ({"readType": "Actual"}, "readType", "not one of actual, customer, estimated"),
        ({"readType": "substituted"}, "readType", "not one of"),
        ({"readerId": "   "}, "readerId", "blank"),
        ({"meterSerial": 12345}, "meterSerial", "must be a string"),
        ({"register": "R" * 65}, "register", "longer than 64"),
        ({"photoRef": ""}, "photoRef", "blank"),
    ],
)
def test_a_bad_field_is_named_with_the_reason(changes: dict[str, Any], field: str, says: str) -> None:
    error = only_error(changes)

    assert (error.index, error.field) == (0, field)
    assert says in error.message


def test_unknown_fields_are_refused_by_name() -> None:
    reads, errors = validate_register_reads([item(status="approved", multiplier=2)], now=NOW)

    assert reads == []
    assert [(e.field, e.message) for e in errors] == [("multiplier", "unknown field"), ("status", "unknown field")]


def test_missing_fields_are_each_named() -> None:
    errors = errors_of(item(value=DROP, readAt=DROP))

    assert errors == [(0, "readAt"), (0, "value")]


def test_every_problem_of_an_item_is_reported_at_once() -> None:
    errors = errors_of(item(value="-5", readType="guess", extra=1))

    assert sorted(errors, key=str) == [(0, "extra"), (0, "readType"), (0, "value")]


def test_errors_carry_the_index_and_good_items_still_pass() -> None:
    reads, errors = validate_register_reads(
        [item(), item(value="abc", register="E2"), "not an object", item(register="E3")], now=NOW
    )

    assert [r.register_id for r in reads] == ["E1", "E3"]
    assert [(e.index, e.field) for e in errors] == [(1, "value"), (2, None)]
    assert errors[1].to_json() == {"index": 2, "field": None, "message": "an item must be an object, not str"}


def test_the_same_read_twice_in_a_batch_is_refused_the_second_time() -> None:
    same_moment_other_offset = item(readAt="2024-05-01T01:30:00+00:00")

    reads, errors = validate_register_reads([item(), same_moment_other_offset], now=NOW)

    assert len(reads) == 1
    assert [(e.index, e.field, e.message) for e in errors] == [
        (1, None, "the same meter, register and readAt as item 0")
    ]


def test_an_oversized_batch_is_refused_whole() -> None:
    with pytest.raises(BatchTooLarge):
        validate_register_reads([item()] * (MAX_BATCH_ITEMS + 1), now=NOW)


def test_a_naive_clock_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_register_reads([item()], now=datetime(2024, 5, 1, 2, 0))
