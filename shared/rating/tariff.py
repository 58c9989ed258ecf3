"""Tariffs: versioned price documents made of components.

A tariff version is one JSON document (camelCase, rates as decimal strings) holding an
ordered list of components, each with a ``kind``. This first cut knows three kinds:

- ``daily_supply``: a fixed charge per local day of the period;
- ``flat_energy``: one rate for every kWh of the period;
- ``time_of_use``: a rate per period (peak, shoulder, off-peak...) chosen by local hour and
  weekday/weekend; every hour of both day types belongs to exactly one period.

Each energy component prices all of the period's energy, so a flat component beside a time
of use one adds to it (a per-kWh levy on top of TOU prices), it does not replace it.

Documents are read strictly: a missing, unknown or float-valued field is refused with the
field's path (``components[1].periods[0].rate``). A field this version does not understand
may change the price, so it is an error rather than something to skip; only Cosmos DB's own
``_``-prefixed properties are ignored. Validation lives on the model types, so a tariff built
in code is checked exactly like one read from a document.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from shared.money import MINOR_UNITS
from shared.rating.tax import TaxRounding
from shared.rating.time_of_use import DAY_TYPES, HOURS_PER_DAY, HourCoverageError, hour_table


class TariffError(ValueError):
    """A tariff that cannot be priced, naming the offending field by its document path."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field or 'document'}: {problem}")
        self.field = field  # "" is the document (or object) itself
        self.problem = problem

    def under(self, prefix: str) -> TariffError:
        return TariffError(f"{prefix}.{self.field}" if self.field else prefix, self.problem)


@contextmanager
def _under(prefix: str) -> Iterator[None]:
    """Errors raised inside name their field relative to ``prefix``."""
    try:
        yield
    except TariffError as error:
        raise error.under(prefix) from None


# -- the model -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DailySupply:
    kind: ClassVar[str] = "daily_supply"
    unit: ClassVar[str] = "day"

    id: str
    description: str
    rate: Decimal  # per local day
    tax_code: str

    def __post_init__(self) -> None:
        _check_text("id", self.id)
        _check_text("description", self.description)
        _check_rate("rate", self.rate)
        _check_text("taxCode", self.tax_code)


@dataclass(frozen=True)
class FlatEnergy:
    kind: ClassVar[str] = "flat_energy"
    unit: ClassVar[str] = "kWh"

    id: str
    description: str
    rate: Decimal  # per kWh
    tax_code: str

    def __post_init__(self) -> None:
        _check_text("id", self.id)
        _check_text("description", self.description)
        _check_rate("rate", self.rate)
        _check_text("taxCode", self.tax_code)


HourRange = tuple[int, int]  # local hours [start, end), 0 <= start < end <= 24


@dataclass(frozen=True)
class TouPeriod:
    id: str
    description: str
    rate: Decimal  # per kWh
    weekdays: tuple[HourRange, ...]
    weekends: tuple[HourRange, ...]

    def __post_init__(self) -> None:
        _check_text("id", self.id)
        _check_text("description", self.description)
        _check_rate("rate", self.rate)
        for day_type in DAY_TYPES:
            object.__setattr__(self, day_type, tuple(getattr(self, day_type)))
            for index, hours in enumerate(getattr(self, day_type)):
                _check_hour_range(f"{day_type}[{index}]", hours)

    def windows(self) -> dict[str, tuple[HourRange, ...]]:
        return {day_type: getattr(self, day_type) for day_type in DAY_TYPES}


@dataclass(frozen=True)
class TimeOfUse:
    kind: ClassVar[str] = "time_of_use"
    unit: ClassVar[str] = "kWh"

    id: str
    periods: tuple[TouPeriod, ...]
    tax_code: str
    description: str = "Time of use energy"
    table: np.ndarray = field(init=False, repr=False, compare=False)  # (day type, hour) -> period index

    def __post_init__(self) -> None:
        _check_text("id", self.id)
        _check_text("taxCode", self.tax_code)
        if not self.periods:
            raise TariffError("periods", "a time_of_use component needs at least one period")
        try:
            table = hour_table([(period.id, period.windows()) for period in self.periods])
        except HourCoverageError as error:
            raise TariffError("periods", str(error)) from None
        object.__setattr__(self, "table", table)


