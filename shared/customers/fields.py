"""Field rules shared by the customer records: identifiers, names, e-mail and phone, postal
lines, countries, time zones and holiday regions. Each parser returns the clean value or
raises ValueError saying what a valid value looks like."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Country = Literal["AU", "PL", "NO"]
COUNTRIES: tuple[str, ...] = ("AU", "PL", "NO")
CURRENCY_BY_COUNTRY = {"AU": "AUD", "PL": "PLN", "NO": "NOK"}

# The ids branch staff and old systems use: the store refuses / \ ? # in ids, and URLs
# carry them in paths, so letters, digits and . _ - only.
_RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_REGION = re.compile(r"^(AU|PL|NO)(-[A-Z0-9]{1,3})?$")

# The zones a service point of each country can be in: a Warsaw zone on an NMI is a typo.
_ZONE_PREFIXES = {"AU": ("Australia/",), "PL": ("Europe/Warsaw",), "NO": ("Europe/Oslo", "Arctic/Longyearbyen")}

MAX_ADDRESS_LINES = 5
MAX_LINE = 100


def record_id(value: Any) -> str:
    if not isinstance(value, str) or not _RECORD_ID.match(value):
        raise ValueError("1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return value


def code(value: Any) -> str:
    if not isinstance(value, str) or not _CODE.match(value):
        raise ValueError("1-40 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return value


# A cell starting with one of these runs as a formula when an export is opened in a
# spreadsheet; no name or address starts so, so they are refused at the door (exports still
# neutralise, for phone numbers that start with + and for data from before this rule).
FORMULA_STARTS = ("=", "+", "-", "@")


def text(value: Any, *, max_length: int = 200) -> str:
    """Printable text without leading or trailing blanks; control characters would break
    invoices, CSV exports and log lines."""
    if not isinstance(value, str):
        raise ValueError("must be text")
    cleaned = " ".join(value.split())
    if not cleaned:
        raise ValueError("must not be blank")
    if len(cleaned) > max_length:
        raise ValueError(f"at most {max_length} characters")
    if not cleaned.isprintable():
        raise ValueError("must not hold control characters")
    if cleaned.startswith(FORMULA_STARTS):
        raise ValueError("must not start with = + - or @ (a spreadsheet would run it as a formula)")
    return cleaned


def email(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL.match(value.strip()):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value.strip()


def phone(value: Any) -> str:
    """E.164 with the country code (+61 2 9999 0000 is kept as +61299990000)."""
    if not isinstance(value, str):
        raise ValueError("must be text")
    compact = _PHONE_SEPARATORS.sub("", value)
    if not _E164.match(compact):
        raise ValueError(f"{value!r} is not a phone number in international form (+61..., +48..., +47...)")
    return compact


def address_lines(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"1 to {MAX_ADDRESS_LINES} lines of text")
    if len(value) > MAX_ADDRESS_LINES:
        raise ValueError(f"at most {MAX_ADDRESS_LINES} lines, got {len(value)}")
    lines = []
    for number, line in enumerate(value):
        try:
            lines.append(text(line, max_length=MAX_LINE))
        except ValueError as error:
            raise ValueError(f"line {number + 1}: {error}") from None
    return tuple(lines)


def country(value: Any) -> str:
    if value not in COUNTRIES:
        raise ValueError(f"one of {', '.join(COUNTRIES)}")
    return str(value)


def time_zone(value: Any, *, in_country: str | None = None) -> str:
    """An IANA zone name the zone database knows, in the country when one is given."""
    if not isinstance(value, str) or not value or value != value.strip():
        raise ValueError("an IANA time zone name such as Australia/Sydney")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Australia/Sydney, Europe/Warsaw)") from None
    if in_country in _ZONE_PREFIXES and not value.startswith(_ZONE_PREFIXES[in_country]):
        raise ValueError(f"{value!r} is not a time zone in {in_country}")
    return value


def holiday_region(value: Any, *, in_country: str | None = None) -> str:
    """ISO 3166 country or subdivision code whose public holidays apply (AU-NSW, PL, NO)."""
    if not isinstance(value, str) or not _REGION.match(value):
        raise ValueError("an ISO 3166 code such as AU-NSW, AU-VIC, PL or NO")
    if in_country is not None and not value.startswith(in_country):
        raise ValueError(f"{value!r} is not a region of {in_country}")
    return value


def iso_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")


def aware_datetime(value: Any) -> datetime:
    parsed = value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date and time (ISO 8601 with its UTC offset)") from None
    if not isinstance(parsed, datetime):
        raise ValueError(f"{value!r} is not a date and time")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{value!r} has no UTC offset: say which time zone it is in")
    return parsed


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value
