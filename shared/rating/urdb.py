"""Importing an OpenEI Utility Rate Database (URDB) rate as a GridLedger tariff document.

Pure: a parsed URDB rate in (a bare rate object, or the API's ``{"items": [rate]}`` with
exactly one rate), a tariff document out that ``Tariff.from_document`` reads. Every refusal
names the URDB field, e.g. ``energyratestructure[1][1]: tiers in a rate with more than one
period ... are not modelled``. The mapping (see TARIFF_FORMAT.md, "Mapping URDB"):

- ``energyratestructure[p][t]`` with ``energyweekdayschedule``/``energyweekendschedule``
  (12 months x 24 hours of period indexes): a rate whose schedules use one period is
  ``flat_energy``, or ``block_energy`` when that period has tiers (``max`` in ``kWh`` a
  month -> thresholds per bill, which is a month on a monthly bill; ``kWh daily`` -> per
  day). More periods become ``time_of_use``: one period per URDB period, limited to the
  months it appears in, and split into one period per set of months with the same hours.
  A tier's price is ``rate + adj``. Tiers in a rate of several periods become
  ``tiered_time_of_use``: the tiers' thresholds must be the same in every period with tiers
  (they are read on the month's total across periods); a period of one open-ended tier pays
  its rate in every tier; each tier is shared between periods by ``tier_allocation``
  (``proportional`` by default, as SAM does by default; see tiers.py). Thresholds that differ
  between periods are refused.
- ``fueladjustmentsmonthly`` ($/kWh by month): ``seasonal_energy``, one season per price.
- ``flatdemandstructure`` + ``flatdemandmonths``: a monthly ``demand_charge`` per URDB
  period, its window limited to that period's months. ``demandratestructure`` with
  ``demandweekdayschedule``/``demandweekendschedule``: one ``demand_charge`` per period
  and set of months with the same hours, its window those hours. A demand period priced at
  zero is left out: it could only ever add a zero line.
- ``fixedchargefirstmeter`` + ``fixedchargeunits`` (``$/month``, ``$/day``): ``fixed_charge``;
  ``mincharge`` + ``minchargeunits``: ``minimum_charge`` applied to the whole bill.
- ``startdate``/``enddate``: ``effectiveFrom``/``effectiveTo``. URDB stores the epoch second
  of a local midnight in whatever zone the rate was entered from (NREL's Colorado gives
  06:00 UTC, others 23:00 or 00:00), so the date is the nearest UTC midnight: right for any
  zone within 12 hours of UTC. ``enddate`` is read as the first date no longer priced.

URDB has no currency, tax or time zone: the currency is USD, the caller names the tax code
and rate (default ``NOTAX`` at 0) and the time zone the hours are read in (no default: a
wrong zone shifts every peak hour). Public holidays rate like weekends (URDB has none).

Charges GridLedger cannot price from interval energy (reactive power, coincident demand,
demand ratchets, annual minimums, export ``sell`` rates, demand tiers, tiers that scale
with demand) are refused, never dropped: removing the field from the file is the analyst's
explicit choice. Demand is measured over the usage's own intervals: URDB's ``demandwindow``
(the utility's averaging minutes, often 15) is not read, so rate usage of that length.
Descriptive fields (``*comments``, ``*attrs``, ``dgRules``, eligibility limits such as
``mindemand``) are not read. URDB numbers are JSON numbers: a float's ``repr`` is the
shortest decimal that reads back as the same float, which is the digits the file holds for
any number of up to 15 significant digits, so rates stay exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.rating.checks import HOURS_PER_DAY, MONTHS
from shared.rating.components import TIER_ALLOCATIONS

CURRENCY = "USD"
DEFAULT_TAX_CODE = "NOTAX"
DEFAULT_TIER_ALLOCATION = "proportional"  # SAM Utilityrate5's default (net metering, ur_calc); see tiers.py
_MONTH_ABBR = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_SECONDS_PER_DAY = 86_400
_EPOCH = date(1970, 1, 1)
_ALL_DAY = [[0, HOURS_PER_DAY]]
_ALL_MONTHS = tuple(range(1, MONTHS + 1))
_URDB_KEYS = {
    "energyratestructure", "flatdemandstructure", "demandratestructure", "fixedchargefirstmeter", "eiaid", "utility",
}  # fmt: skip
_BLOCK_UNITS = {"kWh": "bill", "kWh daily": "day"}  # URDB's "kWh" tiers are per month; see the docstring
_BLOCK_WORDS = {"kWh": "kWh", "kWh daily": "kWh a day"}
_DEMAND_UNITS = ("kW", "kVA")
_CHARGE_UNITS = {"$/month": "month", "$/day": "day"}
# Priced fields that interval energy cannot price, or that the tariff model does not express.
_NOT_MODELLED = {
    "demandreactivepowercharge": "a reactive power charge: the usage holds no reactive power (kVAr)",
    "demandreactpwrcharge": "a reactive power charge: the usage holds no reactive power (kVAr)",
    "coincidentratestructure": "coincident demand (demand at the system's peak) is not modelled",
    "demandratchetpercentage": "demand ratchets by month are not modelled",
    "lookbackpercent": "a demand lookback (ratchet) is not imported",
    "lookbackrange": "a demand lookback (ratchet) is not imported",
    "lookbackmonths": "a demand lookback (ratchet) is not imported",
    "annualmincharge": "an annual minimum charge is not modelled (minimums are per bill, day or month)",
}

Schedule = list[list[int]]  # 12 months x 24 hours of period indexes
Windows = list[tuple[tuple[int, ...], list[list[int]], list[list[int]]]]  # (months, weekday ranges, weekend ranges)


class UrdbError(ValueError):
    """A URDB rate that cannot be imported, naming the URDB field (``energyratestructure[1][0].max``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field or 'rate'}: {problem}")
        self.field = field
        self.problem = problem