Component = DailySupply | FlatEnergy | TimeOfUse


@dataclass(frozen=True)
class Tariff:
    id: str
    version: str  # e.g. the date it was published; lines record it so a bill can be re-explained
    name: str
    currency: str
    effective_from: date  # the version prices local dates [effective_from, effective_to)
    components: tuple[Component, ...]
    taxes: Mapping[str, Decimal]  # tax code -> rate, e.g. {"GST": Decimal("0.10")}
    tax_rounding: TaxRounding
    time_zone: str | None = None  # TOU hours in this zone if set, else in the service point's
    effective_to: date | None = None

    def __post_init__(self) -> None:
        _check_text("id", self.id)
        _check_text("version", self.version)
        _check_text("name", self.name)
        if self.currency not in MINOR_UNITS:
            raise TariffError("currency", f"unsupported currency {self.currency!r}; known: {', '.join(MINOR_UNITS)}")
        if self.time_zone is not None:
            _check_zone("timeZone", self.time_zone)
        _check_date("effectiveFrom", self.effective_from)
        if self.effective_to is not None:
            _check_date("effectiveTo", self.effective_to)
            if self.effective_to <= self.effective_from:
                problem = f"{self.effective_to} must be after effectiveFrom {self.effective_from}"
                raise TariffError("effectiveTo", problem)
        if not isinstance(self.tax_rounding, TaxRounding):
            raise TariffError("taxRounding", f"must be a TaxRounding, got {self.tax_rounding!r}")
        for code, rate in self.taxes.items():
            _check_text("taxes", code)
            _check_tax_rate(f"taxes.{code}", rate)
        object.__setattr__(self, "taxes", dict(self.taxes))
        if not self.components:
            raise TariffError("components", "a tariff needs at least one component")
        self._check_components()

    def _check_components(self) -> None:
        # Lines name the component (or TOU period) that priced them, so ids are unique tariff-wide.
        seen: dict[str, str] = {}
        for index, component in enumerate(self.components):
            path = f"components[{index}]"
            if not isinstance(component, DailySupply | FlatEnergy | TimeOfUse):
                raise TariffError(path, f"not a tariff component: {type(component).__name__}")
            named = [(f"{path}.id", component.id)]
            if isinstance(component, TimeOfUse):
                named += [(f"{path}.periods[{i}].id", period.id) for i, period in enumerate(component.periods)]
            for where, name in named:
                if name in seen:
                    raise TariffError(where, f"id {name!r} is already used by {seen[name]}")
                seen[name] = where
            if component.tax_code not in self.taxes:
                known = ", ".join(self.taxes) or "none"
                raise TariffError(f"{path}.taxCode", f"{component.tax_code!r} is not in taxes (known: {known})")

    def tax_rate(self, code: str) -> Decimal:
        return self.taxes[code]

    def covers(self, start: date, end: date) -> bool:
        """Does this version price every local date of ``[start, end)``?"""
        return start >= self.effective_from and (self.effective_to is None or end <= self.effective_to)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Tariff:
        return _tariff_from_document(doc)

    def to_document(self) -> dict[str, Any]:
        """The stored document; ``tariffId`` repeats ``id`` as the container's partition key."""
        return {
            "id": self.id,
            "tariffId": self.id,
            "version": self.version,
            "name": self.name,
            "currency": self.currency,
            "timeZone": self.time_zone,
            "effectiveFrom": self.effective_from.isoformat(),
            "effectiveTo": self.effective_to.isoformat() if self.effective_to else None,
            "components": [_component_to_document(component) for component in self.components],
            "taxes": {code: str(rate) for code, rate in self.taxes.items()},
            "taxRounding": self.tax_rounding.value,
        }


# -- checks shared by the model and the reader ---------------------------------------------------


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise TariffError(name, f"must be a non-empty string, got {value!r}")


def _check_rate(name: str, value: object) -> None:
    if _check_decimal(name, value) < 0:
        raise TariffError(name, f"must not be negative, got {value}")


