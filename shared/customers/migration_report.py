"""The reconciliation report: what the source files held against what GridLedger now holds.

A utility runs its old and new systems side by side before cutting over; this report is
how it proves the two hold the same book: per entity and branch, how many rows the source
had, how many were loaded now, how many were already there from an earlier run and how
many were refused (the four add up: source = loaded + already there + refused); per branch
and currency, the opening balances the source held against those GridLedger holds, as
exact decimal strings; and every refused row, with its file, row, field and reason.

Exit status: 0 when every row is in GridLedger, 1 when some rows were refused, 2 when a
file is missing or unreadable (nothing was loaded) or the store failed part way (what was
written before is kept; running again continues).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from shared.customers.migration_files import LAYOUTS, FileProblem
from shared.money import MINOR_UNITS

Outcome = Literal["loaded", "alreadyThere", "refused"]
ENTITIES: tuple[str, ...] = tuple(layout.entity for layout in LAYOUTS)
NO_BRANCH = "(none)"  # the row names no branch, or its branch could not be traced


@dataclass
class Tally:
    source_rows: int = 0
    loaded: int = 0
    already_there: int = 0
    refused: int = 0

    def add(self, outcome: Outcome) -> None:
        self.source_rows += 1
        if outcome == "loaded":
            self.loaded += 1
        elif outcome == "alreadyThere":
            self.already_there += 1
        else:
            self.refused += 1

    def merge(self, other: Tally) -> None:
        self.source_rows += other.source_rows
        self.loaded += other.loaded
        self.already_there += other.already_there
        self.refused += other.refused

    def to_json(self) -> dict[str, int]:
        return {
            "sourceRows": self.source_rows,
            "loaded": self.loaded,
            "alreadyThere": self.already_there,
            "refused": self.refused,
        }


@dataclass
class BalanceSums:
    """Opening balances of one branch in one currency. ``loaded``: in GridLedger after the
    run (loaded now or already there). Rows whose amount is not a number are in no sum."""

    source: Decimal = Decimal(0)
    loaded: Decimal = Decimal(0)
    refused: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Refusal:
    file: str
    row: int
    record_id: str | None  # the row's own id (customerId, serial...), when it has one
    field: str | None  # the column at fault; None for the row as a whole
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "id": self.record_id, "field": self.field, "reason": self.reason}

    def __str__(self) -> str:
        where = f"{self.file} row {self.row}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.reason}"


@dataclass
class MigrationReport:
    folder: str
    dry_run: bool
    file_problems: list[FileProblem] = field(default_factory=list)
    entities: dict[str, dict[str, Tally]] = field(default_factory=lambda: {e: {} for e in ENTITIES})
    balances: dict[str, dict[str, BalanceSums]] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per entity, wall time (not for comparing)
    # What the run cost the store: documents written per container, point reads, seconds
    # spent writing (on Cosmos DB, the request units follow from these).
    written: dict[str, int] = field(default_factory=dict)
    reads: int = 0
    write_seconds: float = 0.0
    interrupted: str | None = None  # why the store stopped the run part way

    def count(self, entity: str, branch: str, outcome: Outcome) -> None:
        self.entities[entity].setdefault(branch, Tally()).add(outcome)

    def balance(self, branch: str, currency: str) -> BalanceSums:
        return self.balances.setdefault(branch, {}).setdefault(currency, BalanceSums())

    def total(self, entity: str) -> Tally:
        total = Tally()
        for tally in self.entities[entity].values():
            total.merge(tally)
        return total

    @property
    def exit_code(self) -> int:
        if self.file_problems or self.interrupted:
            return 2
        return 1 if self.refusals else 0

    @property
    def status(self) -> str:
        return {0: "loaded", 1: "refusals", 2: "stopped"}[self.exit_code]

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "dryRun": self.dry_run,
            "status": self.status,
            "exitCode": self.exit_code,
            "fileProblems": [{"file": p.file, "line": p.line, "message": p.message} for p in self.file_problems],
            "interrupted": self.interrupted,
            "entities": {
                entity: {
                    "total": self.total(entity).to_json(),
                    "branches": {branch: tally.to_json() for branch, tally in sorted(branches.items())},
                }
                for entity, branches in self.entities.items()
            },
            "openingBalances": {
                branch: {
                    currency: {
                        "source": money_text(sums.source, currency),
                        "loaded": money_text(sums.loaded, currency),
                        "refused": money_text(sums.refused, currency),
                    }
                    for currency, sums in sorted(currencies.items())
                }
                for branch, currencies in sorted(self.balances.items())
            },
            "refused": [refusal.to_json() for refusal in self.refusals],
            "refusedRows": sum(self.total(entity).refused for entity in ENTITIES),
            "seconds": {entity: round(seconds, 3) for entity, seconds in self.seconds.items()},
            "store": {
                "documentsWritten": dict(sorted(self.written.items())),
                "pointReads": self.reads,
                "writeSeconds": round(self.write_seconds, 3),
            },
        }

    def to_text(self) -> str:
        lines = [f"Migration from {self.folder}" + (" (dry run: nothing stored)" if self.dry_run else "")]
        if self.file_problems:
            lines.append("Files that cannot be used (nothing was loaded):")
            lines += [f"  {problem}" for problem in self.file_problems]
        else:
            lines.append(f"  {'entity':<16} {'branch':<12} {'source':>9} {'loaded':>9} {'already':>9} {'refused':>9}")
            for entity, branches in self.entities.items():
                for branch, tally in sorted(branches.items()):
                    lines.append(_tally_line(entity, branch, tally))
                if len(branches) != 1:
                    lines.append(_tally_line(entity, "all", self.total(entity)))
            if self.balances:
                lines.append("Opening balances (loaded: in GridLedger after this run)")
                lines.append(f"  {'branch':<12} {'currency':<8} {'source':>16} {'loaded':>16} {'refused':>16}")
                for branch, currencies in sorted(self.balances.items()):
                    for currency, sums in sorted(currencies.items()):
                        lines.append(
                            f"  {branch:<12} {currency:<8} {money_text(sums.source, currency):>16} "
                            f"{money_text(sums.loaded, currency):>16} {money_text(sums.refused, currency):>16}"
                        )
        if self.refusals:
            lines.append(f"Refused ({len(self.refusals)} problems):")
            lines += [f"  {refusal}" for refusal in self.refusals]
        if self.interrupted:
            lines.append(f"Stopped part way: {self.interrupted}")
        lines.append(f"Result: {self.status} (exit {self.exit_code})")
        return "\n".join(lines) + "\n"


def _tally_line(entity: str, branch: str, tally: Tally) -> str:
    return (
        f"  {entity:<16} {branch:<12} {tally.source_rows:>9} {tally.loaded:>9} "
        f"{tally.already_there:>9} {tally.refused:>9}"
    )


def money_text(amount: Decimal, currency: str) -> str:
    """Exact: never rounded; padded to the currency's minor digits when it has fewer."""
    minor = MINOR_UNITS.get(currency, 2)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -minor:
        amount = amount.quantize(Decimal(1).scaleb(-minor))  # adds zeros only: still exact
    return format(amount, "f")