def is_urdb(doc: object) -> bool:
    """Does this parsed JSON look like a URDB rate (or the API's items wrapper) rather than a tariff document?"""
    return isinstance(doc, Mapping) and "components" not in doc and ("items" in doc or bool(_URDB_KEYS & set(doc)))


def urdb_document(
    doc: object,
    *,
    time_zone: str,
    tax_code: str = DEFAULT_TAX_CODE,
    tax_rate: Decimal = Decimal(0),
    tier_allocation: str = DEFAULT_TIER_ALLOCATION,
) -> dict[str, Any]:
    """The GridLedger tariff document of a URDB rate, its hours read in ``time_zone``.

    ``tier_allocation`` says how a tiered time-of-use rate shares each tier between periods
    (URDB does not say): ``proportional``, SAM's default, or ``chronological``."""
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise UrdbError("timeZone", f"unknown IANA time zone {time_zone!r}") from None
    if tier_allocation not in TIER_ALLOCATIONS:
        raise UrdbError("tierAllocation", f"must be one of {', '.join(TIER_ALLOCATIONS)}, got {tier_allocation!r}")
    rate, prefix = _unwrap(doc)
    try:
        return _document(rate, time_zone, tax_code, tax_rate, tier_allocation)
    except UrdbError as error:
        field = f"{prefix}.{error.field}" if prefix and error.field else prefix or error.field
        raise UrdbError(field, error.problem) from None


def _unwrap(doc: object) -> tuple[Mapping[str, Any], str]:
    if not isinstance(doc, Mapping):
        raise UrdbError("", f"a URDB rate must be a JSON object, got {type(doc).__name__}")
    if "items" not in doc:
        return doc, ""
    items = doc["items"]
    if not isinstance(items, list) or not items:
        raise UrdbError("items", "holds no rate")
    if len(items) > 1:
        names = ", ".join(repr(_text(i, "label") or _text(i, "name") or "?") for i in items[:5])
        more = f" and {len(items) - 5} more" if len(items) > 5 else ""
        raise UrdbError("items", f"holds {len(items)} rates ({names}{more}): keep the one to import")
    if not isinstance(items[0], Mapping):
        raise UrdbError("items[0]", f"a URDB rate must be a JSON object, got {type(items[0]).__name__}")
    return items[0], "items[0]"


