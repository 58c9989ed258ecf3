"""The NEM12 stream: the same days and errors as parse_nem12, yielded as they are read,
without holding the file (or the days already handed over)."""

from __future__ import annotations

import gc
import io
import itertools
import weakref
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.nem12_generate import nem12_records
from shared.readings import nem12 as nem12_module
from shared.readings.model import ImportResult
from shared.readings.nem12 import (
    CHUNK_LINES,
    ChannelDays,
    DayWithdrawn,
    Nem12Notice,
    collect_nem12,
    iter_nem12,
    iter_nem12_file,
    parse_nem12,
)
from shared.readings.units import parse_unit, plain_decimal_rows_to_stored, to_stored_integer
from tests.readings.nem12_text import END, HEADER, block, day, day_rows, nem12

FIXTURES = Path(__file__).parent / "fixtures"
TWO_NMIS = (FIXTURES / "two_nmis_30min.csv").read_text()


def generated(nmis: int, minutes: int, *, single_register: bool = False) -> str:
    """A realistic file from the benchmark's generator: several registers per NMI (or E1
    only), E, S and V days with 400 records, 500 records."""
    records = nem12_records(nmis=nmis, days=31, minutes=minutes, single_register=single_register)
    return "\r\n".join([*records, "900"]) + "\r\n"


# A bad 200 (its block skipped), bad values (a chunk read again the careful way), a day
# repeated with another stamp, a V day with 400s, a junk line inside a day.
WITH_BAD_BLOCKS = nem12(
    block("NMI0000001"),
    day("20240101", value="0.125"),
    day("20240102", quality="V"),
    "400,1,20,A,,",
    "400,21,48,S14,76,",
    block("NMI000001"),  # a leading zero lost in a spreadsheet
    day("20240101"),
    block("NMI0000002", uom="Wh"),
    day("20240101", value="1500"),
    day("20240102", values=["1"] * 47 + ["-1"]),
    day("20240103", value="7"),
    "999,junk",
    day("20240104", value="8"),
    block("NMI0000001"),
    day("20240101", value="0.5", updated="20240105000000"),
)


def snapshot(result: ImportResult) -> tuple[object, ...]:
    """Everything parse_nem12 reports, in comparable form."""
    return result.status, day_rows(result.days), result.errors, result.warnings, result.sender, result.created_at


def streamed(text: str) -> tuple[list[object], ImportResult]:
    stream = iter_nem12(text, source="test.csv")
    events = list(stream)
    return events, stream.result


@pytest.mark.parametrize(
    "text",
    [TWO_NMIS, WITH_BAD_BLOCKS, generated(12, 30), generated(3, 5)],
    ids=["two-nmis", "bad-blocks", "generated-30min", "generated-5min"],
)
def test_the_stream_collects_to_exactly_what_parse_nem12_returns(text: str) -> None:
    events, verdict = streamed(text)
    kept = {}
    for event in events:
        if isinstance(event, ChannelDays):
            kept.update({(d.nmi, d.suffix, d.day): d for d in event.interval_days()})
        elif isinstance(event, DayWithdrawn):
            del kept[(event.nmi, event.suffix, event.day)]
    errors = [e.entry for e in events if isinstance(e, Nem12Notice) and e.severity == "error"]
    warnings = [e.entry for e in events if isinstance(e, Nem12Notice) and e.severity == "warning"]

    parsed = parse_nem12(text, source="test.csv")

    assert day_rows(kept.values()) == day_rows(parsed.days)
    assert (errors, warnings) == (parsed.errors, parsed.warnings) == (verdict.errors, verdict.warnings)
    assert verdict.status == parsed.status


