"""Reading and writing tariff documents: camelCase JSON, rates as decimal strings.

Reading is strict (see checks.fields). Writing omits an optional field at its default, so
a document written before a field existed reads and writes back byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared.rating.checks import (
    TariffError,
    bool_of,
    date_of,
    decimal_of,
    fields,
    hour_ranges_of,
    list_of,
    mapping_of,
    under,
)
from shared.rating.components import (
    EXPORT,
    GENERAL,
    Block,
    BlockEnergy,
    Component,
    DailySupply,
    DemandCharge,
    DemandWindow,
    Discount,
    ExportCredit,
    FixedCharge,
    FlatEnergy,
    MinimumCharge,
    Ratchet,
    Season,
    SeasonalEnergy,
    Tier,
    TieredPeriod,
    TieredTimeOfUse,
    TimeOfUse,
    TouPeriod,
)
from shared.rating.tariff import PublicHolidays, Tariff
from shared.rating.tax import TaxRounding

_TARIFF_KEYS = (
    {"id", "version", "name", "currency", "effectiveFrom", "components", "taxes", "taxRounding"},
    {"timeZone", "effectiveTo", "tariffId", "publicHolidays", "networkTariffId"},
)


def tariff_from_document(doc: Mapping[str, Any]) -> Tariff:
    read = fields(doc, "tariff", *_TARIFF_KEYS, ignore_system=True)
    if "tariffId" in read and read["tariffId"] != read["id"]:
        raise TariffError("tariffId", f"{read['tariffId']!r} differs from id {read['id']!r}")
    components = []
    for index, component in enumerate(list_of(read["components"], "components")):
        with under(f"components[{index}]"):
            components.append(_component_from_document(component))
    taxes = mapping_of(read["taxes"], "taxes")
    rounding = read["taxRounding"]
    if not isinstance(rounding, str) or rounding not in {r.value for r in TaxRounding}:
        known = ", ".join(r.value for r in TaxRounding)
        raise TariffError("taxRounding", f"must be one of {known}, got {rounding!r}")
    effective_to = read.get("effectiveTo")
    holidays = None
    if read.get("publicHolidays") is not None:
        with under("publicHolidays"):
            held = fields(read["publicHolidays"], "publicHolidays", {"region", "rateAs"}, set())
            holidays = PublicHolidays(region=held["region"], rate_as=held["rateAs"])
    return Tariff(
        id=read["id"],
        version=read["version"],
        name=read["name"],
        currency=read["currency"],
        time_zone=read.get("timeZone"),
        effective_from=date_of(read["effectiveFrom"], "effectiveFrom"),
        effective_to=None if effective_to is None else date_of(effective_to, "effectiveTo"),
        components=tuple(components),
        taxes={code: decimal_of(rate, f"taxes.{code}") for code, rate in taxes.items()},
        tax_rounding=TaxRounding(rounding),
        public_holidays=holidays,
        network_tariff_id=read.get("networkTariffId"),
    )


def tariff_to_document(tariff: Tariff) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": tariff.id,
        "tariffId": tariff.id,
        "version": tariff.version,
        "name": tariff.name,
        "currency": tariff.currency,
        "timeZone": tariff.time_zone,
        "effectiveFrom": tariff.effective_from.isoformat(),
        "effectiveTo": tariff.effective_to.isoformat() if tariff.effective_to else None,
        "components": [_component_to_document(component) for component in tariff.components],
        "taxes": {code: str(rate) for code, rate in tariff.taxes.items()},
        "taxRounding": tariff.tax_rounding.value,
    }
    if tariff.public_holidays is not None:
        doc["publicHolidays"] = {"region": tariff.public_holidays.region, "rateAs": tariff.public_holidays.rate_as}
    if tariff.network_tariff_id is not None:
        doc["networkTariffId"] = tariff.network_tariff_id
    return doc


# -- reading components ---------------------------------------------------------------------------


def _component_from_document(doc: object) -> Component:
    if not isinstance(doc, Mapping):
        raise TariffError("", f"a component must be an object, got {type(doc).__name__}")
    if "kind" not in doc:
        raise TariffError("kind", "missing from the component")
    kind = doc["kind"]
    reader = _READERS.get(kind) if isinstance(kind, str) else None
    if reader is None:
        known = ", ".join(_READERS)
        raise TariffError("kind", f"unknown component kind {kind!r} (known: {known})")
    return reader(doc)


def _common(read: dict[str, Any], *names: str) -> dict[str, Any]:
    """Keyword arguments for the fields read as they are (ids, descriptions, codes, choices)."""
    renames = {"taxCode": "tax_code", "thresholdsPer": "thresholds_per", "appliesTo": "applies_to"}
    # every other name (allocation, register, ...) is the same in the document and the model
    return {renames.get(name, name): read[name] for name in names if name in read}


def _daily_supply(doc: Mapping[str, Any]) -> DailySupply:
    read = fields(doc, "component", {"id", "kind", "description", "rate", "taxCode"}, set())
    return DailySupply(rate=decimal_of(read["rate"], "rate"), **_common(read, "id", "description", "taxCode"))


def _fixed_charge(doc: Mapping[str, Any]) -> FixedCharge:
    read = fields(doc, "component", {"id", "kind", "description", "rate", "per", "taxCode"}, {"perMeter"})
    per_meter = bool_of(read["perMeter"], "perMeter") if "perMeter" in read else False
    return FixedCharge(
        rate=decimal_of(read["rate"], "rate"),
        per_meter=per_meter,
        **_common(read, "id", "description", "per", "taxCode"),
    )


def _flat_energy(doc: Mapping[str, Any]) -> FlatEnergy:
    read = fields(doc, "component", {"id", "kind", "description", "rate", "taxCode"}, {"register"})
    return FlatEnergy(
        rate=decimal_of(read["rate"], "rate"), **_common(read, "id", "description", "taxCode", "register")
    )


def _block_energy(doc: Mapping[str, Any]) -> BlockEnergy:
    read = fields(doc, "component", {"id", "kind", "blocks", "thresholdsPer", "taxCode"}, {"description", "register"})
    blocks = []
    for index, block in enumerate(list_of(read["blocks"], "blocks")):
        with under(f"blocks[{index}]"):
            got = fields(block, "block", {"id", "description", "rate"}, {"upTo"})
            up_to = decimal_of(got["upTo"], "upTo") if got.get("upTo") is not None else None
            blocks.append(Block(rate=decimal_of(got["rate"], "rate"), up_to=up_to, **_common(got, "id", "description")))
    names = ("id", "thresholdsPer", "taxCode", "description", "register")
    return BlockEnergy(blocks=tuple(blocks), **_common(read, *names))


def _seasonal_energy(doc: Mapping[str, Any]) -> SeasonalEnergy:
    read = fields(doc, "component", {"id", "kind", "seasons", "taxCode"}, {"description", "register"})
    seasons = []
    for index, season in enumerate(list_of(read["seasons"], "seasons")):
        with under(f"seasons[{index}]"):
            got = fields(season, "season", {"id", "description", "rate", "months"}, set())
            seasons.append(
                Season(
                    rate=decimal_of(got["rate"], "rate"),
                    months=tuple(list_of(got["months"], "months")),
                    **_common(got, "id", "description"),
                )
            )
    return SeasonalEnergy(seasons=tuple(seasons), **_common(read, "id", "taxCode", "description", "register"))


def _periods(value: object) -> tuple[TouPeriod, ...]:
    periods = []
    for index, period in enumerate(list_of(value, "periods")):
        with under(f"periods[{index}]"):
            got = fields(
                period, "period", {"id", "description", "rate", "weekdays", "weekends"}, {"holidays", "months"}
            )
            periods.append(
                TouPeriod(
                    rate=decimal_of(got["rate"], "rate"),
                    weekdays=hour_ranges_of(got["weekdays"], "weekdays"),
                    weekends=hour_ranges_of(got["weekends"], "weekends"),
                    holidays=hour_ranges_of(got["holidays"], "holidays") if got.get("holidays") is not None else None,
                    months=tuple(list_of(got["months"], "months")) if got.get("months") is not None else None,
                    **_common(got, "id", "description"),
                )
            )
    return tuple(periods)


def _time_of_use(doc: Mapping[str, Any]) -> TimeOfUse:
    read = fields(doc, "component", {"id", "kind", "periods", "taxCode"}, {"description", "register"})
    return TimeOfUse(periods=_periods(read["periods"]), **_common(read, "id", "taxCode", "description", "register"))


def _tiered_time_of_use(doc: Mapping[str, Any]) -> TieredTimeOfUse:
    required = {"id", "kind", "tiers", "periods", "thresholdsPer", "allocation", "taxCode"}
    read = fields(doc, "component", required, {"description", "register"})
    tiers = []
    for index, tier in enumerate(list_of(read["tiers"], "tiers")):
        with under(f"tiers[{index}]"):
            got = fields(tier, "tier", {"id", "description"}, {"upTo"})
            up_to = decimal_of(got["upTo"], "upTo") if got.get("upTo") is not None else None
            tiers.append(Tier(up_to=up_to, **_common(got, "id", "description")))
    periods = []
    for index, period in enumerate(list_of(read["periods"], "periods")):
        with under(f"periods[{index}]"):
            got = fields(
                period, "period", {"id", "description", "rates", "weekdays", "weekends"}, {"holidays", "months"}
            )
            rates = [decimal_of(rate, f"rates[{t}]") for t, rate in enumerate(list_of(got["rates"], "rates"))]
            periods.append(
                TieredPeriod(
                    rates=tuple(rates),
                    weekdays=hour_ranges_of(got["weekdays"], "weekdays"),
                    weekends=hour_ranges_of(got["weekends"], "weekends"),
                    holidays=hour_ranges_of(got["holidays"], "holidays") if got.get("holidays") is not None else None,
                    months=tuple(list_of(got["months"], "months")) if got.get("months") is not None else None,
                    **_common(got, "id", "description"),
                )
            )
    names = ("id", "thresholdsPer", "allocation", "taxCode", "description", "register")
    return TieredTimeOfUse(tiers=tuple(tiers), periods=tuple(periods), **_common(read, *names))


def _demand_charge(doc: Mapping[str, Any]) -> DemandCharge:
    required = {"id", "kind", "description", "rate", "unit", "taxCode"}
    read = fields(doc, "component", required, {"register", "window", "ratchet"})
    window = ratchet = None
    if read.get("window") is not None:
        with under("window"):
            got = fields(read["window"], "window", {"weekdays", "weekends"}, {"holidays", "months"})
            window = DemandWindow(
                weekdays=hour_ranges_of(got["weekdays"], "weekdays"),
                weekends=hour_ranges_of(got["weekends"], "weekends"),
                holidays=hour_ranges_of(got["holidays"], "holidays") if got.get("holidays") is not None else None,
                months=tuple(list_of(got["months"], "months")) if got.get("months") is not None else None,
            )
    if read.get("ratchet") is not None:
        with under("ratchet"):
            got = fields(read["ratchet"], "ratchet", {"months", "fraction"}, set())
            ratchet = Ratchet(months=got["months"], fraction=decimal_of(got["fraction"], "fraction"))
    names = ("id", "description", "unit", "taxCode", "register")
    return DemandCharge(rate=decimal_of(read["rate"], "rate"), window=window, ratchet=ratchet, **_common(read, *names))


def _export_credit(doc: Mapping[str, Any]) -> ExportCredit:
    read = fields(doc, "component", {"id", "kind", "description", "taxCode"}, {"register", "rate", "periods"})
    rate = decimal_of(read["rate"], "rate") if read.get("rate") is not None else None
    periods = _periods(read["periods"]) if read.get("periods") is not None else None
    return ExportCredit(rate=rate, periods=periods, **_common(read, "id", "description", "taxCode", "register"))


def _minimum_charge(doc: Mapping[str, Any]) -> MinimumCharge:
    read = fields(doc, "component", {"id", "kind", "description", "amount", "per", "appliesTo", "taxCode"}, set())
    names = ("id", "description", "per", "appliesTo", "taxCode")
    return MinimumCharge(amount=decimal_of(read["amount"], "amount"), **_common(read, *names))


def _discount(doc: Mapping[str, Any]) -> Discount:
    read = fields(doc, "component", {"id", "kind", "description", "fraction", "taxCode"}, {"condition"})
    names = ("id", "description", "taxCode", "condition")
    return Discount(fraction=decimal_of(read["fraction"], "fraction"), **_common(read, *names))


_READERS: dict[str, Callable[[Mapping[str, Any]], Component]] = {
    DailySupply.kind: _daily_supply,
    FlatEnergy.kind: _flat_energy,
    TimeOfUse.kind: _time_of_use,
    TieredTimeOfUse.kind: _tiered_time_of_use,
    FixedCharge.kind: _fixed_charge,
    BlockEnergy.kind: _block_energy,
    SeasonalEnergy.kind: _seasonal_energy,
    DemandCharge.kind: _demand_charge,
    ExportCredit.kind: _export_credit,
    MinimumCharge.kind: _minimum_charge,
    Discount.kind: _discount,
}


# -- writing components ---------------------------------------------------------------------------


def _period_to_document(period: TouPeriod) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": period.id,
        "description": period.description,
        "rate": str(period.rate),
        "weekdays": [list(hours) for hours in period.weekdays],
        "weekends": [list(hours) for hours in period.weekends],
    }
    if period.holidays is not None:
        doc["holidays"] = [list(hours) for hours in period.holidays]
    if period.months is not None:
        doc["months"] = list(period.months)
    return doc


def _tiered_period_to_document(period: TieredPeriod) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": period.id,
        "description": period.description,
        "rates": [str(rate) for rate in period.rates],
        "weekdays": [list(hours) for hours in period.weekdays],
        "weekends": [list(hours) for hours in period.weekends],
    }
    if period.holidays is not None:
        doc["holidays"] = [list(hours) for hours in period.holidays]
    if period.months is not None:
        doc["months"] = list(period.months)
    return doc


def _component_to_document(component: Component) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": component.id, "kind": component.kind, "description": component.description}
    match component:
        case DailySupply() | FlatEnergy():
            doc["rate"] = str(component.rate)
        case FixedCharge():
            doc |= {"rate": str(component.rate), "per": component.per}
            if component.per_meter:
                doc["perMeter"] = True
        case BlockEnergy():
            doc["thresholdsPer"] = component.thresholds_per
            doc["blocks"] = [
                {"id": b.id, "description": b.description, "rate": str(b.rate)}
                | ({"upTo": str(b.up_to)} if b.up_to is not None else {})
                for b in component.blocks
            ]
        case SeasonalEnergy():
            doc["seasons"] = [
                {"id": s.id, "description": s.description, "rate": str(s.rate), "months": list(s.months)}
                for s in component.seasons
            ]
        case TimeOfUse():
            doc["periods"] = [_period_to_document(period) for period in component.periods]
        case TieredTimeOfUse():
            doc |= {"thresholdsPer": component.thresholds_per, "allocation": component.allocation}
            doc["tiers"] = [
                {"id": t.id, "description": t.description} | ({"upTo": str(t.up_to)} if t.up_to is not None else {})
                for t in component.tiers
            ]
            doc["periods"] = [_tiered_period_to_document(period) for period in component.periods]
        case DemandCharge():
            doc |= {"rate": str(component.rate), "unit": component.unit}
            if component.window is not None:
                window = component.window
                doc["window"] = {
                    "weekdays": [list(h) for h in window.weekdays],
                    "weekends": [list(h) for h in window.weekends],
                }
                if window.holidays is not None:
                    doc["window"]["holidays"] = [list(h) for h in window.holidays]
                if window.months is not None:
                    doc["window"]["months"] = list(window.months)
            if component.ratchet is not None:
                doc["ratchet"] = {"months": component.ratchet.months, "fraction": str(component.ratchet.fraction)}
        case ExportCredit():
            if component.rate is not None:
                doc["rate"] = str(component.rate)
            else:
                doc["periods"] = [_period_to_document(period) for period in component.periods]
        case MinimumCharge():
            doc |= {"amount": str(component.amount), "per": component.per, "appliesTo": component.applies_to}
        case Discount():
            doc["fraction"] = str(component.fraction)
            if component.condition is not None:
                doc["condition"] = component.condition
    register = getattr(component, "register", None)
    default = EXPORT if isinstance(component, ExportCredit) else GENERAL
    if register is not None and register != default:
        doc["register"] = register
    doc["taxCode"] = component.tax_code
    return doc
