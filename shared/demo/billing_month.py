"""The main job: one billing month for the sample utility, end to end, on whatever backends
the settings choose (the embedded defaults unless told otherwise).

Every step goes the way it goes in production: readings arrive over HTTP (a mobile
app's batch and a NEM12 upload), the bus carries each step to its handler, the bill
cycle fans out one message per account, invoices are numbered, rendered to PDF, stored
and e-mailed, and a signed gateway webhook pays one of them. Run it twice: the second
run finds everything done and adds nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx

from shared.api.payment_routes import SIGNATURE_HEADER
from shared.api.server import api_in_background
from shared.bootstrap import Platform
from shared.demo.meter_data import NEM12_FILE_NAME, nem12_text, register_read_batch
from shared.demo.sample_utility import HOUSEHOLDS, seed_sample_utility
from shared.invoicing.invoice import Invoice
from shared.payments.signature import sign
from shared.resources import BILL_RUNS, INVOICES

# The sample month is October 2026; the run happens the day after it ends, Sydney time.
AS_OF = "2026-11-02T09:00:00+11:00"
FILE_CREATED = datetime.fromisoformat("2026-11-02T02:00:00+10:00")


@dataclass
class MonthSummary:
    new_records: int = 0
    reads: dict[str, Any] = field(default_factory=dict)
    meter_file: dict[str, Any] = field(default_factory=dict)
    bill_run: dict[str, Any] = field(default_factory=dict)
    payment: dict[str, Any] = field(default_factory=dict)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: int = 0
    pdf_folder: str = ""
    mail_folder: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def _drain(platform: Platform) -> None:
    drain = getattr(platform.bus, "drain", None)
    if drain is not None:
        drain()


def _check(response: httpx.Response, step: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise RuntimeError(f"{step}: HTTP {response.status_code}: {response.text}")
    body: dict[str, Any] = response.json()
    return body


def run_billing_month(platform: Platform) -> MonthSummary:
    started = time.monotonic()
    summary = MonthSummary()
    summary.new_records = seed_sample_utility(platform.documents)
    with api_in_background() as base_url, httpx.Client(base_url=base_url, timeout=60) as http:
        # 1. A field officer's app uploads the basic meters' reads; the key makes a retry safe.
        response = http.post(
            "/v1/readings/register-reads",
            json={"items": register_read_batch()},
            headers={"Idempotency-Key": "demo-field-run-2026-11-01"},
        )
        reads = _check(response, "register reads")
        reads_replayed = response.headers.get("Idempotent-Replayed") == "true"
        summary.reads = {"accepted": reads["accepted"], "rejected": reads["rejected"], "replayed": reads_replayed}

        # 2. The metering data provider's NEM12 file for the interval meters.
        text = nem12_text(first_day=date(2026, 9, 30), last_day=date(2026, 11, 1), created=FILE_CREATED)
        upload = _check(
            http.post(
                "/v1/readings/files",
                params={"fileName": NEM12_FILE_NAME},
                content=text.encode(),
                headers={"Content-Type": "text/csv"},
            ),
            "meter file upload",
        )
        _drain(platform)
        status = _check(http.get(upload["statusUrl"]), "import status")
        summary.meter_file = {
            "importId": upload["importId"],
            "status": status["status"],
            "days": status.get("days"),
            "again": upload["status"] != "queued",
        }

        # 3. The bill cycle: what the daily timer does, started here for the sample month.
        run = _check(http.post("/v1/bill-runs", json={"asOf": AS_OF}), "bill run")
        _drain(platform)
        summary.bill_run = {"runId": run["runId"], "billsRequested": len(run["billsRequested"])}

        # 4. The gateway reports that the first household paid its bill in full.
        invoices = _issued_invoices(platform)
        if invoices:
            summary.payment = _pay(http, platform, invoices[0])
            _drain(platform)

    summary.invoices = [_row(inv) for inv in _issued_invoices(platform)]
    summary.skipped = [
        {"accountId": d["accountId"], "reason": d["reason"]}
        for d in platform.documents.container(BILL_RUNS.name).query({"kind": "outcome", "status": "skipped"})
    ]
    dead_letters = getattr(platform.bus, "dead_letters", None)
    summary.dead_letters = len(dead_letters()) if dead_letters else 0
    summary.pdf_folder = str(platform.settings.blob_folder / "invoices")
    summary.mail_folder = str(platform.settings.mail_dir)
    summary.seconds = round(time.monotonic() - started, 2)
    return summary


def _issued_invoices(platform: Platform) -> list[Invoice]:
    ours = {household[0] for household in HOUSEHOLDS}
    docs = platform.documents.container(INVOICES.name).query(order_by="number")
    return [Invoice.from_json(d) for d in docs if d["accountId"] in ours and d["status"] not in ("draft", "void")]


def _pay(http: httpx.Client, platform: Platform, invoice: Invoice) -> dict[str, Any]:
    event = {
        "id": f"evt_demo_{invoice.number}".replace("-", "_"),
        "type": "payment.succeeded",
        "created": int(platform.clock().timestamp()),
        "data": {
            "paymentId": f"pay_demo_{invoice.number}".replace("-", "_"),
            "amount": invoice.total.minor,
            "currency": invoice.currency,
            "reference": invoice.payment_reference,
            "paidAt": platform.clock().isoformat(),
        },
    }
    raw = json.dumps(event).encode()
    secret = platform.settings.webhook_secrets[0]
    header = sign(raw, secret=secret, timestamp=int(platform.clock().timestamp()))
    answer = _check(
        http.post(
            "/v1/webhooks/payments",
            content=raw,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: header},
        ),
        "payment webhook",
    )
    return {"invoice": invoice.number, "amount": str(invoice.total), "duplicate": answer["duplicate"]}


def _row(invoice: Invoice) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "accountId": invoice.account_id,
        "customer": invoice.customer.name,
        "period": f"{invoice.period_start.isoformat()}..{invoice.last_day.isoformat()}",
        "total": str(invoice.total),
        "status": invoice.status.value,
        "amountDue": str(invoice.amount_due),
        "pdf": invoice.pdf_blob,
        "emailed": invoice.emailed_at is not None,
    }


def print_summary(summary: MonthSummary) -> None:
    print("GridLedger: billing month October 2026 for the sample utility")
    print(f"  records loaded: {summary.new_records} new")
    replayed = " (the same upload again: answered from the first time, nothing stored twice)"
    print(
        f"  register reads: {summary.reads.get('accepted', 0)} accepted, {summary.reads.get('rejected', 0)} rejected"
        + (replayed if summary.reads.get("replayed") else "")
    )
    print(
        f"  NEM12 import:   {summary.meter_file.get('status')}, channel-days "
        + ", ".join(f"{what} {n}" for what, n in (summary.meter_file.get("days") or {}).items())
        + (" (the same file again: imported once)" if summary.meter_file.get("again") else "")
    )
    print(
        f"  bill run:       {summary.bill_run.get('runId')}, {summary.bill_run.get('billsRequested')} bills requested"
    )
    print()
    print(f"  {'Invoice':<16} {'Account':<11} {'Customer':<28} {'Total':>12}  {'Status':<8} {'Due':>12}")
    for row in summary.invoices:
        print(
            f"  {row['number']:<16} {row['accountId']:<11} {row['customer'][:28]:<28} {row['total']:>12}"
            f"  {row['status']:<8} {row['amountDue']:>12}"
        )
    paid = sum(row["status"] == "paid" for row in summary.invoices)
    print()
    print(f"  accounts billed: {len(summary.invoices)}; paid: {paid}; unpaid: {len(summary.invoices) - paid}")
    for skip in summary.skipped:
        print(f"  skipped {skip['accountId']}: {skip['reason']}")
    if summary.payment:
        again = " (already received earlier: nothing applied twice)" if summary.payment["duplicate"] else ""
        print(f"  payment webhook: {summary.payment['amount']} for {summary.payment['invoice']}{again}")
    print(f"  dead letters: {summary.dead_letters}")
    print(f"  PDFs:   {summary.pdf_folder}")
    print(f"  e-mail: {summary.mail_folder}")
    print(f"  took {summary.seconds} s")
