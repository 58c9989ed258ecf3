"""A price change from the 15th of November 2027, announced through the tariff API on the
5th: November's invoice bills 1-14 November at the old prices and 15-30 November at the new
ones, in two parts with the days split; December's invoice knows only the new prices.

The Melbourne household reads a register meter on the flat tariff: its usage is shared
between the parts by days (floor at each day boundary, so the parts sum to the reads'
difference). The Sydney business has an interval meter on time of use: each part bills
exactly the intervals of its own local days."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from shared.demo.sample_utility import FLAT_TARIFF, TOU_TARIFF
from shared.payments.ledger_command import check_ledger
from tests.scenarios.support import (
    BILL_CYCLE_AT,
    MELBOURNE_REGISTER,
    SYDNEY_INTERVAL,
    Story,
    at_utc,
    cents,
    days,
    household,
    interval_wh,
    local_midnight_utc,
    register_usage_kwh,
)

NOVEMBER, DECEMBER, JANUARY = date(2027, 11, 1), date(2027, 12, 1), date(2028, 1, 1)
CHANGE = date(2027, 11, 15)
ANNOUNCED = datetime.fromisoformat("2027-11-05T01:00:00+00:00")


def new_version(tariff: dict, rates: dict[str, str]) -> dict:
    """The tariff document from ``CHANGE`` on, with some rates changed."""
    components = []
    for component in tariff["components"]:
        changed = dict(component)
        if component["id"] in rates:
            changed["rate"] = rates[component["id"]]
        if "periods" in component:
            changed["periods"] = [{**p, "rate": rates.get(p["id"], p["rate"])} for p in component["periods"]]
        components.append(changed)
    body = {k: v for k, v in tariff.items() if k not in ("id", "tariffId")}
    return body | {"version": CHANGE.isoformat(), "effectiveFrom": CHANGE.isoformat(), "components": components}


def announce(api, tariff: dict, rates: dict[str, str]) -> None:
    path = f"/v1/tariffs/{tariff['id']}"
    etag = api.get(path).headers["ETag"]
    added = api.post(f"{path}/versions", json=new_version(tariff, rates), headers={"If-Match": etag})
    assert added.status_code == 201, added.text
    assert [(v["version"], v["effectiveTo"]) for v in added.json()["versions"]] == [
        ("2026-07-01", CHANGE.isoformat()),  # the running version now ends where the new one starts
        (CHANGE.isoformat(), None),
    ]


def amount(line: dict) -> Decimal:
    return Decimal(line["amount"]["amount"])


def parts(doc: dict) -> dict[tuple[str, str], dict]:
    """The invoice's lines by (component, version)."""
    return {(x["componentId"], x["tariffVersion"]): x for x in doc["lines"]}