@pytest.mark.parametrize(
    "text",
    [TWO_NMIS, WITH_BAD_BLOCKS, generated(12, 30), generated(3, 5)],
    ids=["two-nmis", "bad-blocks", "generated-30min", "generated-5min"],
)
def test_the_fast_path_gives_what_the_careful_path_gives(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = parse_nem12(text, source="test.csv")
    # Refusing every vectorised conversion sends every chunk back the careful way.
    monkeypatch.setattr(nem12_module, "_rows_to_stored", lambda rows, *, width, unit: None)

    careful = parse_nem12(text, source="test.csv")

    assert snapshot(fast) == snapshot(careful)


def test_bad_blocks_are_reported_and_the_rest_kept_by_hand() -> None:
    events, verdict = streamed(WITH_BAD_BLOCKS)

    assert verdict.status == "partial"
    assert [(e.line, e.record_type, e.field) for e in verdict.errors] == [
        (7, "200", "NMI"),  # the block of the lost leading zero
        (11, "300", "IntervalValue48"),  # "-1" on NMI0000002's second day
        (13, "999", None),
        (12, "300", None),  # the day the junk line interrupts
    ]
    (warning,) = verdict.warnings
    assert warning.line == 16 and "replaces the older version at line 3" in warning.message
    batches = [e for e in events if isinstance(e, ChannelDays)]
    totals = {(b.nmi, d): int(v.sum()) for b in batches for d, v in zip(b.days, b.values, strict=True)}
    assert totals == {
        ("NMI0000001", date(2024, 1, 1)): 48 * 500,  # the newer version, 0.5 kWh, replaced 0.125
        ("NMI0000001", date(2024, 1, 2)): 48 * 500,
        ("NMI0000002", date(2024, 1, 1)): 48 * 1500,  # Wh stay Wh
        ("NMI0000002", date(2024, 1, 4)): 48 * 8,
    }
    v_day = next(b for b in batches if date(2024, 1, 2) in b.days and b.nmi == "NMI0000001")
    assert "".join(v_day.quality[v_day.days.index(date(2024, 1, 2))]) == "A" * 20 + "S" * 28


def test_two_versions_with_one_stamp_withdraw_the_day_already_yielded() -> None:
    text = nem12(block(), day(value="1"), block("NMI0000002"), day(), block(), day(value="2"))

    events, verdict = streamed(text)

    kinds = [type(e).__name__ for e in events]
    assert kinds == ["ChannelDays", "ChannelDays", "DayWithdrawn", "Nem12Notice"]
    assert events[2] == DayWithdrawn("NMI0000001", "E1", date(2024, 1, 1), 3)
    assert [(e.line, e.field) for e in verdict.errors] == [(7, "UpdateDateTime")]
    assert verdict.status == "partial"


def test_a_missing_900_rejects_what_was_already_yielded() -> None:
    truncated = nem12(block(), day("20240101"), day("20240102")).removesuffix(END + "\n")

    events, verdict = streamed(truncated)

    assert [e.days for e in events if isinstance(e, ChannelDays)] == [(date(2024, 1, 1),)]  # yielded as read...
    assert verdict.status == "rejected"  # ...but the verdict says to drop it
    assert [(e.line, e.record_type) for e in verdict.errors] == [(None, "900")]
    assert parse_nem12(truncated, source="x").days == []


def test_the_verdict_is_refused_before_the_end() -> None:
    stream = iter_nem12(TWO_NMIS, source="test.csv")
    next(stream)

    with pytest.raises(RuntimeError, match="read to its end"):
        _ = stream.result


# Days out of order, again and again: the version index's slow paths.
def shuffled_versions() -> str:
    dates = [f"202401{d:02d}" for d in (5, 3, 9, 1, 7, 2, 8, 4, 6)]
    records = [block("NMI0000001")]
    records += [day(d, value="1", updated="20240110000000") for d in dates]
    records += [block("NMI0000002"), day("20240101"), block("NMI0000001")]
    records += [day(d, value="2", updated="20240111000000") for d in dates[::2]]  # newer: replace
    records += [day(d, value="3", updated="20240109000000") for d in dates[1::4]]  # older: ignored
    records += [day(dates[1], value="2", updated="20240111000000")]  # newer: replaces
    records += [day(dates[2], value="1", updated="20240111000000")]  # same stamp, other data: conflict
    records += [day(dates[0], value="2", updated="20240111000000")]  # the same again: a repeat
    return nem12(*records)


def test_the_version_index_on_disk_and_out_of_order_decides_as_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    text = shuffled_versions()
    in_memory = parse_nem12(text, source="test.csv")
    monkeypatch.setattr(nem12_module._DayRecords, "IN_MEMORY", 2)  # records go to the file at once
    monkeypatch.setattr(nem12_module._VersionIndex, "_MAX_RUNS", 2)  # channels go scattered early

    spilled = parse_nem12(text, source="test.csv")

    assert snapshot(spilled) == snapshot(in_memory)
    totals = {d.day.day: d.total for d in in_memory.days if d.nmi == "NMI0000001"}
    # Lines 3-11 the first versions, 15-19 newer ones, 20-21 older, 22 newer, 23 a conflict, 24 a repeat.
    assert totals == {5: 96_000, 3: 96_000, 1: 48_000, 7: 96_000, 2: 48_000, 8: 96_000, 4: 48_000, 6: 96_000}
    assert [(e.line, e.field) for e in in_memory.errors] == [(23, "UpdateDateTime")]  # day 9: both rejected
    assert [w.line for w in in_memory.warnings if "replaces" in w.message] == [15, 16, 17, 18, 19, 22]
    assert [w.line for w in in_memory.warnings if "ignored" in w.message] == [20, 21, 24]
    assert "repeats line 15" in in_memory.warnings[-1].message


# -- reading lazily ---------------------------------------------------------------------------


def counting(lines: Iterator[str], pulled: list[int]) -> Iterator[str]:
    for line in lines:
        pulled[0] += 1
        yield line


def test_days_come_out_before_the_whole_input_is_read() -> None:
    total = 10 * CHUNK_LINES
    first_day = date(2000, 1, 1).toordinal()
    body = (day(date.fromordinal(first_day + i).strftime("%Y%m%d")) for i in range(total))
    pulled = [0]
    lines = counting(itertools.chain([HEADER, block()], body, [END]), pulled)

    stream = iter_nem12(lines, source="long.csv")
    first = next(e for e in stream if isinstance(e, ChannelDays))

    assert len(first) > 0
    assert pulled[0] <= 2 * CHUNK_LINES < total  # a chunk or two, not the file


def test_batches_already_handed_over_are_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(generated(40, 30), newline="")
    stream = iter_nem12_file(path)
    first = next(e for e in stream if isinstance(e, ChannelDays))
    values = weakref.ref(first.values.base if first.values.base is not None else first.values)
    del first

    rest = sum(1 for e in stream if isinstance(e, ChannelDays))
    gc.collect()

    assert rest > 10 and stream.result.status == "accepted"
    assert values() is None  # the stream let go of it: memory does not grow with the file


# -- bytes in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("chunk_bytes", [5, 64, 1 << 20])
def test_a_binary_stream_cut_anywhere_reads_like_the_text(
    newline: str, chunk_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = TWO_NMIS.replace("\n", newline)
    monkeypatch.setattr(nem12_module, "CHUNK_BYTES", chunk_bytes)

    from_bytes = collect_nem12(iter_nem12(io.BytesIO(b"\xef\xbb\xbf" + text.encode()), source="test.csv"))

    assert from_bytes.status == "accepted"
    assert snapshot(from_bytes) == snapshot(parse_nem12(text, source="test.csv"))


# -- the vectorised conversion ------------------------------------------------------------------

decimal_texts = st.from_regex(r"(?:[0-9]{1,12}(?:\.[0-9]{0,8})?|\.[0-9]{1,8})", fullmatch=True)


@given(
    rows=st.lists(st.lists(decimal_texts, min_size=3, max_size=3), min_size=1, max_size=6),
    uom=st.sampled_from(["Wh", "kWh", "MWh", "kW", "pf"]),
)
def test_whole_rows_convert_exactly_as_decimal_half_up(rows: list[list[str]], uom: str) -> None:
    unit = parse_unit(uom)

    stored = plain_decimal_rows_to_stored([",".join(row) for row in rows], width=3, unit=unit)

    # None sends the rows the per-value way; it happens only past 17 digits.
    if stored is not None:
        assert stored.tolist() == [[to_stored_integer(Decimal(t), unit) for t in row] for row in rows]


@given(
    digits=st.integers(1, 6),
    decimals=st.integers(0, 4),
    uom=st.sampled_from(["Wh", "kWh", "MWh", "kW"]),
    data=st.data(),
)
def test_rows_of_one_width_convert_exactly(digits: int, decimals: int, uom: str, data: st.DataObject) -> None:
    """Values all as wide as each other are read by position: every shape still exact."""
    unit = parse_unit(uom)
    value = st.from_regex(rf"[0-9]{{{digits}}}" + (rf"\.[0-9]{{{decimals}}}" if decimals else ""), fullmatch=True)
    rows = data.draw(st.lists(st.lists(value, min_size=3, max_size=3), min_size=1, max_size=5))

    stored = plain_decimal_rows_to_stored([",".join(row) for row in rows], width=3, unit=unit)

    assert stored is not None
    assert stored.tolist() == [[to_stored_integer(Decimal(t), unit) for t in row] for row in rows]


@given(rows=st.lists(st.text(alphabet="0123456789.,-+ e", max_size=9), min_size=1, max_size=4))
def test_anything_but_plain_decimals_is_refused(rows: list[str]) -> None:
    stored = plain_decimal_rows_to_stored(rows, width=2, unit=parse_unit("kWh"))

    if stored is not None:
        fields = [row.split(",") for row in rows]
        assert all(len(f) == 2 for f in fields)
        texts = [text for f in fields for text in f]
        assert all(text and set(text) <= set("0123456789.") and text.count(".") <= 1 and text != "." for text in texts)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (["0.0005,1.2345", "2.5,.125"], [[1, 1235], [2500, 125]]),  # half-up, any decimals
        (["1.000,2.000", "3.000,4.000"], [[1000, 2000], [3000, 4000]]),  # kWh with three: the usual file
        (["1,2"], [[1000, 2000]]),
        (["1,2,3"], None),  # a row a field too long
        (["1,2,3", "4"], None),  # ...and one too short: the total is right, the rows are not
        (["1.2.3,4"], None),
        (["1,,"], None),
        ([" 1,2"], None),
        (["1,-2"], None),
        (["1e3,2"], None),
        (["1,٣"], None),
        (["99999999999999.999,1"], [[99_999_999_999_999_999, 1000]]),
        (["999999999999999.999,1"], None),  # past the fast path's limit: the exact way decides
    ],
)
def test_rows_by_hand(rows: list[str], expected: list[list[int]] | None) -> None:
    stored = plain_decimal_rows_to_stored(rows, width=2, unit=parse_unit("kWh"))

    assert (None if stored is None else stored.tolist()) == expected
    if stored is not None:
        assert stored.dtype == np.int64


def test_the_single_register_file_has_e1_only_and_the_same_day_records_mix() -> None:
    # The benchmark's file shaped like the measurement: one register a NMI, the rest
    # (quality mix, 400s, 500s) as in the realistic file.
    text = generated(40, 30, single_register=True)
    lines = text.split("\r\n")
    blocks = [line.split(",") for line in lines if line.startswith("200,")]
    assert len(blocks) == 40
    assert {(fields[2], fields[3]) for fields in blocks} == {("E1", "E1")}
    assert sum(line.startswith("300,") for line in lines) == 40 * 31
    assert any(line.startswith("400,") for line in lines)

    result = parse_nem12(text, source="e1.csv")

    assert result.status == "accepted"
    assert len(result.days) == 40 * 31
    assert {day.suffix for day in result.days} == {"E1"}
