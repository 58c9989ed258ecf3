"""Tariff components: each prices one thing and yields its own explainable line(s).

Fixed charges
- ``daily_supply``: a rate per local day of the period.
- ``fixed_charge``: a rate per day or per month, optionally per meter. A part month is the
  fraction days/days-in-month of each calendar month touched, to six decimal places
  (16 of 31 days -> 0.516129 month), one line per month, so quantity x rate is the amount.

Energy (each prices all the energy of its register, E1 by default, so components add up:
a flat levy beside time of use prices the same kWh twice, by design)
- ``flat_energy``: one rate per kWh. On register E2 it is a controlled load tariff.
- ``block_energy``: inclining or declining blocks; thresholds per bill, or per day (x the
  days rated: Australian daily thresholds).
- ``seasonal_energy``: a rate per season, seasons being sets of months covering the year.
- ``time_of_use``: a rate per period chosen by month, day type and local hour.
- ``tiered_time_of_use``: time of use whose rate also depends on the tier the bill's usage
  has reached: tier thresholds on the total across periods (per bill or per day), a rate per
  period and tier, the period's share of each tier split chronologically or proportionally
  (tiers.py).

Demand
- ``demand_charge``: the highest kW (kVA on an apparent-energy register) of an interval in
  each calendar month of the period, optionally only inside a window of hours, at a rate per
  unit per month (prorated like a monthly fixed charge), with an optional ratchet.

Credits and adjustments
- ``export_credit``: exported energy (register B1 by default), flat or time of use, as
  negative lines.
- ``minimum_charge``: tops the tariff's charges up to a minimum per bill, day or month.
- ``discount``: a fraction of the usage charges as a negative line; with a ``condition``
  (pay on time) it is carried as pending for invoicing, not applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

import numpy as np

from shared.rating.checks import (
    MONTH_NAMES,
    MONTHS,
    HourRange,
    TariffError,
    check_choice,
    check_hour_ranges,
    check_kwh_threshold,
    check_months,
    check_rate,
    check_share,
    check_text,
    check_whole,
)
from shared.rating.time_of_use import HourCoverageError, hour_table, window_mask

GENERAL, EXPORT = "E1", "B1"  # NEM12 register suffixes: general import, and export (feed-in)
CONTROLLED_LOAD = "E2"


def _check_common(component: object, *, description: bool = True) -> None:
    check_text("id", getattr(component, "id", None))
    if description:
        check_text("description", getattr(component, "description", None))
    check_text("taxCode", getattr(component, "tax_code", None))
    if hasattr(component, "register"):
        check_text("register", component.register)


class _Hours:
    """Hours by day type, optionally only in some months: a time-of-use period's or a demand
    window's. Checked and normalised in place (the dataclasses using it are frozen)."""

    weekdays: tuple[HourRange, ...]
    weekends: tuple[HourRange, ...]
    holidays: tuple[HourRange, ...] | None  # None: public holidays take the weekend hours
    months: tuple[int, ...] | None  # None: all year

    def _check_hours(self) -> None:
        for day_type in ("weekdays", "weekends"):
            object.__setattr__(self, day_type, check_hour_ranges(day_type, getattr(self, day_type)))
        if self.holidays is not None:
            object.__setattr__(self, "holidays", check_hour_ranges("holidays", self.holidays))
        if self.months is not None:
            object.__setattr__(self, "months", check_months("months", self.months))

    def windows(self) -> dict[str, tuple[HourRange, ...] | None]:
        return {"weekdays": self.weekdays, "weekends": self.weekends, "holidays": self.holidays}


def _check_thresholds(steps: tuple[Block, ...] | tuple[Tier, ...], step_type: type, owner: str, field: str) -> None:
    """The blocks of a block tariff or the tiers of a tiered one: thresholds must rise and only
    the last step is open-ended, so every Wh has exactly one price. ``field`` ("blocks" or
    "tiers") names the steps in the errors."""
    word = step_type.__name__.lower()
    if not steps:
        raise TariffError(field, f"component {owner!r} needs at least one {word}")
    previous: Decimal | None = None
    for index, step in enumerate(steps):
        last = index == len(steps) - 1
        if not isinstance(step, step_type):
            raise TariffError(f"{field}[{index}]", f"not a {step_type.__name__}: {step!r}")
        if step.up_to is None and not last:
            problem = f"only the last {word} may be open-ended; {word} {step.id!r} of {owner!r} has no upTo"
            raise TariffError(f"{field}[{index}].upTo", problem)
        if step.up_to is not None and last:
            problem = (
                f"the last {word} of {owner!r} must be open-ended (no upTo), "
                f"or usage above {step.up_to} kWh has no price"
            )
            raise TariffError(f"{field}[{index}].upTo", problem)
        if step.up_to is not None and previous is not None and step.up_to <= previous:
            problem = (
                f"{field} of {owner!r} must increase: {step.up_to} kWh is not above "
                f"the previous {word}'s {previous} kWh"
            )
            raise TariffError(f"{field}[{index}].upTo", problem)
        previous = step.up_to if step.up_to is not None else previous


