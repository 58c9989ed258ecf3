"""Loading service points and the meters installed at them."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.customers import migration_files as files
from shared.customers.containers import METERS, SERVICE_POINTS
from shared.customers.errors import InvalidRecord
from shared.customers.meter import Meter
from shared.customers.migration_documents import EMPTY_POINT_VIEW, point_view, with_derived
from shared.customers.migration_files import Row
from shared.customers.migration_loading import RecordLoader, differs, named_point, parsed
from shared.customers.migration_report import NO_BRANCH, Outcome
from shared.customers.migration_rows import meter_document, service_point_document
from shared.customers.migration_rules import installed_at, point_key
from shared.customers.migration_state import PointFact, RowRefused, RunState
from shared.customers.migration_target import DERIVED
from shared.customers.service_point import ServicePoint


class ServicePointLoader(RecordLoader):
    layout, entity_id = files.SERVICE_POINTS, "servicePointId"

    def key(self, row: Row) -> str | None:
        return point_key(row.cells.get("servicePointId", "")) or None

    def branch(self, row: Row) -> str:
        return self.state.point_branches.get(point_key(row.cells.get("servicePointId", "")), NO_BRANCH)

    def load(self, row: Row) -> Outcome:
        self.state.first_time("servicePoints", point_key(row.cells["servicePointId"]), row.number, "servicePointId")
        point = parsed(self.layout, lambda: ServicePoint.from_document(service_point_document(row.cells)))
        point_id = point.service_point_id
        branch = self.branch(row)
        stored = self.stored(SERVICE_POINTS.name, "servicePoint", point_id)
        if stored is not None:
            existing = ServicePoint.from_document(stored)
            if existing.status == "active":
                self.state.points[point_id] = PointFact(existing.country, existing.time_zone, branch)
            if existing == point:
                return "alreadyThere"
            raise differs(self.layout, f"service point {point_id}", existing.to_document(), point.to_document())
        self.write_record(SERVICE_POINTS.name, "servicePoint", point, extra=EMPTY_POINT_VIEW)
        self.state.points[point_id] = PointFact(point.country, point.time_zone, branch)
        return "loaded"


class MeterLoader(RecordLoader):
    layout, entity_id = files.METERS, "serial"

    def __init__(self, state: RunState) -> None:
        super().__init__(state)
        # This chunk's meters by service point, each with whether this run installs it.
        self._placed: dict[str, list[tuple[Meter, bool]]] = {}

    def branch(self, row: Row) -> str:
        return self.state.point_branch(point_key(row.cells.get("servicePointId", "")))

    def load(self, row: Row) -> Outcome:
        cells = row.cells
        serial = cells["serial"]
        first_row = self.state.rows["meters"].setdefault(serial, row.number)
        point_id = parsed(self.layout, lambda: named_point(cells["servicePointId"]))
        point = self.state.point(point_id, "servicePointId")
        meter = parsed(self.layout, lambda: Meter.from_document(meter_document(cells)))
        try:
            # In UTC, as stored: a message then reads the same in this run and the next.
            at = installed_at(cells["installedAt"], point.time_zone).astimezone(UTC)
        except ValueError as error:
            raise RowRefused.one("installedAt", str(error)) from None
        if first_row != row.number:
            self._not_placed_earlier(serial, point_id, at, first_row)
            raise RowRefused.one("serial", f"{serial} given twice in {self.layout.file}: first at row {first_row}")
        branch = point.branch
        stored = self.stored(METERS.name, "meter", meter.serial)
        if stored is not None:
            existing = Meter.from_document(stored)
            self.state.remember_meter(existing, branch)
            same = (existing.kind, existing.registers, existing.interval_minutes) == (
                meter.kind,
                meter.registers,
                meter.interval_minutes,
            )
            if same and any(i.service_point_id == point_id and i.installed_at == at for i in existing.installations):
                self._placed.setdefault(point_id, []).append((existing, False))
                return "alreadyThere"
            # Placed elsewhere: the meter's own rule says where and since when.
            parsed(self.layout, lambda: existing.install(service_point_id=point_id, at=at, first_reads={}))
            installed = meter.install(service_point_id=point_id, at=at, first_reads={})
            raise differs(self.layout, f"meter {meter.serial}", existing.to_document(), installed.to_document())
        installed = parsed(self.layout, lambda: meter.install(service_point_id=point_id, at=at, first_reads={}))
        self.write_record(METERS.name, "meter", installed)
        self.state.remember_meter(installed, branch)
        self._placed.setdefault(point_id, []).append((installed, True))
        return "loaded"

    def _not_placed_earlier(self, serial: str, point_id: str, at: datetime, first_row: int) -> None:
        """A meter an earlier row installed elsewhere: refused by the meter's own rule (a
        meter is in one place at a time), saying which row put it there."""
        earlier = self.state.meters.get(serial)
        if earlier is None:
            return
        try:
            earlier.meter(serial).install(service_point_id=point_id, at=at, first_reads={})
        except InvalidRecord as error:
            refused = RowRefused.invalid(self.layout, error)
            raise RowRefused(
                [(column, f"{why} ({self.layout.file} row {first_row})") for column, why in refused.problems]
            ) from None

    def end_chunk(self) -> None:
        """Billing's view on each service point that got a meter: the latest installed. A
        service point whose meters were all there already is only mended, when it has no
        view (a run stopped between writing the meter and its view)."""
        placed, self._placed = self._placed, {}
        if self.target.dry_run:
            return
        for point_id, met in placed.items():
            doc = self.target.find(SERVICE_POINTS.name, point_id, point_id)
            if doc is None or (not any(new for _, new in met) and doc.get("meterSerial") is not None):
                continue
            candidates = {m.serial: m for m, _ in met}
            current = doc.get("meterSerial")  # the latest so far, from earlier chunks or runs
            if current and current not in candidates:
                earlier = self.state.stored_meter(current)
                if earlier is not None:
                    candidates[current] = earlier
            for stored in self.target.stored_where(METERS.name, "meter", "servicePointId", point_id):
                candidates.setdefault(stored["serial"], Meter.from_document(stored))
            at_point = [m for m in candidates.values() if m.current and m.current.service_point_id == point_id]
            updated = with_derived(doc, point_view(at_point))
            if updated is not None:
                self.target.replace(SERVICE_POINTS.name, updated, etag=doc["_etag"], wave=DERIVED)