def _check_tax_rate(name: str, value: object) -> None:
    if not 0 <= _check_decimal(name, value) < 1:
        raise TariffError(name, f'must be a fraction in [0, 1), e.g. "0.10" for 10%, got {value}')


def _check_decimal(name: str, value: object) -> Decimal:
    if isinstance(value, float):
        raise TariffError(name, f'floats are refused in money: write "{value}" as a decimal string')
    if not isinstance(value, Decimal):
        raise TariffError(name, f"must be a Decimal, got {type(value).__name__} {value!r}")
    if not value.is_finite():
        raise TariffError(name, f"must be a finite number, got {value}")
    return value


def _check_date(name: str, value: object) -> None:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TariffError(name, f"must be a date, got {type(value).__name__} {value!r}")


def _check_zone(name: str, value: object) -> None:
    _check_text(name, value)
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise TariffError(name, f"unknown IANA time zone {value!r}") from None


def _check_hour_range(name: str, hours: object) -> None:
    if not isinstance(hours, tuple) or len(hours) != 2:
        raise TariffError(name, f"must be a pair [start, end) of local hours, got {hours!r}")
    for hour in hours:
        if isinstance(hour, bool) or not isinstance(hour, int):
            raise TariffError(name, f"hours must be whole numbers, got {type(hour).__name__} {hour!r}")
    start, end = hours
    if not 0 <= start < end <= HOURS_PER_DAY:
        raise TariffError(
            name,
            f"[{start}, {end}) is not a range of local hours with 0 <= start < end <= 24 "
            "(split a range across midnight in two, e.g. [[22, 24], [0, 7]])",
        )


# -- reading documents ---------------------------------------------------------------------------

_TARIFF_KEYS = (
    {"id", "version", "name", "currency", "effectiveFrom", "components", "taxes", "taxRounding"},
    {"timeZone", "effectiveTo", "tariffId"},
)
_SIMPLE_KEYS = ({"id", "kind", "description", "rate", "taxCode"}, set[str]())
_TOU_KEYS = ({"id", "kind", "periods", "taxCode"}, {"description"})
_PERIOD_KEYS = ({"id", "description", "rate", "weekdays", "weekends"}, set[str]())


def _tariff_from_document(doc: Mapping[str, Any]) -> Tariff:
    fields = _fields(doc, "tariff", *_TARIFF_KEYS, ignore_system=True)
    if "tariffId" in fields and fields["tariffId"] != fields["id"]:
        raise TariffError("tariffId", f"{fields['tariffId']!r} differs from id {fields['id']!r}")
    components = _list(fields["components"], "components")
    parsed = []
    for index, component in enumerate(components):
        with _under(f"components[{index}]"):
            parsed.append(_component_from_document(component))
    taxes = _mapping(fields["taxes"], "taxes")
    rounding = fields["taxRounding"]
    if not isinstance(rounding, str) or rounding not in {r.value for r in TaxRounding}:
        known = ", ".join(r.value for r in TaxRounding)
        raise TariffError("taxRounding", f"must be one of {known}, got {rounding!r}")
    effective_to = fields.get("effectiveTo")
    return Tariff(
        id=fields["id"],
        version=fields["version"],
        name=fields["name"],
        currency=fields["currency"],
        time_zone=fields.get("timeZone"),
        effective_from=_date(fields["effectiveFrom"], "effectiveFrom"),
        effective_to=None if effective_to is None else _date(effective_to, "effectiveTo"),
        components=tuple(parsed),
        taxes={code: _decimal(rate, f"taxes.{code}") for code, rate in taxes.items()},
        tax_rounding=TaxRounding(rounding),
    )


def _component_from_document(doc: object) -> Component:
    if not isinstance(doc, Mapping):
        raise TariffError("", f"a component must be an object, got {type(doc).__name__}")
    if "kind" not in doc:
        raise TariffError("kind", "missing from the component")
    kind = doc["kind"]
    reader = _COMPONENT_READERS.get(kind) if isinstance(kind, str) else None
    if reader is None:
        known = ", ".join(_COMPONENT_READERS)
        raise TariffError("kind", f"unknown component kind {kind!r} (known: {known})")
    return reader(doc)


