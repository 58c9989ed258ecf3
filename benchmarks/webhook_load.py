"""Webhook load (issue 7): distinct Stripe events and their duplicates replayed against the
real API server over HTTP from several clients at once, then the books proved exact.

What it does, in order:
1. makes a fresh data folder under /tmp and seeds it, through the project's own invoice
   code, with accounts each holding one issued invoice (no rating, no PDF);
2. plans the events: per account some ``payment_intent.succeeded`` (full or partial
   amounts) and, for a few accounts, a ``charge.refunded`` with its refund object, some of
   them delivered *before* their payment; then copies of a share of the events (Stripe
   redelivers), half right beside their original so that two clients send them at the
   same moment, half later;
3. starts ``python -m shared.cli serve`` as a child process on a free loopback port with
   a Stripe secret, waits for ``/health``, and sends every delivery signed over keep-alive
   HTTP connections from N client threads, timing each request;
4. waits (bounded) for the in-process bus to apply everything, timing how fast the bus
   alone works through what is left once the last request is answered, stops the server
   and proves: ``ledger check`` balanced; as many payment posting sets as distinct payment
   events and as many refund sets as refund events; every invoice's status, amount paid
   and open amount as worked out here from the plan; every event applied once; no dead
   letter.

    .venv/bin/python -m benchmarks.webhook_load --events 10000 --duplicates 0.2 --clients 8 --accounts 2000

Prints a JSON summary and a markdown table; exits 1 when any proof fails.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
SECRET = "whsec_benchmark_load"
CURRENCY = "AUD"
ISSUE_DATE = date(2026, 10, 31)
REFUND_SHARE = 0.15  # of accounts with two or more events: one of them is a refund
EARLY_REFUND_SHARE = 0.3  # of refunds: delivered before the payment they reverse
FULL_SHARE = 0.65  # of accounts: payments add up to the whole invoice, the rest pay part
START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 60.0


# -- the plan: what is sent and what it must leave behind ------------------------------------


@dataclass(frozen=True)
class Event:
    event_id: str
    account_id: str
    kind: str  # "payment" | "refund"
    body: bytes


@dataclass
class AccountPlan:
    account_id: str
    reference: str
    total_cents: int
    payments: list[int] = field(default_factory=list)  # cents, one per payment event
    refunded_cents: int = 0

    @property
    def open_cents(self) -> int:
        """Payments never exceed the invoice here, so nothing is credit: open is what is left."""
        return self.total_cents - sum(self.payments) + self.refunded_cents

    @property
    def status(self) -> str:
        if self.open_cents == 0:
            return "paid"
        return "issued" if self.open_cents == self.total_cents else "partly_paid"


@dataclass(frozen=True)
class Plan:
    accounts: list[AccountPlan]
    events: list[Event]  # distinct events, in no particular order
    deliveries: list[Event]  # what is sent, duplicates included, in sending order
    early_refunds: int


def _stripe_event(event_id: str, event_type: str, obj: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(datetime(2026, 11, 2, 9, 0, tzinfo=UTC).timestamp()),
            "livemode": False,
            "pending_webhooks": 1,
            "type": event_type,
            "data": {"object": obj},
        }
    ).encode()


def _payment_body(event_id: str, pi: str, charge: str, cents: int, reference: str) -> bytes:
    return _stripe_event(
        event_id,
        "payment_intent.succeeded",
        {
            "id": pi,
            "object": "payment_intent",
            "amount": cents,
            "amount_received": cents,
            "currency": CURRENCY.lower(),
            "status": "succeeded",
            "latest_charge": charge,
            "metadata": {"payment_reference": reference},
        },
    )


def _refund_body(event_id: str, charge: str, pi: str, paid: int, refund_id: str, cents: int) -> bytes:
    return _stripe_event(
        event_id,
        "charge.refunded",
        {
            "id": charge,
            "object": "charge",
            "amount": paid,
            "amount_captured": paid,
            "amount_refunded": cents,
            "captured": True,
            "currency": CURRENCY.lower(),
            "payment_intent": pi,
            "refunded": cents == paid,
            "metadata": {},
            "refunds": {
                "object": "list",
                "has_more": False,
                "data": [
                    {"id": refund_id, "object": "refund", "amount": cents, "currency": "aud", "status": "succeeded"}
                ],
            },
        },
    )


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` cents in ``parts`` random positive parts that add up exactly (largest remainder)."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    spare = total - parts  # every part gets at least a cent
    exact = [spare * w / sum(weights) for w in weights]
    floors = [math.floor(x) for x in exact]
    order = sorted(range(parts), key=lambda i: exact[i] - floors[i], reverse=True)
    for i in order[: spare - sum(floors)]:
        floors[i] += 1
    return [f + 1 for f in floors]


def make_plan(*, events: int, accounts: int, duplicates: float, seed: int) -> Plan:
    rng = random.Random(seed)
    per_account = Counter(rng.randrange(accounts) for _ in range(events))
    plans: list[AccountPlan] = []
    distinct: list[Event] = []
    refunds: list[tuple[Event, Event, bool]] = []  # refund, its payment, delivered early
    for n in range(accounts):
        account_id = f"ACC{n:06d}"
        count = per_account.get(n, 0)
        plan = AccountPlan(account_id, f"GL{n:07d}", rng.randrange(max(2_000, 100 * count), 60_000))
        plans.append(plan)
        refund = count >= 2 and rng.random() < REFUND_SHARE
        payments = count - refund
        if payments == 0:
            continue
        paying = (
            plan.total_cents
            if rng.random() < FULL_SHARE
            else max(payments, int(plan.total_cents * rng.uniform(0.2, 0.9)))
        )
        plan.payments = _split(paying, payments, rng)
        paid_by: list[Event] = []
        for k, cents in enumerate(plan.payments):
            event_id = f"evt_{account_id}_p{k}"
            body = _payment_body(event_id, f"pi_{account_id}_{k}", f"ch_{account_id}_{k}", cents, plan.reference)
            paid_by.append(Event(event_id, account_id, "payment", body))
        distinct += paid_by
        if refund:
            k = max(range(payments), key=lambda i: plan.payments[i])  # the largest payment
            paid = plan.payments[k]
            plan.refunded_cents = max(1, int(paid * rng.uniform(0.1, 0.5)))
            event_id = f"evt_{account_id}_r"
            charge, pi = f"ch_{account_id}_{k}", f"pi_{account_id}_{k}"
            body = _refund_body(event_id, charge, pi, paid, f"re_{account_id}", plan.refunded_cents)
            distinct.append(Event(event_id, account_id, "refund", body))
            refunds.append((distinct[-1], paid_by[k], rng.random() < EARLY_REFUND_SHARE))

    order = distinct[:]
    rng.shuffle(order)
    position = {e.event_id: i for i, e in enumerate(order)}
    for refund, payment, early in refunds:
        r, p = position[refund.event_id], position[payment.event_id]
        if (r < p) != early:  # put the refund on the side of its payment the plan wants
            order[r], order[p] = order[p], order[r]
            position[refund.event_id], position[payment.event_id] = p, r

    # Repeats: half go out right after their original (the next free client sends them at
    # the same moment), half somewhere later, as a gateway's retry would.
    copies = rng.sample(order, round(len(order) * duplicates))
    beside = {e.event_id for e in copies[: len(copies) // 2]}
    later: dict[int, list[Event]] = {}
    for event in copies[len(copies) // 2 :]:
        later.setdefault(rng.randrange(position[event.event_id] + 1, len(order) + 1), []).append(event)
    sending: list[Event] = []
    for i, event in enumerate(order):
        sending += later.get(i, [])
        sending.append(event)
        if event.event_id in beside:
            sending.append(event)
    sending += later.get(len(order), [])
    early = sum(1 for _, _, e in refunds if e)
    return Plan(plans, distinct, sending, early)


# -- seeding, through the project's own invoice code -------------------------------------------


def seed(data_dir: Path, plans: Sequence[AccountPlan]) -> None:
    from shared.bootstrap import build_platform
    from shared.config import load_settings
    from shared.invoicing.invoice import Invoice, Party
    from shared.money import Money
    from shared.rating.lines import ChargeLine, TaxLine
    from shared.resources import ACCOUNTS, INVOICES

    platform = build_platform(load_settings(data_dir=data_dir))
    try:
        accounts = platform.documents.container(ACCOUNTS.name)
        invoices = platform.documents.container(INVOICES.name)
        start, end = date(2026, 10, 1), ISSUE_DATE
        issued_at = datetime.combine(ISSUE_DATE, datetime.min.time(), tzinfo=UTC)
        for n, plan in enumerate(plans):
            accounts.create({"id": plan.account_id, "accountId": plan.account_id, "paymentReference": plan.reference})
            total = Money.from_minor(plan.total_cents, CURRENCY)
            tax = Money.from_minor(plan.total_cents // 11, CURRENCY)
            net = total - tax
            line = ChargeLine(
                "Energy", "usage", "T1", "v1", start, end, Decimal(1), "bill", net.amount, net, "GST", Decimal("0.10")
            )
            draft = Invoice(
                invoice_id=f"{plan.account_id}:INV-{n + 1:06d}",
                account_id=plan.account_id,
                series="INV-2026",
                supplier=Party("GridLedger Energy Pty Ltd", ("1 Energy Way",), tax_id="51 824 753 556"),
                customer=Party(f"Customer {plan.account_id}", ("2 Test St",)),
                service_point_id=f"NMI{n:07d}",
                service_address="2 Test St",
                period_start=start,
                period_end=end,
                currency=CURRENCY,
                lines=(line,),
                taxes=(TaxLine("GST", Decimal("0.10"), net, tax),),
                subtotal=net,
                tax_total=tax,
                total=total,
                payment_reference=plan.reference,
            )
            invoice = draft.issue(
                number=f"INV-{n + 1:06d}",
                issue_date=ISSUE_DATE,
                due_date=ISSUE_DATE + timedelta(days=14),
                issued_at=issued_at,
            )
            invoices.create(invoice.to_json())
    finally:
        platform.close()


# -- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDLEDGER_")}
    env.update(GRIDLEDGER_DATA_DIR=str(data_dir), STRIPE_WEBHOOK_SECRET=SECRET, PYTHONUNBUFFERED="1")
    return env


def start_server(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "shared.cli", "serve", "--port", str(port)],
            cwd=REPO,
            env=server_env(data_dir),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode} before answering; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit(f"the server did not answer /health within {START_TIMEOUT_S:.0f} s; see {log}")


def stop_server(server: subprocess.Popen[bytes]) -> int:
    """Ctrl-C, as an operator would: uvicorn finishes, the bus worker stops, the store closes."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    return server.returncode