def _document(
    rate: Mapping[str, Any], time_zone: str, tax_code: str, tax_rate: Decimal, tier_allocation: str
) -> dict[str, Any]:
    _refuse_not_modelled(rate)
    effective_from = _epoch_date(rate, "startdate")
    if effective_from is None:
        raise UrdbError("startdate", "missing: the date the rate took effect is needed (effectiveFrom)")
    effective_to = _epoch_date(rate, "enddate")
    if effective_to is not None and effective_to <= effective_from:
        raise UrdbError("enddate", f"{effective_to} is not after startdate {effective_from}")
    components = [
        *_fixed_charge(rate),
        *_energy(rate, tier_allocation),
        *_fuel_adjustments(rate),
        *_flat_demand(rate),
        *_tou_demand(rate),
        *_minimum(rate),
    ]
    if not components:
        raise UrdbError("", "holds no charge GridLedger can price (no energy, demand, fixed or minimum charge)")
    for component in components:
        component["taxCode"] = tax_code
    label = _text(rate, "label")
    name = ": ".join(part for part in (_text(rate, "utility"), _text(rate, "name")) if part) or "URDB rate"
    return {
        "id": f"urdb-{label}" if label else "urdb-rate",
        "version": effective_from.isoformat(),
        "name": name,
        "currency": CURRENCY,
        "timeZone": time_zone,
        "effectiveFrom": effective_from.isoformat(),
        "effectiveTo": effective_to.isoformat() if effective_to else None,
        "components": components,
        "taxes": {tax_code: str(tax_rate)},
        "taxRounding": "per_line",
    }


def _refuse_not_modelled(rate: Mapping[str, Any]) -> None:
    for key, value in rate.items():
        why = _NOT_MODELLED.get(str(key).lower())
        if why is not None and _priced(value):
            raise UrdbError(str(key), f"{why}; remove the field to import the rate without it")


def _priced(value: object) -> bool:
    """Does a field hold anything but zeros, falses and empty lists?"""
    if isinstance(value, list | tuple):
        return any(_priced(item) for item in value)
    if isinstance(value, Mapping):
        return any(_priced(item) for item in value.values())
    return value not in (None, 0, False, "")


# -- energy ---------------------------------------------------------------------------------------


def _energy(rate: Mapping[str, Any], tier_allocation: str) -> list[dict[str, Any]]:
    structure = rate.get("energyratestructure")
    if not structure:
        for name in ("energyweekdayschedule", "energyweekendschedule"):
            if _priced(rate.get(name)):
                raise UrdbError("energyratestructure", f"missing, but {name} names energy periods")
        return []
    periods = _periods(structure, "energyratestructure")
    weekday, weekend = _schedules(rate, "energy", len(periods))
    used = sorted({p for schedule in (weekday, weekend) for row in schedule for p in row})
    for p in used:
        for t, tier in enumerate(periods[p]):
            if _number(tier.get("sell"), f"energyratestructure[{p}][{t}].sell"):
                problem = "an export (sell) rate: exports are not imported; remove it to import the rate without it"
                raise UrdbError(f"energyratestructure[{p}][{t}].sell", problem)
    if len(used) == 1:
        return [_single_period_energy(periods[used[0]], used[0], _label(rate, used[0], only=True))]
    if any(len(periods[p]) > 1 for p in used):
        return [_tiered_energy(rate, periods, used, (weekday, weekend), tier_allocation)]
    tou_periods = []
    for p in used:
        price = _price(periods[p][0], f"energyratestructure[{p}][0]")
        for months, weekdays, weekends, period_id in _period_parts(weekday, weekend, p):
            period: dict[str, Any] = {
                "id": period_id,
                "description": _with_months(_label(rate, p), months),
                "rate": str(price),
                "weekdays": weekdays,
                "weekends": weekends,
            }
            if months != _ALL_MONTHS:
                period["months"] = list(months)
            tou_periods.append(period)
    return [{"id": "energy", "kind": "time_of_use", "description": "Time of use energy", "periods": tou_periods}]


