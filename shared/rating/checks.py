"""Checks shared by the tariff model and its document reader, each naming the field it refuses.

A tariff built in code is validated exactly like one read from a document, so the model's
``__post_init__`` methods and the reader call the same functions. Errors carry the field's
path relative to where they were raised; ``under()`` prefixes the path on the way out
(``rate`` becomes ``components[2].blocks[1].rate``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

HOURS_PER_DAY = 24
MONTHS = 12
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

HourRange = tuple[int, int]  # local hours [start, end), 0 <= start < end <= 24


class TariffError(ValueError):
    """A tariff that cannot be priced, naming the offending field by its document path."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field or 'document'}: {problem}")
        self.field = field  # "" is the document (or object) itself
        self.problem = problem

    def under(self, prefix: str) -> TariffError:
        return TariffError(f"{prefix}.{self.field}" if self.field else prefix, self.problem)


@contextmanager
def under(prefix: str) -> Iterator[None]:
    """Errors raised inside name their field relative to ``prefix``."""
    try:
        yield
    except TariffError as error:
        raise error.under(prefix) from None


# -- values of the model ---------------------------------------------------------------------


def check_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise TariffError(name, f"must be a non-empty string, got {value!r}")


def check_decimal(name: str, value: object) -> Decimal:
    if isinstance(value, float):
        raise TariffError(name, f'floats are refused in money: write "{value}" as a decimal string')
    if not isinstance(value, Decimal):
        raise TariffError(name, f"must be a Decimal, got {type(value).__name__} {value!r}")
    if not value.is_finite():
        raise TariffError(name, f"must be a finite number, got {value}")
    return value


def check_rate(name: str, value: object) -> Decimal:
    if check_decimal(name, value) < 0:
        raise TariffError(name, f"must not be negative, got {value}")
    return value  # type: ignore[return-value]


def check_tax_rate(name: str, value: object) -> None:
    if not 0 <= check_decimal(name, value) < 1:
        raise TariffError(name, f'must be a fraction in [0, 1), e.g. "0.10" for 10%, got {value}')


def check_share(name: str, value: object) -> None:
    """A fraction in (0, 1]: a discount of "0.07" is 7 %; a ratchet of "0.80" is 80 %."""
    if not 0 < check_decimal(name, value) <= 1:
        raise TariffError(name, f'must be a fraction in (0, 1], e.g. "0.07" for 7%, got {value}')


def check_kwh_threshold(name: str, value: object) -> Decimal:
    """Block thresholds become integer Wh, so more than three decimals of a kWh cannot be honoured."""
    if check_decimal(name, value) <= 0:
        raise TariffError(name, f"must be a positive number of kWh, got {value}")
    if value.as_tuple().exponent < -3:  # type: ignore[union-attr, operator]
        raise TariffError(name, f"{value} kWh is finer than a Wh: use at most three decimals")
    return value  # type: ignore[return-value]


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise TariffError(name, f"must be one of {', '.join(choices)}, got {value!r}")


def check_whole(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TariffError(name, f"must be a whole number, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise TariffError(name, f"must be at least {minimum}, got {value}")


def check_date(name: str, value: object) -> None:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TariffError(name, f"must be a date, got {type(value).__name__} {value!r}")


def check_zone(name: str, value: object) -> None:
    check_text(name, value)
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise TariffError(name, f"unknown IANA time zone {value!r}") from None


def check_hour_range(name: str, hours: object) -> None:
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


def check_hour_ranges(name: str, ranges: object) -> tuple[HourRange, ...]:
    if not isinstance(ranges, tuple | list):
        raise TariffError(name, f"must be a list of [start, end) hour ranges, got {ranges!r}")
    ranges = tuple(ranges)
    for index, hours in enumerate(ranges):
        check_hour_range(f"{name}[{index}]", hours)
    return ranges


def check_months(name: str, months: object) -> tuple[int, ...]:
    """Month numbers 1..12, each at most once, e.g. (12, 1, 2) for an Australian summer."""
    if not isinstance(months, tuple | list) or not months:
        raise TariffError(name, f"must be a non-empty list of month numbers 1..12, got {months!r}")
    seen: set[int] = set()
    for index, month in enumerate(months):
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= MONTHS:
            raise TariffError(f"{name}[{index}]", f"must be a month number 1..12, got {month!r}")
        if month in seen:
            raise TariffError(f"{name}[{index}]", f"month {month} ({MONTH_NAMES[month - 1]}) is listed twice")
        seen.add(month)
    return tuple(months)


# -- reading documents -----------------------------------------------------------------------


def fields(
    doc: object, what: str, required: set[str], optional: set[str], *, ignore_system: bool = False
) -> dict[str, Any]:
    """The object's fields, refusing a missing or an unknown one: a field this version does not
    understand may change the price, so it is an error rather than something to skip."""
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


def mapping_of(value: object, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TariffError(name, f"must be an object, got {type(value).__name__}")
    return value


def list_of(value: object, name: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise TariffError(name, f"must be a list, got {type(value).__name__}")
    return list(value)


def decimal_of(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise TariffError(name, f'must be a decimal string like "0.3120", got {type(value).__name__} {value!r}')
    if isinstance(value, float):
        raise TariffError(name, f'floats are refused in money: write "{value}" as a decimal string')
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise TariffError(name, f'must be a decimal string like "0.3120", got {value!r}') from None
    check_decimal(name, number)
    return number


def date_of(value: object, name: str) -> date:
    if not isinstance(value, str):
        raise TariffError(name, f"must be an ISO date string, got {type(value).__name__} {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TariffError(name, f"must be an ISO date like 2026-07-01, got {value!r}") from None


def hour_ranges_of(value: object, name: str) -> tuple[HourRange, ...]:
    ranges = []
    for index, pair in enumerate(list_of(value, name)):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise TariffError(f"{name}[{index}]", f"must be a pair [start, end) of local hours, got {pair!r}")
        ranges.append((pair[0], pair[1]))  # types and bounds are checked by the model
    return tuple(ranges)


def bool_of(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TariffError(name, f"must be true or false, got {value!r}")
    return value
