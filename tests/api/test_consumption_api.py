"""GET /v1/service-points/{nmi}/consumption: local days and months in the service point's
own time zone over market-time data, buckets that sum exactly to the period."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient

from shared.api import consumption_routes
from shared.api.app import create_app
from shared.demo.sample_utility import seed_sample_utility
from shared.readings.history import store_interval_day, store_register_read
from shared.readings.model import NEM_TIME, IntervalDay, RegisterRead
from shared.resources import READINGS

INTERVAL_NMI, REGISTER_NMI = "4102009902", "4102003311"  # the sample utility's, both in Sydney
PATH = "/v1/service-points/{}/consumption"


@pytest.fixture
def client(platform):
    """The API with the consumption router, whether or not ``create_app`` includes it yet."""
    seed_sample_utility(platform.documents, clock=platform.clock)
    app = create_app(max_request_bytes=64 * 1024)
    if not any(getattr(r, "path", "") == "/v1/service-points/{service_point_id}/consumption" for r in app.routes):
        app.include_router(consumption_routes.router)
    with TestClient(app) as test_client:
        yield test_client


def store_days(platform, first: date, last: date, *, estimated: dict[date, int] | None = None) -> None:
    """Market days whose every half-hour holds 10 x the day of the month, in Wh."""
    readings = platform.documents.container(READINGS.name)
    day = first
    while day <= last:
        quality = ["A"] * 48
        for index in [i for d, i in (estimated or {}).items() if d == day]:
            quality[index] = "E"
        stored = IntervalDay(
            nmi=INTERVAL_NMI,
            suffix="E1",
            register_id="E1",
            meter_serial="MTR-S330051",
            uom="kWh",
            value_unit="Wh",
            is_energy=True,
            interval_minutes=30,
            day=day,
            values_wh=np.full(48, 10 * day.day),
            quality=quality,
            quality_method="A",
            reason_code=None,
            reason_description="",
            update_datetime=datetime(2026, 11, 1, tzinfo=NEM_TIME),
            source_line=1,
        )
        store_interval_day(readings, INTERVAL_NMI, stored, source="test")
        day += timedelta(days=1)


def consumption(client, nmi: str = INTERVAL_NMI, **params: str):
    return client.get(PATH.format(nmi), params=params)


def summary(body: dict) -> list[tuple[str, str, int, str, dict, int | None]]:
    return [(b["start"], b["end"], b["wh"], b["kwh"], b["quality"], b["missingIntervals"]) for b in body["buckets"]]


def test_the_autumn_daylight_saving_day_is_one_25_hour_bucket_and_the_days_sum_to_the_total(platform, client) -> None:
    store_days(platform, date(2026, 4, 3), date(2026, 4, 6))

    response = consumption(client, **{"from": "2026-04-04", "to": "2026-04-07", "granularity": "daily"})

    assert response.status_code == 200, response.text
    body = response.json()
    # Sydney leaves daylight saving at 03:00 AEDT on 5 April 2026. Market time is AEST throughout:
    # - 4 April (AEDT) is market 3 April 23:00 to 4 April 23:00: 2 x 30 + 46 x 40 = 1,900 Wh
    # - 5 April, 25 hours, is market 4 April 23:00 to 6 April 00:00: 2 x 40 + 48 x 50 = 2,480 Wh
    # - 6 April (AEST) is market 6 April: 48 x 60 = 2,880 Wh
    assert summary(body) == [
        ("2026-04-04T00:00:00+11:00", "2026-04-05T00:00:00+11:00", 1_900, "1.900", {"A": 48}, 0),
        ("2026-04-05T00:00:00+11:00", "2026-04-06T00:00:00+10:00", 2_480, "2.480", {"A": 50}, 0),
        ("2026-04-06T00:00:00+10:00", "2026-04-07T00:00:00+10:00", 2_880, "2.880", {"A": 48}, 0),
    ]
    assert body["total"] == {"wh": 7_260, "kwh": "7.260", "quality": {"A": 146}, "missingIntervals": 0}
    assert (body["timeZone"], body["meterKind"], body["register"]) == ("Australia/Sydney", "interval", "E1")


def test_the_spring_day_is_23_hours_and_counts_its_estimated_interval(platform, client) -> None:
    store_days(platform, date(2026, 10, 3), date(2026, 10, 5), estimated={date(2026, 10, 4): 10})

    body = consumption(client, **{"from": "2026-10-03", "to": "2026-10-06"}).json()  # daily by default

    # Clocks go forward at 02:00 AEST on 4 October 2026:
    # - 3 October (AEST) is market 3 October: 48 x 30 = 1,440 Wh
    # - 4 October, 23 hours, is market 4 October 00:00 to 23:00: 46 x 40 = 1,840 Wh (interval 11 estimated)
    # - 5 October (AEDT) is market 4 October 23:00 to 5 October 23:00: 2 x 40 + 46 x 50 = 2,380 Wh
    assert summary(body) == [
        ("2026-10-03T00:00:00+10:00", "2026-10-04T00:00:00+10:00", 1_440, "1.440", {"A": 48}, 0),
        ("2026-10-04T00:00:00+10:00", "2026-10-05T00:00:00+11:00", 1_840, "1.840", {"A": 45, "E": 1}, 0),
        ("2026-10-05T00:00:00+11:00", "2026-10-06T00:00:00+11:00", 2_380, "2.380", {"A": 48}, 0),
    ]
    assert body["total"]["wh"] == 1_440 + 1_840 + 2_380 == sum(b["wh"] for b in body["buckets"])
    assert body["total"]["quality"] == {"A": 141, "E": 1}


def test_interval_granularity_lists_each_half_hour_in_local_time(platform, client) -> None:
    store_days(platform, date(2026, 10, 3), date(2026, 10, 5), estimated={date(2026, 10, 4): 10})

    body = consumption(client, **{"from": "2026-10-04", "to": "2026-10-05", "granularity": "interval"}).json()

    buckets = body["buckets"]
    assert len(buckets) == 46
    assert [(b["start"], b["end"]) for b in buckets[3:5]] == [
        ("2026-10-04T01:30:00+10:00", "2026-10-04T03:00:00+11:00"),  # the clocks jump inside this one's end
        ("2026-10-04T03:00:00+11:00", "2026-10-04T03:30:00+11:00"),
    ]
    assert buckets[10]["quality"] == {"E": 1} and buckets[10]["wh"] == 40
    assert body["total"] == {"wh": 1_840, "kwh": "1.840", "quality": {"A": 45, "E": 1}, "missingIntervals": 0}


def test_monthly_buckets_cut_at_local_month_starts_and_count_missing_intervals(platform, client) -> None:
    store_days(platform, date(2026, 9, 29), date(2026, 10, 1))

    body = consumption(client, **{"from": "2026-09-30", "to": "2026-10-03", "granularity": "monthly"}).json()

    # 30 September: 48 x 300; 1 to 3 October (before daylight saving): 48 x 10, and 2 October none.
    assert summary(body) == [
        ("2026-09-30T00:00:00+10:00", "2026-10-01T00:00:00+10:00", 14_400, "14.400", {"A": 48}, 0),
        ("2026-10-01T00:00:00+10:00", "2026-10-03T00:00:00+10:00", 480, "0.480", {"A": 48}, 48),
    ]
    assert [b["complete"] for b in body["buckets"]] == [True, False]


def test_a_register_meter_is_prorated_over_local_days_in_whole_watt_hours(platform, client) -> None:
    sydney = ZoneInfo("Australia/Sydney")
    readings = platform.documents.container(READINGS.name)
    for value, day in (("1000", date(2026, 10, 3)), ("1010", date(2026, 10, 5))):
        at = datetime(day.year, day.month, day.day, tzinfo=sydney)
        store_register_read(readings, REGISTER_NMI, RegisterRead("MTR-D110231", "E1", Decimal(value), at, "actual",
                                                                 "FO-1"), source="test")  # fmt: skip

    body = consumption(client, REGISTER_NMI, **{"from": "2026-10-03", "to": "2026-10-05"}).json()

    # 10 kWh over 24 + 23 hours: 10,000 x 24/47 = 5,106.38 and 10,000 x 23/47 = 4,893.62; the larger
    # remainder takes the spare watt-hour: 5,106 + 4,894 = 10,000.
    assert [(b["wh"], b["quality"], b["complete"]) for b in body["buckets"]] == [
        (5_106, {"A": 1}, True),
        (4_894, {"A": 1}, True),
    ]
    assert body["total"]["wh"] == 10_000 and body["meterKind"] == "register"
    assert body["total"]["missingIntervals"] is None


def test_an_empty_period_is_all_missing(client) -> None:
    body = consumption(client, **{"from": "2026-10-03", "to": "2026-10-04"}).json()

    assert summary(body) == [("2026-10-03T00:00:00+10:00", "2026-10-04T00:00:00+10:00", 0, "0.000", {}, 48)]


def test_an_unknown_service_point_is_404_in_the_error_shape(client) -> None:
    response = consumption(client, "4100000000", **{"from": "2026-10-03", "to": "2026-10-04"})

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "no service point 4100000000"}


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"from": "2026-13-01", "to": "2026-10-04"}, "from", "valid date"),
        ({"from": "2026-10-03"}, "to", "required"),
        ({"from": "2026-10-04", "to": "2026-10-04"}, "to", "2026-10-04 is not after from (2026-10-04)"),
        ({"from": "2026-10-05", "to": "2026-10-04"}, "to", "is not after from"),
        ({"from": "2025-01-01", "to": "2026-02-06"}, "to", "401 days asked; at most 400 at daily granularity"),
        ({"from": "2026-10-01", "to": "2026-11-02", "granularity": "interval"}, "to", "at most 31"),
        ({"from": "2026-10-01", "to": "2026-10-02", "granularity": "hourly"}, "granularity", "interval"),
        ({"from": "2026-10-01", "to": "2026-10-02", "register": "E1;x"}, "register", "letters or digits"),
    ],
)
def test_bad_queries_are_422_naming_the_field(client, params: dict[str, str], field: str, says: str) -> None:
    response = consumption(client, **params)

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_failed"
    assert [e["field"] for e in body["errors"]] == [field]
    assert says in body["errors"][0]["message"]


def test_four_hundred_days_are_allowed(client) -> None:
    response = consumption(client, **{"from": "2025-01-01", "to": "2026-02-05", "granularity": "monthly"})

    assert response.status_code == 200
    assert len(response.json()["buckets"]) == 14  # January 2025 to February 2026 (5 days of it)


def test_a_register_meter_has_no_intervals(client) -> None:
    response = consumption(
        client, REGISTER_NMI, **{"from": "2026-10-03", "to": "2026-10-04", "granularity": "interval"}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "granularity"


def test_times_are_utc_in_storage_and_local_in_the_answer(platform, client) -> None:
    store_days(platform, date(2026, 10, 3), date(2026, 10, 3))
    body = consumption(client, **{"from": "2026-10-03", "to": "2026-10-04", "granularity": "interval"}).json()

    first = datetime.fromisoformat(body["buckets"][0]["start"])
    assert first.astimezone(UTC) == datetime(2026, 10, 2, 14, tzinfo=UTC)  # market midnight, AEST
