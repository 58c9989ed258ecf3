"""Customer migration throughput and peak memory (issue 3), with a projection to Cosmos DB.

Generates an old-system export (``benchmarks/migration_generate.py``; kept under
``benchmarks/data/``, never committed) of N households: a customer, an account, a service
point, a meter and a contract each, an opening balance per account, optionally register
reads, with one household in 149 carrying a deliberate fault. Then, in a fresh Python
process (so that its peak memory, the kernel's VmHWM, is the migration's own), migrates it
into an empty embedded SQLite store through ``shared.customers.migration.migrate``, the
code behind ``python -m shared.cli migrate``, and checks the report's counts against what
the generator says a first run must report. With ``--rerun`` the same process migrates the
same files again (everything "already there", nothing written) and times that too.

With ``--cosmos-sample N`` it also migrates the first N households into the local Cosmos DB
server (node_modules, as the tests use it) to measure the client's CPU per document sent;
the projection to a real Cosmos DB account uses it with the assumptions printed beside it.

    .venv/bin/python -m benchmarks.migration_throughput --customers 50000 --rerun
    .venv/bin/python -m benchmarks.migration_throughput --customers 500000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.migration_generate import generate

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # the migration's clock: reads after it are refused

# Cosmos DB assumptions (the local server reports no request charges): a point read of a
# document up to a few KB about 1-2 RU; a create or replace of a 1 KB document about 6 RU
# with the default indexing policy (every path indexed), about 2 RU more per further KB.
READ_RU = 2.0
WRITE_RU_FIRST_KB = 6.0
WRITE_RU_PER_EXTRA_KB = 2.0
PROVISIONED = (10_000, 50_000)  # RU/s: autoscale maxima a utility might set for the cut-over weekend
WRITE_LATENCY_S = 0.010  # gateway mode, same region: one request's round trip


def peak_mib() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


# -- the run, in a child process ---------------------------------------------------------------


def _child(folder: Path, database: Path, chunk_rows: int, rerun: bool) -> dict[str, Any]:
    from shared.customers.migration import migrate
    from shared.demo.sample_utility import FLAT_TARIFF, TOU_TARIFF
    from shared.platform.documents.sqlite_store import SqliteDocumentStore
    from shared.resources import TARIFFS

    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    store = SqliteDocumentStore(database)
    for tariff in (FLAT_TARIFF, TOU_TARIFF):
        store.container(TARIFFS.name).create(tariff)
    result: dict[str, Any] = {}
    runs = ("first", "rerun") if rerun else ("first",)
    for name in runs:
        wall, cpu = time.perf_counter(), time.process_time()
        report = migrate(folder, store, clock=lambda: NOW, chunk_rows=chunk_rows)
        result[name] = {
            "wall": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu,
            "peakMiB": peak_mib(),
            "report": {k: v for k, v in report.to_json().items() if k != "refused"},
            "refusals": len(report.refusals),
        }
    store.close()
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT container, count(*), avg(length(body)) FROM documents GROUP BY container").fetchall()
    result["containers"] = {name: {"documents": count, "avgBytes": size} for name, count, size in rows}
    result["databaseMiB"] = database.stat().st_size / 2**20
    return result


def _cosmos_child(folder: Path, households: int) -> dict[str, Any]:
    """The first ``households`` rows of every file, migrated into the local Cosmos DB server."""
    from benchmarks.migration_generate import generate as regenerate
    from shared.customers.migration import migrate
    from shared.demo.sample_utility import FLAT_TARIFF, TOU_TARIFF
    from shared.resources import TARIFFS
    from tests.support.cosmos_server import CosmosServer, open_store
    from tests.support.processes import free_port

    sample = folder.parent / f"{folder.name}-cosmos-{households}"
    regenerate(sample, households)
    server = CosmosServer(folder.parent / "cosmosdb-server.log", free_port())
    server.start()
    try:
        store = open_store(server)
        for tariff in (FLAT_TARIFF, TOU_TARIFF):
            store.container(TARIFFS.name).create(tariff)
        wall, cpu = time.perf_counter(), time.process_time()
        report = migrate(sample, store, clock=lambda: NOW)
        store.close()
        return {
            "households": households,
            "wall": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu,
            "written": sum(report.written.values()),
            "reads": report.reads,
            "refusals": len(report.refusals),
        }
    finally:
        server.stop()


def _service_child(folder: Path, households: int, database: Path) -> dict[str, Any]:
    """The peer: the first ``households`` rows of each file, one record at a time through
    ``CustomerRecords`` (the API's path), as the sample utility loads its book."""
    from shared.customers import migration_files as layouts
    from shared.customers.errors import InvalidRecord
    from shared.customers.migration_files import rows
    from shared.customers.service import CustomerRecords
    from shared.demo.sample_utility import FLAT_TARIFF, TOU_TARIFF
    from shared.platform.documents.sqlite_store import SqliteDocumentStore
    from shared.resources import TARIFFS

    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    store = SqliteDocumentStore(database)
    for tariff in (FLAT_TARIFF, TOU_TARIFF):
        store.container(TARIFFS.name).create(tariff)
    records = CustomerRecords(store, clock=lambda: NOW)

    def first(layout: layouts.Layout) -> list[dict[str, str]]:
        found = []
        for row in rows(folder, layout):
            if len(found) == households:
                break
            found.append(row.cells)
        return found

    files = {layout.entity: first(layout) for layout in layouts.LAYOUTS[:5]}
    refused = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for cells in zip(
        *(files[e] for e in ("customers", "accounts", "servicePoints", "meters", "contracts")), strict=False
    ):
        for step in _household_steps(records, *cells):
            try:
                step()
            except (InvalidRecord, ValueError, LookupError):
                refused += 1
    result = {
        "households": households,
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "refusedSteps": refused,
    }
    store.close()
    return result


def _household_steps(
    records: Any,
    customer: dict[str, str],
    account: dict[str, str],
    point: dict[str, str],
    meter: dict[str, str],
    contract: dict[str, str],
) -> list[Callable[[], Any]]:
    """One household as a branch officer's tools would enter it, call by call."""
    from shared.customers.migration_rows import (
        account_document,
        contract_document,
        customer_document,
        meter_document,
        service_point_document,
    )
    from shared.customers.migration_rules import installed_at, point_reference

    by = "benchmark"
    return [
        lambda: records.create_customer(customer_document(customer), by=by),
        lambda: records.create_account(account_document(account, customer_email=None), by=by),
        lambda: records.create_service_point(service_point_document(point), by=by),
        lambda: records.create_meter(meter_document(meter), by=by),
        lambda: records.install_meter(
            meter["serial"],
            service_point_id=point_reference(meter["servicePointId"]),
            at=installed_at(meter["installedAt"], point["timeZone"]),
            first_reads={},
            by=by,
        ),
        lambda: records.create_contract(
            contract_document(contract, service_point_id=point_reference(contract["servicePointId"])), by=by
        ),
    ]


def _run_child(*args: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.migration_throughput", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- what the parent prints --------------------------------------------------------------------


def _rate(rows: float, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


def _check(expected: dict[str, Any], report: dict[str, Any]) -> list[str]:
    wrong = []
    for entity, want in expected.items():
        if entity in ("customers", "seed") and not isinstance(want, dict):
            continue
        got = report["entities"][entity]["total"]
        if (got["sourceRows"], got["loaded"], got["refused"]) != (want["sourceRows"], want["loaded"], want["refused"]):
            wrong.append(f"{entity}: expected {want}, reported {got}")
    return wrong


def _projection(result: dict[str, Any], households: int, cosmos: dict[str, Any] | None) -> list[str]:
    first = result["first"]
    store = first["report"]["store"]
    written = store["documentsWritten"]
    containers = result["containers"]
    write_ru = 0.0
    for name, count in written.items():
        size_kb = containers.get(name, {"avgBytes": 1024})["avgBytes"] / 1024
        write_ru += count * (WRITE_RU_FIRST_KB + WRITE_RU_PER_EXTRA_KB * max(0, math.ceil(size_kb) - 1))
    writes = sum(written.values())
    reads = store["pointReads"]
    total_ru = write_ru + READ_RU * reads
    lines = [
        f"- documents written: {writes:,} ({writes / households:.1f} a household), point reads: {reads:,}",
        f"- request units: {total_ru:,.0f} ({total_ru / households:.1f} a household; "
        f"{write_ru / writes:.1f} RU a write on average)",
    ]
    non_write_cpu = first["cpu"] - store["writeSeconds"]
    for provisioned in PROVISIONED:
        seconds = total_ru / provisioned
        workers = math.ceil(writes / seconds * WRITE_LATENCY_S)
        lines.append(
            f"- at {provisioned:,} RU/s: {seconds / 60:,.1f} min if the store is the limit, "
            f"needing about {workers} requests in flight ({WRITE_LATENCY_S * 1000:.0f} ms each)"
        )
    lines.append(
        f"- the migration's own work (checks, documents) took {non_write_cpu:,.0f} s of one core here "
        f"({non_write_cpu / households * 1000:.2f} ms a household): a floor on any store"
    )
    if cosmos is not None:
        per_doc = cosmos["cpu"] / max(cosmos["written"], 1)
        lines.append(
            f"- measured on the local Cosmos DB server: {cosmos['households']} households, {cosmos['written']} "
            f"documents and {cosmos['reads']} reads in {cosmos['wall']:.1f} s, {per_doc * 1000:.1f} ms of client CPU "
            "a document: the server closes every connection, so each request pays a new TLS handshake (the "
            "certificate bundle loaded again); a real account keeps connections open, so this is no figure for it"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=4, metavar=("FOLDER", "DB", "CHUNK", "RERUN"), help=argparse.SUPPRESS)
    parser.add_argument("--cosmos-child", nargs=2, metavar=("FOLDER", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--service-child", nargs=3, metavar=("FOLDER", "N", "DB"), help=argparse.SUPPRESS)
    parser.add_argument("--customers", type=int, default=500_000, help="households to generate and migrate")
    parser.add_argument("--reads-per-meter", type=int, default=0, help="register reads per meter in readings.csv")
    parser.add_argument("--chunk", type=int, default=2000, help="rows per chunk (one SQLite transaction)")
    parser.add_argument("--rerun", action="store_true", help="migrate the same files again and time that too")
    parser.add_argument("--cosmos-sample", type=int, default=0, help="also migrate N households into local Cosmos")
    parser.add_argument(
        "--service-sample", type=int, default=0, help="also load the first N households through CustomerRecords"
    )
    parser.add_argument("--data", type=Path, default=DATA, help="where the generated files are kept")
    args = parser.parse_args(argv)

    if args.child:
        folder, database, chunk, rerun = args.child
        print(json.dumps(_child(Path(folder), Path(database), int(chunk), rerun == "rerun")))
        return
    if args.service_child:
        folder, households, database = args.service_child
        print(json.dumps(_service_child(Path(folder), int(households), Path(database))))
        return
    if args.cosmos_child:
        folder, households = args.cosmos_child
        print(json.dumps(_cosmos_child(Path(folder), int(households))))
        return

    folder = args.data / f"migration_{args.customers}_r{args.reads_per_meter}"
    expected_file = folder / "expected.json"
    started = time.perf_counter()
    if not expected_file.exists():
        generate(folder, args.customers, reads_per_meter=args.reads_per_meter)
    generated = time.perf_counter() - started
    expected = json.loads(expected_file.read_text())
    size = sum(p.stat().st_size for p in folder.glob("*.csv")) / 2**20
    print(f"source: {folder} ({size:,.0f} MiB of CSV; generated in {generated:,.0f} s)")

    database = args.data / f"migration_{args.customers}.sqlite3"
    result = _run_child("--child", str(folder), str(database), str(args.chunk), "rerun" if args.rerun else "once")
    cosmos = _run_child("--cosmos-child", str(folder), str(args.cosmos_sample)) if args.cosmos_sample else None
    service = None
    if args.service_sample:
        peer_db = args.data / f"migration_{args.customers}_service.sqlite3"
        service = _run_child("--service-child", str(folder), str(args.service_sample), str(peer_db))

    first = result["first"]
    report = first["report"]
    wrong = _check({k: v for k, v in expected.items() if isinstance(v, dict)}, report)
    print(f"counts against the generator's: {'all as expected' if not wrong else 'WRONG: ' + '; '.join(wrong)}")
    print(f"machine: {os.cpu_count()} cores, {_cpu_name()}, Python {platform.python_version()}")
    print()
    print("| entity | source rows | loaded | refused | seconds | rows/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    total_rows = 0
    for entity, data in report["entities"].items():
        tally = data["total"]
        seconds = report["seconds"].get(entity, 0.0)
        total_rows += tally["sourceRows"]
        print(
            f"| {entity} | {tally['sourceRows']:,} | {tally['loaded']:,} | {tally['refused']:,} | "
            f"{seconds:,.1f} | {_rate(tally['sourceRows'], seconds)} |"
        )
    print(
        f"| **all** | {total_rows:,} | | {first['refusals']:,} problems | {first['wall']:,.1f} | "
        f"**{_rate(total_rows, first['wall'])}** |"
    )
    print()
    print(
        f"households/s: {args.customers / first['wall']:,.0f}; CPU {first['cpu']:,.0f} s, of which writing "
        f"{report['store']['writeSeconds']:,.0f} s (wall); peak memory (VmHWM) {first['peakMiB']:,.0f} MiB; "
        f"SQLite file {result['databaseMiB']:,.0f} MiB"
    )
    if service is not None:
        rate = service["households"] / service["wall"]
        print(
            f"peer, the first {service['households']:,} households one record at a time through CustomerRecords: "
            f"{service['wall']:,.1f} s, {rate:,.1f} households/s ({service['refusedSteps']} steps refused): "
            f"the migration is x{args.customers / first['wall'] / rate:,.0f}"
        )
    if "rerun" in result:
        again = result["rerun"]
        changed = sum(t["total"]["loaded"] for t in again["report"]["entities"].values())
        print(
            f"second run: {again['wall']:,.1f} s ({_rate(total_rows, again['wall'])} rows/s), "
            f"{changed} rows loaded, {sum(again['report']['store']['documentsWritten'].values())} documents written, "
            f"peak memory {again['peakMiB']:,.0f} MiB"
        )
    print()
    print("documents per container (SQLite):")
    for name, info in sorted(result["containers"].items()):
        print(f"  {name}: {info['documents']:,} documents, {info['avgBytes']:,.0f} bytes on average")
    print()
    print("Cosmos DB projection:")
    for line in _projection(result, args.customers, cosmos):
        print(line)


if __name__ == "__main__":
    main()