def _period_parts(
    weekday: Schedule, weekend: Schedule, p: int
) -> list[tuple[tuple[int, ...], list[list[int]], list[list[int]], str]]:
    """Period ``p`` as one GridLedger period per set of months with the same hours, with its id."""
    windows = _windows(weekday, weekend, p)
    return [(m, wd, we, _part_id(f"energy-p{p}", m, len(windows))) for m, wd, we in windows]


def _tiered_energy(
    rate: Mapping[str, Any],
    periods: list[list[Mapping[str, Any]]],
    used: list[int],
    schedules: tuple[Schedule, Schedule],
    allocation: str,
) -> dict[str, Any]:
    """Tiered time of use: the tiers' thresholds must be the same in every period that has tiers (they
    are read on the month's total across periods); a period of one open-ended tier pays its rate in each."""
    tiered = [p for p in used if len(periods[p]) > 1]
    first = tiered[0]
    unit, thresholds = _thresholds(periods[first], f"energyratestructure[{first}]")
    for p in tiered[1:]:
        where = f"energyratestructure[{p}]"
        other_unit, other = _thresholds(periods[p], where)
        if (other_unit, other) != (unit, thresholds):
            t = next((i for i, (a, b) in enumerate(zip(other, thresholds, strict=False)) if a != b), 0)
            field = f"{where}[{t}].max" if other_unit == unit else f"{where}[0].unit"
            problem = (
                f"tier thresholds differ between periods ({_shown(thresholds, unit)} in period {first}, "
                f"{_shown(other, other_unit)} in period {p}): tiers are read on the month's total across "
                "periods, so every period must have the same tiers"
            )
            raise UrdbError(field, problem)
    words = _BLOCK_WORDS[unit]
    tiers: list[dict[str, Any]] = []
    for t in range(len(thresholds) + 1):
        tier: dict[str, Any] = {"id": f"tier-{t + 1}"}
        if t < len(thresholds):
            tier |= {"description": f"tier {t + 1} (to {thresholds[t]} {words})", "upTo": str(thresholds[t])}
        else:
            tier["description"] = f"tier {t + 1} (above {thresholds[-1]} {words})"
        tiers.append(tier)
    tou_periods = []
    for p in used:
        if len(periods[p]) == 1:
            if periods[p][0].get("max") is not None:
                raise UrdbError(
                    f"energyratestructure[{p}][0].max", "the last tier has a max: usage above it would have no price"
                )
            rates = [str(_price(periods[p][0], f"energyratestructure[{p}][0]"))] * len(tiers)
        else:
            rates = [str(_price(tier, f"energyratestructure[{p}][{t}]")) for t, tier in enumerate(periods[p])]
        for months, weekdays, weekends, period_id in _period_parts(*schedules, p):
            period: dict[str, Any] = {
                "id": period_id,
                "description": _with_months(_label(rate, p), months),
                "rates": rates,
                "weekdays": weekdays,
                "weekends": weekends,
            }
            if months != _ALL_MONTHS:
                period["months"] = list(months)
            tou_periods.append(period)
    return {
        "id": "energy",
        "kind": "tiered_time_of_use",
        "description": "Tiered time of use energy",
        "thresholdsPer": _BLOCK_UNITS[unit],
        "allocation": allocation,
        "tiers": tiers,
        "periods": tou_periods,
    }


def _shown(thresholds: list[Decimal], unit: str) -> str:
    return ", ".join(str(t) for t in thresholds) + f" {_BLOCK_WORDS.get(unit, unit)}"


