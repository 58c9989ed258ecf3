"""Operator commands: ``python -m shared.cli --help``.

Operators and monitoring script against these commands, so their names, options and JSON
outputs are kept stable. Every command runs on the backends the settings choose (the
embedded defaults unless GRIDLEDGER_* variables say otherwise).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, TypeVar

from shared.config import SettingsError, load_settings

T = TypeVar("T")


def _platform() -> Any:
    from shared.bootstrap import build_platform
    from shared.observability import configure_logging
    from shared.runtime import use_platform

    settings = load_settings()
    configure_logging("WARNING" if settings.log_level == "INFO" else settings.log_level, stream=sys.stderr)
    platform = build_platform(settings)
    use_platform(platform)  # the API and the in-process bus's handlers share this one
    return platform


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def _on_platform(job: Callable[[Any], T]) -> T:
    """``job`` on a platform built for it, closed before anything is printed, even on failure."""
    platform = _platform()
    try:
        return job(platform)
    finally:
        platform.close()


def _print_run(job: Callable[[Any], tuple[Any, int]]) -> int:
    """The shape of most commands: a ``run_*`` function's JSON document printed, its status returned."""
    document, status = _on_platform(job)
    _print(document)
    return status


def _as_of(text: str | None, platform: Any) -> datetime:
    """--as-of as an aware date-time, the platform's clock when not given."""
    as_of = datetime.fromisoformat(text) if text else platform.clock()
    if as_of.tzinfo is None:
        raise SystemExit("--as-of needs a UTC offset, e.g. 2026-11-02T09:00:00+11:00")
    return as_of


def cmd_billing_month(args: argparse.Namespace) -> int:
    from shared.demo.billing_month import print_summary, run_billing_month

    summary = _on_platform(run_billing_month)
    if args.json:
        _print(summary.to_json())
    else:
        print_summary(summary)
    return 0 if summary.dead_letters == 0 else 1


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from shared.api.app import create_app

    platform = _platform()
    stop = threading.Event()
    drain = getattr(platform.bus, "drain", None)

    def deliver_forever() -> None:
        # The in-process bus has no host to push messages: a worker thread delivers them, a
        # few at a time, so a stop request is seen between messages rather than after a
        # whole backlog (what is left stays on the bus, in its SQLite file, for next time).
        while not stop.is_set():
            if drain is None or drain(max_messages=20).delivered == 0:
                stop.wait(0.5)

    worker = threading.Thread(target=deliver_forever, name="gridledger-bus", daemon=True)
    worker.start()
    try:
        uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")
    finally:
        stop.set()
        # The message in hand finishes before the store closes under it: closing first
        # made every waiting message fail on "store is closed" and dead-letter.
        worker.join(timeout=60)
        platform.close()
    return 0


def _in_process_bus(platform: Any) -> Any:
    bus = platform.bus
    if not hasattr(bus, "drain"):
        raise SystemExit(
            "this command needs the in-process bus (GRIDLEDGER_BUS=inprocess); on Service Bus use the portal"
        )
    return bus


def cmd_bus_drain(args: argparse.Namespace) -> int:
    platform = _platform()
    report = _in_process_bus(platform).drain()
    _print(asdict(report))
    return 0 if report.dead_lettered == 0 else 1


def cmd_bus_dead_letters(args: argparse.Namespace) -> int:
    platform = _platform()
    _print([asdict(d) for d in _in_process_bus(platform).dead_letters(args.queue)])
    return 0


def cmd_bus_replay(args: argparse.Namespace) -> int:
    platform = _platform()
    bus = _in_process_bus(platform)
    replayed = bus.replay_dead_letters(args.queue, seqs=args.seq)
    report = bus.drain()
    _print({"replayed": replayed, "drain": asdict(report)})
    return 0 if report.dead_lettered == 0 else 1