# -- fixed charges -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DailySupply:
    kind: ClassVar[str] = "daily_supply"
    unit: ClassVar[str] = "day"

    id: str
    description: str
    rate: Decimal  # per local day
    tax_code: str

    def __post_init__(self) -> None:
        _check_common(self)
        check_rate("rate", self.rate)


FIXED_PER = ("day", "month")


@dataclass(frozen=True)
class FixedCharge:
    kind: ClassVar[str] = "fixed_charge"

    id: str
    description: str
    rate: Decimal  # per day or per month (x meters when per_meter)
    per: str  # "day" | "month"
    tax_code: str
    per_meter: bool = False

    def __post_init__(self) -> None:
        _check_common(self)
        check_rate("rate", self.rate)
        check_choice("per", self.per, FIXED_PER)
        if not isinstance(self.per_meter, bool):
            raise TariffError("perMeter", f"must be true or false, got {self.per_meter!r}")

    @property
    def unit(self) -> str:
        return f"meter-{self.per}" if self.per_meter else self.per


# -- energy ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlatEnergy:
    kind: ClassVar[str] = "flat_energy"
    unit: ClassVar[str] = "kWh"

    id: str
    description: str
    rate: Decimal  # per kWh
    tax_code: str
    register: str = GENERAL

    def __post_init__(self) -> None:
        _check_common(self)
        check_rate("rate", self.rate)


@dataclass(frozen=True)
class Block:
    id: str
    description: str
    rate: Decimal  # per kWh
    up_to: Decimal | None = None  # kWh per bill (or per day) where the block ends; None: unbounded

    def __post_init__(self) -> None:
        check_text("id", self.id)
        check_text("description", self.description)
        check_rate("rate", self.rate)
        if self.up_to is not None:
            check_kwh_threshold("upTo", self.up_to)

    @property
    def up_to_wh(self) -> int | None:
        return None if self.up_to is None else int(self.up_to.scaleb(3))


THRESHOLDS_PER = ("bill", "day")


@dataclass(frozen=True)
class BlockEnergy:
    """Blocks in order: the first ``up_to`` kWh at the first rate, the next at the second...

    Rates may rise (inclining) or fall (declining); thresholds must rise, and only the last
    block is open-ended, so every Wh has exactly one price. Thresholds are per bill or per
    day rated (x days); when a tariff version change splits a bill, per-bill thresholds are
    shared between the parts by days (see engine.py)."""

    kind: ClassVar[str] = "block_energy"
    unit: ClassVar[str] = "kWh"

    id: str
    blocks: tuple[Block, ...]
    thresholds_per: str  # "bill" | "day"
    tax_code: str
    description: str = "Energy"
    register: str = GENERAL

    def __post_init__(self) -> None:
        _check_common(self)
        check_choice("thresholdsPer", self.thresholds_per, THRESHOLDS_PER)
        object.__setattr__(self, "blocks", tuple(self.blocks))
        _check_thresholds(self.blocks, Block, self.id, "blocks")

    def thresholds_wh(self) -> tuple[int, ...]:
        return tuple(block.up_to_wh for block in self.blocks[:-1])  # type: ignore[misc]


@dataclass(frozen=True)
class Season:
    id: str
    description: str
    rate: Decimal  # per kWh
    months: tuple[int, ...]  # month numbers 1..12, e.g. (12, 1, 2)

    def __post_init__(self) -> None:
        check_text("id", self.id)
        check_text("description", self.description)
        check_rate("rate", self.rate)
        object.__setattr__(self, "months", check_months("months", self.months))