def _single_period_energy(tiers: list[Mapping[str, Any]], p: int, label: str) -> dict[str, Any]:
    where = f"energyratestructure[{p}]"
    if len(tiers) == 1:
        if tiers[0].get("max") is not None:
            raise UrdbError(f"{where}[0].max", "the last tier has a max: usage above it would have no price")
        price = _price(tiers[0], f"{where}[0]")
        return {"id": "energy", "kind": "flat_energy", "description": label, "rate": str(price)}
    unit, thresholds = _thresholds(tiers, where)
    blocks = []
    for t, tier in enumerate(tiers):
        price = _price(tier, f"{where}[{t}]")
        block: dict[str, Any] = {"id": f"energy-tier-{t + 1}", "rate": str(price)}
        if t < len(thresholds):
            block["upTo"] = str(thresholds[t])
            block["description"] = f"{label}, tier {t + 1} (to {thresholds[t]} {_BLOCK_WORDS[unit]})"
        else:
            block["description"] = f"{label}, tier {t + 1} (above {thresholds[-1]} {_BLOCK_WORDS[unit]})"
        blocks.append(block)
    thresholds_per = _BLOCK_UNITS[unit]
    return {
        "id": "energy",
        "kind": "block_energy",
        "description": label,
        "thresholdsPer": thresholds_per,
        "blocks": blocks,
    }


def _thresholds(tiers: list[Mapping[str, Any]], where: str) -> tuple[str, list[Decimal]]:
    """The unit and the increasing thresholds (kWh) of a period's tiers, the last open-ended."""
    last = f"{where}[{len(tiers) - 1}].max"
    if tiers[-1].get("max") is not None:
        raise UrdbError(last, "the last tier has a max: usage above it would have no price")
    units = {tier.get("unit", "kWh") for tier in tiers}
    if len(units) > 1 or not units <= set(_BLOCK_UNITS):
        shown = ", ".join(sorted(map(repr, units)))
        problem = f"tier units {shown}: only 'kWh' (a month) or 'kWh daily' thresholds are modelled, one per rate"
        raise UrdbError(f"{where}[0].unit", problem)
    (unit,) = units
    thresholds: list[Decimal] = []
    previous = Decimal(0)
    for t, tier in enumerate(tiers[:-1]):
        if tier.get("max") is None:
            raise UrdbError(f"{where}[{t}].max", "missing: every tier but the last needs a max")
        up_to = _number(tier.get("max"), f"{where}[{t}].max")
        if up_to <= previous:
            raise UrdbError(f"{where}[{t}].max", f"{up_to} kWh is not above the tier before ({previous} kWh)")
        if up_to.as_tuple().exponent < -3:  # type: ignore[operator]
            raise UrdbError(f"{where}[{t}].max", f"{up_to} kWh is finer than a Wh")
        thresholds.append(up_to)
        previous = up_to
    return unit, thresholds


def _label(rate: Mapping[str, Any], p: int, *, only: bool = False) -> str:
    """``Energy, Peak`` from ``energytoulabels``; else ``Energy, period 2``, or ``Energy`` for the only period."""
    labels = rate.get("energytoulabels")
    if isinstance(labels, list) and p < len(labels) and isinstance(labels[p], str) and labels[p].strip():
        return f"Energy, {labels[p].strip()}"
    return "Energy" if only else f"Energy, period {p}"


def _fuel_adjustments(rate: Mapping[str, Any]) -> list[dict[str, Any]]:
    monthly = rate.get("fueladjustmentsmonthly")
    if not _priced(monthly):
        return []
    if not isinstance(monthly, list) or len(monthly) != MONTHS:
        raise UrdbError("fueladjustmentsmonthly", "must hold 12 monthly $/kWh adjustments")
    by_price: dict[Decimal, list[int]] = {}
    for index, value in enumerate(monthly):
        where = f"fueladjustmentsmonthly[{index}]"
        by_price.setdefault(_non_negative(_number(value, where), where), []).append(index + 1)
    seasons = [
        {
            "id": _part_id("fuel-adjustment", tuple(months), 2),
            "description": _with_months("Fuel adjustment", tuple(months)),
            "rate": str(price),
            "months": months,
        }
        for price, months in by_price.items()
    ]
    return [{"id": "fuel-adjustment", "kind": "seasonal_energy", "description": "Fuel adjustment", "seasons": seasons}]


