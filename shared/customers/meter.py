"""Meters, their registers, and where each meter has been installed over time.

A meter is in one place at a time: its installations are half-open periods
``[installedAt, removedAt)`` that never overlap, kept on the meter's own document so the
rule holds under concurrent writes (one ETag guards all of them). An exchange removes the
old meter with its final reads and installs the new one with its first reads, at the same
moment; each half is idempotent, so a retried exchange completes instead of doubling.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from shared.customers import fields
from shared.customers.errors import Checks, FieldError, InvalidRecord, RecordConflict

MeterKind = Literal["interval", "accumulation"]
METER_KINDS: tuple[str, ...] = ("interval", "accumulation")
INTERVAL_MINUTES: tuple[int, ...] = (5, 15, 30)
UNITS: tuple[str, ...] = ("kWh", "kvarh", "kVAh", "kW", "kVA", "m3", "MJ", "GJ")
MAX_REGISTERS = 20
MAX_DIALS = 12
_REGISTER_ID = re.compile(r"^[A-Za-z0-9]{1,10}$")

EDITABLE = frozenset({"registers", "intervalMinutes"})

Reads = Mapping[str, Decimal]


@dataclass(frozen=True)
class Register:
    register_id: str  # the NEM12 suffix (E1, B1) or the NEM13 register id
    unit: str
    dial_count: int  # digits on the display: the read rolls over to 0 after 10**dial_count - 1
    multiplier: Decimal  # the read times this is the energy (current transformer ratios)

    @property
    def rollover(self) -> Decimal:
        return Decimal(10) ** self.dial_count

    def to_document(self) -> dict[str, Any]:
        return {
            "registerId": self.register_id,
            "unit": self.unit,
            "dialCount": self.dial_count,
            "multiplier": str(self.multiplier),
        }


def _register(doc: Any, checks: Checks) -> Register | None:
    if not isinstance(doc, Mapping):
        checks.fail("", "a register is an object with registerId, unit, dialCount and multiplier")
        return None
    for name in sorted(set(doc) - {"registerId", "unit", "dialCount", "multiplier"}):
        checks.fail(name, "unknown field")
    register_id = doc.get("registerId")
    checks.check(
        isinstance(register_id, str) and bool(_REGISTER_ID.match(register_id)), "registerId", "1-10 letters or digits"
    )
    checks.check(doc.get("unit") in UNITS, "unit", f"one of {', '.join(UNITS)}")
    dials = doc.get("dialCount")
    ok_dials = isinstance(dials, int) and not isinstance(dials, bool) and 1 <= dials <= MAX_DIALS
    checks.check(ok_dials, "dialCount", f"a whole number of dials from 1 to {MAX_DIALS}")
    multiplier = checks.parse("multiplier", lambda: _decimal(doc.get("multiplier", "1")))
    if multiplier is not None:
        checks.check(multiplier > 0, "multiplier", "greater than zero")
    if checks.errors:
        return None
    return Register(register_id, doc["unit"], dials, multiplier)  # type: ignore[arg-type]


def _decimal(value: Any) -> Decimal:
    if isinstance(value, float | bool):
        # Floats would bring binary rounding into meter reads: send a string or an integer.
        raise ValueError('a decimal number as a string (e.g. "10234.5") or an integer')
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    return number


@dataclass(frozen=True)
class Installation:
    service_point_id: str
    installed_at: datetime
    first_reads: Reads = field(default_factory=dict)
    removed_at: datetime | None = None
    final_reads: Reads = field(default_factory=dict)

    def overlaps(self, start: datetime, end: datetime | None) -> bool:
        """Whether ``[start, end)`` (open-ended when ``end`` is None) meets this period."""
        ends_after_start = self.removed_at is None or self.removed_at > start
        starts_before_end = end is None or self.installed_at < end
        return ends_after_start and starts_before_end

    def to_document(self) -> dict[str, Any]:
        return {
            "servicePointId": self.service_point_id,
            "installedAt": self.installed_at.astimezone(UTC).isoformat(),
            "firstReads": {k: str(v) for k, v in self.first_reads.items()},
            "removedAt": self.removed_at.astimezone(UTC).isoformat() if self.removed_at else None,
            "finalReads": {k: str(v) for k, v in self.final_reads.items()},
        }


@dataclass(frozen=True)
class Meter:
    serial: str
    kind: MeterKind
    registers: tuple[Register, ...]
    interval_minutes: int | None = None
    installations: tuple[Installation, ...] = ()  # oldest first, never overlapping
    status: Literal["active", "retired"] = "active"

    @property
    def record_id(self) -> str:
        return self.serial

    @property
    def current(self) -> Installation | None:
        """The installation not yet ended, if the meter is in place somewhere."""
        open_ones = [i for i in self.installations if i.removed_at is None]
        return open_ones[-1] if open_ones else None

    def register(self, register_id: str) -> Register | None:
        return next((r for r in self.registers if r.register_id == register_id), None)

    def checked_reads(self, reads: Mapping[str, Any], field_name: str, *, all_registers: bool) -> dict[str, Decimal]:
        """Reads keyed by register id, each fitting that register's dials."""
        checks = Checks(f"{field_name}.")
        clean: dict[str, Decimal] = {}
        for register_id, raw in reads.items():
            register = self.register(register_id)
            if register is None:
                checks.fail(register_id, f"meter {self.serial} has no register {register_id!r}")
                continue
            value = checks.parse(register_id, lambda raw=raw: _decimal(raw))
            if value is None:
                continue
            if not 0 <= value < register.rollover:
                checks.fail(register_id, f"a read from 0 to below {register.rollover} ({register.dial_count} dials)")
                continue
            clean[register_id] = value
        if all_registers:
            for register in self.registers:
                if register.register_id not in reads:
                    checks.fail(register.register_id, "a read for every register is needed")
        checks.raise_if_any()
        return clean

    def install(self, *, service_point_id: str, at: datetime, first_reads: Mapping[str, Any]) -> Meter:
        """The meter installed at the service point from ``at``; refused while (or if, for a
        back-dated installation, whenever) it is installed anywhere else."""
        at = fields.aware_datetime(at)
        reads = self.checked_reads(first_reads, "firstReads", all_registers=False)
        wanted = Installation(service_point_id, at, reads)
        if wanted in self.installations:
            return self  # the same installation again: a retried request
        if self.status != "active":
            raise RecordConflict.one("serial", f"meter {self.serial} is retired")
        for existing in self.installations:
            if existing.overlaps(at, None):
                until = existing.removed_at.isoformat() if existing.removed_at else "now"
                raise RecordConflict.one(
                    "serial",
                    f"meter {self.serial} is installed at service point {existing.service_point_id} from "
                    f"{existing.installed_at.isoformat()} until {until}: a meter is in one place at a time",
                )
        installations = sorted((*self.installations, wanted), key=lambda i: i.installed_at)
        return replace(self, installations=tuple(installations))

    def remove(self, *, service_point_id: str, at: datetime, final_reads: Mapping[str, Any]) -> Meter:
        """The meter taken out of the service point at ``at`` with its final reads."""
        at = fields.aware_datetime(at)
        reads = self.checked_reads(final_reads, "finalReads", all_registers=True)
        done = [
            i for i in self.installations
            if i.service_point_id == service_point_id and i.removed_at == at and i.final_reads == reads
        ]  # fmt: skip
        if done:
            return self  # removed already, exactly so: a retried exchange
        current = self.current
        if current is None or current.service_point_id != service_point_id:
            where = f"at {current.service_point_id}" if current else "not installed anywhere"
            raise RecordConflict.one(
                "serial", f"meter {self.serial} is {where}, not at service point {service_point_id}"
            )
        if at <= current.installed_at:
            raise RecordConflict.one(
                "at", f"the removal must come after the installation at {current.installed_at.isoformat()}"
            )
        ended = replace(current, removed_at=at, final_reads=reads)
        return replace(self, installations=tuple(ended if i is current else i for i in self.installations))

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Meter:
        checks = Checks()
        serial = checks.parse("serial", lambda: fields.record_id(doc.get("serial")))
        kind = doc.get("meterKind")
        checks.check(kind in METER_KINDS, "meterKind", "interval or accumulation")
        minutes = doc.get("intervalMinutes")
        if kind == "interval":
            checks.check(minutes in INTERVAL_MINUTES, "intervalMinutes", "5, 15 or 30 for an interval meter")
        elif minutes is not None:
            checks.fail("intervalMinutes", "only an interval meter has an interval length")
        registers: list[Register] = []
        raw_registers = doc.get("registers")
        if not isinstance(raw_registers, list) or not 1 <= len(raw_registers) <= MAX_REGISTERS:
            checks.fail("registers", f"1 to {MAX_REGISTERS} registers")
        else:
            for index, raw in enumerate(raw_registers):
                with checks.nested(f"registers.{index}") as inner:
                    register = _register(raw, inner)
                if register is not None:
                    if any(r.register_id == register.register_id for r in registers):
                        checks.fail(f"registers.{index}.registerId", f"{register.register_id} given twice")
                    registers.append(register)
        status = doc.get("status", "active")
        checks.check(status in ("active", "retired"), "status", "active or retired")
        installations = checks.parse("installations", lambda: _installations(doc.get("installations", [])))
        checks.raise_if_any()
        meter = cls(serial, kind, tuple(registers), minutes, tuple(installations or ()), status)  # type: ignore[arg-type]
        for index, installation in enumerate(meter.installations):
            # Reads already stored must still fit the registers after a register change.
            for name, reads in (("firstReads", installation.first_reads), ("finalReads", installation.final_reads)):
                try:
                    meter.checked_reads(reads, name, all_registers=False)
                except InvalidRecord as error:
                    checks.errors.extend(
                        FieldError(f"installations.{index}.{e.field}", e.message) for e in error.errors
                    )
        checks.raise_if_any()
        return meter

    def to_document(self) -> dict[str, Any]:
        current = self.current
        return {
            "id": self.serial,
            "meterId": self.serial,
            "kind": "meter",
            "serial": self.serial,
            "meterKind": self.kind,
            "intervalMinutes": self.interval_minutes,
            "registers": [r.to_document() for r in self.registers],
            "installations": [i.to_document() for i in self.installations],
            # Where the meter is now, at the top level so "meters at this service point" is a query.
            "servicePointId": current.service_point_id if current else None,
            "status": self.status,
        }


def _installations(raw: Any) -> list[Installation]:
    if not isinstance(raw, list):
        raise ValueError("a list")
    result = []
    for doc in raw:
        removed = doc.get("removedAt")
        result.append(
            Installation(
                service_point_id=doc["servicePointId"],
                installed_at=fields.aware_datetime(doc["installedAt"]),
                first_reads={k: Decimal(v) for k, v in doc.get("firstReads", {}).items()},
                removed_at=fields.aware_datetime(removed) if removed else None,
                final_reads={k: Decimal(v) for k, v in doc.get("finalReads", {}).items()},
            )
        )
    result.sort(key=lambda i: i.installed_at)
    for earlier, later in itertools.pairwise(result):
        if earlier.overlaps(later.installed_at, later.removed_at):
            raise ValueError(f"installations at {earlier.service_point_id} and {later.service_point_id} overlap")
    return result