@dataclass(frozen=True)
class SeasonalEnergy:
    kind: ClassVar[str] = "seasonal_energy"
    unit: ClassVar[str] = "kWh"

    id: str
    seasons: tuple[Season, ...]
    tax_code: str
    description: str = "Seasonal energy"
    register: str = GENERAL
    season_of_month: np.ndarray = field(init=False, repr=False, compare=False)  # month - 1 -> season index

    def __post_init__(self) -> None:
        _check_common(self)
        object.__setattr__(self, "seasons", tuple(self.seasons))
        if not self.seasons:
            raise TariffError("seasons", f"component {self.id!r} needs at least one season")
        owner: dict[int, str] = {}
        table = np.full(MONTHS, -1, dtype=np.int64)
        for index, season in enumerate(self.seasons):
            if not isinstance(season, Season):
                raise TariffError(f"seasons[{index}]", f"not a Season: {season!r}")
            for month in season.months:
                if month in owner:
                    problem = (
                        f"month {month} ({MONTH_NAMES[month - 1]}) of {self.id!r} is priced by both "
                        f"{owner[month]!r} and {season.id!r}"
                    )
                    raise TariffError(f"seasons[{index}].months", problem)
                owner[month] = season.id
                table[month - 1] = index
        for month in range(1, MONTHS + 1):
            if month not in owner:
                problem = f"month {month} ({MONTH_NAMES[month - 1]}) has no price in component {self.id!r}"
                raise TariffError("seasons", problem)
        table.setflags(write=False)
        object.__setattr__(self, "season_of_month", table)


@dataclass(frozen=True)
class TouPeriod(_Hours):
    id: str
    description: str
    rate: Decimal  # per kWh
    weekdays: tuple[HourRange, ...]
    weekends: tuple[HourRange, ...]
    holidays: tuple[HourRange, ...] | None = None  # None: public holidays take the weekend hours
    months: tuple[int, ...] | None = None  # None: all year

    def __post_init__(self) -> None:
        check_text("id", self.id)
        check_text("description", self.description)
        check_rate("rate", self.rate)
        self._check_hours()


def _schedule(
    periods: tuple[TouPeriod, ...] | tuple[TieredPeriod, ...], owner: str, kind: type = TouPeriod
) -> np.ndarray:
    if not periods:
        raise TariffError("periods", f"{owner} needs at least one period")
    for index, period in enumerate(periods):
        if not isinstance(period, kind):
            raise TariffError(f"periods[{index}]", f"not a {kind.__name__}: {period!r}")
    try:
        return hour_table([(period.id, period.months, period.windows()) for period in periods])
    except HourCoverageError as error:
        raise TariffError("periods", str(error)) from None


@dataclass(frozen=True)
class TimeOfUse:
    kind: ClassVar[str] = "time_of_use"
    unit: ClassVar[str] = "kWh"

    id: str
    periods: tuple[TouPeriod, ...]
    tax_code: str
    description: str = "Time of use energy"
    register: str = GENERAL
    table: np.ndarray = field(init=False, repr=False, compare=False)  # (month, day type, hour) -> period index

    def __post_init__(self) -> None:
        _check_common(self, description=False)
        object.__setattr__(self, "periods", tuple(self.periods))
        object.__setattr__(self, "table", _schedule(self.periods, "a time_of_use component"))

    @property
    def own_holiday_hours(self) -> bool:
        return any(period.holidays is not None for period in self.periods)


@dataclass(frozen=True)
class Tier:
    """A tier of a tiered time-of-use component: usage up to ``up_to`` kWh of the bill's total
    (across all periods; x days when thresholds are per day); the last tier is open-ended."""

    id: str
    description: str
    up_to: Decimal | None = None

    def __post_init__(self) -> None:
        check_text("id", self.id)
        check_text("description", self.description)
        if self.up_to is not None:
            check_kwh_threshold("upTo", self.up_to)

    @property
    def up_to_wh(self) -> int | None:
        return None if self.up_to is None else int(self.up_to.scaleb(3))


@dataclass(frozen=True)
class TieredPeriod(_Hours):
    """A time-of-use period with one rate per tier of its component, in the tiers' order."""

    id: str
    description: str
    rates: tuple[Decimal, ...]  # per kWh, one per tier
    weekdays: tuple[HourRange, ...]
    weekends: tuple[HourRange, ...]
    holidays: tuple[HourRange, ...] | None = None
    months: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        check_text("id", self.id)
        check_text("description", self.description)
        if not isinstance(self.rates, tuple | list):
            raise TariffError("rates", f"must be a list of rates, one per tier, got {self.rates!r}")
        object.__setattr__(self, "rates", tuple(self.rates))
        if not self.rates:
            raise TariffError("rates", f"period {self.id!r} has no tiers: give one rate per tier")
        for index, rate in enumerate(self.rates):
            check_rate(f"rates[{index}]", rate)
        self._check_hours()