# -- demand ---------------------------------------------------------------------------------------


def _demand_unit(rate: Mapping[str, Any], names: tuple[str, ...]) -> str:
    lowered = {str(key).lower(): key for key in rate}
    for name in (*names, "demandunits"):
        if name in lowered:
            unit = rate[lowered[name]]
            if unit not in _DEMAND_UNITS:
                raise UrdbError(lowered[name], f"demand in {unit!r} is not modelled (kW or kVA)")
            return str(unit)
    return "kW"


def _flat_demand(rate: Mapping[str, Any]) -> list[dict[str, Any]]:
    structure = rate.get("flatdemandstructure")
    if not structure:
        return []
    periods = _periods(structure, "flatdemandstructure")
    months_of = rate.get("flatdemandmonths")
    if months_of is None and len(periods) == 1:
        months_of = [0] * MONTHS
    if not isinstance(months_of, list) or len(months_of) != MONTHS:
        raise UrdbError("flatdemandmonths", "must give the flatdemandstructure period of each of the 12 months")
    for m, p in enumerate(months_of):
        if isinstance(p, bool) or not isinstance(p, int) or not 0 <= p < len(periods):
            raise UrdbError(f"flatdemandmonths[{m}]", f"{p!r} is not a period of flatdemandstructure")
    unit = _demand_unit(rate, ("flatdemandunit", "flatdemandunits"))
    used = sorted(set(months_of))
    charges = []
    for p in used:
        price = _demand_price(periods[p], f"flatdemandstructure[{p}]")
        if price == 0:
            continue
        months = tuple(m for m, q in enumerate(months_of, start=1) if q == p)
        charge: dict[str, Any] = {
            "id": _part_id("demand", months, len(used)),
            "kind": "demand_charge",
            "description": _with_months("Demand charge", months, brackets=False),
            "rate": str(price),
            "unit": unit,
        }
        if months != _ALL_MONTHS:
            charge["window"] = {"weekdays": _ALL_DAY, "weekends": _ALL_DAY, "months": list(months)}
        charges.append(charge)
    return charges


def _tou_demand(rate: Mapping[str, Any]) -> list[dict[str, Any]]:
    structure = rate.get("demandratestructure")
    if not structure:
        return []
    periods = _periods(structure, "demandratestructure")
    weekday, weekend = _schedules(rate, "demand", len(periods))
    used = sorted({p for schedule in (weekday, weekend) for row in schedule for p in row})
    unit = _demand_unit(rate, ("demandrateunit", "demandrateunits"))
    charges = []
    for p in used:
        price = _demand_price(periods[p], f"demandratestructure[{p}]")
        if price == 0:
            continue
        windows = _windows(weekday, weekend, p)
        for months, weekdays, weekends in windows:
            window: dict[str, Any] = {"weekdays": weekdays, "weekends": weekends}
            if months != _ALL_MONTHS:
                window["months"] = list(months)
            charges.append(
                {
                    "id": _part_id(f"demand-p{p}", months, len(windows)),
                    "kind": "demand_charge",
                    "description": _with_months(f"Demand charge, period {p}", months, brackets=False),
                    "rate": str(price),
                    "unit": unit,
                    "window": window,
                }
            )
    return charges


def _demand_price(tiers: list[Mapping[str, Any]], where: str) -> Decimal:
    if len(tiers) > 1:
        raise UrdbError(f"{where}[1]", f"demand tiers are not modelled: the period has {len(tiers)} tiers")
    if tiers[0].get("max") is not None:
        raise UrdbError(f"{where}[0].max", "a demand tier with a max: demand above it would have no price")
    return _price(tiers[0], f"{where}[0]")


