"""Public holidays of a tariff's region, from the ``holidays`` package.

A region is an ISO 3166 country, optionally with a subdivision: "AU-NSW", "AU-VIC", "PL",
"NO". Observed days count (Boxing Day observed on Monday 28 December 2026 is a holiday in
NSW): networks price the day the holiday is taken. The package is imported on first use,
not at import time, so a Function's cold start does not pay for its country tables.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache


class UnknownRegion(ValueError):
    """A region the holidays package does not know."""


def split_region(region: str) -> tuple[str, str | None]:
    country, _, subdivision = region.partition("-")
    return country, subdivision or None


def check_region(region: str) -> None:
    import holidays

    country, subdivision = split_region(region)
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise UnknownRegion(f"unknown country {country!r} in region {region!r} (e.g. AU-NSW, PL, NO)")
    if subdivision is not None and subdivision not in supported[country]:
        known = ", ".join(f"{country}-{s}" for s in supported[country] if " " not in s)
        raise UnknownRegion(f"unknown subdivision {subdivision!r} of {country} in region {region!r} (known: {known})")


@lru_cache(maxsize=512)
def holidays_in(region: str, year: int) -> frozenset[date]:
    import holidays

    country, subdivision = split_region(region)
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))
