"""What every migration loader shares: a row checked by its record's own rules, then against
the rows before it and what is stored, then queued for writing.

Each loader's ``load`` returns "loaded" or "alreadyThere", or raises ``RowRefused`` naming
the column and the reason. A record already stored is never overwritten: equal, it is
"already there"; different, the row is refused saying which fields differ (a migration
that overwrote would undo changes made in GridLedger since the last run), and rows that
depend on it use the stored record. ``end_chunk`` writes what a chunk of rows adds to other
records (a service point's index of contracts, billing's view on accounts and service
points), the way the service does after each write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from shared.customers.containers import RECORD_CHANGES
from shared.customers.errors import FieldError, InvalidRecord
from shared.customers.history import changed_fields
from shared.customers.migration_documents import record_documents
from shared.customers.migration_files import Layout, Row
from shared.customers.migration_report import Outcome
from shared.customers.migration_rows import RowProblem, column_of
from shared.customers.migration_rules import point_reference
from shared.customers.migration_state import RowRefused, RunState
from shared.customers.migration_target import RECORDS, SATELLITES

T = TypeVar("T")


class Loader(Protocol):
    layout: Layout

    def key(self, row: Row) -> str | None:
        """The row's own id, as dependent rows name it."""

    def branch(self, row: Row) -> str: ...

    def load(self, row: Row) -> Outcome: ...

    def end_chunk(self) -> None: ...


def parsed(layout: Layout, parse: Callable[[], T]) -> T:
    """What ``parse`` returns; a record's refusal becomes the row's, named by column."""
    try:
        return parse()
    except InvalidRecord as error:
        raise RowRefused.invalid(layout, error) from None
    except RowProblem as problem:
        raise RowRefused.one(problem.column, str(problem)) from None


def differs(layout: Layout, what: str, before: dict[str, Any], after: dict[str, Any]) -> RowRefused:
    """The refusal of a row whose record is stored with other values."""
    names = sorted(changed_fields(before, after))
    columns = list(dict.fromkeys(column_of(layout, FieldError(name, ""))[0] for name in names))
    return RowRefused.one(
        columns[0] if columns else None,
        f"the stored {what} differs in {', '.join(names)}: a migration never overwrites a record "
        "(change it in GridLedger, or correct the source row)",
    )


class RecordLoader:
    layout: Layout
    entity_id: str  # the column holding the row's own id

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.target = state.target

    def key(self, row: Row) -> str | None:
        return row.cells.get(self.entity_id) or None

    def write_record(
        self, container: str, record_type: str, record: Any, *, extra: dict[str, Any] | None = None
    ) -> None:
        document, history = record_documents(record_type, record, by=self.state.by, now=self.state.now, extra=extra)
        # An upsert: on Cosmos DB a run stopped between the waves leaves the history entry
        # of a record that is not stored yet, which the next run writes again with it.
        self.target.upsert(RECORD_CHANGES.name, history, wave=SATELLITES)
        self.target.create(container, document, wave=RECORDS)

    def stored(self, container: str, kind: str, doc_id: str, partition: str | None = None) -> dict[str, Any] | None:
        if not self.target.held_before(container, kind):
            return None
        doc = self.target.find(container, doc_id, partition or doc_id)
        return doc if doc is not None and doc.get("kind") == kind else None

    def end_chunk(self) -> None:
        return None


def named_point(text: str) -> str:
    """The service point a meter's or contract's row names (an NMI's checksum checked)."""
    try:
        return point_reference(text)
    except ValueError as error:
        raise RowProblem("servicePointId", str(error)) from None