def _simple_from_document(doc: Mapping[str, Any], kind: type[DailySupply] | type[FlatEnergy]) -> Component:
    fields = _fields(doc, "component", *_SIMPLE_KEYS)
    return kind(
        id=fields["id"],
        description=fields["description"],
        rate=_decimal(fields["rate"], "rate"),
        tax_code=fields["taxCode"],
    )


def _time_of_use_from_document(doc: Mapping[str, Any]) -> TimeOfUse:
    fields = _fields(doc, "component", *_TOU_KEYS)
    periods = []
    for index, period in enumerate(_list(fields["periods"], "periods")):
        with _under(f"periods[{index}]"):
            periods.append(_period_from_document(period))
    extra = {"description": fields["description"]} if "description" in fields else {}
    return TimeOfUse(id=fields["id"], periods=tuple(periods), tax_code=fields["taxCode"], **extra)


def _period_from_document(doc: object) -> TouPeriod:
    fields = _fields(doc, "period", *_PERIOD_KEYS)
    return TouPeriod(
        id=fields["id"],
        description=fields["description"],
        rate=_decimal(fields["rate"], "rate"),
        weekdays=_hour_ranges(fields["weekdays"], "weekdays"),
        weekends=_hour_ranges(fields["weekends"], "weekends"),
    )


_COMPONENT_READERS = {
    DailySupply.kind: lambda doc: _simple_from_document(doc, DailySupply),
    FlatEnergy.kind: lambda doc: _simple_from_document(doc, FlatEnergy),
    TimeOfUse.kind: _time_of_use_from_document,
}


def _fields(
    doc: object, what: str, required: set[str], optional: set[str], *, ignore_system: bool = False
) -> dict[str, Any]:
    if not isinstance(doc, Mapping):
        raise TariffError("", f"the {what} must be an object, got {type(doc).__name__}")
    keys = {key for key in doc if not (ignore_system and isinstance(key, str) and key.startswith("_"))}
    missing = sorted(required - keys)
    if missing:
        raise TariffError(missing[0], f"missing from the {what}")
    unknown = sorted(map(str, keys - required - optional))
    if unknown:
        raise TariffError(unknown[0], f"unknown field in the {what} (a newer tariff format? refusing to guess)")
    return {key: doc[key] for key in keys}


def _mapping(value: object, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TariffError(name, f"must be an object, got {type(value).__name__}")
    return value


def _list(value: object, name: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise TariffError(name, f"must be a list, got {type(value).__name__}")
    return list(value)


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise TariffError(name, f'must be a decimal string like "0.3120", got {type(value).__name__} {value!r}')
    if isinstance(value, float):
        raise TariffError(name, f'floats are refused in money: write "{value}" as a decimal string')
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise TariffError(name, f'must be a decimal string like "0.3120", got {value!r}') from None
    _check_decimal(name, number)
    return number


def _date(value: object, name: str) -> date:
    if not isinstance(value, str):
        raise TariffError(name, f"must be an ISO date string, got {type(value).__name__} {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TariffError(name, f"must be an ISO date like 2026-07-01, got {value!r}") from None


def _hour_ranges(value: object, name: str) -> tuple[HourRange, ...]:
    ranges = []
    for index, pair in enumerate(_list(value, name)):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise TariffError(f"{name}[{index}]", f"must be a pair [start, end) of local hours, got {pair!r}")
        ranges.append((pair[0], pair[1]))  # types and bounds are checked by TouPeriod
    return tuple(ranges)


# -- writing documents ---------------------------------------------------------------------------


def _component_to_document(component: Component) -> dict[str, Any]:
    if isinstance(component, TimeOfUse):
        return {
            "id": component.id,
            "kind": component.kind,
            "description": component.description,
            "periods": [
                {
                    "id": period.id,
                    "description": period.description,
                    "rate": str(period.rate),
                    "weekdays": [list(hours) for hours in period.weekdays],
                    "weekends": [list(hours) for hours in period.weekends],
                }
                for period in component.periods
            ],
            "taxCode": component.tax_code,
        }
    return {
        "id": component.id,
        "kind": component.kind,
        "description": component.description,
        "rate": str(component.rate),
        "taxCode": component.tax_code,
    }
