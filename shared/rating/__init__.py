"""Rating: pricing a service point's consumption under a tariff into explainable charge lines.

Pure domain code: no storage, no clock, no SDKs. ``rate()`` is the one entry point.
"""

from shared.rating.consumption import IntervalConsumption, RegisterConsumption
from shared.rating.engine import RatedCharges, RatingError, rate
from shared.rating.lines import ChargeLine, TaxLine
from shared.rating.tariff import DailySupply, FlatEnergy, Tariff, TariffError, TimeOfUse, TouPeriod
from shared.rating.tax import TaxRounding

__all__ = [
    "ChargeLine",
    "DailySupply",
    "FlatEnergy",
    "IntervalConsumption",
    "RatedCharges",
    "RatingError",
    "RegisterConsumption",
    "Tariff",
    "TariffError",
    "TaxLine",
    "TaxRounding",
    "TimeOfUse",
    "TouPeriod",
    "rate",
]