# -- fixed and minimum charges ----------------------------------------------------------------------


def _fixed_charge(rate: Mapping[str, Any]) -> list[dict[str, Any]]:
    amount = _number(rate.get("fixedchargefirstmeter"), "fixedchargefirstmeter")
    additional = _number(rate.get("fixedchargeeaaddl"), "fixedchargeeaaddl")
    if additional and additional != amount:
        problem = f"{additional} for each additional meter differs from the first meter's {amount}: not modelled"
        raise UrdbError("fixedchargeeaaddl", problem)
    if amount == 0:
        return []
    per = _per(rate, "fixedchargeunits", _non_negative(amount, "fixedchargefirstmeter"))
    charge: dict[str, Any] = {
        "id": "fixed",
        "kind": "fixed_charge",
        "description": "Fixed charge",
        "rate": str(amount),
        "per": per,
    }
    if additional:
        charge["perMeter"] = True
    return [charge]


def _minimum(rate: Mapping[str, Any]) -> list[dict[str, Any]]:
    amount = _number(rate.get("mincharge"), "mincharge")
    if amount == 0:
        return []
    per = _per(rate, "minchargeunits", _non_negative(amount, "mincharge"))
    return [
        {
            "id": "minimum",
            "kind": "minimum_charge",
            "description": "Minimum charge",
            "amount": str(amount),
            "per": per,
            "appliesTo": "bill",
        }
    ]


def _per(rate: Mapping[str, Any], field: str, amount: Decimal) -> str:
    units = rate.get(field)
    known = " or ".join(_CHARGE_UNITS)
    if units is None:
        raise UrdbError(field, f"missing for a charge of {amount}: say {known}")
    if units not in _CHARGE_UNITS:
        raise UrdbError(field, f"{units!r} for a charge of {amount}: only {known} are modelled")
    return _CHARGE_UNITS[units]


# -- reading URDB values -------------------------------------------------------------------------------


def _periods(structure: object, name: str) -> list[list[Mapping[str, Any]]]:
    if not isinstance(structure, list):
        raise UrdbError(name, f"must be a list of periods, each a list of tiers, got {type(structure).__name__}")
    for p, tiers in enumerate(structure):
        if not isinstance(tiers, list) or not tiers:
            raise UrdbError(f"{name}[{p}]", "must be a non-empty list of tiers")
        for t, tier in enumerate(tiers):
            if not isinstance(tier, Mapping):
                raise UrdbError(f"{name}[{p}][{t}]", f"a tier must be an object, got {type(tier).__name__}")
    return structure


def _schedules(rate: Mapping[str, Any], kind: str, count: int) -> tuple[Schedule, Schedule]:
    """The weekday and weekend schedules; a one-period structure may leave them out."""
    names = (f"{kind}weekdayschedule", f"{kind}weekendschedule")
    if count == 1 and all(rate.get(name) is None for name in names):
        flat = [[0] * HOURS_PER_DAY for _ in range(MONTHS)]
        return flat, flat
    weekday, weekend = (_schedule(rate.get(name), name, count, f"{kind}ratestructure") for name in names)
    return weekday, weekend


def _schedule(value: object, name: str, count: int, structure: str) -> Schedule:
    if not isinstance(value, list) or len(value) != MONTHS:
        raise UrdbError(name, "must be 12 months of 24 hourly period indexes")
    for m, row in enumerate(value):
        if not isinstance(row, list) or len(row) != HOURS_PER_DAY:
            raise UrdbError(f"{name}[{m}]", "must be 24 hourly period indexes")
        for h, p in enumerate(row):
            if isinstance(p, bool) or not isinstance(p, int) or not 0 <= p < count:
                raise UrdbError(f"{name}[{m}][{h}]", f"{p!r} is not a period of {structure} (0..{count - 1})")
    return value


