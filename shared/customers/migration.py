"""Migration from a utility's old system: ``python -m shared.cli migrate --from FOLDER
[--dry-run] [--json]``.

Loads customers, accounts, service points, meters, contracts, opening balances and register
read history from the CSV files described in ``migration_files``, and prints the
reconciliation report (``migration_report``) against them.

- **Same rules as the API.** Every row becomes the record the API would make (``from_document``
  of the same record, same field rules and messages), then is checked against the rows
  before it and against what is stored: an account's customer, payment references unique,
  a meter in one place at a time, contracts on a known tariff in the account's currency,
  never two overlapping contracts for the same thing at a service point, one billed contract
  per account at a time.
- **A refused row never stops the rest.** It is reported with its file, row, column and
  reason; a row that depends on it (an account of a refused customer) is refused saying so.
  Only a missing or unreadable file stops the run, before anything is written.
- **Idempotent.** Ids are the source system's keys; a record already stored is "already
  there" when equal and refused when it differs (nothing is ever overwritten), so running
  the migration again changes nothing, and after a fix to the source adds only what was
  refused before.
- **In bulk.** Rows go in chunks: on SQLite a chunk is one transaction; on Cosmos DB its
  documents are sent in parallel. Each migrated record has one history entry, ``migrate``.
- **Dry run.** Everything is checked and reported exactly as a real run would, and nothing
  is stored.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from shared.customers.containers import ACCOUNTS, CONTRACTS, CUSTOMERS, METERS, SERVICE_POINTS, TARIFFS
from shared.customers.migration_balance import OPENING_BALANCE_KIND, parse_amount
from shared.customers.migration_files import CONTRACTS as CONTRACTS_FILE
from shared.customers.migration_files import LAYOUTS, OPENING_BALANCES, check_file, rows
from shared.customers.migration_files import SERVICE_POINTS as POINTS_FILE
from shared.customers.migration_loaders import Loader, loaders
from shared.customers.migration_report import NO_BRANCH, MigrationReport, Outcome, Refusal
from shared.customers.migration_rules import point_key
from shared.customers.migration_state import RowRefused, RunState
from shared.customers.migration_target import MigrationInterrupted, MigrationTarget
from shared.platform.documents import DocumentStore, DocumentStoreError
from shared.resources import PAYMENTS, READINGS

MIGRATED_BY = "migration"
CHUNK_ROWS = 2000  # rows per transaction on SQLite; a few MB of documents

# What may already be stored from an earlier run: when a container held none of its kind
# before this run, nothing needs looking up.
_KINDS = (
    (CUSTOMERS.name, "customer"),
    (ACCOUNTS.name, "account"),
    (SERVICE_POINTS.name, "servicePoint"),
    (METERS.name, "meter"),
    (CONTRACTS.name, "contract"),
    (PAYMENTS.name, OPENING_BALANCE_KIND),
    (READINGS.name, "register"),
)


# Once a file is loaded, the entities no later file names: half a million customers need
# not be kept in memory while the contracts load.
_FORGET_AFTER: dict[str, tuple[str, ...]] = {
    "accounts": ("customers",),
    "contracts": ("contracts", "servicePoints"),
    "openingBalances": ("accounts",),
    "readings": ("meters",),
}


def migrate(
    folder: Path,
    documents: DocumentStore,
    *,
    clock: Callable[[], datetime],
    dry_run: bool = False,
    by: str = MIGRATED_BY,
    chunk_rows: int = CHUNK_ROWS,
    workers: int = 16,
) -> MigrationReport:
    report = MigrationReport(str(folder), dry_run)
    report.file_problems = [problem for layout in LAYOUTS if (problem := check_file(folder, layout)) is not None]
    if report.file_problems:
        return report
    target = MigrationTarget(documents, dry_run=dry_run, workers=workers)
    for container, kind in _KINDS:
        target.note_what_is_held(container, kind)
    state = RunState(target, clock=clock, by=by, files={layout.entity: layout.file for layout in LAYOUTS})
    try:
        for loader in loaders(state, _tariffs(documents)):
            if loader.layout is POINTS_FILE:
                state.point_branches = _point_branches(folder, state)
            _load_file(folder, loader, state, report, chunk_rows)
            state.done_with_file(loader.layout.entity)
            for entity in _FORGET_AFTER.get(loader.layout.entity, ()):
                state.forget(entity)
    except (MigrationInterrupted, DocumentStoreError) as stop:
        report.interrupted = str(stop)
    report.written, report.reads, report.write_seconds = target.written, target.reads, target.write_seconds
    return report


def _load_file(folder: Path, loader: Loader, state: RunState, report: MigrationReport, chunk_rows: int) -> None:
    layout = loader.layout
    started = time.perf_counter()
    in_chunk = 0
    for row in rows(folder, layout):
        branch = loader.branch(row)
        outcome: Outcome
        try:
            if row.problem is not None:
                raise RowRefused.one(None, row.problem)
            outcome = loader.load(row)
        except RowRefused as refused:
            outcome = "refused"
            key = loader.key(row)
            if key is not None:
                state.remember_refused(layout.entity, key, row.number, branch)
            own_id = row.cells.get(layout.required[0]) or None
            report.refusals += [
                Refusal(layout.file, row.number, own_id, column, why) for column, why in refused.problems
            ]
        report.count(layout.entity, branch, outcome)
        if layout is OPENING_BALANCES:
            _add_balance(report, branch, row.cells, outcome)
        in_chunk += 1
        if in_chunk >= chunk_rows:
            loader.end_chunk()
            state.target.flush()
            in_chunk = 0
    loader.end_chunk()
    state.target.flush()
    report.seconds[layout.entity] = time.perf_counter() - started


def _add_balance(report: MigrationReport, branch: str, cells: dict[str, str], outcome: Outcome) -> None:
    try:
        amount = parse_amount(cells.get("amount", ""))
    except ValueError:
        return  # not a number: in no sum, and refused by name
    sums = report.balance(branch, cells.get("currency") or NO_BRANCH)
    sums.source += amount
    if outcome == "refused":
        sums.refused += amount
    else:
        sums.loaded += amount


def _point_branches(folder: Path, state: RunState) -> dict[str, str]:
    """Each service point's branch for the report: its (first) contract's account's."""
    branches: dict[str, str] = {}
    for row in rows(folder, CONTRACTS_FILE):
        point = point_key(row.cells.get("servicePointId", ""))
        if point and point not in branches:
            branches[point] = state.account_branch(row.cells.get("accountId", ""))
    return branches


def _tariffs(documents: DocumentStore) -> dict[str, dict[str, Any]]:
    """Every tariff, by id: a handful, read once instead of once per contract."""
    return {doc["id"]: doc for doc in documents.container(TARIFFS.name).query() if doc["id"] == doc.get("tariffId")}


# --- the command -----------------------------------------------------------------------------


def run_migrate(
    folder: str,
    *,
    dry_run: bool = False,
    as_json: bool = False,
    open_store: Callable[[], DocumentStore] | None = None,
    clock: Callable[[], datetime] | None = None,
    out: TextIO | None = None,
) -> int:
    """Run the command on the configured store; print the report; return the exit status."""
    documents = (open_store or _configured_store)()
    try:
        report = migrate(Path(folder), documents, clock=clock or (lambda: datetime.now(UTC)), dry_run=dry_run)
    finally:
        documents.close()
    out = out or sys.stdout
    out.write(json.dumps(report.to_json(), indent=2) + "\n" if as_json else report.to_text())
    return report.exit_code


def _configured_store() -> DocumentStore:
    from shared.bootstrap import build_documents
    from shared.config import load_settings

    return build_documents(load_settings())