def cmd_timer_bill_cycle(args: argparse.Namespace) -> int:
    from shared.invoicing.cycle_run import kick_off_bill_cycle

    platform = _platform()
    as_of = _as_of(args.as_of, platform)
    kick_off = kick_off_bill_cycle(platform.documents, platform.bus, as_of=as_of)
    drained = platform.bus.drain() if hasattr(platform.bus, "drain") and not args.no_drain else None
    _print(
        {
            "runId": kick_off.run_id,
            "accountsChecked": kick_off.accounts_checked,
            "billsRequested": [
                {"accountId": a, "periodStart": p.start.isoformat(), "periodEnd": p.end.isoformat()}
                for a, p in kick_off.requested
            ],
            "drain": asdict(drained) if drained else None,
        }
    )
    return 0


def cmd_bill_run(args: argparse.Namespace) -> int:
    from shared.invoicing import bill_run_command as runs

    def bill_run(platform: Any) -> tuple[dict[str, Any], int]:
        if args.bill_run == "start":
            return runs.run_bill_run_start(
                platform,
                as_of=args.as_of,
                branch=args.branch,
                billing_cycle=args.cycle,
                account_ids=args.account,
                run_id=args.run_id,
                wait=not args.no_wait,
            )
        if args.bill_run == "report":
            return runs.run_bill_run_report(platform, args.run)
        return runs.run_bill_run_retry(platform, args.run, wait=not args.no_wait)

    report, status = _on_platform(bill_run)
    if args.json or status == 2:
        _print(report)
    else:
        counts = ", ".join(f"{n} {what}" for what, n in report["counts"].items() if n)
        print(f"bill run {report['runId']}: {counts or 'nothing due'}")
        for row in report["skipped"] + report["failed"]:
            print(f"  {row['status']}: {row['accountId']} {row['periodStart']}..{row['periodEnd']}: {row['reason']}")
    return status


def cmd_collections_run(args: argparse.Namespace) -> int:
    from shared.collections.command import run_dunning

    return _print_run(lambda platform: run_dunning(platform, as_of=args.as_of, as_json=args.json))


def cmd_payments_import_statement(args: argparse.Namespace) -> int:
    from shared.payments.statement_command import run_import_statement

    document, status = _on_platform(
        lambda platform: run_import_statement(
            platform, args.file, fmt=args.format, as_json=args.json, account=args.account
        )
    )
    if args.json:
        _print(document)
    else:
        print(document["text"])
    return status


def cmd_payments_reconcile(args: argparse.Namespace) -> int:
    from shared.payments.reconciliation_command import run_reconciliation

    return _print_run(
        lambda platform: run_reconciliation(
            platform,
            date_from=args.date_from,
            date_to=args.date_to,
            fmt=args.format,
            out=args.out,
            tz=args.tz,
            branch=args.branch,
            channel=args.channel,
        )
    )


def cmd_timer_catalog_sync(args: argparse.Namespace) -> int:
    from shared.integrations.nightly import run_catalog_sync

    _print({"catalogSync": run_catalog_sync()})
    return 0


def cmd_timer_finance_export(args: argparse.Namespace) -> int:
    from shared.integrations.nightly import run_finance_export

    _print({"financeExport": run_finance_export()})
    return 0


def cmd_invoices_list(args: argparse.Namespace) -> int:
    from shared.invoicing.invoices_command import run_invoices_list

    return _print_run(lambda platform: run_invoices_list(platform, status=args.status, account=args.account))


def cmd_rebills_run(args: argparse.Namespace) -> int:
    from shared.invoicing.rebill import run_rebills

    def rebill(platform: Any) -> tuple[dict[str, Any], int]:
        report, status = run_rebills(platform, as_of=_as_of(args.as_of, platform))
        if hasattr(platform.bus, "drain"):
            platform.bus.drain()  # render and mail the credit notes and new invoices
        return report, status

    return _print_run(rebill)


def cmd_readings_import(args: argparse.Namespace) -> int:
    from shared.readings.import_command import run_import

    return run_import(args.file, file_format=args.format, dry_run=args.dry_run, as_json=args.json)


