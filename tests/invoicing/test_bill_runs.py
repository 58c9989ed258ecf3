"""Bill runs move the clock forward and assert what must follow, Kill Bill style: the
timer's catch-up, the run around local midnight, a re-run, and a worker killed mid-bill."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from azure.functions.timer import TimerRequest

from functions import timers
from shared.demo.meter_data import nem12_text
from shared.demo.sample_utility import HOUSEHOLDS, seed_sample_utility
from shared.invoicing import billing
from shared.invoicing.numbering import InvoiceNumbering
from shared.readings.history import store_register_read
from shared.readings.intake import import_meter_file
from shared.readings.model import RegisterRead
from shared.resources import ACCOUNTS, BILL_RUNS, BLOB_READINGS_INBOX, INVOICES, NUMBERING, READINGS


def load_month_data(platform, *, first: date, months: list[date]) -> None:
    """Interval data from ``first`` to the last month start, and register reads on each
    month start, for every sample household."""
    text = nem12_text(first_day=first, last_day=months[-1], created=datetime(2026, 11, 2, tzinfo=UTC))
    platform.blobs.put(BLOB_READINGS_INBOX, "incoming/t1", text.encode(), content_type="text/csv")
    report = import_meter_file(platform.documents, platform.blobs, import_id="t1", blob_name="incoming/t1")
    assert report["status"] == "accepted", report["errors"][:3]
    readings = platform.documents.container(READINGS.name)
    for _acct, _n, _m, _a, nmi, _s, zone, kind, serial, _t in HOUSEHOLDS:
        if kind != "register":
            continue
        for n, month in enumerate(months):
            read_at = datetime(month.year, month.month, month.day, 0, 10, tzinfo=ZoneInfo(zone))
            read = RegisterRead(serial, "E1", Decimal(5000 + 300 * n), read_at, "actual", "FO-1")
            store_register_read(readings, nmi, read, source="test")


def set_billed_through(platform, day: date) -> None:
    accounts = platform.documents.container(ACCOUNTS.name)
    for doc in accounts.query():
        accounts.replace({**doc, "billedThrough": day.isoformat()}, etag=doc["_etag"])


def issued(platform) -> list[dict]:
    return [d for d in platform.documents.container(INVOICES.name).query(order_by="number") if d["status"] != "draft"]


def run_timer(platform, *, past_due: bool = False) -> None:
    timers.bill_cycle_kickoff(TimerRequest(past_due=past_due))
    platform.bus.drain()


@pytest.fixture
def utility(platform):
    seed_sample_utility(platform.documents)
    return platform


def test_a_timer_down_for_three_periods_bills_all_three_once_on_its_catch_up(utility, clock):
    months = [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    load_month_data(utility, first=date(2026, 7, 31), months=months)
    set_billed_through(utility, date(2026, 8, 1))
    clock.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    run_timer(utility, past_due=True)
    docs = issued(utility)
    periods = sorted({(d["accountId"], d["periodStart"]) for d in docs})
    assert len(docs) == len(periods) == 5 * 3
    assert {p for _, p in periods} == {"2026-08-01", "2026-09-01", "2026-10-01"}
    assert [d["number"] for d in docs] == [f"INV-2026-{n:06d}" for n in range(1, 16)]
    assert {d["billedThrough"] for d in utility.documents.container(ACCOUNTS.name).query()} == {"2026-11-01"}

    clock.advance(hours=24)
    run_timer(utility)  # the next day, and a re-run of the whole cycle: nothing new
    run_timer(utility)
    assert len(issued(utility)) == 15
    assert utility.bus.dead_letters() == []


def test_runs_around_a_customers_local_midnight_bill_the_month_once(utility, clock):
    load_month_data(utility, first=date(2026, 9, 30), months=[date(2026, 10, 1), date(2026, 11, 1)])
    sydney = ["ACC-100001", "ACC-100003"]
    # 31 Oct 23:59 in Sydney (AEDT, UTC+11) is 12:59 UTC: the month has not ended there yet.
    for minute in ("12:58", "12:59"):
        clock.now = datetime.fromisoformat(f"2026-10-31T{minute}:00+00:00")
        run_timer(utility)
    assert [d for d in issued(utility) if d["accountId"] in sydney] == []
    for moment in ("13:00", "13:01", "14:00"):
        clock.now = datetime.fromisoformat(f"2026-10-31T{moment}:00+00:00")
        run_timer(utility)
    assert sorted(d["accountId"] for d in issued(utility) if d["accountId"] in sydney) == sydney
    assert len(issued(utility)) == len({d["accountId"] for d in issued(utility)})


def test_a_worker_killed_between_rating_and_issuing_leaves_one_invoice_and_no_gap(utility, monkeypatch):
    load_month_data(utility, first=date(2026, 9, 30), months=[date(2026, 10, 1), date(2026, 11, 1)])
    real_claim = InvoiceNumbering.claim
    deaths: list[str] = []

    def dies_after_claiming_once(self, **kwargs):
        claimed = real_claim(self, **kwargs)
        if kwargs["invoice_id"].startswith("ACC-100002") and not deaths:
            deaths.append(claimed.number)
            raise RuntimeError("worker killed after taking a number, before saving the invoice")
        return claimed

    monkeypatch.setattr(InvoiceNumbering, "claim", dies_after_claiming_once)
    run_timer(utility)
    docs = issued(utility)
    assert deaths and len(docs) == 5
    assert [d["number"] for d in docs] == [f"INV-2026-{n:06d}" for n in range(1, 6)]
    [victim] = [d for d in docs if d["accountId"] == "ACC-100002"]
    assert victim["number"] == deaths[0]  # the redelivery used the number the dead worker took
    register = utility.documents.container(NUMBERING.name).query({"kind": "number"}, partition="INV-2026")
    assert len(register) == 5


def test_a_worker_killed_after_drafting_is_resumed_by_the_redelivery(utility, monkeypatch):
    load_month_data(utility, first=date(2026, 9, 30), months=[date(2026, 10, 1), date(2026, 11, 1)])
    calls: list[str] = []
    real = billing.InvoiceNumbering.claim

    def dies_before_numbering(self, **kwargs):
        if not calls:
            calls.append(kwargs["invoice_id"])
            raise ConnectionError("storage unavailable")
        return real(self, **kwargs)

    monkeypatch.setattr(billing.InvoiceNumbering, "claim", dies_before_numbering)
    run_timer(utility)
    assert len(issued(utility)) == 5
    outcomes = utility.documents.container(BILL_RUNS.name).query({"kind": "outcome"})
    assert {o["status"] for o in outcomes} == {"billed"}


def test_accounts_without_reads_are_skipped_with_the_reason_and_nothing_issued(utility, clock):
    run_timer(utility)
    assert issued(utility) == []
    outcomes = utility.documents.container(BILL_RUNS.name).query({"kind": "outcome"})
    assert len(outcomes) == 5 and {o["status"] for o in outcomes} == {"skipped"}
    assert all("missing" in o["reason"] for o in outcomes)