# -- sending --------------------------------------------------------------------------------


def sign(raw: bytes, timestamp: int) -> str:
    """Stripe's scheme: v1 = HMAC-SHA256(secret, "<t>.<raw body>")."""
    mac = hmac.new(SECRET.encode(), str(timestamp).encode() + b"." + raw, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass
class Sent:
    latencies: list[float] = field(default_factory=list)  # seconds, every request
    statuses: Counter[int] = field(default_factory=Counter)
    duplicates_answered: int = 0  # 2xx answers saying "duplicate": true
    failures: list[str] = field(default_factory=list)


def replay(port: int, deliveries: Sequence[Event], clients: int) -> tuple[Sent, float]:
    """Every delivery once, in order, taken by whichever client is free; returns the wall time."""
    sent = Sent()
    lock = threading.Lock()
    next_index = iter(range(len(deliveries)))
    url = f"http://127.0.0.1:{port}/webhooks/stripe"
    start = threading.Barrier(clients + 1)

    def client() -> None:
        latencies, statuses, duplicates, failures = [], Counter[int](), 0, []
        with httpx.Client(timeout=REQUEST_TIMEOUT_S, limits=httpx.Limits(max_keepalive_connections=1)) as http:
            start.wait()
            while True:
                with lock:
                    i = next(next_index, None)
                if i is None:
                    break
                event = deliveries[i]
                headers = {"Stripe-Signature": sign(event.body, int(time.time())), "Content-Type": "application/json"}
                began = time.perf_counter()
                try:
                    answer = http.post(url, content=event.body, headers=headers)
                except httpx.HTTPError as exc:
                    failures.append(f"{event.event_id}: {type(exc).__name__}: {exc}")
                    continue
                latencies.append(time.perf_counter() - began)
                statuses[answer.status_code] += 1
                if answer.is_success:
                    duplicates += bool(answer.json().get("duplicate"))
                else:
                    failures.append(f"{event.event_id}: HTTP {answer.status_code} {answer.text[:200]}")
        with lock:
            sent.latencies += latencies
            sent.statuses.update(statuses)
            sent.duplicates_answered += duplicates
            sent.failures += failures

    threads = [threading.Thread(target=client, name=f"client-{c}") for c in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return sent, time.perf_counter() - began


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# -- waiting and proving ----------------------------------------------------------------------


@dataclass(frozen=True)
class Drained:
    done: bool
    seconds: float  # from the end of sending until nothing was left (or the timeout)
    left_at_send_end: int  # messages still to deliver when the last request was answered
    completed: int  # messages the bus completed over the whole run (held events come back once more)


def wait_for_bus(data_dir: Path, timeout_s: float) -> Drained:
    """Poll the bus's own count of messages still to deliver (its SQLite file, read-only use)."""
    from shared.platform.messaging.in_process import InProcessBus
    from shared.resources import QUEUES

    bus = InProcessBus(data_dir / "bus.sqlite3", queues=QUEUES)
    began = time.monotonic()
    try:
        left = bus.pending()
        done = left == 0
        while not done and time.monotonic() - began < timeout_s:
            time.sleep(0.25)
            done = bus.pending() == 0
        seconds = time.monotonic() - began
    finally:
        bus.close()
    with sqlite3.connect(f"file:{data_dir / 'bus.sqlite3'}?mode=ro", uri=True) as db:
        (completed,) = db.execute("SELECT COUNT(*) FROM messages WHERE state = 'completed'").fetchone()
    return Drained(done, seconds, left, int(completed))


def cli(data_dir: Path, *args: str) -> tuple[int, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", *args], cwd=REPO, env=server_env(data_dir), capture_output=True, text=True
    )
    try:
        return done.returncode, json.loads(done.stdout)
    except json.JSONDecodeError:
        return done.returncode, {"stdout": done.stdout[-2000:], "stderr": done.stderr[-2000:]}


def prove(data_dir: Path, plan: Plan) -> tuple[dict[str, Any], list[str]]:
    """Everything the events imply, checked against what the server left in the store."""
    from shared.bootstrap import build_platform
    from shared.config import load_settings
    from shared.payments.ledger import PostingType
    from shared.payments.ledger_store import LedgerStore
    from shared.payments.projection import InvoiceProjection
    from shared.resources import INVOICES, WEBHOOK_EVENTS

    problems: list[str] = []
    check_exit, report = cli(data_dir, "ledger", "check", "--json")
    dead_exit, dead = cli(data_dir, "bus", "dead-letters")
    payments = sum(e.kind == "payment" for e in plan.events)
    refunds = sum(e.kind == "refund" for e in plan.events)
    invoiced = len(plan.accounts)
    if check_exit != 0 or report.get("balanced") is not True:
        problems.append(f"ledger check: exit {check_exit}, {json.dumps(report)[:1000]}")
    if report.get("payments") != payments:
        problems.append(f"ledger check counts {report.get('payments')} payments, the events hold {payments}")
    if report.get("postings") != invoiced + payments + refunds:
        problems.append(
            f"ledger check counts {report.get('postings')} posting sets, expected {invoiced} invoices + "
            f"{payments} payments + {refunds} refunds = {invoiced + payments + refunds}"
        )
    if dead_exit != 0 or dead != []:
        problems.append(f"dead letters: {json.dumps(dead)[:1000]}")

    platform = build_platform(load_settings(data_dir=data_dir))
    try:
        documents = platform.documents
        stored = documents.container(WEBHOOK_EVENTS.name).query({"kind": "event"}, partition="stripe")
        statuses = Counter(str(d.get("status")) for d in stored)
        if len(stored) != len(plan.events) or statuses != Counter({"applied": len(plan.events)}):
            problems.append(f"{len(stored)} events recorded as {dict(statuses)}; expected {len(plan.events)} applied")
        store = LedgerStore(documents)
        kinds = Counter(str(d.get("type")) for d in store.all_documents())
        expected_kinds = {PostingType.PAYMENT.value: payments, PostingType.REFUND.value: refunds}
        if dict(kinds) != {kind: n for kind, n in expected_kinds.items() if n}:
            problems.append(f"posting sets by type {dict(kinds)}; expected {payments} payments, {refunds} refunds")
        projection = InvoiceProjection(documents, store)
        invoices = {d["accountId"]: d for d in documents.container(INVOICES.name).query()}
        wrong = 0
        for account in plan.accounts:
            doc = invoices[account.account_id]
            paid = (doc.get("amountPaid") or {}).get("amount", "0")
            position = projection.position(account.account_id)
            open_cents = None if position is None else int(position.invoices[0].open.amount * 100)
            expected_paid = Decimal(account.total_cents - account.open_cents) / 100
            if (doc["status"], Decimal(paid), open_cents) != (account.status, expected_paid, account.open_cents):
                wrong += 1
                if wrong <= 5:
                    problems.append(
                        f"{account.account_id}: status {doc['status']}, paid {paid}, open {open_cents} cents; "
                        f"expected {account.status}, {expected_paid}, {account.open_cents} cents"
                    )
        if wrong:
            problems.append(f"{wrong} of {len(plan.accounts)} invoices differ from what the events imply")
    finally:
        platform.close()
    return {"ledgerCheck": report, "deadLetters": len(dead) if isinstance(dead, list) else dead}, problems


# -- the run ----------------------------------------------------------------------------------


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages: the machine is shared, so they go beside the figures."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def run(args: argparse.Namespace) -> int:
    plan = make_plan(events=args.events, accounts=args.accounts, duplicates=args.duplicates, seed=args.seed)
    data_dir = Path(tempfile.mkdtemp(prefix="gridledger-webhook-load-"))
    log = data_dir / "server.log"
    print(f"data in {data_dir}; load average {loadavg()}", file=sys.stderr)
    began = time.perf_counter()
    seed(data_dir, plan.accounts)
    seeded_s = time.perf_counter() - began
    port = free_port()
    load_before = loadavg()
    server = start_server(data_dir, port, log)
    try:
        sent, wall_s = replay(port, plan.deliveries, args.clients)
        drained = wait_for_bus(data_dir, args.drain_timeout)
        load_after = loadavg()
    finally:
        server_exit = stop_server(server)
    evidence, problems = prove(data_dir, plan)
    if sent.failures:
        problems.insert(0, f"{len(sent.failures)} requests failed, first: {sent.failures[:3]}")
    if not drained.done:
        problems.insert(0, f"the bus still had messages after {args.drain_timeout:.0f} s")
    expected_repeats = len(plan.deliveries) - len(plan.events)
    if sent.duplicates_answered != expected_repeats:
        problems.append(f"{sent.duplicates_answered} answers said duplicate; {expected_repeats} repeats were sent")

    accepted = sum(n for status, n in sent.statuses.items() if 200 <= status < 300)
    summary = {
        "events": len(plan.events),
        "payments": sum(e.kind == "payment" for e in plan.events),
        "refunds": sum(e.kind == "refund" for e in plan.events),
        "refundsBeforePayment": plan.early_refunds,
        "deliveries": len(plan.deliveries),
        "duplicatesSent": expected_repeats,
        "accounts": len(plan.accounts),
        "clients": args.clients,
        "statuses": dict(sent.statuses),
        "sendSeconds": round(wall_s, 2),
        "acceptedPerSecond": round(accepted / wall_s, 1),
        "distinctAcceptedPerSecond": round(len(plan.events) / wall_s, 1),
        "latencyMs": {
            name: round(percentile(sent.latencies, p) * 1000, 1)
            for name, p in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
        }
        if sent.latencies
        else {},
        "busLeftAtSendEnd": drained.left_at_send_end,
        "drainAfterSendSeconds": round(drained.seconds, 2),
        # The bus alone: what it delivered once the HTTP side had gone quiet.
        "busAppliedPerSecondAfterSend": round(drained.left_at_send_end / drained.seconds, 1)
        if drained.seconds
        else None,
        "busMessagesCompleted": drained.completed,
        "endToEndSeconds": round(wall_s + drained.seconds, 1),
        "appliedPerSecondEndToEnd": round(len(plan.events) / (wall_s + drained.seconds), 1),
        "seedSeconds": round(seeded_s, 1),
        "loadAverageBefore": load_before,
        "loadAverageAfter": load_after,
        "serverExit": server_exit,
        **evidence,
        "proven": not problems,
        "problems": problems,
        "dataDir": str(data_dir),
    }
    print(json.dumps(summary, indent=2, default=str))
    print(markdown(summary))
    return 0 if not problems else 1


def markdown(s: dict[str, Any]) -> str:
    lat = s["latencyMs"]
    return "\n".join(
        [
            "",
            "| deliveries (distinct + repeats) | clients | accepted/s (all) | accepted/s (distinct) "
            "| p50 ms | p95 ms | p99 ms | max ms | bus left at send end | bus drained after send "
            "| bus applied/s after send | end to end | applied/s end to end | proven |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            f"| {s['deliveries']:,} ({s['events']:,} + {s['duplicatesSent']:,}) | {s['clients']} "
            f"| {s['acceptedPerSecond']} | {s['distinctAcceptedPerSecond']} | {lat.get('p50')} | {lat.get('p95')} "
            f"| {lat.get('p99')} | {lat.get('max')} | {s['busLeftAtSendEnd']:,} | {s['drainAfterSendSeconds']} s "
            f"| {s['busAppliedPerSecondAfterSend']} | {s['endToEndSeconds']} s | {s['appliedPerSecondEndToEnd']} "
            f"| {'yes' if s['proven'] else 'NO'} |",
            "",
            f"load average (1, 5, 15 min): {s['loadAverageBefore']} at start, {s['loadAverageAfter']} at end",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="distinct events (default 10000)")
    parser.add_argument("--duplicates", type=float, default=0.2, help="repeats sent, as a share of the events")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--accounts", type=int, default=2_000, help="accounts, one issued invoice each")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--drain-timeout", type=float, default=1800, help="seconds to wait for the bus")
    args = parser.parse_args(argv)
    if not 0 <= args.duplicates <= 1 or args.events < 1 or args.clients < 1 or args.accounts < 1:
        parser.error("--events, --clients and --accounts must be positive and --duplicates within 0..1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
