"""A bill run at scale on the embedded pipeline: rated charges to issued invoices, then PDFs.

The book is generated straight into a fresh SQLite document store in a temporary folder, in
the record formats the sample utility (``shared/demo``) produces through the customer records
service and the readings intake: the two sample tariffs (single rate; time of use), and per
account a customer account, a service point and its October 2026 meter data. A share of the
accounts (``--interval-share``) have interval meters on the time-of-use tariff (33 NEM market
days of 48 half-hours, from 30 September to 1 November, as the demo's NEM12 file carries); the
rest have register meters on the single rate (an opening and a closing read, as the demo's
field app sends them). Four time zones (Sydney, Melbourne, Brisbane, Hobart), so October's DST
change falls inside some periods and not others.

Stages, each timed on its own (wall and CPU) on one copy of the store:

    kick-off     ``kick_off_bill_cycle``: the daily timer's fan-out, one ``bill-requested``
                 message per account on the in-process bus
    bus drain    the bus delivers each message to the same handler the pipeline registers
                 (``BillingService.bill``): rate, draft, number, issue, record the outcome;
                 the ``invoice-render`` messages it sends are counted, not rendered here
    direct       ``BillingService.bill`` called in a loop on a second copy of the store, no bus
                 (``--skip-direct`` leaves it out)
    pdf          the issued invoices rendered by ``pdf_batch`` over a process pool
                 (``--processes``), the first ``--pdf-sample`` of them (all: ``--pdf-sample 0``)

Store operations per bill are counted on a sample (``--ops-sample`` bills on a third copy) to
project the run onto Cosmos DB, and the projection for ``--project`` accounts on Azure with N
Function instances is printed with every assumption it makes.

    taskset -c 0 .venv/bin/python -m benchmarks.bill_run --accounts 10000 --pdf-sample 200 --processes 2
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from pypdf import PdfReader

from shared.customers.payment_reference import bpay_crn
from shared.demo.sample_utility import FLAT_TARIFF, TOU_TARIFF
from shared.invoicing.bill_cycle import BillingPeriod
from shared.invoicing.billing import BillingService, Supplier
from shared.invoicing.cycle_run import kick_off_bill_cycle
from shared.invoicing.delivery import metered_kwh
from shared.invoicing.invoice import Invoice
from shared.invoicing.pdf import PaymentDetails
from shared.invoicing.pdf_batch import render_each
from shared.platform.documents import BatchOperation
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.platform.messaging import Message
from shared.platform.messaging.in_process import InProcessBus
from shared.readings.history import interval_document, register_read_id
from shared.resources import (
    ACCOUNTS,
    INVOICES,
    QUEUE_BILL_REQUESTED,
    QUEUE_INVOICE_RENDER,
    READINGS,
    SERVICE_POINTS,
    TARIFFS,
)

PERIOD = BillingPeriod(date(2026, 10, 1), date(2026, 11, 1))
AS_OF = datetime(2026, 11, 1, 22, tzinfo=UTC)  # 2 November, 09:00 in Sydney: every period has ended
SUPPLIER = Supplier("Harbour Energy Pty Ltd", "12 345 678 901")
PAYMENT = PaymentDetails(biller_code="123456")
# (state, time zone, branch, first NMI digits)
STATES = (
    ("NSW", "Australia/Sydney", "NSW", "41"),
    ("VIC", "Australia/Melbourne", "VIC-TAS", "62"),
    ("QLD", "Australia/Brisbane", "QLD", "31"),
    ("TAS", "Australia/Hobart", "VIC-TAS", "80"),
)
FIRST = ("Olivia", "Jack", "Mia", "Aarav", "Grace", "Noah", "Zofia", "Liam", "Chloe", "Wei")
LAST = ("Nguyen", "O'Brien", "Patel", "Williams", "Smith", "Kowalski", "Chen", "Brown", "Jones", "Hansen")


# --- the book ----------------------------------------------------------------------------


def is_interval(index: int, interval_share: float) -> bool:
    # Spread evenly through the book, so any prefix of it has the same mix.
    return int((index + 1) * interval_share) > int(index * interval_share)


def account_records(index: int, interval: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    number = f"{index:07d}"
    state, zone, branch, nmi_prefix = STATES[index % len(STATES)]
    nmi = f"{nmi_prefix}{index:08d}"
    name = f"{FIRST[index % 10]} {LAST[(index // 10) % 10]}"
    street = f"{1 + index % 200} Wattle Street"
    suburb = f"Suburb {index % 97} {state} {2000 + index % 900}"
    account = {
        "id": f"ACC-{number}",
        "accountId": f"ACC-{number}",
        "kind": "account",
        "customerId": f"CUS-{number}",
        "country": "AU",
        "name": name,
        "email": f"customer{number}@example.com.au",
        "billingAddress": [street, suburb],
        "branch": branch,
        "billingCycle": "monthly",
        "paymentTermsDays": 14,
        "paymentReference": bpay_crn(f"7{number}"),
        "status": "active",
        "servicePointId": nmi,
        "tariffId": TOU_TARIFF["id"] if interval else FLAT_TARIFF["id"],
        "billedThrough": PERIOD.start.isoformat(),
    }
    service_point = {
        "id": nmi,
        "servicePointId": nmi,
        "kind": "servicePoint",
        "idScheme": "NMI",
        "country": "AU",
        "address": f"{street}, {suburb}",
        "timeZone": zone,
        "meterKind": "interval" if interval else "register",
        "meterSerial": f"MTR-{number}",
        "registerId": "E1",
        "status": "active",
    }
    return account, service_point


def interval_days(service_point: Mapping[str, Any], rng: np.random.Generator) -> list[dict[str, Any]]:
    """33 market days of half-hourly Wh: a household's base load with morning and evening peaks."""
    base = rng.integers(150, 400)
    shape = np.array([1.0] * 14 + [2.2] * 4 + [1.2] * 16 + [3.0] * 8 + [1.6] * 6)
    days = []
    for offset in range(33):
        day = date(2026, 9, 30) + timedelta(days=offset)
        values = (base * shape * rng.uniform(0.7, 1.3, 48)).astype(np.int64)
        days.append(
            interval_document(
                service_point["servicePointId"],
                suffix="E1",
                day=day,
                interval_minutes=30,
                value_unit="Wh",
                values=values.tolist(),
                quality="A" * 48,  # one flag per interval, as the intake stores a NEM12 day
                update_datetime=datetime(2026, 11, 2, 2, tzinfo=UTC),
                meter_serial=service_point["meterSerial"],
                source="benchmark",
            )
        )
    return days


