"""The fast loop takes a V day's 400s (in interval order), clean 500s and the 200 or 900
that closes a day without leaving it; everything else goes the careful way. Either way the
result must be exactly what the careful path (every line on its own) gives."""

from __future__ import annotations

from datetime import datetime

import pytest

from shared.readings import nem12 as nem12_module
from shared.readings.model import NEM_TIME
from shared.readings.nem12 import ChannelDays, iter_nem12, parse_nem12
from tests.readings.nem12_text import block, day, nem12
from tests.readings.test_nem12_fast_path import HALF_HOURS, careful, described

IN_ORDER = ["400,1,10,A,,", "400,11,20,S14,76,", "400,21,48,E52,,"]


def objects_made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the careful way's day objects made from fast-path days (one per day the fast
    loop could not finish on its own), so a test cannot pass only because every 400 and 500
    went the careful way."""
    made: list[int] = []
    taken = nem12_module._PendingDay.taken.__func__  # type: ignore[attr-defined]

    def spy(cls: type, *args: object) -> object:
        made.append(1)
        return taken(cls, *args)

    monkeypatch.setattr(nem12_module._PendingDay, "taken", classmethod(spy))
    return made


def v_day(date: str, *quality: str, value: str = "0.250") -> list[str]:
    return [day(date, value=value, quality="V"), *(quality or IN_ORDER)]


TRICKY = {
    "v-days-closed-by-300-200-and-900": nem12(
        block("NMI0000001"),
        *v_day("20240101"),
        day("20240102", value="1.000"),
        *v_day("20240103"),
        block("NMI0000002"),
        *v_day("20240101"),
        "500,O,SO123456,20240101120000,001234",
    ),
    "400s-out-of-order": nem12(
        block("NMI0000001"),
        *v_day("20240101", "400,21,48,E52,,", "400,1,10,A,,", "400,11,20,S14,76,"),
        day("20240102", value="1.000"),
    ),
    "400s-with-a-gap-an-overlap-and-past-the-end": nem12(
        block("NMI0000001"),
        *v_day("20240101", "400,1,10,A,,", "400,21,48,E52,,"),
        *v_day("20240102", "400,1,10,A,,", "400,5,48,E52,,"),
        *v_day("20240103", "400,1,10,A,,", "400,11,49,E52,,"),
        *v_day("20240104", "400,1,10,A,,"),
        block("NMI0000002"),
        *v_day("20240101", "400,1,47,A,,"),
    ),
    "bad-400s-and-500s": nem12(
        block("NMI0000001"),
        *v_day("20240101", "400,1,10,X,,", "400,11,48,A,,"),
        *v_day("20240102", "400,1,10,V,,", "400,11,48,A,,"),
        day("20240103", value="1.000"),
        "500,Z,SO1,,",
        day("20240104", value="1.000"),
        '500,O,"SO,1",20240104120000,',
        day("20240105", value="1.000"),
        "500,O,SO1,2024,",
        day("20240106", value="1.000"),
        "500,O",
        day("20240107", value="1.000"),
    ),
    "500s-then-400s-on-a-plain-day": nem12(
        block("NMI0000001"),
        day("20240101", value="1.000", quality="E52"),
        "500,O,SO1,,",
        "400,1,48,E52,,",
        "500,O,SO2,,",
        day("20240102", value="1.000"),
        "500,O,SO3,,",
        "400,1,48,E52,,",
        day("20240103", value="1.000"),
    ),
    "records-without-a-day": nem12(
        block("NMI0000001"),
        "500,O,SO1,,",
        "400,1,48,A,,",
        day("20240101", value="1.000"),
        block("NMI0000002", uom="XWH"),
        *v_day("20240101"),
        "500,O,SO1,,",
        block("NMI0000003"),
        "junk",
        *v_day("20240101"),
        "junk",
        day("20240102", value="1.000"),
    ),
    "quoted-200-after-an-open-day": nem12(
        block("NMI0000001"),
        *v_day("20240101"),
        '200,NMI0000002,"E1",1,E1,N1,MTR001,kWh,30,',
        day("20240101", value="1.000"),
    ),
    "two-versions-of-a-v-day": nem12(
        block("NMI0000001"),
        *v_day("20240101"),
        *v_day("20240101", "400,1,20,A,,", "400,21,48,E52,,"),  # same stamp, other quality
        *v_day("20240102"),
        *v_day("20240102"),  # the same again: a repeat
    ),
}


@pytest.mark.parametrize("chunk_lines", [4096, 2, 3, 5])
@pytest.mark.parametrize("text", TRICKY.values(), ids=TRICKY.keys())
def test_the_fast_loop_gives_exactly_what_the_careful_path_gives(
    text: str, chunk_lines: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks leave a day open at a chunk's end, its 400s and 500s in the next chunk.
    monkeypatch.setattr(nem12_module, "CHUNK_LINES", chunk_lines)

    fast = parse_nem12(text, source="test.csv")

    assert described(fast) == described(careful(text, monkeypatch))


def test_v_days_and_500s_stay_in_the_fast_loop_with_their_quality_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    made = objects_made(monkeypatch)

    result = parse_nem12(TRICKY["v-days-closed-by-300-200-and-900"], source="test.csv")

    assert made == []  # every 400 and 500 taken in the loop, every day closed there
    assert result.status == "accepted"
    first, plain, third, other = result.days
    assert "".join(first.quality) == "A" * 10 + "S" * 10 + "E" * 28
    assert [(q.start_interval, q.end_interval, q.quality_method) for q in first.quality_details] == [
        (1, 10, "A"),
        (11, 20, "S14"),
        (21, 48, "E52"),
    ]
    assert first.values_wh.tolist() == [250] * HALF_HOURS
    assert ("".join(plain.quality), plain.quality_details) == ("A" * HALF_HOURS, ())
    assert "".join(third.quality) == "".join(first.quality)  # closed by the 200
    assert other.nmi == "NMI0000002"  # closed by the 900, with its 500
    assert [(b.trans_code, b.ret_service_order, b.read_datetime) for b in other.b2b_details] == [
        ("O", "SO123456", datetime(2024, 1, 1, 12, tzinfo=NEM_TIME))
    ]


def test_a_day_the_loop_cannot_finish_becomes_an_object_and_is_read_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = objects_made(monkeypatch)

    result = parse_nem12(TRICKY["400s-out-of-order"], source="test.csv")

    assert made == [1]  # the V day, at its first 400 out of order
    variable, _ = result.days
    assert "".join(variable.quality) == "A" * 10 + "S" * 10 + "E" * 28
    assert [q.start_interval for q in variable.quality_details] == [21, 1, 11]  # as the file has them


def test_a_v_day_without_every_interval_covered_is_rejected_naming_the_gap() -> None:
    result = parse_nem12(TRICKY["400s-with-a-gap-an-overlap-and-past-the-end"], source="test.csv")

    assert result.days == []
    assert [(e.line, e.record, e.field) for e in result.errors] == [
        (3, "300", "QualityMethod"),  # intervals 11-20 have no 400
        (8, "400", "StartInterval"),  # 5-48 overlaps 1-10
        (11, "400", "EndInterval"),  # 49 is past the day's 48
        (12, "300", "QualityMethod"),  # only 1-10, closed by the 200
        (15, "300", "QualityMethod"),  # only 1-47, closed by the 900
    ]
    assert "none for intervals 11-20" in result.errors[0].message
    assert "none for intervals 11-48" in result.errors[3].message
    assert "none for intervals 48 " in result.errors[4].message


def test_bad_400s_and_500s_reject_their_day_only() -> None:
    result = parse_nem12(TRICKY["bad-400s-and-500s"], source="test.csv")

    assert [(e.line, e.record, e.field) for e in result.errors] == [
        (4, "400", "QualityMethod"),  # unknown flag X
        (7, "400", "QualityMethod"),  # V in a 400
        (10, "500", "TransCode"),
        (14, "500", "ReadDateTime"),  # 2024 is no DateTime14
    ]
    # The quoted 500 is read the careful way, its comma inside the quotes; "500,O" has
    # the two fields a 500 needs.
    assert [(d.day.day, [b.ret_service_order for b in d.b2b_details]) for d in result.days] == [
        (4, ["SO,1"]),
        (6, [""]),
        (7, []),
    ]


def test_two_v_days_differing_only_in_their_400s_are_told_apart_and_a_repeat_is_not() -> None:
    # Same values, same UpdateDateTime: only the quality from the 400s differs, so the
    # day's digest must include it (taken in the fast loop, it is set a chunk at a time).
    result = parse_nem12(TRICKY["two-versions-of-a-v-day"], source="test.csv")

    assert [(e.line, e.field) for e in result.errors] == [(7, "UpdateDateTime")]
    assert "differs from line 3 with the same UpdateDateTime; both rejected" in result.errors[0].message
    assert [(w.line, w.message.split(" ", 2)[2]) for w in result.warnings] == [(14, "repeats line 10; ignored")]
    assert [(d.day.day, d.source_line) for d in result.days] == [(2, 10)]


def test_the_stream_withdraws_the_first_of_two_conflicting_v_days() -> None:
    events = list(iter_nem12(TRICKY["two-versions-of-a-v-day"], source="test.csv"))

    kinds = [type(e).__name__ for e in events]
    assert kinds == ["ChannelDays", "DayWithdrawn", "Nem12Notice", "ChannelDays", "Nem12Notice"]
    first = events[0]
    assert isinstance(first, ChannelDays)
    assert "".join(first.quality[0]) == "A" * 10 + "S" * 10 + "E" * 28
    assert not first.quality.flags.writeable


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20240102051000", datetime(2024, 1, 2, 5, 10, 0, tzinfo=NEM_TIME)),
        ("202401020510", datetime(2024, 1, 2, 5, 10, 0, tzinfo=NEM_TIME)),
        ("20241231235959", datetime(2024, 12, 31, 23, 59, 59, tzinfo=NEM_TIME)),
        ("20240229000000", datetime(2024, 2, 29, tzinfo=NEM_TIME)),
        ("20230229000000", None),  # not a leap year
        ("20240102240000", None),  # hour 24
        ("20240102236000", None),  # minute 60
        ("20240102235960", None),  # second 60
        ("20241301000000", None),
        ("20240100000000", None),
        ("2024010205100", None),  # 13 digits
        ("2024010205100x", None),
        ("2024010205100²", None),  # a digit to str.isdigit, not to int
    ],
)
def test_date_times_read_by_hand(text: str, expected: datetime | None) -> None:
    try:
        moment: datetime | None = nem12_module._datetime(text, "UpdateDateTime", digits=(14, 12))
    except nem12_module._FieldError as problem:
        assert problem.field == "UpdateDateTime"
        assert "is not a date and time" in problem.message
        moment = None

    assert moment == expected
    assert moment is None or moment.tzinfo is NEM_TIME


@pytest.mark.parametrize(
    ("configuration", "suffix", "ok"),
    [
        ("E1B1", "E1", True),
        ("E1B1", "B1", True),
        ("E1B1Q1", "Q1", True),
        ("AE1B", "E1", False),  # found, but across two suffixes ("AE", "1B")
        ("AE1BE1", "E1", True),  # across two, then a suffix of its own
        ("AE1E1B", "E1", False),  # twice across two
        ("E1", "B1", False),
    ],
)
def test_the_suffix_must_be_one_of_the_configuration_s_by_hand(configuration: str, suffix: str, ok: bool) -> None:
    result = parse_nem12(
        nem12(block("NMI0000001", suffix=suffix, configuration=configuration), day("20240101")),
        source="test.csv",
    )

    assert [e.field for e in result.errors] == ([] if ok else ["NMISuffix"])
    assert len(result.days) == (1 if ok else 0)


def test_day_records_wait_in_lists_then_arrays_then_a_file_and_read_back_from_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(nem12_module._DayRecords, "WAITING", 3)
    monkeypatch.setattr(nem12_module._DayRecords, "IN_MEMORY", 6)
    records = nem12_module._DayRecords()
    big = 2**64 - 1  # a digest uses all 64 bits
    expected = [(20240102051000 + slot, 100 + slot, big - slot) for slot in range(12)]
    try:
        for start, stop in [(0, 2), (2, 3), (3, 7), (7, 8), (8, 11), (11, 12)]:
            stamps, lines, digests = zip(*expected[start:stop], strict=True)
            records.extend(stamps, lines, digests)
        # 3 settle at (2, 3); 4 more at (3, 7), and the 7 go to the file; 4 settle at
        # (8, 11) and stay in memory; the last waits.
        assert (len(records), records.on_disk, len(records.stamps), len(records.waiting[0])) == (12, 7, 4, 1)

        records.put(1, nem12_module._WITHDRAWN, 7, 9)  # in the file
        records.put(9, 20250101000000, 8, big)  # in memory (the waiting one settles first)
        assert (records.on_disk, len(records.stamps), len(records.waiting[0])) == (7, 5, 0)

        expected[1], expected[9] = (nem12_module._WITHDRAWN, 7, 9), (20250101000000, 8, big)
        assert [records.get(slot) for slot in range(12)] == expected
    finally:
        records.close()


@pytest.mark.parametrize("text", [TRICKY["two-versions-of-a-v-day"], TRICKY["v-days-closed-by-300-200-and-900"]])
def test_versions_are_placed_the_same_with_records_spilled_to_the_file(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = described(parse_nem12(text, source="test.csv"))
    monkeypatch.setattr(nem12_module._DayRecords, "WAITING", 1)
    monkeypatch.setattr(nem12_module._DayRecords, "IN_MEMORY", 1)

    assert described(parse_nem12(text, source="test.csv")) == expected


def test_a_later_version_finds_the_line_it_replaces_among_other_channels() -> None:
    # Every channel-day's stamp, line and digest wait to be settled into arrays: a day
    # that comes again must still find its own record, not another channel's.
    text = nem12(
        block("NMI0000001"),
        day("20240101", value="1.000"),  # line 3
        day("20240102", value="1.000"),  # line 4
        block("NMI0000002"),
        day("20240101", value="2.000"),  # line 6
        day("20240102", value="2.000"),  # line 7
        block("NMI0000001"),
        day("20240102", value="3.000", updated="20240103000000"),  # line 9
        block("NMI0000002"),
        day("20240101", value="2.000"),  # line 11: line 6 again
    )

    result = parse_nem12(text, source="test.csv")

    assert [(w.line, w.message.split(" ", 2)[2]) for w in result.warnings] == [
        (9, "replaces the older version at line 4"),
        (11, "repeats line 6; ignored"),
    ]
    assert sorted((d.nmi[-1], d.day.day, d.source_line) for d in result.days) == [
        ("1", 1, 3),
        ("1", 2, 9),
        ("2", 1, 6),
        ("2", 2, 7),
    ]


# -- tails read in parts, values read two digits at a time -----------------------------------


def test_a_tail_missing_from_the_cache_reuses_its_flags_and_reads_a_new_stamp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three days share their flags (S14, reason 45) but each has its own UpdateDateTime, as
    an MDP's run times do: each is a tail-cache miss that must still read every field."""
    text = nem12(
        block(),
        day("20240101", value="1.000", quality="S14", reason="45", updated="20240102031200"),
        day("20240102", value="1.000", quality="S14", reason="45", updated="20240103041500"),
        day("20240103", value="1.000", quality="S14", reason="45", updated="202401040516"),  # DateTime12
    )
    result = parse_nem12(text, source="test.csv")
    assert result.status == "accepted"
    assert [(d.quality_method, d.reason_code, d.update_datetime) for d in result.days] == [
        ("S14", 45, datetime(2024, 1, 2, 3, 12, 0, tzinfo=NEM_TIME)),
        ("S14", 45, datetime(2024, 1, 3, 4, 15, 0, tzinfo=NEM_TIME)),
        ("S14", 45, datetime(2024, 1, 4, 5, 16, 0, tzinfo=NEM_TIME)),
    ]
    assert described(result) == described(careful(text, monkeypatch))