TIER_ALLOCATIONS = ("chronological", "proportional")


@dataclass(frozen=True)
class TieredTimeOfUse:
    """Time of use with tiers: each kWh pays the rate of its period and of the tier the bill's total
    (all periods together) is in. How a tier is shared between periods is ``allocation``:
    ``chronological`` (the kWh that took the total past a threshold, in time order) or
    ``proportional`` (each period's share of the bill's energy); see tiers.py and TARIFF_FORMAT.md.
    One line per period and tier, priced by ``f"{period.id}-{tier.id}"``."""

    kind: ClassVar[str] = "tiered_time_of_use"
    unit: ClassVar[str] = "kWh"

    id: str
    tiers: tuple[Tier, ...]
    periods: tuple[TieredPeriod, ...]
    thresholds_per: str  # "bill" | "day"
    allocation: str  # "chronological" | "proportional"
    tax_code: str
    description: str = "Tiered time of use energy"
    register: str = GENERAL
    table: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_common(self, description=False)
        check_choice("thresholdsPer", self.thresholds_per, THRESHOLDS_PER)
        check_choice("allocation", self.allocation, TIER_ALLOCATIONS)
        object.__setattr__(self, "tiers", tuple(self.tiers))
        object.__setattr__(self, "periods", tuple(self.periods))
        _check_thresholds(self.tiers, Tier, self.id, "tiers")
        owner = f"tiered time of use {self.id!r}"
        object.__setattr__(self, "table", _schedule(self.periods, owner, TieredPeriod))
        for index, period in enumerate(self.periods):
            if len(period.rates) != len(self.tiers):
                problem = (
                    f"period {period.id!r} of {self.id!r} has {len(period.rates)} rate(s) but the component has "
                    f"{len(self.tiers)} tiers: give one rate per tier"
                )
                raise TariffError(f"periods[{index}].rates", problem)

    def thresholds_wh(self) -> tuple[int, ...]:
        return tuple(tier.up_to_wh for tier in self.tiers[:-1])  # type: ignore[misc]

    def line_id(self, period: TieredPeriod, tier: Tier) -> str:
        return f"{period.id}-{tier.id}"

    @property
    def own_holiday_hours(self) -> bool:
        return any(period.holidays is not None for period in self.periods)


# -- demand ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemandWindow(_Hours):
    """The hours in which demand is measured, e.g. weekdays 15:00-21:00 for a peak demand charge."""

    weekdays: tuple[HourRange, ...]
    weekends: tuple[HourRange, ...]
    holidays: tuple[HourRange, ...] | None = None  # None: public holidays take the weekend hours
    months: tuple[int, ...] | None = None
    mask: np.ndarray = field(init=False, repr=False, compare=False)  # (month, day type, hour) -> inside

    def __post_init__(self) -> None:
        self._check_hours()
        mask = window_mask(self.months, self.windows())
        if not mask.any():
            raise TariffError("", "the window holds no hour: demand would never be measured")
        mask.setflags(write=False)
        object.__setattr__(self, "mask", mask)


@dataclass(frozen=True)
class Ratchet:
    """Billed demand is at least ``fraction`` of the highest monthly demand of the last ``months``."""

    months: int
    fraction: Decimal

    def __post_init__(self) -> None:
        check_whole("months", self.months, 1)
        check_share("fraction", self.fraction)


DEMAND_UNITS = {"kW": "Wh", "kVA": "VAh"}  # the demand unit and the register quantity it is measured from


@dataclass(frozen=True)
class DemandCharge:
    kind: ClassVar[str] = "demand_charge"

    id: str
    description: str
    rate: Decimal  # per kW (or kVA) per month
    unit: str  # "kW" | "kVA"
    tax_code: str
    register: str = GENERAL
    window: DemandWindow | None = None
    ratchet: Ratchet | None = None

    def __post_init__(self) -> None:
        _check_common(self)
        check_rate("rate", self.rate)
        check_choice("unit", self.unit, tuple(DEMAND_UNITS))
        if self.window is not None and not isinstance(self.window, DemandWindow):
            raise TariffError("window", f"not a DemandWindow: {self.window!r}")
        if self.ratchet is not None and not isinstance(self.ratchet, Ratchet):
            raise TariffError("ratchet", f"not a Ratchet: {self.ratchet!r}")

    @property
    def own_holiday_hours(self) -> bool:
        return self.window is not None and self.window.holidays is not None