def register_reads(service_point: Mapping[str, Any], rng: np.random.Generator) -> list[dict[str, Any]]:
    """An opening and a closing read five minutes after the period's local bounds."""
    zone = ZoneInfo(service_point["timeZone"])
    opening = int(rng.integers(1_000, 90_000))
    reads = []
    for day, value in ((PERIOD.start, opening), (PERIOD.end, opening + int(rng.integers(150, 900)))):
        read_at = datetime.combine(day, day_time(0, 5), tzinfo=zone)
        reads.append(
            {
                "id": register_read_id(service_point["meterSerial"], "E1", read_at),
                "servicePointId": service_point["servicePointId"],
                "kind": "register",
                "meterSerial": service_point["meterSerial"],
                "registerId": "E1",
                "value": str(value),
                "readAt": read_at.astimezone(UTC).isoformat(),
                "readType": "actual",
                "readerId": "FO-117",
                "photoRef": None,
                "source": "benchmark",
            }
        )
    return reads


def generate_book(store: SqliteDocumentStore, accounts: int, interval_share: float, seed: int = 2026) -> int:
    """Write the book; returns how many documents were written."""
    rng = np.random.default_rng(seed)
    for tariff in (FLAT_TARIFF, TOU_TARIFF):
        store.container(TARIFFS.name).create(tariff)
    written = 2
    accounts_container = store.container(ACCOUNTS.name)
    points = store.container(SERVICE_POINTS.name)
    readings = store.container(READINGS.name)
    for index in range(accounts):
        interval = is_interval(index, interval_share)
        account, service_point = account_records(index, interval)
        accounts_container.create(account)
        points.create(service_point)
        docs = interval_days(service_point, rng) if interval else register_reads(service_point, rng)
        readings.batch(service_point["servicePointId"], [BatchOperation("create", doc) for doc in docs])
        written += 2 + len(docs)
    return written


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Stage:
    name: str
    items: int
    wall: float
    cpu: float
    load: str
    note: str = ""

    def row(self) -> str:
        rate = self.items / self.wall if self.wall else 0.0
        per_item = 1000 * self.cpu / self.items if self.items else 0.0
        return (
            f"| {self.name} | {self.items:,} | {self.wall:,.1f} | {rate:,.1f} | {self.cpu:,.1f} | {per_item:.2f} | "
            f"{self.load} | {self.note} |"
        )


