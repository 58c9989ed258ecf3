"""POST /v1/rating/preview: the CLI's bill preview over HTTP, bad input refused by field."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.api.app import create_app
from tests.rating.test_preview import LA, csv_of, flat_usd, starts

FIXTURES = Path(__file__).parents[1] / "rating" / "urdb"
PREVIEW = "/v1/rating/preview"
BODY_CAP = 64 * 1024


@pytest.fixture
def client():
    # The preview needs no platform: an app with a small body cap is enough.
    app = create_app(max_request_bytes=BODY_CAP)
    assert PREVIEW in app.openapi()["paths"]
    with TestClient(app) as client:
        yield client


TWO_JULY_DAYS = starts(date(2026, 7, 1), date(2026, 7, 3))


def body(**changes: object) -> dict:
    """Two July days of half-hours at 0.5 kWh under the flat tariff."""
    return {
        "tariff": flat_usd(),
        "usage": [{"start": start, "kwh": "0.500"} for start in TWO_JULY_DAYS],
        "from": "2026-07-01",
        "to": "2026-07-03",
    } | changes


def test_a_preview_prices_two_days_by_hand(client):
    response = client.post(PREVIEW, json=body())

    # 2 x 1.05 = 2.10; 48 kWh x 0.25 = 12.00; tax 0.21 + 1.20; total 15.51
    assert response.status_code == 200
    preview = response.json()
    assert [(x["component"], x["quantity"], x["rate"], x["amount"]) for x in preview["lines"]] == [
        ("supply", "2", "1.05", "2.10"),
        ("energy", "48.000", "0.25", "12.00"),
    ]
    assert (preview["currency"], preview["subtotal"], preview["tax"], preview["total"]) == (
        "USD",
        "14.10",
        "1.41",
        "15.51",
    )
    assert preview["period"] == {"from": "2026-07-01", "to": "2026-07-03", "timeZone": LA}


def test_usage_as_csv_text_gives_the_same_preview(client):
    rows = client.post(PREVIEW, json=body()).json()
    text = client.post(PREVIEW, json=body(usage=None, usageCsv=csv_of(TWO_JULY_DAYS))).json()
    assert text == rows


def test_a_urdb_rate_is_detected_and_priced_in_the_zone_given(client):
    smud = json.loads((FIXTURES / "smud_ci_tod3.json").read_text())
    day = starts(date(2026, 7, 1), date(2026, 7, 2))
    usage = [{"start": s, "kwh": "5.000" if s.endswith("T17:00") else "1.000"} for s in day]
    response = client.post(PREVIEW, json=body(tariff=smud, usage=usage, to="2026-07-02", timeZone=LA))
    # The same July weekday as tests/rating/test_preview.py: 75.47 + 3.22 + 4.26 + 1.79 + 3.74
    assert response.status_code == 200
    assert (response.json()["tariff"], response.json()["total"]) == ("urdb-68c0ca32d7afaa668b0dc6fb", "88.48")


def with_row(index: int, **row: str) -> list[dict]:
    usage = [{"start": start, "kwh": "0.500"} for start in TWO_JULY_DAYS]
    usage[index] = {**usage[index], **row}
    return usage


SDGE = json.loads((FIXTURES / "sdge_al_tou.json").read_text())
FLOAT_RATE = {"id": "energy", "kind": "flat_energy", "description": "E", "rate": 0.25, "taxCode": "TAX"}


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"usage": with_row(3, kwh="0.1234")}, "usage.3.kwh", "more than 3 decimals"),
        ({"usage": with_row(5, start="2026-07-01T03:00")}, "usage.5.start", "gap: 1 interval(s)"),
        ({"usage": with_row(0, kwh=0.5)}, "usage.0.kwh", "valid string"),
        ({"usage": None, "usageCsv": csv_of(TWO_JULY_DAYS, kwh="0.0005")}, "usageCsv", "line 2: kwh: 0.0005"),
        ({"usageCsv": csv_of(TWO_JULY_DAYS)}, "usage", "exactly one of usage"),
        ({"usage": None}, "usage", "exactly one of usage"),
        ({"tariff": flat_usd(components=[FLOAT_RATE])}, "tariff.components[0].rate", "floats are refused"),
        ({"tariff": [flat_usd(), {"version": "2027"}]}, "tariff[1].components", "missing"),
        ({"tariff": SDGE, "timeZone": LA}, "tariff.items[0].demandReactPwrCharge", "reactive power"),
        ({"tariff": SDGE}, "timeZone", "required for a URDB rate"),
        ({"timeZone": "Mars/Olympus"}, "timeZone", "unknown IANA time zone"),
        ({"to": "2026-06-30"}, "to", "must be after from"),
        ({"from": "July"}, "from", "valid date"),
        ({"to": "2026-07-04"}, "usage", "covers 2026-07-01T00:00:00-07:00 to 2026-07-03T00:00:00-07:00"),
        ({"price": "9"}, "price", "Extra inputs"),
    ],
)
def test_bad_input_is_422_naming_the_field(client, changes, field, says):
    response = client.post(PREVIEW, json=body(**changes))
    assert response.status_code == 422
    error = response.json()
    assert error["error"] == "validation_failed"
    assert [e["field"] for e in error["errors"]] == [field]
    assert says in error["errors"][0]["message"]


def test_a_body_over_the_cap_is_refused_before_it_is_read(client):
    rows = starts(date(2026, 7, 1), date(2026, 8, 1), minutes=15)  # 2,976 rows of about 26 characters
    text = csv_of(rows)
    assert len(text) > BODY_CAP
    response = client.post(PREVIEW, json=body(usage=None, usageCsv=text))
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"


def test_the_route_is_in_the_openapi_document(client):
    assert PREVIEW in client.get("/openapi.json").json()["paths"]