def cmd_readings_scan_inbox(args: argparse.Namespace) -> int:
    from shared.readings.inbox import scan_inbox

    platform = _platform()
    picked = scan_inbox(platform.documents, platform.blobs, platform.bus)
    _print([{"file": name, "importId": q.import_id, "status": q.status, "new": q.new} for name, q in picked])
    return 0


def cmd_rate(args: argparse.Namespace) -> int:
    from shared.rating.preview_command import run_rate

    return run_rate(
        tariff_file=args.tariff,
        usage_file=args.usage,
        period_from=args.period_from,
        period_to=args.period_to,
        time_zone=args.tz,
        as_json=args.json,
    )


def cmd_migrate(args: argparse.Namespace) -> int:
    from shared.customers.migration import run_migrate

    return run_migrate(args.folder, dry_run=args.dry_run, as_json=args.json)


def cmd_ledger_check(args: argparse.Namespace) -> int:
    from shared.payments.ledger_command import run_ledger_check_command

    return run_ledger_check_command(_platform(), as_json=args.json)


def cmd_settings_check(args: argparse.Namespace) -> int:
    settings = load_settings()
    _print({k: ("***" if "Secret" in type(v).__name__ else v) for k, v in settings.model_dump().items()})
    return 0


EVERY_COMMAND = """every command:
  demo billing-month [--json]         the sample utility's billing month, end to end (the main job)
  serve [--port P] [--host H]         the HTTP API under uvicorn; the in-process bus delivers in the background
  bus drain                           deliver every pending in-process message
  bus dead-letters [--queue Q]        list dead-lettered messages with their reasons
  bus replay [--queue Q] [--seq N]    put dead letters back on their queue and deliver them
  timers bill-cycle [--as-of ISO]     the daily bill-cycle kick-off (bills every period due)
  timers catalog-sync                 the nightly catalog sync
  timers finance-export               the nightly finance export
  invoices list [--status S] [--account A] [--json]   issued invoices and credit notes, with open amounts
  rebills run [--as-of ISO]           credit and rebill the invoiced periods whose meter data was corrected
  bill-run start [--as-of ISO] [--branch B] [--cycle C] [--account A]... [--run-id R] [--no-wait] [--json]
                                      bill the periods due on the chosen accounts; prints the run report
  bill-run report RUN [--json]        a run's report: billed, skipped with reasons, failed, totals (exit 1: failures)
  bill-run retry-failed RUN [--json]  bill the run's failed accounts again
  payments import-statement FILE [--format auto|csv|camt053] [--account A] [--json]
                                      post a bank statement's credits by payment reference; the rest: unmatched queue
  payments reconcile --from DATE --to DATE [--tz Z] [--branch B] [--channel C] [--format json|csv|xlsx] [--out FILE]
                                      received, allocated, refunds, chargebacks, fees vs payouts (exit 1: differences)
  collections run [--as-of DATE] [--json]   today's dunning steps: reminders, fees, warnings, disconnection orders
  readings import FILE [--format F] [--dry-run] [--json]
                                      import a meter-data file (exit 0 accepted, 1 partial, 2 rejected)
  readings scan-inbox                 queue every file dropped under readings-inbox/drop/ (what the blob trigger does)
  rate --tariff FILE --usage FILE --from DATE --to DATE [--tz ZONE] [--json]   preview a bill; stores nothing
  ledger check [--json]               verify the ledger: every posting set balances, balances derive from postings
  settings check                      validate the settings and print them (secrets hidden)
  migrate --from FOLDER [--dry-run] [--json]   load an old system's CSV files; reconciliation report (exit 0/1/2)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m shared.cli",
        description="GridLedger operator commands",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EVERY_COMMAND,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="the sample utility").add_subparsers(dest="demo", required=True)
    month = demo.add_parser("billing-month", help="run the sample utility's billing month end to end (the main job)")
    month.add_argument("--json", action="store_true", help="print the summary as JSON")
    month.set_defaults(func=cmd_billing_month)

    serve = commands.add_parser("serve", help="run the HTTP API under uvicorn, with the in-process bus delivering")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.set_defaults(func=cmd_serve)

    bus = commands.add_parser("bus", help="the in-process bus").add_subparsers(dest="bus", required=True)
    bus.add_parser("drain", help="deliver every pending message").set_defaults(func=cmd_bus_drain)
    dead = bus.add_parser("dead-letters", help="list dead-lettered messages with their reasons")
    dead.add_argument("--queue")
    dead.set_defaults(func=cmd_bus_dead_letters)
    replay = bus.add_parser("replay", help="put dead letters back on their queue and deliver them")
    replay.add_argument("--queue")
    replay.add_argument("--seq", type=int, action="append", help="only this dead letter (repeatable)")
    replay.set_defaults(func=cmd_bus_replay)

    timers = commands.add_parser("timers", help="run a timer's job now").add_subparsers(dest="timer", required=True)
    cycle = timers.add_parser("bill-cycle", help="the daily bill-cycle kick-off")
    cycle.add_argument("--as-of", help="ISO date-time with offset (default: now)")
    cycle.add_argument("--no-drain", action="store_true", help="only queue the bill requests")
    cycle.set_defaults(func=cmd_timer_bill_cycle)
    timers.add_parser("catalog-sync", help="the nightly catalog sync").set_defaults(func=cmd_timer_catalog_sync)
    timers.add_parser("finance-export", help="the nightly finance export").set_defaults(func=cmd_timer_finance_export)

    invoices = commands.add_parser("invoices", help="issued invoices").add_subparsers(dest="invoices", required=True)
    listing = invoices.add_parser("list", help="list issued invoices and credit notes")
    listing.add_argument("--account", help="only this account")
    listing.add_argument("--status", choices=["issued", "sent", "partly_paid", "paid", "overdue", "credited"])
    listing.add_argument("--json", action="store_true", help="print JSON (the default)")
    listing.set_defaults(func=cmd_invoices_list)

    rebills = commands.add_parser("rebills", help="rebill periods with corrected meter data").add_subparsers(
        dest="rebills", required=True
    )
    rebill_run = rebills.add_parser("run", help="credit and rebill every invoiced period with corrected meter data")
    rebill_run.add_argument("--as-of", help="ISO date-time with offset (default: now)")
    rebill_run.set_defaults(func=cmd_rebills_run)

    bill_run = commands.add_parser("bill-run", help="bill runs").add_subparsers(dest="bill_run", required=True)
    start = bill_run.add_parser("start", help="bill the periods due on the chosen accounts (all by default)")
    start.add_argument("--as-of", help="ISO date-time with offset (default: now)")
    start.add_argument("--branch", help="only this branch's accounts")
    start.add_argument("--cycle", help="only accounts on this billing cycle")
    start.add_argument("--account", action="append", metavar="A", help="only this account (repeatable)")
    start.add_argument("--run-id", help="name the run (default: cycle-<UTC date>)")
    start.add_argument("--no-wait", action="store_true", help="only queue the bills (in-process bus: deliver later)")
    start.add_argument("--json", action="store_true", help="print the run report as JSON")
    report = bill_run.add_parser("report", help="a run's report (exit 1 when an account failed or is pending)")
    report.add_argument("run", metavar="RUN")
    report.add_argument("--json", action="store_true", help="print the run report as JSON")
    retry = bill_run.add_parser("retry-failed", help="bill the run's failed accounts again")
    retry.add_argument("run", metavar="RUN")
    retry.add_argument("--no-wait", action="store_true", help="only queue the bills")
    retry.add_argument("--json", action="store_true", help="print the run report as JSON")
    for parser_ in (start, report, retry):
        parser_.set_defaults(func=cmd_bill_run)

    payments = commands.add_parser("payments", help="payments").add_subparsers(dest="payments", required=True)
    statement = payments.add_parser(
        "import-statement", help="import a bank statement, CSV or camt.053 (exit 0 posted, 1 partial, 2 refused)"
    )
    statement.add_argument("file", metavar="FILE")
    statement.add_argument("--format", choices=["auto", "csv", "camt053"], default="auto")
    statement.add_argument("--account", help="our bank account, for a CSV without an account column")
    statement.add_argument("--json", action="store_true", help="print the report as one JSON document")
    statement.set_defaults(func=cmd_payments_import_statement)
    reconcile = payments.add_parser("reconcile", help="the ledger against gateway payouts (exit 1 on differences)")
    reconcile.add_argument("--from", dest="date_from", required=True, metavar="DATE", help="first day (inclusive)")
    reconcile.add_argument("--to", dest="date_to", required=True, metavar="DATE", help="end day (exclusive)")
    reconcile.add_argument("--tz", default="UTC", help="IANA zone the days are in (default UTC)")
    reconcile.add_argument("--branch", help="only this branch")
    reconcile.add_argument("--channel", help="only this channel (stripe, gateway, bank..., cash, agent)")
    reconcile.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
    reconcile.add_argument("--out", metavar="FILE", help="write the CSV or XLSX here (needed for those formats)")
    reconcile.set_defaults(func=cmd_payments_reconcile)

    collections = commands.add_parser("collections", help="collections (dunning)").add_subparsers(
        dest="collections", required=True
    )
    dunning = collections.add_parser("run", help="today's dunning steps (exit 1: an account failed, 2: bad --as-of)")
    dunning.add_argument("--as-of", help="a local date YYYY-MM-DD, or an ISO date-time with offset (default: now)")
    dunning.add_argument("--json", action="store_true", help="print the report as JSON")
    dunning.set_defaults(func=cmd_collections_run)

    readings = commands.add_parser("readings", help="meter readings").add_subparsers(dest="readings", required=True)
    importing = readings.add_parser("import", help="import a meter-data file: NEM12, NEM13, or reads as CSV or xlsx")
    importing.add_argument("file", metavar="FILE")
    importing.add_argument(
        "--format", default="auto", help="auto (detect from the content, the default), nem12, nem13, csv or xlsx"
    )
    importing.add_argument("--dry-run", action="store_true", help="read and check the file, store nothing")
    importing.add_argument("--json", action="store_true", help="print the report as one JSON document")
    importing.set_defaults(func=cmd_readings_import)
    readings.add_parser(
        "scan-inbox", help="queue the files dropped under readings-inbox/drop/ (then: bus drain)"
    ).set_defaults(func=cmd_readings_scan_inbox)

    preview = commands.add_parser("rate", help="preview a bill: rate interval usage against a tariff, storing nothing")
    preview.add_argument("--tariff", required=True, metavar="FILE", help="a GridLedger tariff document or a URDB rate")
    preview.add_argument("--usage", required=True, metavar="FILE", help="a CSV with the header start,kwh")
    preview.add_argument("--from", dest="period_from", required=True, metavar="DATE", help="first date (inclusive)")
    preview.add_argument("--to", dest="period_to", required=True, metavar="DATE", help="end date (exclusive)")
    preview.add_argument("--tz", metavar="ZONE", help="IANA zone of the dates and usage (default: the tariff's)")
    preview.add_argument("--json", action="store_true", help="print the preview as one JSON document")
    preview.set_defaults(func=cmd_rate)

    migrating = commands.add_parser(
        "migrate", help="load customers, accounts, assets, contracts, balances and reads from an old system's CSV files"
    )
    migrating.add_argument("--from", dest="folder", required=True, metavar="FOLDER", help="the folder of CSV files")
    migrating.add_argument("--dry-run", action="store_true", help="check everything and report, store nothing")
    migrating.add_argument("--json", action="store_true", help="print the report as one JSON document")
    migrating.set_defaults(func=cmd_migrate)

    ledger = commands.add_parser("ledger", help="the accounts-receivable ledger").add_subparsers(
        dest="ledger", required=True
    )
    check = ledger.add_parser("check", help="verify the ledger balances (exit 1 when it does not)")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.set_defaults(func=cmd_ledger_check)

    settings = commands.add_parser("settings", help="configuration").add_subparsers(dest="settings", required=True)
    settings.add_parser("check", help="validate the settings and print them (secrets hidden)").set_defaults(
        func=cmd_settings_check
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