def test_the_month_of_a_price_change_is_billed_in_two_parts_and_the_next_at_the_new_price(
    platform, clock, monkeypatch, api
):
    clock.now = datetime.fromisoformat("2027-10-25T00:00:00+00:00")
    story = Story(platform, clock, monkeypatch, accounts=(MELBOURNE_REGISTER, SYDNEY_INTERVAL), real_pdfs=False)
    story.billed_through(NOVEMBER)
    story.meter_data(first=NOVEMBER, last=JANUARY)
    clock.now = ANNOUNCED
    announce(api, FLAT_TARIFF, {"supply": "1.1000", "usage": "0.3400"})
    announce(api, TOU_TARIFF, {"supply": "1.2000", "peak": "0.5300"})

    for day in days(ANNOUNCED.date(), JANUARY):
        story.bill_cycle(at_utc(day, BILL_CYCLE_AT))

    old, new = "2026-07-01", CHANGE.isoformat()
    nov, dec = sorted(story.issued(MELBOURNE_REGISTER), key=lambda d: d["periodStart"])
    assert (nov["periodStart"], nov["periodEnd"], dec["periodStart"]) == ("2027-11-01", "2027-12-01", "2027-12-01")

    # November by hand. The reads differ by 379 kWh (280 + 9 x 11) over 30 days; the usage
    # before 15 November is floor(379000 x 14 / 30) = 176866 Wh, the rest 202134 Wh.
    assert register_usage_kwh(NOVEMBER) == 379
    lines = parts(nov)
    assert set(lines) == {("supply", old), ("usage", old), ("supply", new), ("usage", new)}
    assert [(lines[k]["periodStart"], lines[k]["periodEnd"]) for k in (("usage", old), ("usage", new))] == [
        ("2027-11-01", "2027-11-15"),
        ("2027-11-15", "2027-12-01"),
    ]
    assert (Decimal(lines["supply", old]["quantity"]), Decimal(lines["supply", new]["quantity"])) == (14, 16)
    assert (Decimal(lines["usage", old]["quantity"]), Decimal(lines["usage", new]["quantity"])) == (
        Decimal("176.866"),
        Decimal("202.134"),
    )
    assert amount(lines["supply", old]) == Decimal("14.63")  # 14 x 1.0450
    assert amount(lines["usage", old]) == Decimal("55.25")  # 176.866 x 0.3124 = 55.2529...
    assert amount(lines["supply", new]) == Decimal("17.60")  # 16 x 1.1000
    assert amount(lines["usage", new]) == Decimal("68.73")  # 202.134 x 0.3400 = 68.72556
    assert Decimal(nov["subtotal"]["amount"]) == Decimal("156.21")
    assert Decimal(nov["taxTotal"]["amount"]) == Decimal("15.62")  # 10 % of 156.21 = 15.621
    assert Decimal(nov["total"]["amount"]) == Decimal("171.83")

    # December: 31 days and 388 kWh (280 + 9 x 12), the new prices only.
    assert {(x["componentId"], x["tariffVersion"]) for x in dec["lines"]} == {("supply", new), ("usage", new)}
    assert amount(parts(dec)["supply", new]) == Decimal("34.10")  # 31 x 1.1000
    assert amount(parts(dec)["usage", new]) == Decimal("131.92")  # 388 x 0.3400
    assert Decimal(dec["total"]["amount"]) == Decimal("182.62")  # 166.02 + 16.602 -> 16.60

    # The time-of-use business: each part bills exactly the intervals of its local days.
    nmi, zone = household(SYDNEY_INTERVAL)[4], household(SYDNEY_INTERVAL)[6]
    tou_nov, tou_dec = sorted(story.issued(SYDNEY_INTERVAL), key=lambda d: d["periodStart"])
    for version, first, end in ((old, NOVEMBER, CHANGE), (new, CHANGE, DECEMBER)):
        energy = [x for x in tou_nov["lines"] if x["unit"] == "kWh" and x["tariffVersion"] == version]
        assert {(x["periodStart"], x["periodEnd"]) for x in energy} == {(first.isoformat(), end.isoformat())}
        wh, _ = interval_wh(nmi, local_midnight_utc(first, zone), local_midnight_utc(end, zone))
        assert sum(Decimal(x["quantity"]) for x in energy) == Decimal(wh) / 1000
        for x in energy:  # each line: its quantity at its own version's rate, rounded once
            assert amount(x) == cents(Decimal(x["quantity"]) * Decimal(x["rate"]))
    peak = {x["tariffVersion"]: Decimal(x["rate"]) for x in tou_nov["lines"] if x["componentId"] == "peak"}
    assert peak == {old: Decimal("0.4862"), new: Decimal("0.5300")}
    supply = {x["tariffVersion"]: amount(x) for x in tou_nov["lines"] if x["componentId"] == "supply"}
    assert supply == {old: Decimal("15.71"), new: Decimal("19.20")}  # 14 x 1.1220 = 15.708; 16 x 1.2000
    assert {x["tariffVersion"] for x in tou_dec["lines"]} == {new}

    assert check_ledger(platform.documents).balanced
    assert [d["number"] for d in story.issued()] == [f"INV-2027-{n:06d}" for n in (1, 2)] + [
        f"INV-2028-{n:06d}" for n in (1, 2)
    ]
