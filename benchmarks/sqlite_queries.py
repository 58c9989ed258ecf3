"""Equality queries on the embedded document store as its data grows (issue 7).

Loads one SQLite file the way the payments code fills it, then times the queries that the
webhook path asks:

* ``partition``: 50,000 Stripe events in ONE partition (every event sits in "stripe");
  1,000 look-ups ``{"status": "held", "waitingFor": <posting id>}`` as
  ``WebhookInbox.held_for`` asks, half of them finding one held event, half nothing;
* ``cross``: 50,000 accounts, one partition each; 1,000 look-ups
  ``{"paymentReference": <ref>}`` across partitions, as the ledger's payer look-up asks;
* ``ordered``: the newest 10 of one kind across the partitioned container,
  ``{"kind": "event"}, order_by="-receivedAt", limit=10`` (100 of them);
* ``writes``: 2,000 single-document creates into the indexed container after the
  queries, each its own transaction (the webhook path's write), to show what indexes
  cost a writer.

The first query of each kind is timed apart (``first ms``): with the indexed store it is
the one that builds the index over the rows already there.

    .venv/bin/python -m benchmarks.sqlite_queries
    .venv/bin/python -m benchmarks.sqlite_queries --store /tmp/sqlite_store_before.py

``--store FILE`` times another version of ``sqlite_store.py`` (e.g. the last commit's:
``git show HEAD:shared/platform/documents/sqlite_store.py > /tmp/sqlite_store_before.py``)
on the same data; ``--queries`` lowers the count when that version is slow.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from shared.platform.documents import BatchOperation
from shared.resources import ACCOUNTS, WEBHOOK_EVENTS

LOAD_CHUNK = 5_000  # documents per write_many transaction while loading


def store_module(path: str | None) -> ModuleType:
    if path is None:
        from shared.platform.documents import sqlite_store

        return sqlite_store
    spec = importlib.util.spec_from_file_location("sqlite_store_under_test", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def event(n: int) -> dict[str, Any]:
    """Every 50th event is held, waiting for posting ``payment:pi_<n>``; the rest applied."""
    held = n % 50 == 0
    return {
        "id": f"evt_{n:07d}",
        WEBHOOK_EVENTS.partition_key: "stripe",
        "kind": "event",
        "type": "charge.refunded" if held else "payment_intent.succeeded",
        "status": "held" if held else "applied",
        "receivedAt": f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00+00:00",
        "waitingFor": f"payment:pi_{n:07d}" if held else None,
        "payload": "x" * 600,  # an event body's size, roughly
    }


def account(n: int) -> dict[str, Any]:
    return {"id": f"ACC{n:07d}", ACCOUNTS.partition_key: f"ACC{n:07d}", "paymentReference": f"GL{n:08d}"}


def load(store: Any, documents: int) -> float:
    began = time.perf_counter()
    for start in range(0, documents, LOAD_CHUNK):
        chunk = range(start, min(start + LOAD_CHUNK, documents))
        store.write_many([(WEBHOOK_EVENTS.name, BatchOperation("create", document=event(n))) for n in chunk])
        store.write_many([(ACCOUNTS.name, BatchOperation("create", document=account(n))) for n in chunk])
    return time.perf_counter() - began


def timed(queries: list[Callable[[], list[Any]]], expect: Callable[[int, list[Any]], bool]) -> dict[str, Any]:
    """The first query apart (it may build an index), then the rest one by one."""
    times, wrong = [], 0
    for i, query in enumerate(queries):
        began = time.perf_counter()
        found = query()
        times.append(time.perf_counter() - began)
        wrong += not expect(i, found)
    rest = times[1:] or times
    return {
        "queries": len(times),
        "firstMs": round(times[0] * 1000, 2),
        "meanMs": round(statistics.fmean(rest) * 1000, 3),
        "p50Ms": round(statistics.median(rest) * 1000, 3),
        "maxMs": round(max(rest) * 1000, 2),
        "perSecond": round(len(rest) / sum(rest), 1),
        "wrongAnswers": wrong,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    module = store_module(args.store)
    folder = Path(tempfile.mkdtemp(prefix="gridledger-sqlite-queries-"))
    store = module.SqliteDocumentStore(folder / "documents.sqlite3")
    try:
        load_s = load(store, args.documents)
        events, accounts = store.container(WEBHOOK_EVENTS.name), store.container(ACCOUNTS.name)
        step = max(1, args.documents // args.queries)
        picks = [(i * step) % args.documents for i in range(args.queries)]
        # Even picks ask for a held event's posting (one answer), odd ones for a posting nobody waits for.
        held = [p - p % 50 if i % 2 == 0 else p | 1 for i, p in enumerate(picks)]
        results = {
            "partition": timed(
                [
                    lambda n=n: events.query(
                        {"status": "held", "waitingFor": f"payment:pi_{n:07d}"}, partition="stripe"
                    )
                    for n in held
                ],
                lambda i, found: len(found) == (1 if i % 2 == 0 else 0),
            ),
            "cross": timed(
                [lambda n=n: accounts.query({"paymentReference": f"GL{n:08d}"}) for n in picks],
                lambda i, found: [d["id"] for d in found] == [f"ACC{picks[i]:07d}"],
            ),
            "ordered": timed(
                [
                    lambda: events.query({"kind": "event"}, partition="stripe", order_by="-receivedAt", limit=10)
                    for _ in range(max(1, args.queries // 10))
                ],
                lambda i, found: len(found) == 10 and found[0]["receivedAt"].startswith("2026-11-28T"),
            ),
        }
        began = time.perf_counter()
        for n in range(args.documents, args.documents + args.writes):
            events.create(event(n))
        write_s = time.perf_counter() - began
        return {
            "store": args.store or "shared/platform/documents/sqlite_store.py",
            "documentsPerContainer": args.documents,
            "loadSeconds": round(load_s, 2),
            **results,
            "writes": {"creates": args.writes, "perSecond": round(args.writes / write_s, 1)},
            "file": str(folder / "documents.sqlite3"),
        }
    finally:
        store.close()


def markdown(r: dict[str, Any]) -> str:
    rows = [
        "| query | queries | first ms | mean ms | p50 ms | max ms | per second |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in ("partition", "cross", "ordered"):
        q = r[name]
        figures = (q["queries"], q["firstMs"], q["meanMs"], q["p50Ms"], q["maxMs"], q["perSecond"])
        rows.append(f"| {name} | " + " | ".join(str(f) for f in figures) + " |")
    rows.append(f"\nload {r['loadSeconds']} s; single creates {r['writes']['perSecond']}/s")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=50_000, help="documents in each of the two containers")
    parser.add_argument("--queries", type=int, default=1_000, help="look-ups per kind")
    parser.add_argument("--writes", type=int, default=2_000, help="single creates timed after the queries")
    parser.add_argument("--store", help="another sqlite_store.py to time instead of the project's")
    args = parser.parse_args(argv)
    if args.documents < 100 or args.queries < 2 or args.writes < 1:
        parser.error("--documents must be at least 100, --queries at least 2, --writes at least 1")
    result = run(args)
    print(json.dumps(result, indent=2))
    print(markdown(result))
    return 0 if all(result[k]["wrongAnswers"] == 0 for k in ("partition", "cross", "ordered")) else 1


if __name__ == "__main__":
    sys.exit(main())
