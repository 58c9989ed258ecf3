"""Loading register read history."""

from __future__ import annotations

from datetime import datetime

from shared.customers import migration_files as files
from shared.customers.errors import InvalidRecord
from shared.customers.meter import Meter
from shared.customers.migration_documents import register_read_document
from shared.customers.migration_files import Row
from shared.customers.migration_loading import RecordLoader
from shared.customers.migration_report import Outcome
from shared.customers.migration_state import RowRefused
from shared.readings.mobile import validate_register_reads
from shared.resources import READINGS

MIGRATION_SOURCE = "migration"  # the ``source`` of migrated register reads


class ReadingLoader(RecordLoader):
    layout, entity_id = files.READINGS, "meterSerial"

    def key(self, row: Row) -> str | None:
        return None  # nothing depends on a read

    def branch(self, row: Row) -> str:
        return self.state.meter_branch(row.cells.get("meterSerial", ""))

    def load(self, row: Row) -> Outcome:
        cells = row.cells
        item = {
            "meterSerial": cells["meterSerial"],
            "register": cells["register"],
            "readAt": cells["readAt"],
            "value": cells["value"],
            "readType": cells["readType"].lower(),
            "readerId": cells["readerId"],
            "photoRef": cells.get("photoRef") or None,
        }
        reads, errors = validate_register_reads([item], now=self.state.now)
        if errors:
            raise RowRefused([(e.field, e.message) for e in errors])
        read = reads[0]
        self.state.first_time("readings", (read.meter_serial, read.register_id, read.read_at), row.number, "readAt")
        meter = self.state.meter(read.meter_serial, "meterSerial").meter(read.meter_serial)
        point_id = _installed_where(meter, read.read_at)
        try:
            meter.checked_reads({read.register_id: read.value}, "value", all_registers=False)
        except InvalidRecord as error:
            raise RowRefused(
                [("register" if "has no register" in e.message else "value", e.message) for e in error.errors]
            ) from None
        document = register_read_document(point_id, read, source=MIGRATION_SOURCE)
        stored = self.stored(READINGS.name, "register", document["id"], point_id)
        if stored is not None:
            compared = ("value", "readType", "readerId", "photoRef")
            if all(stored.get(name) == document[name] for name in compared):
                return "alreadyThere"
            different = [name for name in compared if stored.get(name) != document[name]]
            raise RowRefused.one(
                different[0],
                f"a read of {read.meter_serial} {read.register_id} at {document['readAt']} is stored with a "
                f"different {', '.join(different)}: a migration never overwrites a read",
            )
        self.target.create(READINGS.name, document)
        return "loaded"


def _installed_where(meter: Meter, read_at: datetime) -> str:
    for installation in meter.installations:
        ends = installation.removed_at
        if installation.installed_at <= read_at and (ends is None or read_at <= ends):
            return installation.service_point_id
    where = (
        ", ".join(f"at {i.service_point_id} from {i.installed_at.isoformat()}" for i in meter.installations)
        or "never installed"
    )
    raise RowRefused.one(
        "readAt", f"meter {meter.serial} was not installed anywhere at {read_at.isoformat()} ({where})"
    )
