"""VEE on stored data: findings recorded once, estimates stored for billing, an actual that
arrives later replacing the estimate once and marking the period for rebilling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from shared.demo.sample_utility import seed_sample_utility
from shared.readings.history import (
    interval_series,
    local_period_utc,
    register_usage,
    store_interval_day,
    store_register_read,
)
from shared.readings.model import NEM_TIME, IntervalDay, RegisterRead
from shared.readings.vee_service import UnknownServicePoint, check_new_register_reads, run_vee
from shared.resources import ACCOUNTS, READINGS

INTERVAL_NMI, REGISTER_NMI = "4102009902", "4102003311"  # the sample utility's, both in Sydney
REGISTER_SERIAL = "MTR-D110231"  # five dials
SYDNEY = ZoneInfo("Australia/Sydney")
OCTOBER = (date(2026, 10, 1), date(2026, 11, 1))
PROVIDER_UPDATE = datetime(2026, 10, 16, 2, 0, tzinfo=NEM_TIME)  # older than the clock: VEE runs later


def pattern(day: date) -> list[int]:
    """Interval n (1-based) of a day holds 500 + 10 x (day of month mod 7) + n Wh."""
    return [500 + 10 * (day.day % 7) + n for n in range(1, 49)]


def interval_day(day: date, values: list[int], *, update: datetime = PROVIDER_UPDATE, quality: str = "A" * 48):
    return IntervalDay(
        nmi=INTERVAL_NMI,
        suffix="E1",
        register_id="E1",
        meter_serial="MTR-S330051",
        uom="kWh",
        value_unit="Wh",
        is_energy=True,
        interval_minutes=30,
        day=day,
        values_wh=np.array(values),
        quality=list(quality),
        quality_method="A",
        reason_code=None,
        reason_description="",
        update_datetime=update,
        source_line=3,
    )


@pytest.fixture
def readings(platform):
    seed_sample_utility(platform.documents, clock=platform.clock)
    return platform.documents.container(READINGS.name)


def docs(readings, kind: str, nmi: str = INTERVAL_NMI) -> dict[str, dict]:
    return {d["id"]: d for d in readings.query({"kind": kind}, partition=nmi)}


def october_series(readings):
    start, end = local_period_utc(*OCTOBER, "Australia/Sydney")
    return interval_series(readings, INTERVAL_NMI, suffix="E1", start_utc=start, end_utc=end)


NEGATIVE_DAY = date(2026, 10, 20)  # a Tuesday: intervals 3 and 4 negative
MISSING_DAY = date(2026, 10, 14)  # a Wednesday: never delivered


@pytest.fixture
def october(readings):
    """September and October delivered, but for a missing Wednesday and a Tuesday with two
    negative intervals."""
    day = date(2026, 9, 1)
    while day <= date(2026, 10, 31):
        values = pattern(day)
        if day == NEGATIVE_DAY:
            values[2], values[3] = -5, -7
        if day != MISSING_DAY:
            assert store_interval_day(readings, INTERVAL_NMI, interval_day(day, values), source="nem12") == "stored"
        day += timedelta(days=1)
    return readings


def vee(platform, nmi: str = INTERVAL_NMI, **options):
    return run_vee(platform.documents, service_point_id=nmi, start=OCTOBER[0], end=OCTOBER[1], now=platform.clock(),
                   **options)  # fmt: skip


def test_vee_records_why_and_estimates_what_billing_cannot_use(platform, october) -> None:
    assert october_series(october).missing == 48  # billing would skip the account

    report = vee(platform)

    assert [(f.rule, f.severity, f.day) for f in report.findings] == [
        ("negative-value", "reject", NEGATIVE_DAY),
        ("missing-day", "flag", MISSING_DAY),
    ]
    findings = docs(october, "finding")
    assert sorted(findings) == ["finding:missing-day:E1:2026-10-14", "finding:negative-value:E1:2026-10-20:3-4"]
    assert findings["finding:negative-value:E1:2026-10-20:3-4"]["message"] == (
        "2026-10-20 intervals 3-4: negative energy (lowest -7 Wh)"
    )
    assert {d["status"] for d in findings.values()} == {"open"}
    # The Wednesday is a copy of the Tuesday before it: 48 x 560 + (1 + ... + 48) = 28,056 Wh.
    # The Tuesday's intervals 3 and 4 come from the Monday (19 mod 7 = 5): 553 + 554 = 1,107 Wh.
    assert [(e["day"], e["likeDay"], e["intervals"], e["wh"]) for e in report.estimated] == [
        ("2026-10-14", "2026-10-13", 48, 28_056),
        ("2026-10-20", "2026-10-19", 2, 1_107),
    ]
    days = docs(october, "interval")
    wednesday, tuesday = days["interval:E1:2026-10-14"], days["interval:E1:2026-10-20"]
    assert (wednesday["quality"], wednesday["source"], wednesday["updateDateTime"]) == ("E" * 48, "vee", None)
    assert wednesday["valuesWh"] == pattern(date(2026, 10, 13))
    assert wednesday["estimate"]["method"] == "like-day" and wednesday["estimate"]["qualityMethod"] == "E14"
    assert tuesday["valuesWh"][:5] == [561, 562, 553, 554, 565] and tuesday["quality"] == "AAEE" + "A" * 44
    assert tuesday["history"][-1]["valuesWh"][2:4] == [-5, -7]  # the provider's version is kept
    assert tuesday["estimate"]["editedUpdateDateTime"] == PROVIDER_UPDATE.isoformat()
    series = october_series(october)
    assert series.missing == 0  # billing can bill October now
    # Local October is market 1 October 00:00 to 31 October 23:00 (daylight saving from the 4th):
    # every market day whole but the last two half-hours of the 31st (530 + 47 and 530 + 48 Wh).
    delivered = sum(sum(pattern(date(2026, 10, d))) for d in range(1, 32) if d not in (14, 20))
    tuesday_total = sum(pattern(NEGATIVE_DAY)) - 563 - 564 + 553 + 554  # 560 + 3 and 560 + 4 replaced
    assert int(series.wh.sum()) == delivered + 28_056 + tuesday_total - 577 - 578


def test_running_vee_again_writes_nothing(platform, october) -> None:
    vee(platform)
    before = {d["id"]: d["_etag"] for d in october.query(partition=INTERVAL_NMI)}

    again = vee(platform)

    assert again.estimated == [] and again.resolved == 0
    assert {d["id"]: d["_etag"] for d in october.query(partition=INTERVAL_NMI)} == before


def test_an_actual_replacing_an_estimate_is_stored_once_billed_once_and_marked_for_rebill(platform, october) -> None:
    vee(platform)
    estimated_total = int(october_series(october).wh.sum())
    actual = [700] * 48  # 33,600 Wh, where the estimate said 28,056

    # The provider's file was made before VEE ran: its older update time still replaces an estimate.
    outcome = store_interval_day(october, INTERVAL_NMI, interval_day(MISSING_DAY, actual), source="late.csv")

    assert outcome == "replaced"
    day = october.get("interval:E1:2026-10-14", INTERVAL_NMI)
    assert (day["valuesWh"], day["quality"], "estimate" in day) == (actual, "A" * 48, False)
    assert day["history"][-1]["estimate"]["method"] == "like-day"
    assert int(october_series(october).wh.sum()) == estimated_total - 28_056 + 33_600  # the estimate is gone
    (marker,) = docs(october, "rebill-needed").values()
    assert {k: marker[k] for k in ("id", "reason", "from", "to", "startUtc", "endUtc", "status")} == {
        "id": "rebill:E1:2026-10-14",
        "reason": "estimate-replaced",
        "from": "2026-10-14",
        "to": "2026-10-15",
        "startUtc": "2026-10-13T14:00:00+00:00",
        "endUtc": "2026-10-14T14:00:00+00:00",
        "status": "open",
    }
    assert (marker["replaced"]["wh"], marker["by"]["wh"]) == (28_056, 33_600)

    assert store_interval_day(october, INTERVAL_NMI, interval_day(MISSING_DAY, actual), source="late.csv") == (
        "unchanged"
    )
    assert len(docs(october, "rebill-needed")) == 1
    resolved = vee(platform)
    assert resolved.resolved == 1
    assert october.get("finding:missing-day:E1:2026-10-14", INTERVAL_NMI)["status"] == "resolved"


def test_an_edited_day_keeps_its_edit_until_the_provider_sends_a_newer_version(platform, october) -> None:
    vee(platform)
    bad = pattern(NEGATIVE_DAY)
    bad[2], bad[3] = -5, -7

    same = store_interval_day(october, INTERVAL_NMI, interval_day(NEGATIVE_DAY, bad), source="again.csv")
    older = store_interval_day(
        october, INTERVAL_NMI, interval_day(NEGATIVE_DAY, bad, update=PROVIDER_UPDATE - timedelta(days=1)), source="x"
    )
    assert (same, older) == ("unchanged", "kept-newer")
    assert october.get("interval:E1:2026-10-20", INTERVAL_NMI)["valuesWh"][2:4] == [553, 554]

    fixed = pattern(NEGATIVE_DAY)
    newer = interval_day(NEGATIVE_DAY, fixed, update=PROVIDER_UPDATE + timedelta(days=2))
    assert store_interval_day(october, INTERVAL_NMI, newer, source="fixed.csv") == "replaced"
    assert october.get("interval:E1:2026-10-20", INTERVAL_NMI)["valuesWh"] == fixed
    assert docs(october, "rebill-needed")["rebill:E1:2026-10-20"]["reason"] == "estimate-replaced"
    assert vee(platform).resolved == 1  # the negative values are gone at the source


def test_a_reading_older_than_the_one_stored_does_not_overwrite_it(readings) -> None:
    day = date(2026, 10, 5)
    first = interval_day(day, [100] * 48, update=datetime(2026, 10, 6, 2, tzinfo=NEM_TIME))
    stale = interval_day(day, [900] * 48, update=datetime(2026, 10, 6, 1, tzinfo=NEM_TIME))
    newer = interval_day(day, [120] * 48, update=datetime(2026, 10, 7, 2, tzinfo=NEM_TIME))

    assert store_interval_day(readings, INTERVAL_NMI, first, source="a") == "stored"
    assert store_interval_day(readings, INTERVAL_NMI, stale, source="b") == "kept-newer"
    stored = readings.get("interval:E1:2026-10-05", INTERVAL_NMI)
    assert (stored["valuesWh"], stored["source"], "history" in stored) == ([100] * 48, "a", False)
    assert docs(readings, "rebill-needed") == {}

    assert store_interval_day(readings, INTERVAL_NMI, newer, source="c") == "replaced"
    stored = readings.get("interval:E1:2026-10-05", INTERVAL_NMI)
    assert stored["valuesWh"] == [120] * 48
    assert [(h["source"], h["valuesWh"][0]) for h in stored["history"]] == [("a", 100)]
    assert docs(readings, "rebill-needed")["rebill:E1:2026-10-05"]["reason"] == "values-corrected"


def test_history_keeps_the_last_five_versions(readings) -> None:
    day = date(2026, 10, 5)
    for n in range(8):
        version = interval_day(day, [n] * 48, update=datetime(2026, 10, 6, n, tzinfo=NEM_TIME))
        store_interval_day(readings, INTERVAL_NMI, version, source=f"v{n}")

    stored = readings.get("interval:E1:2026-10-05", INTERVAL_NMI)
    assert [h["source"] for h in stored["history"]] == ["v2", "v3", "v4", "v5", "v6"]
    assert stored["source"] == "v7"


# --- register meters -------------------------------------------------------------------------


def local(day: date, hour: int = 0, minute: int = 5) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SYDNEY)


def store_read(readings, value: str, at: datetime, kind: str = "actual") -> None:
    read = RegisterRead(REGISTER_SERIAL, "E1", Decimal(value), at, kind, "FO-1")  # type: ignore[arg-type]
    store_register_read(readings, REGISTER_NMI, read, source="field")


def october_usage(readings, **options):
    start, end = local_period_utc(*OCTOBER, "Australia/Sydney")
    return register_usage(readings, REGISTER_NMI, meter_serial=REGISTER_SERIAL, register_id="E1", start_utc=start,
                          end_utc=end, **options)  # fmt: skip


@pytest.fixture
def register_reads(readings):
    """10 kWh a day through August and September; no read at the end of October yet."""
    store_read(readings, "10000", local(date(2026, 8, 1)))
    store_read(readings, "10310", local(date(2026, 9, 1)))
    store_read(readings, "10610", local(date(2026, 10, 1)))
    return readings


def test_a_missing_register_read_is_estimated_from_average_daily_use(platform, register_reads) -> None:
    assert october_usage(register_reads) is None  # billing would skip the account

    report = vee(platform, REGISTER_NMI)

    # From the 1 October read (30 Sep 14:05 UTC) to local midnight ending October (31 Oct 13:00
    # UTC) is 30 days 22 h 55 min = 30.954861... days at 10 kWh a day: 309.549 kWh.
    (estimate,) = report.estimated
    assert (estimate["readAt"], estimate["value"], estimate["wh"]) == (
        "2026-10-31T13:00:00+00:00",
        "10919.549",
        309_549,
    )
    assert estimate["averageDailyWh"] == "10000"
    assert october_usage(register_reads).wh == 309_549
    assert vee(platform, REGISTER_NMI).estimated == []  # estimated once


def test_an_actual_register_read_supersedes_the_estimate_and_marks_the_rebill(platform, register_reads) -> None:
    vee(platform, REGISTER_NMI)

    store_read(register_reads, "10925", local(date(2026, 11, 1), 0, 10))

    reads = docs(register_reads, "register", REGISTER_NMI)
    estimated = reads["register:MTR-D110231:E1:20261031T130000Z"]
    assert estimated["supersededBy"] == "register:MTR-D110231:E1:20261031T131000Z"
    assert october_usage(register_reads).wh == 315_000  # 10,925 - 10,610: the actual, once
    (marker,) = docs(register_reads, "rebill-needed", REGISTER_NMI).values()
    assert (marker["reason"], marker["startUtc"], marker["endUtc"]) == (
        "estimate-replaced",
        "2026-10-31T13:00:00+00:00",
        "2026-10-31T13:10:00+00:00",
    )
    store_read(register_reads, "10925", local(date(2026, 11, 1), 0, 10))  # sent again: nothing more
    assert len(docs(register_reads, "rebill-needed", REGISTER_NMI)) == 1


def test_an_estimate_never_overwrites_an_actual_read_at_the_same_time(register_reads) -> None:
    store_read(register_reads, "99", local(date(2026, 10, 1)), kind="estimated")

    assert register_reads.get("register:MTR-D110231:E1:20260930T140500Z", REGISTER_NMI)["value"] == "10610"


def test_a_backwards_read_is_rejected_and_billing_passes_over_it(platform, register_reads) -> None:
    store_read(register_reads, "100", local(date(2026, 11, 1), 0, 30))  # 10,610 -> 100 on five dials: no rollover
    with pytest.raises(ValueError, match="went backwards"):
        october_usage(register_reads)

    report = vee(platform, REGISTER_NMI)

    assert [(f.rule, f.severity) for f in report.findings] == [("register-backwards", "reject")]
    bad = register_reads.get("register:MTR-D110231:E1:20261031T133000Z", REGISTER_NMI)
    assert bad["rejected"].startswith("register-backwards: read 100 at 2026-10-31T13:30:00+00:00")
    assert [e["value"] for e in report.estimated] == ["10919.549"]
    assert october_usage(register_reads).wh == 309_549

    store_read(register_reads, "100", local(date(2026, 11, 1), 0, 30))  # the same file imported again
    again = vee(platform, REGISTER_NMI)
    assert register_reads.get(bad["id"], REGISTER_NMI)["rejected"] == bad["rejected"]
    assert (again.estimated, again.resolved, october_usage(register_reads).wh) == ([], 0, 309_549)


def test_a_register_rollover_is_used_not_refused(platform, readings) -> None:
    store_read(readings, "99990", local(date(2026, 10, 1)))
    store_read(readings, "00015", local(date(2026, 11, 1), 0, 10))

    report = vee(platform, REGISTER_NMI)

    assert [(f.rule, f.severity) for f in report.findings] == [("rollover", "flag")]
    assert october_usage(readings, dial_count=5).wh == 25_000


def test_new_reads_before_the_last_billed_read_are_refused_and_recorded(platform, register_reads) -> None:
    accounts = platform.documents.container(ACCOUNTS.name)
    account = accounts.get("ACC-100001", "ACC-100001")
    accounts.replace({**account, "billedThrough": "2026-10-01"}, etag=account["_etag"])
    late = RegisterRead(REGISTER_SERIAL, "E1", Decimal("10500"), local(date(2026, 9, 20)), "actual", "FO-2")

    findings = check_new_register_reads(
        platform.documents, service_point_id=REGISTER_NMI, reads=[late], now=platform.clock()
    )

    assert [(f.rule, f.severity) for f in findings] == [("before-last-billed", "reject")]
    assert findings[0].message.endswith(
        "is before the last billed read at 2026-09-30T14:00:00+00:00; a correction to a billed period goes "
        "through a rebill"
    )
    (recorded,) = docs(register_reads, "finding", REGISTER_NMI).values()
    assert recorded["rule"] == "before-last-billed" and recorded["status"] == "open"


def test_vee_for_an_unknown_service_point_says_so(platform) -> None:
    with pytest.raises(UnknownServicePoint, match="no service point '4100000000'"):
        vee(platform, "4100000000")


def test_findings_are_stamped_with_the_clock(platform, october, clock) -> None:
    vee(platform)

    stamps = {d["foundAt"] for d in docs(october, "finding").values()}
    assert stamps == {clock().astimezone(UTC).isoformat()}


@dataclass(frozen=True)
class VersionedRead(RegisterRead):
    """A register read with a version stamp, as NEM13 reads carry."""

    update_datetime: datetime = datetime(2026, 10, 2, tzinfo=UTC)


def test_an_older_version_of_a_register_read_does_not_overwrite_a_newer_one(readings) -> None:
    at = local(date(2026, 10, 1))
    newer = VersionedRead(
        REGISTER_SERIAL, "E1", Decimal("10610"), at, "actual", "MDP", None, datetime(2026, 10, 3, tzinfo=UTC)
    )
    older = VersionedRead(
        REGISTER_SERIAL, "E1", Decimal("10999"), at, "actual", "MDP", None, datetime(2026, 10, 2, tzinfo=UTC)
    )
    corrected = VersionedRead(
        REGISTER_SERIAL, "E1", Decimal("10611"), at, "actual", "MDP", None, datetime(2026, 10, 4, tzinfo=UTC)
    )

    store_register_read(readings, REGISTER_NMI, newer, source="b.nem13")
    store_register_read(readings, REGISTER_NMI, older, source="a.nem13")
    assert readings.get("register:MTR-D110231:E1:20260930T140500Z", REGISTER_NMI)["value"] == "10610"
    assert docs(readings, "rebill-needed", REGISTER_NMI) == {}

    store_register_read(readings, REGISTER_NMI, corrected, source="c.nem13")
    stored = readings.get("register:MTR-D110231:E1:20260930T140500Z", REGISTER_NMI)
    assert (stored["value"], [h["value"] for h in stored["history"]]) == ("10611", ["10610"])
    (marker,) = docs(readings, "rebill-needed", REGISTER_NMI).values()
    assert (marker["reason"], marker["replaced"]["value"], marker["by"]["value"]) == (
        "values-corrected",
        "10610",
        "10611",
    )
