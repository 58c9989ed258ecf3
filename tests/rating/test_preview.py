"""The bill preview command: ``python -m shared.cli rate``, each bill worked out by hand first."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.cli import main

LA = "America/Los_Angeles"
URDB_SMUD = Path(__file__).parent / "urdb" / "smud_ci_tod3.json"


def flat_usd(**changes: object) -> dict:
    """1.05 a day and 0.25 a kWh, both taxed 10 %, read in Los Angeles time."""
    return {
        "id": "flat-usd",
        "version": "2026-01-01",
        "name": "Flat",
        "currency": "USD",
        "timeZone": LA,
        "effectiveFrom": "2026-01-01",
        "effectiveTo": None,
        "components": [
            {"id": "supply", "kind": "daily_supply", "description": "Daily supply", "rate": "1.05", "taxCode": "TAX"},
            {"id": "energy", "kind": "flat_energy", "description": "Energy", "rate": "0.25", "taxCode": "TAX"},
        ],
        "taxes": {"TAX": "0.10"},
        "taxRounding": "per_line",
    } | changes


def starts(first: date, last: date, *, minutes: int = 30, offsets: bool = False, zone: str = LA) -> list[str]:
    """The local start of every interval of local dates [first, last), stepped in real time so a DST day
    has 46 or 50 half-hours; without offsets they are bare wall-clock times."""
    tz = ZoneInfo(zone)
    at = datetime.combine(first, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last, time.min, tzinfo=tz).astimezone(UTC)
    out = []
    while at < end:
        local = at.astimezone(tz)
        out.append(
            local.isoformat(timespec="minutes") if offsets else local.replace(tzinfo=None).isoformat("T", "minutes")
        )
        at += timedelta(minutes=minutes)
    return out


def csv_of(start_times: list[str], kwh: str = "0.500", header: str = "start,kwh") -> str:
    return "\n".join([header, *(f"{start},{kwh}" for start in start_times)]) + "\n"


@pytest.fixture
def files(tmp_path):
    def write(tariff: object, usage: str) -> tuple[str, str]:
        tariff_file, usage_file = tmp_path / "tariff.json", tmp_path / "usage.csv"
        tariff_file.write_text(tariff if isinstance(tariff, str) else json.dumps(tariff))
        usage_file.write_text(usage)
        return str(tariff_file), str(usage_file)

    return write


def run(capsys, tariff: str, usage: str, first: str, end: str, *more: str) -> tuple[int, str, str]:
    status = main(["rate", "--tariff", tariff, "--usage", usage, "--from", first, "--to", end, *more])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


JULY_1, JULY_3 = date(2026, 7, 1), date(2026, 7, 3)


def test_two_days_of_half_hours_at_half_a_kwh_under_a_flat_tariff(files, capsys):
    tariff, usage = files(flat_usd(), csv_of(starts(JULY_1, JULY_3)))

    status, out, err = run(capsys, tariff, usage, "2026-07-01", "2026-07-03", "--json")

    # 2 days x 1.05 = 2.10; 96 half-hours x 0.5 kWh = 48 kWh x 0.25 = 12.00; subtotal 14.10;
    # tax per line 0.21 + 1.20 = 1.41; total 15.51.
    assert (status, err) == (0, "")
    assert json.loads(out) == {
        "tariff": "flat-usd",
        "period": {"from": "2026-07-01", "to": "2026-07-03", "timeZone": LA},
        "currency": "USD",
        "lines": [
            {
                "component": "supply",
                "description": "Daily supply",
                "quantity": "2",
                "unit": "day",
                "rate": "1.05",
                "amount": "2.10",
            },
            {
                "component": "energy",
                "description": "Energy",
                "quantity": "48.000",
                "unit": "kWh",
                "rate": "0.25",
                "amount": "12.00",
            },
        ],
        "subtotal": "14.10",
        "tax": "1.41",
        "total": "15.51",
    }


def test_without_json_it_prints_a_summary_for_people(files, capsys):
    tariff, usage = files(flat_usd(), csv_of(starts(JULY_1, JULY_3)))
    status, out, _ = run(capsys, tariff, usage, "2026-07-01", "2026-07-03")
    assert status == 0
    assert out.splitlines()[0] == "flat-usd: 2026-07-01 to 2026-07-03 (exclusive), America/Los_Angeles, USD"
    assert out.splitlines()[-1].split() == ["Total", "15.51"]


def test_intervals_outside_the_period_are_ignored_and_offsets_and_trailing_zeros_are_fine(files, capsys):
    # July 1-3 delivered with offsets, only July 2 priced: 48 x 0.5 kWh = 24 kWh x 0.25 = 6.00, + 1.05 a day.
    tariff, usage = files(flat_usd(), csv_of(starts(JULY_1, date(2026, 7, 4), offsets=True), kwh="0.5000"))
    status, out, _ = run(capsys, tariff, usage, "2026-07-02", "2026-07-03", "--json")
    preview = json.loads(out)
    assert status == 0
    assert [(line["quantity"], line["amount"]) for line in preview["lines"]] == [("1", "1.05"), ("24.000", "6.00")]
    assert (preview["subtotal"], preview["tax"], preview["total"]) == ("7.05", "0.71", "7.76")  # 0.105 + 0.60


def test_a_spring_forward_day_has_46_half_hours(files, capsys):
    day = date(2026, 3, 8)  # Los Angeles skips 02:00-03:00
    local = starts(day, day + timedelta(days=1))
    assert len(local) == 46 and "2026-03-08T02:00" not in local
    tariff, usage = files(flat_usd(), csv_of(local))

    status, out, _ = run(capsys, tariff, usage, "2026-03-08", "2026-03-09", "--json")

    # 46 x 0.5 = 23 kWh x 0.25 = 5.75; + 1.05 = 6.80; tax 0.575 -> 0.58 and 0.105 -> 0.11 = 0.69; total 7.49
    preview = json.loads(out)
    assert status == 0
    assert preview["lines"][1]["quantity"] == "23.000"
    assert (preview["subtotal"], preview["tax"], preview["total"]) == ("6.80", "0.69", "7.49")


def test_a_fall_back_day_has_50_half_hours_when_the_repeated_hour_carries_offsets(files, capsys):
    day = date(2026, 11, 1)  # Los Angeles repeats 01:00-02:00
    local = starts(day, day + timedelta(days=1), offsets=True)
    assert len(local) == 50 and local[2:6] == [
        "2026-11-01T01:00-07:00",
        "2026-11-01T01:30-07:00",
        "2026-11-01T01:00-08:00",
        "2026-11-01T01:30-08:00",
    ]
    tariff, usage = files(flat_usd(), csv_of(local))

    status, out, _ = run(capsys, tariff, usage, "2026-11-01", "2026-11-02", "--json")

    # 50 x 0.5 = 25 kWh x 0.25 = 6.25; + 1.05 = 7.30; tax 0.625 -> 0.63 and 0.11 = 0.74; total 8.04
    preview = json.loads(out)
    assert status == 0
    assert preview["lines"][1]["quantity"] == "25.000"
    assert (preview["subtotal"], preview["tax"], preview["total"]) == ("7.30", "0.74", "8.04")


def test_a_smud_rate_from_urdb_prices_a_july_weekday_by_hand(files, capsys):
    # 1 kWh every half-hour (2 kW), and 5 kWh from 17:00 (10 kW) inside the summer peak.
    local = starts(JULY_1, date(2026, 7, 2))
    usage = "start,kwh\n" + "".join(f"{s},{'5.000' if s.endswith('T17:00') else '1.000'}\n" for s in local)
    _, usage_file = files({}, usage)

    status, out, _ = run(capsys, str(URDB_SMUD), usage_file, "2026-07-01", "2026-07-02", "--tz", LA, "--json")

    # One of July's 31 days is 0.032258 month. Summer weekday: 16:00-21:00 is period 3 (0.2297), the rest period 4.
    preview = json.loads(out)
    assert status == 0
    assert [(x["component"], x["quantity"], x["unit"], x["rate"], x["amount"]) for x in preview["lines"]] == [
        ("fixed", "0.032258", "month", "2339.5", "75.47"),  # 75.467591
        ("energy-p3", "14.000", "kWh", "0.2297", "3.22"),  # 9 x 1 + 5 = 14 kWh: 3.2158
        ("energy-p4", "38.000", "kWh", "0.1121", "4.26"),  # 38 half-hours: 4.2598
        ("demand", "10.000", "kW", "0.178677062", "1.79"),  # 5.539 x 0.032258 a kW
        ("demand-p1", "10.000", "kW", "0.374483122", "3.74"),  # 11.609 x 0.032258 a kW
    ]
    assert (preview["currency"], preview["subtotal"], preview["tax"], preview["total"]) == (
        "USD",
        "88.48",
        "0.00",
        "88.48",
    )


# -- bad input: exit 2, one line on stderr naming the file, line and field ------------------------------------


JULY_DAY = starts(JULY_1, date(2026, 7, 2))


def replaced(index: int, text: str) -> list[str]:
    rows = list(JULY_DAY)
    rows[index] = text
    return rows


BAD_USAGE = [
    pytest.param(csv_of(JULY_DAY, header="when,kwh"), 1, "header", "the first line must be start,kwh", id="header"),
    pytest.param("\n".join(f"{s},0.5" for s in JULY_DAY), 1, "header", "got '2026-07-01T00:00,0.5'", id="no-header"),
    pytest.param(csv_of(replaced(8, "2026-07-01T04:15")), 10, "start", "must be uniform", id="non-uniform"),
    pytest.param(csv_of(JULY_DAY[:5] + JULY_DAY[6:]), 7, "start", "gap: 1 interval(s) of 30 minutes", id="gap"),
    pytest.param(csv_of(JULY_DAY[:5] + JULY_DAY[4:]), 7, "start", "is not after the previous start", id="repeat"),
    pytest.param(csv_of(replaced(3, "yesterday")), 5, "start", "not an ISO 8601 date-time", id="not-a-time"),
    pytest.param(csv_of(JULY_DAY).replace("T03:00,0.500", "T03:00,0.1234"), 8, "kwh", "more than 3 decimals", id="4dp"),
    pytest.param(csv_of(JULY_DAY).replace("T03:00,0.500", "T03:00,-0.5"), 8, "kwh", "is negative", id="negative"),
    pytest.param(csv_of(JULY_DAY).replace("T03:00,0.500", "T03:00,5e-1"), 8, "kwh", "not a decimal", id="exponent"),
    pytest.param(csv_of(JULY_DAY).replace("T03:00,0.500", "T03:00,0.5,x"), 8, None, "expected 2 fields", id="3-fields"),
    pytest.param(
        csv_of([s.replace(":00", ":10").replace(":30", ":40") for s in JULY_DAY]),
        2,
        "start",
        "does not start a 30-minute interval",
        id="misaligned",
    ),
    pytest.param(csv_of(starts(JULY_1, date(2026, 7, 2), minutes=45)), 3, "start", "do not divide an hour", id="45min"),
    pytest.param(csv_of(JULY_DAY[:1]), None, None, "at least two are needed", id="one-row"),
    pytest.param(
        csv_of(starts(date(2026, 11, 1), date(2026, 11, 2))),
        4,
        "start",
        "2026-11-01T01:00 is ambiguous in America/Los_Angeles",
        id="ambiguous",
    ),
    pytest.param(
        csv_of(["2026-03-08T01:00", "2026-03-08T01:30", "2026-03-08T02:00"]),
        4,
        "start",
        "2026-03-08T02:00 does not exist in America/Los_Angeles",
        id="skipped",
    ),
]


@pytest.mark.parametrize(("usage", "line", "field", "problem"), BAD_USAGE)
def test_bad_usage_is_refused_naming_the_file_line_and_field(files, capsys, usage, line, field, problem):
    tariff, usage_file = files(flat_usd(), usage)

    status, out, err = run(capsys, tariff, usage_file, "2026-07-01", "2026-07-02", "--json")

    where = "".join([f"line {line}: " if line else "", f"{field}: " if field else ""])
    assert status == 2
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {usage_file}: {where}")
    assert problem in err
    assert json.loads(out) == {"error": err.removeprefix("error: ").strip(), "file": usage_file, "line": line,
                               "field": field}  # fmt: skip


def test_the_ambiguous_hour_error_says_which_offsets_would_do(files, capsys):
    tariff, usage = files(flat_usd(), csv_of(starts(date(2026, 11, 1), date(2026, 11, 2))))
    _, _, err = run(capsys, tariff, usage, "2026-11-01", "2026-11-02")
    assert err.strip().endswith("write it with its UTC offset, 2026-11-01T01:00:00-07:00 or 2026-11-01T01:00:00-08:00")


def test_usage_that_does_not_cover_the_period_is_refused(files, capsys):
    tariff, usage = files(flat_usd(), csv_of(JULY_DAY[1:]))
    status, _, err = run(capsys, tariff, usage, "2026-07-01", "2026-07-02")
    assert status == 2
    assert err == (
        f"error: {usage}: covers 2026-07-01T00:30:00-07:00 to 2026-07-02T00:00:00-07:00, but 2026-07-01..2026-07-02 "
        "in America/Los_Angeles needs 2026-07-01T00:00:00-07:00 to 2026-07-02T00:00:00-07:00\n"
    )


def test_usage_outside_the_tariffs_effective_dates_is_refused(files, capsys):
    tariff, usage = files(flat_usd(effectiveFrom="2026-07-02"), csv_of(JULY_DAY))
    status, _, err = run(capsys, tariff, usage, "2026-07-01", "2026-07-02")
    assert status == 2
    assert err.startswith(f"error: {tariff}: usage outside the tariff's effective dates")


BAD_TARIFFS = [
    pytest.param("{not json", (), "line 1: not valid JSON", id="json"),
    pytest.param(
        flat_usd(
            components=[{"id": "energy", "kind": "flat_energy", "description": "E", "rate": 0.25, "taxCode": "TAX"}]
        ),
        (),
        "components[0].rate: floats are refused in money",
        id="float-rate",
    ),
    pytest.param([], (), "an empty list holds no tariff version", id="empty-list"),
    pytest.param(flat_usd(timeZone=None), (), "--tz: required: tariff flat-usd has no timeZone", id="no-zone"),
    pytest.param(
        {"items": [{"eiaid": 1, "energyratestructure": [[{"rate": 0.1}]]}]},
        ("--tz", LA),
        "items[0].startdate: missing",
        id="urdb-field",
    ),
    pytest.param(json.loads(URDB_SMUD.read_text()), (), "--tz: required for a URDB rate", id="urdb-no-zone"),
    pytest.param(flat_usd(), ("--tz", "Mars/Olympus"), "--tz: unknown IANA time zone 'Mars/Olympus'", id="bad-zone"),
]


@pytest.mark.parametrize(("tariff", "more", "problem"), BAD_TARIFFS)
def test_bad_tariffs_and_zones_are_refused_by_name(files, capsys, tariff, more, problem):
    tariff_file, usage = files(tariff, csv_of(JULY_DAY))
    status, out, err = run(capsys, tariff_file, usage, "2026-07-01", "2026-07-02", *more)
    assert (status, out) == (2, "")
    named = problem if problem.startswith("--") else f"{tariff_file}: {problem}"
    assert err.startswith(f"error: {named}")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("first", "end", "problem"),
    [
        ("July", "2026-07-02", "--from: must be a date like 2026-07-01, got 'July'"),
        ("2026-07-02", "2026-07-01", "--to: 2026-07-01 must be after from 2026-07-02"),
    ],
)
def test_bad_dates_are_refused_by_option(files, capsys, first, end, problem):
    tariff, usage = files(flat_usd(), csv_of(JULY_DAY))
    status, _, err = run(capsys, tariff, usage, first, end)
    assert (status, err) == (2, f"error: {problem}\n")


def test_a_missing_file_is_refused_by_name(files, capsys, tmp_path):
    _, usage = files(flat_usd(), csv_of(JULY_DAY))
    missing = str(tmp_path / "nope.json")
    status, _, err = run(capsys, missing, usage, "2026-07-01", "2026-07-02")
    assert (status, err) == (2, f"error: {missing}: cannot read the file: No such file or directory\n")


def test_a_missing_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["rate", "--tariff", "t.json", "--from", "2026-07-01", "--to", "2026-07-02"])
    assert exited.value.code == 2
    assert "--usage" in capsys.readouterr().err
