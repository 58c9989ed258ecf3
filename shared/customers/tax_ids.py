"""Business tax identifiers, checked with python-stdnum: the Australian Business Number,
the Polish NIP and the Norwegian organisation number. Stored compact (digits only) and
shown in each country's usual grouping."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from stdnum.au import abn
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.no import orgnr
from stdnum.pl import nip

TaxScheme = Literal["AU-ABN", "PL-NIP", "NO-ORGNR"]

_MODULES: dict[str, tuple[ModuleType, str]] = {
    "AU-ABN": (abn, "Australian Business Number"),
    "PL-NIP": (nip, "Polish NIP"),
    "NO-ORGNR": (orgnr, "Norwegian organisation number"),
}
TAX_SCHEMES: tuple[str, ...] = tuple(_MODULES)


@dataclass(frozen=True)
class TaxId:
    scheme: TaxScheme
    value: str  # compact: digits only

    @property
    def formatted(self) -> str:
        module, _ = _MODULES[self.scheme]
        return str(module.format(self.value))


def parse_tax_id(scheme: str, value: str) -> TaxId:
    """The tax id in compact form; ValueError saying what is wrong with it (length, a
    non-digit, or a check digit that does not add up: usually a mistyped number)."""
    if scheme not in _MODULES:
        raise ValueError(f"unknown tax id scheme {scheme!r}; use one of {', '.join(TAX_SCHEMES)}")
    module, label = _MODULES[scheme]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"the {label} is empty")
    try:
        compact = str(module.validate(value))
    except InvalidChecksum:
        raise ValueError(f"{value!r} is not a valid {label}: its check digits do not add up (mistyped?)") from None
    except InvalidLength:
        raise ValueError(f"{value!r} is not a valid {label}: wrong number of digits") from None
    except (InvalidFormat, InvalidComponent):
        raise ValueError(
            f"{value!r} is not a valid {label}: it must be digits only (spaces and dashes allowed)"
        ) from None
    except ValidationError as error:
        raise ValueError(f"{value!r} is not a valid {label}: {error}") from None
    return TaxId(scheme, compact)  # type: ignore[arg-type]