def test_a_twelve_digit_stamp_orders_like_its_fourteen_digit_twin() -> None:
    """202401020312 is 20240102031200: the same day with both stamps and other values cannot
    be ordered (both rejected); a later stamp in either width replaces."""
    same = nem12(
        block(),
        day("20240101", value="1.000", updated="202401020312"),
        day("20240101", value="2.000", updated="20240102031200"),
    )
    result = parse_nem12(same, source="test.csv")
    assert (result.status, result.days) == ("rejected", [])
    assert [e.message for e in result.errors] == [
        "NMI0000001/E1 2024-01-01 differs from line 3 with the same UpdateDateTime; both rejected"
    ]
    later = nem12(
        block(),
        day("20240101", value="1.000", updated="20240102031259"),
        day("20240101", value="2.000", updated="202401020313"),
    )
    result = parse_nem12(later, source="test.csv")
    assert [(d.source_line, d.values_wh[0]) for d in result.days] == [(4, 2000)]


@pytest.mark.parametrize(
    ("flags", "field_name", "message"),
    [
        ("V,7", "ReasonCode", "a V day carries its reasons in 400 records, not in the 300"),
        ("S14,", "ReasonCode", "quality S needs a reason code"),
        ("A,110", "ReasonCode", "reason code '110' is not 0-109"),
        ("X,", "QualityMethod", "unknown quality flag 'X'"),
    ],
)
def test_bad_flags_on_a_new_stamp_are_worded_by_the_careful_way(flags: str, field_name: str, message: str) -> None:
    # The first day caches good flags; the second has a new stamp and bad flags.
    bad = day("20240102", value="1.000", updated="20240103010101").replace("A,,,", f"{flags},,", 1)
    result = parse_nem12(nem12(block(), day("20240101", value="1.000"), bad), source="test.csv")
    assert (result.status, [d.day.day for d in result.days]) == ("partial", [1])
    assert [(e.line, e.field, e.message) for e in result.errors] == [
        (4, field_name, f"{message} (channel-day rejected)")
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1.234"] * HALF_HOURS, [1234] * HALF_HOURS),  # four digits: two pairs
        (["12.345"] * HALF_HOURS, [12345] * HALF_HOURS),  # five: a lone digit, then two pairs
        (["987654.321"] * HALF_HOURS, [987654321] * HALF_HOURS),  # nine, the most int32 takes
        ([".123"] * HALF_HOURS, [123] * HALF_HOURS),  # the point first
        (["0.099", "9.900"] * (HALF_HOURS // 2), [99, 9900] * (HALF_HOURS // 2)),
    ],
)
def test_values_of_one_width_read_two_digits_at_a_time_by_hand(values: list[str], expected: list[int]) -> None:
    result = parse_nem12(nem12(block(), day("20240101", values=values)), source="test.csv")
    assert (result.status, result.days[0].values_wh.tolist()) == ("accepted", expected)


@pytest.mark.parametrize(("bad", "message"), [("1.2x4", "not a number"), ("1:234", "not a number")])
def test_a_non_digit_in_a_fixed_width_value_is_found_and_named(bad: str, message: str) -> None:
    values = ["1.234"] * HALF_HOURS
    values[17] = bad  # ":" is one past "9": the digit check must catch it too
    text = nem12(block(), day("20240101", values=values), day("20240102", value="1.000"))
    result = parse_nem12(text, source="test.csv")
    assert [d.day.day for d in result.days] == [2]
    assert [(e.line, e.field, e.message) for e in result.errors] == [
        (3, "IntervalValue18", f"interval value {bad!r} is {message} (channel-day rejected)")
    ]


def test_a_run_handed_over_holds_each_days_fields_in_file_order() -> None:
    # Three clean days (one with a 500) come out as one batch, column by column.
    text = nem12(
        block(),
        day("20240101", "1.000", updated="20240102010101"),
        day("20240102", "2.000", updated="20240103010101"),
        "500,O,S1,,",
        day("20240103", "3.000", updated="20240104010101"),
    )
    batches = [e for e in iter_nem12(text, source="t.csv") if isinstance(e, ChannelDays)]
    assert len(batches) == 1
    (batch,) = batches
    assert [d.isoformat() for d in batch.days] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert batch.source_lines == (3, 4, 6)
    assert batch.update_datetimes == tuple(datetime(2024, 1, d, 1, 1, 1, tzinfo=NEM_TIME) for d in (2, 3, 4))
    assert batch.values[:, 0].tolist() == [1000, 2000, 3000]
    assert batch.quality_details == ((), (), ())
    assert [len(b) for b in batch.b2b_details] == [0, 1, 0]
    assert batch.b2b_details[1][0].trans_code == "O"


@pytest.mark.parametrize("end", ["49", "289", "999999999", "12345678901234567890"])
def test_a_400_ending_past_the_day_is_worded_not_a_crash(end: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The fast path once built the 400's letters, one per interval, before checking the end
    # against the day: a huge EndInterval overflowed (or ate memory) instead of being named.
    text = nem12(block(), day("20240101", quality="V"), f"400,1,{end},A,,", day("20240102"))
    result = parse_nem12(text, source="test.csv")
    assert result.status == "partial"
    assert [d.day.isoformat() for d in result.days] == ["2024-01-02"]
    (error,) = result.errors
    assert (error.line, error.record_type, error.field) == (4, "400", "EndInterval")
    assert error.message == (f"{end!r} is not an interval number from 1 to 48 (channel-day rejected: 300 at line 3)")
    assert described(result) == described(careful(text, monkeypatch))