def _windows(weekday: Schedule, weekend: Schedule, p: int) -> Windows:
    """The months period ``p`` appears in, grouped by identical hours: (months, weekday ranges, weekend ranges)."""
    groups: dict[tuple[str, str], tuple[list[int], list[list[int]], list[list[int]]]] = {}
    for m in range(MONTHS):
        weekdays, weekends = _ranges(weekday[m], p), _ranges(weekend[m], p)
        if weekdays or weekends:
            group = groups.setdefault((repr(weekdays), repr(weekends)), ([], weekdays, weekends))
            group[0].append(m + 1)
    return [(tuple(months), weekdays, weekends) for months, weekdays, weekends in groups.values()]


def _ranges(row: list[int], p: int) -> list[list[int]]:
    ranges: list[list[int]] = []
    for hour, period in enumerate(row):
        if period != p:
            continue
        if ranges and ranges[-1][1] == hour:
            ranges[-1][1] = hour + 1
        else:
            ranges.append([hour, hour + 1])
    return ranges


def _price(tier: Mapping[str, Any], where: str) -> Decimal:
    if tier.get("rate") is None and tier.get("adj") is None:
        raise UrdbError(where, "a tier with neither rate nor adj has no price")
    price = _number(tier.get("rate"), f"{where}.rate") + _number(tier.get("adj"), f"{where}.adj")
    return _non_negative(price, f"{where}.rate")


def _non_negative(value: Decimal, where: str) -> Decimal:
    if value < 0:
        raise UrdbError(where, f"{value} is negative (with adj): credits are not imported")
    return value


def _number(value: object, where: str) -> Decimal:
    """A URDB number as an exact Decimal (see the module docstring for floats); absent is 0."""
    if value is None:
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UrdbError(where, f"must be a number, got {type(value).__name__} {value!r}")
    try:
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except InvalidOperation:
        raise UrdbError(where, f"must be a number, got {value!r}") from None
    if not number.is_finite():
        raise UrdbError(where, f"must be a finite number, got {value!r}")
    return number


def _epoch_date(rate: Mapping[str, Any], field: str) -> date | None:
    value = rate.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise UrdbError(field, f"must be whole epoch seconds, got {value!r}")
    days, seconds = divmod(int(value), _SECONDS_PER_DAY)
    if seconds == _SECONDS_PER_DAY // 2:
        raise UrdbError(field, f"{value} is noon UTC: no nearest midnight says which date is meant")
    return _EPOCH + timedelta(days=days + (seconds > _SECONDS_PER_DAY // 2))


def _text(rate: object, field: str) -> str:
    value = rate.get(field) if isinstance(rate, Mapping) else None
    return value.strip() if isinstance(value, str) else ""


def _month_runs(months: tuple[int, ...], title: bool) -> list[str]:
    """Consecutive months as runs: (1, 2, 3, 5) -> ["jan-mar", "may"] (title case: "Jan-Mar")."""
    runs: list[list[int]] = []
    for month in months:
        if runs and runs[-1][1] == month - 1:
            runs[-1][1] = month
        else:
            runs.append([month, month])
    names = [name.title() if title else name for name in _MONTH_ABBR]
    return [names[a - 1] if a == b else f"{names[a - 1]}-{names[b - 1]}" for a, b in runs]


def _with_months(description: str, months: tuple[int, ...], *, brackets: bool = True) -> str:
    """``Energy, Peak (Jun-Sep)``; demand lines get the engine's own brackets, so ``Demand charge, Jun-Sep``."""
    if months == _ALL_MONTHS:
        return description
    runs = ", ".join(_month_runs(months, True))
    return f"{description} ({runs})" if brackets else f"{description}, {runs}"


def _part_id(base: str, months: tuple[int, ...], parts: int) -> str:
    """``base`` alone when the charge is not split by months, else ``base-jun-sep`` (``base-jan-may+oct-dec``)."""
    return base if parts == 1 else f"{base}-{'+'.join(_month_runs(months, False))}"
