"""Rating: pricing a service point's consumption under a tariff into explainable charge lines.

Pure domain code: no storage, no clock, no SDKs. ``rate()`` is the one entry point.
"""

from shared.rating.consumption import IntervalConsumption, RegisterConsumption
from shared.rating.engine import rate
from shared.rating.lines import ChargeLine, TaxLine
from shared.rating.results import DemandReading, PendingLine, RatedCharges
from shared.rating.tariff import (
    Block,
    BlockEnergy,
    DailySupply,
    DemandCharge,
    DemandWindow,
    Discount,
    ExportCredit,
    FixedCharge,
    FlatEnergy,
    MinimumCharge,
    PublicHolidays,
    Ratchet,
    Season,
    SeasonalEnergy,
    Tariff,
    TariffError,
    Tier,
    TieredPeriod,
    TieredTimeOfUse,
    TimeOfUse,
    TouPeriod,
)
from shared.rating.tax import TaxRounding
from shared.rating.usage import RatingError

__all__ = [
    "Block",
    "BlockEnergy",
    "ChargeLine",
    "DailySupply",
    "DemandCharge",
    "DemandReading",
    "DemandWindow",
    "Discount",
    "ExportCredit",
    "FixedCharge",
    "FlatEnergy",
    "IntervalConsumption",
    "MinimumCharge",
    "PendingLine",
    "PublicHolidays",
    "Ratchet",
    "RatedCharges",
    "RatingError",
    "RegisterConsumption",
    "Season",
    "SeasonalEnergy",
    "Tariff",
    "TariffError",
    "TaxLine",
    "TaxRounding",
    "Tier",
    "TieredPeriod",
    "TieredTimeOfUse",
    "TimeOfUse",
    "TouPeriod",
    "rate",
]