def load_average() -> str:
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


@contextmanager
def timed(stages: list[Stage], name: str, items: Callable[[], int], note: str = "") -> Iterator[None]:
    load = load_average()
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    stage = Stage(name, items(), time.perf_counter() - wall, time.process_time() - cpu, load, note)
    stages.append(stage)
    print("done:", stage.row(), flush=True)  # a long run shows each stage as it ends


class CountingSender:
    """The bus's sending side for the direct path: counts what billing hands on."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    def send(self, queue: str, body: Mapping[str, Any], *, message_id: str | None = None, **_: Any) -> None:
        self.sent[queue] += 1


@dataclass
class OperationCounts:
    calls: Counter[str] = field(default_factory=Counter)


class CountingContainer:
    """A container that counts each store call by kind, for the Cosmos DB projection."""

    def __init__(self, inner: Any, counts: OperationCounts) -> None:
        self._inner, self._counts = inner, counts

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._counts.calls[name] += 1
            return attribute(*args, **kwargs)

        return counted


class CountingStore:
    def __init__(self, inner: SqliteDocumentStore, counts: OperationCounts) -> None:
        self._inner, self._counts = inner, counts
        self.guarantees = inner.guarantees

    def container(self, name: str) -> CountingContainer:
        return CountingContainer(self._inner.container(name), self._counts)


def peak_memory_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest finished child, in MB."""
    mine = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return mine, children


# --- the stages --------------------------------------------------------------------------


def bill_through_bus(
    store: SqliteDocumentStore, folder: Path, stages: list[Stage], *, drain: bool = True
) -> Counter[str]:
    bus = InProcessBus(folder / "bus.sqlite", queues=(QUEUE_BILL_REQUESTED, QUEUE_INVOICE_RENDER))
    billing = BillingService(store, bus, supplier=SUPPLIER)
    outcomes: Counter[str] = Counter()
    render_requests = Counter[str]()

    def on_bill_requested(message: Message) -> None:  # as shared/pipeline.py's handler
        outcome = billing.bill(
            account_id=message.body["accountId"],
            period=BillingPeriod(
                date.fromisoformat(message.body["periodStart"]), date.fromisoformat(message.body["periodEnd"])
            ),
            now=AS_OF,
            run_id=message.body.get("runId") or "adhoc",
            message_id=message.message_id,
            delivery=message.delivery_count,
        )
        outcomes[outcome.status] += 1

    def on_invoice_render(message: Message) -> None:
        render_requests["render requested"] += 1

    bus.subscribe(QUEUE_BILL_REQUESTED, on_bill_requested)
    bus.subscribe(QUEUE_INVOICE_RENDER, on_invoice_render)
    kick: list[int] = []
    with timed(stages, "kick-off: fan-out, one message per account", lambda: kick[0]):
        kick.append(len(kick_off_bill_cycle(store, bus, as_of=AS_OF, run_id="bench").requested))
    if not drain:
        bus.close()
        return Counter({"requested": kick[0], "pending on the bus": bus.pending(QUEUE_BILL_REQUESTED)})
    with timed(stages, "bus drain: rate, draft, number, issue (BillingService)", lambda: kick[0]):
        report = bus.drain()
    outcomes["drain report: " + str(report)] += 1
    bus.close()
    return outcomes + render_requests


