"""Metering point identifiers and their check digits.

- Australia: the NMI, 10 characters (digits and capital letters except I and O, which read
  as 1 and 0), with an 11th checksum character defined in AEMO's National Metering
  Identifier Procedure: starting from the rightmost character, double the ASCII value of
  every other character, add up the decimal digits of all the values, and the checksum is
  what brings the sum up to a multiple of 10. Market files (NEM12/NEM13) carry the 10
  characters; the checksum is shown beside them, so both forms are accepted here.
- Poland: the PPE code in its GS1 GSRN form since the 2023 renumbering: 18 digits, the
  Polish GS1 prefix 590 first, a GS1 mod-10 check digit last.
- Norway: the metering point id (målepunkt-ID): 18 digits starting 7070575000, GS1 mod-10
  check digit last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MeteringScheme = Literal["NMI", "PPE", "NO-MPID"]

_NMI = re.compile(r"^[A-HJ-NP-Z0-9]{10}$")
PPE_PREFIX = "590"
NORWEGIAN_PREFIX = "7070575000"
GSRN_DIGITS = 18

SCHEME_BY_COUNTRY: dict[str, MeteringScheme] = {"AU": "NMI", "PL": "PPE", "NO": "NO-MPID"}


def nmi_checksum(nmi: str) -> int:
    """AEMO's checksum character for a 10-character NMI."""
    if not _NMI.match(nmi):
        raise ValueError(f"{nmi!r} is not an NMI: 10 digits or capital letters (no I or O)")
    total = 0
    for position, char in enumerate(reversed(nmi)):
        value = ord(char) * (2 if position % 2 == 0 else 1)
        total += sum(int(digit) for digit in str(value))
    return (10 - total % 10) % 10


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit: weights 3 and 1 alternating from the rightmost digit."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"{digits!r} must be digits only")
    total = sum(int(char) * (3 if position % 2 == 0 else 1) for position, char in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


@dataclass(frozen=True)
class MeteringPointId:
    scheme: MeteringScheme
    value: str  # the identifier as markets and meter-data files carry it (an NMI without its checksum)
    checksum: int  # the NMI's checksum character, or the GSRN's last digit


def parse_nmi(text: str) -> MeteringPointId:
    nmi = text.strip().upper()
    if len(nmi) == 11:
        base, given = nmi[:10], nmi[10]
        expected = nmi_checksum(base)
        if given != str(expected):
            raise ValueError(f"NMI {nmi!r} ends in checksum {given!r} but the AEMO checksum of {base} is {expected}")
        return MeteringPointId("NMI", base, expected)
    if len(nmi) != 10:
        raise ValueError(f"{text!r} is not an NMI: 10 characters, or 11 with the checksum")
    return MeteringPointId("NMI", nmi, nmi_checksum(nmi))


def _parse_gsrn(text: str, prefix: str, label: str, scheme: MeteringScheme) -> MeteringPointId:
    value = text.strip().replace(" ", "")
    if not value.isascii() or not value.isdigit() or len(value) != GSRN_DIGITS:
        raise ValueError(f"{text!r} is not a {label}: {GSRN_DIGITS} digits")
    if not value.startswith(prefix):
        raise ValueError(f"{text!r} is not a {label}: it starts {prefix}")
    expected = gs1_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise ValueError(f"{text!r} is not a {label}: its GS1 check digit should be {expected} (mistyped?)")
    return MeteringPointId(scheme, value, expected)


def parse_ppe(text: str) -> MeteringPointId:
    return _parse_gsrn(text, PPE_PREFIX, "Polish PPE code (GSRN)", "PPE")


def parse_norwegian_metering_point(text: str) -> MeteringPointId:
    return _parse_gsrn(text, NORWEGIAN_PREFIX, "Norwegian metering point id", "NO-MPID")


def parse_metering_point_id(country: str, text: str) -> MeteringPointId:
    if not isinstance(text, str):
        raise ValueError("must be text")
    scheme = SCHEME_BY_COUNTRY.get(country)
    if scheme == "NMI":
        return parse_nmi(text)
    if scheme == "PPE":
        return parse_ppe(text)
    if scheme == "NO-MPID":
        return parse_norwegian_metering_point(text)
    raise ValueError(f"no metering point scheme for country {country!r}")
