"""A household moves in on 31 January 2028 and out on 15 April 2028 (the contract's end: the
first day no longer supplied). The cycle bills February and March as usual, then a final bill
for 31 March to 15 April (15 days of supply, to the final read), and nothing after it however
often the timer runs. The operator ends the contract through the API, as a move-out is
recorded."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from fastapi.testclient import TestClient

from shared.api.app import create_app
from shared.invoicing.bill_cycle import due_periods
from shared.resources import ACCOUNTS, CONTRACTS
from tests.scenarios.support import BILL_CYCLE_AT, HOBART_REGISTER, Story, at_utc, cents, days

MOVED_IN = date(2028, 1, 31)
MOVED_OUT = date(2028, 4, 15)
READS = {
    date(2028, 1, 31): Decimal(5000),
    date(2028, 2, 29): Decimal(5290),
    date(2028, 3, 31): Decimal(5600),
    date(2028, 4, 15): Decimal(5750),  # the final read, on the move-out day
}


def test_a_move_out_gets_a_short_final_bill_and_then_nothing(platform, clock, monkeypatch):
    clock.now = datetime.fromisoformat("2028-01-20T00:00:00+00:00")
    story = Story(platform, clock, monkeypatch, accounts=(HOBART_REGISTER,), real_pdfs=False, contract_start=MOVED_IN)
    story.meter_data(first=MOVED_IN, last=MOVED_OUT, reads=READS)
    [contract] = [
        d
        for d in platform.documents.container(CONTRACTS.name).query({"kind": "contract"})
        if d["accountId"] == HOBART_REGISTER
    ]
    with TestClient(create_app()) as api:
        url = f"/v1/contracts/{contract['contractId']}"
        etag = api.get(url).headers["ETag"]
        moved = api.patch(url, json={"end": MOVED_OUT.isoformat()}, headers={"If-Match": etag})
        assert moved.status_code == 200, moved.text

    for day in days(MOVED_IN, date(2028, 7, 5)):
        story.bill_cycle(at_utc(day, BILL_CYCLE_AT))

    docs = sorted(story.issued(), key=lambda d: d["periodStart"])
    assert [(d["periodStart"], d["periodEnd"]) for d in docs] == [
        ("2028-01-31", "2028-02-29"),
        ("2028-02-29", "2028-03-31"),
        ("2028-03-31", "2028-04-15"),  # the final bill
    ]
    final = docs[-1]
    supply, usage = (next(x for x in final["lines"] if x["componentId"] == c) for c in ("supply", "usage"))
    assert (Decimal(supply["quantity"]), Decimal(usage["quantity"])) == (15, 150)  # 15 days; 5750 - 5600 kWh
    subtotal = cents(15 * Decimal("1.0450")) + cents(150 * Decimal("0.3124"))  # 15.68 + 46.86
    assert Decimal(final["total"]["amount"]) == subtotal + cents(subtotal / 10)
    assert platform.documents.container(ACCOUNTS.name).get(HOBART_REGISTER, HOBART_REGISTER)["billedThrough"] == (
        "2028-04-15"
    )


def test_the_cycle_stops_at_the_end_of_supply():
    def ends(billed_through: date, today: date, supply_ends: date | None) -> list[str]:
        periods = due_periods(billed_through=billed_through, today=today, anchor_day=31, supply_ends=supply_ends)
        return [p.end.isoformat() for p in periods]

    assert ends(date(2028, 3, 31), date(2028, 7, 1), date(2028, 4, 15)) == ["2028-04-15"]
    assert ends(date(2028, 3, 31), date(2028, 4, 14), date(2028, 4, 15)) == []  # not over yet
    assert ends(date(2028, 4, 15), date(2028, 9, 1), date(2028, 4, 15)) == []  # finally billed
    # Moving out on an anchor day: the last period is a whole one.
    assert ends(date(2028, 3, 31), date(2028, 7, 1), date(2028, 4, 30)) == ["2028-04-30"]
    assert ends(date(2028, 3, 31), date(2028, 5, 2), None) == ["2028-04-30"]