def bill_directly(store: SqliteDocumentStore, accounts: int, stages: list[Stage]) -> Counter[str]:
    sender = CountingSender()
    billing = BillingService(store, sender, supplier=SUPPLIER)
    outcomes: Counter[str] = Counter()
    with timed(stages, "direct: BillingService.bill in a loop, no bus", lambda: accounts):
        for index in range(accounts):
            outcomes[billing.bill(account_id=f"ACC-{index:07d}", period=PERIOD, now=AS_OF, run_id="direct").status] += 1
    return outcomes + sender.sent


def count_operations(store: SqliteDocumentStore, accounts: int) -> Counter[str]:
    counts = OperationCounts()
    billing = BillingService(CountingStore(store, counts), CountingSender(), supplier=SUPPLIER)  # type: ignore[arg-type]
    for index in range(accounts):
        billing.bill(account_id=f"ACC-{index:07d}", period=PERIOD, now=AS_OF, run_id="ops")
    return counts.calls


def history_for(invoice: Invoice) -> list[tuple[date, Decimal]]:
    """Twelve earlier months like this one, then this one: the chart a customer of a year sees."""
    kwh = metered_kwh(invoice) or Decimal(0)
    months = [date(2025 + (9 + m) // 12, (9 + m) % 12 + 1, 1) for m in range(13)]
    factors = (Decimal("0.9"), Decimal("1.1"), Decimal("1.2"), Decimal("1"), Decimal("0.8"))
    return [(month, (kwh * factors[m % 5]).quantize(Decimal(1)) if m < 12 else kwh) for m, month in enumerate(months)]


def pdf_cpu_probe(store: SqliteDocumentStore, count: int) -> float:
    """CPU seconds per PDF in this process in the steady state of a run: the first ``count``
    invoices warm it (fonts, stylesheets, a skeleton per shape seen twice), the next ``count``
    are timed."""
    docs = store.container(INVOICES.name).query({"status": "issued"}, order_by="number", limit=2 * count)
    invoices = [Invoice.from_json(doc) for doc in docs]
    page = {"locale_for": lambda _: "en-AU", "history_for": history_for, "payment_for": lambda _: PAYMENT}
    list(render_each(invoices[:count], **page))  # type: ignore[arg-type]
    cpu = time.process_time()
    outcomes = list(render_each(invoices[count:], **page))  # type: ignore[arg-type]
    assert all(outcome.pdf for outcome in outcomes)
    return (time.process_time() - cpu) / max(len(outcomes), 1)


def render_pdfs(
    store: SqliteDocumentStore, sample: int, processes: int, folder: Path, stages: list[Stage]
) -> tuple[int, int, int, int]:
    docs = store.container(INVOICES.name).query({"status": "issued"}, order_by="number", limit=sample or None)
    invoices = [Invoice.from_json(doc) for doc in docs]
    pages = failures = stamped = 0
    out = folder / "pdfs"
    out.mkdir()
    with timed(stages, f"pdf: pdf_batch over {processes} worker processes (incl. their start)", lambda: len(invoices)):
        outcomes = render_each(
            invoices,
            locale_for=lambda _: "en-AU",
            history_for=history_for,
            payment_for=lambda _: PAYMENT,
            processes=processes,
            chunk_size=16,
        )
        for outcome in outcomes:
            if outcome.pdf is None:
                failures += 1
                continue
            (out / f"{outcome.number}.pdf").write_bytes(outcome.pdf)
            pages += len(PdfReader(io.BytesIO(outcome.pdf)).pages)
            stamped += outcome.stamped
    return len(invoices), pages, failures, stamped


# --- the projection ----------------------------------------------------------------------

# Cosmos DB request units per operation, for documents of 1-4 kB with the default indexing
# (Microsoft's published figures: a 1 kB point read is 1 RU; a 1 kB write about 5.5 RU,
# growing with size and indexed paths). Queries here are single-partition: about 3 RU plus
# 1 per kB returned; an interval account's readings query returns 33 days (~20 kB).
RU_PER_CALL = {
    "get": 1.0,
    "find": 1.0,
    "create": 8.0,
    "replace": 10.0,
    "upsert": 10.0,
    "delete": 6.0,
    "batch": 15.0,
    "query": 6.0,
}


def projection(
    *,
    accounts: int,
    cpu_per_bill: float,
    cpu_per_pdf: float,
    ru_per_bill: float,
    instances: Sequence[int],
    cores_per_instance: int,
    ru_per_second: int,
    interval_query_ru: float,
    interval_share: float,
    calls_per_bill: float,
    op_latency: float,
    concurrency: int,
    serial_calls_per_number: float,
) -> list[str]:
    rows = [
        f"Projection for {accounts:,} accounts ({interval_share:.0%} interval meters): "
        f"CPU per bill {cpu_per_bill * 1000:.1f} ms and per PDF {cpu_per_pdf * 1000:.1f} ms as measured here; "
        f"about {ru_per_bill:.0f} RU per bill (+{interval_query_ru:.0f} RU per interval account's readings query); "
        f"provisioned {ru_per_second:,} RU/s; {cores_per_instance} core(s) per instance; "
        f"{calls_per_bill:.0f} store calls per bill at {op_latency * 1000:.0f} ms each, {concurrency} bills in "
        f"flight per instance; one gapless series takes numbers one at a time, {serial_calls_per_number:g} round "
        "trips each (create the number, advance the counter), whatever N is; PDFs CPU-bound, one worker per core.",
        "| instances | billing CPU-bound (min) | billing latency-bound (min) | billing RU-bound (min) "
        "| one series' numbering (min) | billing (min) | PDFs (min) | total (min) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    ru_total = accounts * (ru_per_bill + interval_share * interval_query_ru)
    for n in instances:
        cores = n * cores_per_instance
        billing_cpu = accounts * cpu_per_bill / cores / 60
        billing_ru = ru_total / ru_per_second / 60
        billing_latency = accounts * calls_per_bill * op_latency / (n * concurrency) / 60
        numbering = accounts * serial_calls_per_number * op_latency / 60
        billing = max(billing_cpu, billing_latency, billing_ru, numbering)
        pdfs = accounts * cpu_per_pdf / cores / 60
        rows.append(
            f"| {n} | {billing_cpu:,.1f} | {billing_latency:,.1f} | {billing_ru:,.1f} | {numbering:,.1f} "
            f"| {billing:,.1f} | {pdfs:,.1f} | {billing + pdfs:,.1f} |"
        )
    return rows


# --- the run -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--interval-share", type=float, default=0.4, help="share of accounts with interval meters")
    parser.add_argument("--pdf-sample", type=int, default=200, help="invoices rendered to PDF (0: all)")
    parser.add_argument("--processes", type=int, default=2, help="PDF worker processes")
    parser.add_argument("--ops-sample", type=int, default=200, help="bills whose store calls are counted")
    parser.add_argument("--skip-direct", action="store_true", help="leave out the direct (no bus) billing path")
    parser.add_argument(
        "--kick-off-only", action="store_true", help="generate and fan out, then stop (the bus is not drained)"
    )
    parser.add_argument("--project", type=int, default=500_000, help="accounts in the Azure projection")
    parser.add_argument("--instances", default="1,4,10,20", help="Function instances in the projection")
    parser.add_argument("--cores-per-instance", type=int, default=1, help="e.g. 1 for Premium EP1, 2 for Flex 4 GB")
    parser.add_argument("--ru-per-second", type=int, default=10_000, help="provisioned Cosmos DB throughput")
    parser.add_argument("--folder", type=Path, help="where the stores go (default: a new folder in /dev/shm)")
    parser.add_argument("--keep", action="store_true", help="keep the stores and PDFs afterwards")
    parser.add_argument("--op-latency-ms", type=float, default=6.0, help="Cosmos DB round trip per call")
    parser.add_argument("--concurrency", type=int, default=16, help="bills in flight per instance")
    args = parser.parse_args()

    # tmpfs by default: the embedded store commits every write with fsync (synchronous=FULL),
    # which on this shared disk costs more than billing itself and says nothing about Azure.
    shm = Path("/dev/shm")
    folder = args.folder or Path(tempfile.mkdtemp(prefix="gridledger-bill-run-", dir=shm if shm.is_dir() else None))
    folder.mkdir(parents=True, exist_ok=True)
    stages: list[Stage] = []
    print(f"machine: {os.cpu_count()} cores, pinned to {sorted(os.sched_getaffinity(0))}; stores in {folder}")

    store = SqliteDocumentStore(folder / "book.sqlite")
    written: list[int] = []
    with timed(stages, "generate the book (not a pipeline stage)", lambda: args.accounts, "accounts"):
        written.append(generate_book(store, args.accounts, args.interval_share))
    store.close()
    size_mb = (folder / "book.sqlite").stat().st_size / 1e6
    print(f"book: {args.accounts:,} accounts, {written[0]:,} documents, {size_mb:,.0f} MB")
    for copy in ("direct.sqlite", "ops.sqlite"):
        shutil.copyfile(folder / "book.sqlite", folder / copy)

    store = SqliteDocumentStore(folder / "book.sqlite")
    bus_outcomes = bill_through_bus(store, folder, stages, drain=not args.kick_off_only)
    print("bus path:", dict(bus_outcomes))
    if args.kick_off_only:
        store.close()
        print(f"peak memory: this process {peak_memory_mb()[0]:,.0f} MB; load now {load_average()}")
        if not args.keep:
            shutil.rmtree(folder)
        return

    if not args.skip_direct:
        direct = SqliteDocumentStore(folder / "direct.sqlite")
        print("direct path:", dict(bill_directly(direct, args.accounts, stages)))
        direct.close()

    ops_store = SqliteDocumentStore(folder / "ops.sqlite")
    ops_sample = min(args.ops_sample, args.accounts)
    calls = count_operations(ops_store, ops_sample)
    ops_store.close()
    per_bill = {name: count / ops_sample for name, count in sorted(calls.items())}
    print("store calls per bill (sample of", ops_sample, "):", {k: round(v, 2) for k, v in per_bill.items()})

    rendered, pages, failures, stamped = render_pdfs(store, args.pdf_sample, args.processes, folder, stages)
    cpu_per_pdf = pdf_cpu_probe(store, 40)
    store.close()
    mine, child = peak_memory_mb()

    print()
    print("| stage | items | wall s | items/s (wall) | CPU s (this process) | CPU ms/item | load avg before | note |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for stage in stages:
        print(stage.row())
    print(
        f"PDFs: {rendered:,} invoices, {pages:,} pages, {failures} failed, {stamped:,} stamped onto their shape's "
        f"skeleton and {rendered - failures - stamped:,} laid out by WeasyPrint; in {folder / 'pdfs'}"
    )
    print(f"peak memory: this process {mine:,.0f} MB, largest worker {child:,.0f} MB; load now {load_average()}")

    bill_stage = next(s for s in stages if s.name.startswith("bus drain"))
    kick_stage = next(s for s in stages if s.name.startswith("kick-off"))
    cpu_per_bill = (bill_stage.cpu + kick_stage.cpu) / args.accounts
    print(f"CPU per PDF in this process, steady state (40 warm, 40 timed): {cpu_per_pdf * 1000:.1f} ms")
    ru_per_bill = sum(RU_PER_CALL.get(name, 5.0) * count for name, count in per_bill.items())
    print()
    for row in projection(
        accounts=args.project,
        cpu_per_bill=cpu_per_bill,
        cpu_per_pdf=cpu_per_pdf,
        ru_per_bill=ru_per_bill,
        instances=[int(n) for n in args.instances.split(",")],
        cores_per_instance=args.cores_per_instance,
        ru_per_second=args.ru_per_second,
        interval_query_ru=20.0,
        interval_share=args.interval_share,
        calls_per_bill=sum(per_bill.values()),
        op_latency=args.op_latency_ms / 1000,
        concurrency=args.concurrency,
        serial_calls_per_number=2,
    ):
        print(row)
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