# -- credits and adjustments ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportCredit:
    """A credit per exported kWh: one ``rate``, or time-of-use ``periods`` (not both)."""

    kind: ClassVar[str] = "export_credit"
    unit: ClassVar[str] = "kWh"

    id: str
    description: str
    tax_code: str
    register: str = EXPORT
    rate: Decimal | None = None
    periods: tuple[TouPeriod, ...] | None = None
    table: np.ndarray | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        _check_common(self)
        if self.rate is None and self.periods is None:
            raise TariffError("rate", f"export credit {self.id!r} needs either a rate or time-of-use periods")
        if self.rate is not None and self.periods is not None:
            raise TariffError("periods", f"export credit {self.id!r} has both a rate and periods: give one")
        if self.rate is not None:
            check_rate("rate", self.rate)
        else:
            object.__setattr__(self, "periods", tuple(self.periods or ()))
            object.__setattr__(self, "table", _schedule(self.periods or (), f"export credit {self.id!r}"))

    @property
    def own_holiday_hours(self) -> bool:
        return any(period.holidays is not None for period in self.periods or ())


MINIMUM_PER = ("bill", "day", "month")
MINIMUM_APPLIES_TO = ("usage", "bill")


@dataclass(frozen=True)
class MinimumCharge:
    """Tops up to ``amount`` per bill, day or month (part months by days, as fixed charges).

    ``appliesTo: usage`` compares the energy and demand charges; ``bill`` every other line of
    the tariff (fixed charges, credits and discounts too). A bill at or above the minimum
    gets no line: a zero top-up explains nothing."""

    kind: ClassVar[str] = "minimum_charge"

    id: str
    description: str
    amount: Decimal
    per: str
    applies_to: str
    tax_code: str

    def __post_init__(self) -> None:
        _check_common(self)
        check_rate("amount", self.amount)
        check_choice("per", self.per, MINIMUM_PER)
        check_choice("appliesTo", self.applies_to, MINIMUM_APPLIES_TO)


@dataclass(frozen=True)
class Discount:
    """``fraction`` of the tariff's usage charges (energy and demand, before credits) off."""

    kind: ClassVar[str] = "discount"

    id: str
    description: str
    fraction: Decimal  # "0.07" is 7 %
    tax_code: str
    condition: str | None = None  # e.g. "pay_on_time": pending until invoicing knows

    def __post_init__(self) -> None:
        _check_common(self)
        check_share("fraction", self.fraction)
        if self.condition is not None:
            check_text("condition", self.condition)


Component = (
    DailySupply
    | FixedCharge
    | FlatEnergy
    | BlockEnergy
    | SeasonalEnergy
    | TimeOfUse
    | TieredTimeOfUse
    | DemandCharge
    | ExportCredit
    | MinimumCharge
    | Discount
)
COMPONENT_TYPES = (
    DailySupply,
    FixedCharge,
    FlatEnergy,
    BlockEnergy,
    SeasonalEnergy,
    TimeOfUse,
    TieredTimeOfUse,
    DemandCharge,
    ExportCredit,
    MinimumCharge,
    Discount,
)
# what discounts apply to
USAGE_TYPES = (FlatEnergy, BlockEnergy, SeasonalEnergy, TimeOfUse, TieredTimeOfUse, DemandCharge)
DEPENDENT_TYPES = (MinimumCharge, Discount)  # priced from the other lines, after them


def named_parts(component: Component) -> list[tuple[str, str]]:
    """(path suffix, id) of everything in the component that names a line."""
    named = [("id", component.id)]
    for attribute in ("periods", "blocks", "seasons", "tiers"):
        for index, part in enumerate(getattr(component, attribute, None) or ()):
            named.append((f"{attribute}[{index}].id", part.id))
    if isinstance(component, TieredTimeOfUse):  # its lines are named by period and tier
        for p, period in enumerate(component.periods):
            for t, tier in enumerate(component.tiers):
                named.append((f"periods[{p}].rates[{t}]", component.line_id(period, tier)))
    return named


def is_component(value: object) -> bool:
    return isinstance(value, COMPONENT_TYPES)
