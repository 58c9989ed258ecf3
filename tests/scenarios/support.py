"""The stage for the scenarios: some of the sample utility's households on the embedded
platform, their meter data, a test clock moved day by day, and the daily timers fired at
their real UTC hours, as Kill Bill's end-to-end tests move their clock.

A ``Story`` only sets the scene and reads what exists afterwards; each scenario says what
must have happened and works the expected amounts out by hand."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from azure.functions.timer import TimerRequest

from functions import timers
from shared.demo import sample_utility
from shared.demo.meter_data import _half_hour_wh, nem12_text
from shared.demo.sample_utility import seed_sample_utility
from shared.invoicing import delivery
from shared.invoicing.bill_cycle import add_months
from shared.invoicing.invoice import Invoice
from shared.readings.history import store_register_read
from shared.readings.intake import import_meter_file
from shared.readings.model import RegisterRead
from shared.resources import ACCOUNTS, BLOB_INVOICES, BLOB_READINGS_INBOX, INVOICES

# The households the scenarios follow (shared/demo/sample_utility.py HOUSEHOLDS).
SYDNEY_INTERVAL = "ACC-100003"  # NMI 4102009902, time of use, Australia/Sydney (DST)
HOBART_REGISTER = "ACC-100005"  # NMI 8000112233, flat, Australia/Hobart (DST)
MELBOURNE_REGISTER = "ACC-100002"  # NMI 6203778810, flat, Australia/Melbourne (DST)


def scheduled_at(schedule: str) -> time:
    """The UTC time of day a daily NCRONTAB schedule ("sec min hour * * *") fires at."""
    second, minute, hour, *every = schedule.split()
    assert every == ["*", "*", "*"], f"{schedule!r} is not a daily schedule"
    return time(int(hour), int(minute), int(second))


# When functions/timers.py's schedules fire: the stories fire them at the same hours.
BILL_CYCLE_AT = scheduled_at(timers.BILL_CYCLE_SCHEDULE)  # 15:30 UTC
REBILL_AT = scheduled_at(timers.REBILL_SCHEDULE)  # 15:00 UTC

# NEM12 days are market days: Australian Eastern Standard Time all year, never DST.
MARKET_TIME = timezone(timedelta(hours=10))
FIRST_READ = Decimal(5000)  # the register meters' first read, kWh


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def household(account_id: str) -> tuple[Any, ...]:
    return next(h for h in sample_utility.HOUSEHOLDS if h[0] == account_id)


def month_starts(first: date, last: date) -> list[date]:
    """First days of the months from ``first`` to ``last``, both included."""
    months, month = [], first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def register_usage_kwh(month: date) -> int:
    """What a register meter recorded in the month starting ``month``: varies by month so a
    swapped period would show."""
    return 280 + 9 * month.month


def register_read_on(month: date, first: date) -> Decimal:
    """The dial on the first of ``month``, counting from ``FIRST_READ`` on ``first``."""
    return FIRST_READ + sum(register_usage_kwh(m) for m in month_starts(first, month)[:-1])


def interval_wh(nmi: str, start_utc: datetime, end_utc: datetime) -> tuple[int, int]:
    """(Wh, intervals) the generated NEM12 data holds between two instants, counted from
    market days and half-hours, independently of how billing slices them."""
    total = count = 0
    day = start_utc.astimezone(MARKET_TIME).date()
    while datetime.combine(day, time.min, MARKET_TIME) < end_utc:
        for index in range(48):
            begins = datetime.combine(day, time.min, MARKET_TIME) + timedelta(minutes=30 * index)
            if start_utc <= begins < end_utc:
                total += _half_hour_wh(nmi, day, index)
                count += 1
        day += timedelta(days=1)
    return total, count


def stand_in_pdf(invoice: Invoice, **_context: Any) -> bytes:
    """What the PDF tests check is not checked here: a document naming its invoice."""
    return f"%PDF-1.7 stand-in for {invoice.number} {invoice.total}\n%%EOF\n".encode()


def local_midnight_utc(day: date, zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC)


class Story:
    """Some households of the sample utility, billed from ``billed_through`` on."""

    def __init__(
        self,
        platform: Any,
        clock: Any,
        monkeypatch: Any,
        *,
        accounts: tuple[str, ...],
        real_pdfs: bool = True,
        contract_start: date | None = None,
    ) -> None:
        self.platform = platform
        self.clock = clock
        self.accounts = accounts
        if not real_pdfs:
            # WeasyPrint takes most of a second per invoice on these machines; a story that
            # asserts nothing inside the PDFs stores a stand-in, still once per document.
            monkeypatch.setattr(delivery, "render_invoice_pdf_fast", stand_in_pdf)
        # Only these households exist in this story: the others would be skipped every day
        # for want of reads, which costs time and says nothing here.
        monkeypatch.setattr(sample_utility, "HOUSEHOLDS", [household(a) for a in accounts])
        if contract_start is not None:  # the customers moved in then: billing starts there
            monkeypatch.setattr(sample_utility, "BILLING_MONTH_START", contract_start.isoformat())
        seed_sample_utility(platform.documents, clock=clock)

    @property
    def documents(self) -> Any:
        return self.platform.documents

    # -- the scene ----------------------------------------------------------------------

    def billed_through(self, day: date) -> None:
        accounts = self.documents.container(ACCOUNTS.name)
        for doc in accounts.query():
            accounts.replace({**doc, "billedThrough": day.isoformat()}, etag=doc["_etag"])

    def meter_data(self, *, first: date, last: date, reads: dict[date, Decimal] | None = None) -> None:
        """Meter data for the months from ``first`` to ``last`` (firsts of months): interval data
        for the market days from the day before ``first`` (a local month starts before its
        market day in summer time) to ``last``, and a register read just after local midnight
        on every first of the month (or the ``reads`` given, by local day), as the meter data
        provider and the field run deliver them."""
        nmis = [household(a)[4] for a in self.accounts if household(a)[7] == "interval"]
        if nmis:
            text = nem12_text(first_day=first - timedelta(days=1), last_day=last, created=self.clock.now, nmis=nmis)
            self.import_file(text, f"data-{first}-{last}")
        for account in self.accounts:
            _a, _n, _m, _b, nmi, _s, zone, kind, serial, _t = household(account)
            if kind == "register":
                on = reads or {month: register_read_on(month, first) for month in month_starts(first, last)}
                for day, value in on.items():
                    self.register_read(nmi, serial, zone, day, value)

    def register_read(self, nmi: str, serial: str, zone: str, day: date, value: Decimal) -> None:
        read_at = datetime.combine(day, time(0, 10), tzinfo=ZoneInfo(zone))
        read = RegisterRead(serial, "E1", value, read_at, "actual", "FO-117")
        store_register_read(self.documents.container("readings"), nmi, read, source="field-run")

    def import_file(self, text: str, import_id: str) -> dict[str, Any]:
        blob = f"incoming/{import_id}"
        self.platform.blobs.put(BLOB_READINGS_INBOX, blob, text.encode(), content_type="text/csv")
        report = import_meter_file(
            self.documents, self.platform.blobs, import_id=import_id, blob_name=blob, now=self.clock.now
        )
        assert report["status"] == "accepted", report["errors"][:3]
        return report

    # -- the timers ---------------------------------------------------------------------

    def bill_cycle(self, at: datetime, *, past_due: bool = False) -> None:
        """The bill-cycle timer fires at ``at``, and the bus delivers everything it caused."""
        self.clock.now = at
        timers.bill_cycle_kickoff(TimerRequest(past_due=past_due))
        self.platform.bus.drain()

    def rebill(self, at: datetime) -> None:
        self.clock.now = at
        timers.rebill_daily(TimerRequest(past_due=False))
        self.platform.bus.drain()

    # -- what exists --------------------------------------------------------------------

    def issued(self, account: str | None = None) -> list[dict[str, Any]]:
        """Every issued document (invoices and credit notes), by number."""
        docs = self.documents.container(INVOICES.name).query(partition=account, order_by="number")
        return [d for d in docs if d["status"] != "draft"]

    def by_series(self) -> dict[str, list[int]]:
        series: dict[str, list[int]] = defaultdict(list)
        for doc in self.issued():
            series[doc["series"]].append(int(doc["number"].rsplit("-", 1)[1]))
        return {name: sorted(numbers) for name, numbers in series.items()}

    def pdf(self, doc: dict[str, Any]) -> bytes:
        return bytes(self.platform.blobs.get(BLOB_INVOICES, doc["pdfBlob"]).data)


def days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def at_utc(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=UTC)


@contextmanager
def story_on_its_own_platform(
    folder: Path, *, starts: datetime, accounts: tuple[str, ...], real_pdfs: bool = True
) -> Iterator[Story]:
    """A story with a platform of its own (what tests/conftest.py's ``platform`` fixture
    builds), for a module-scoped fixture: the clock is walked once and every test of the
    module reads what it left."""
    from shared.bootstrap import build_platform
    from shared.config import load_settings
    from shared.runtime import use_platform
    from tests.conftest import Clock

    clock = Clock(starts)
    platform = build_platform(load_settings(data_dir=folder / "var"), clock=clock)
    use_platform(platform)
    try:
        with pytest.MonkeyPatch.context() as monkeypatch:
            yield Story(platform, clock, monkeypatch, accounts=accounts, real_pdfs=real_pdfs)
    finally:
        use_platform(None)
        platform.close()
