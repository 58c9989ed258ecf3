"""Units of measure in meter data, and how a reading becomes an exact integer.

Energy (any unit ending in "h": active Wh, reactive VArh, apparent VAh) is additive over
time and is stored as integer base units: MWh and kWh are scaled up to Wh, never the other
way, so a file in Wh (all of AEMO's GLOBALM scenarios) cannot be mistaken for kWh.
Demand and instantaneous units (kW, kVA, V, A, pf) are not additive: they are stored as
integer *milli* base units (mW, mVA, mV, mA, milli-pf), flagged ``is_energy=False``, so
nobody sums them into a bill by accident.

Conversion is exact: the value is a Decimal, scaled by a power of ten and rounded once,
half-up (a meter value is never negative, so half-up and half-away-from-zero agree).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np


@dataclass(frozen=True)
class Unit:
    symbol: str  # the AEMO spelling, e.g. "kWh" (files also say KWH, kwh)
    stored_as: str  # what one stored integer counts: "Wh", "VArh", "VAh", "mW", "mVA", ...
    exponent: int  # stored integer = round_half_up(value x 10**exponent)
    is_energy: bool  # additive over time (ends in "h")


class UnknownUnit(ValueError):
    pass


def _family(base: str, prefixes: dict[str, int], *, is_energy: bool) -> dict[str, Unit]:
    # Non-energy units are kept in thousandths of the base unit, hence the extra 3.
    extra = 0 if is_energy else 3
    stored_as = base if is_energy else f"m{base}"
    return {
        (prefix + base).lower(): Unit(prefix + base, stored_as, exponent + extra, is_energy)
        for prefix, exponent in prefixes.items()
    }


_SI = {"M": 6, "k": 3, "": 0}
# AEMO MDFF Appendix B. Matched case-insensitively: files say kWh, KWH, kwh, WH. That
# folds "MWh" and "mWh" together, which is safe because milli-units are not in the list.
_UNITS: dict[str, Unit] = {
    **_family("Wh", _SI, is_energy=True),
    **_family("VArh", _SI, is_energy=True),
    **_family("VAh", _SI, is_energy=True),
    **_family("W", _SI, is_energy=False),
    **_family("VAr", _SI, is_energy=False),
    **_family("VA", _SI, is_energy=False),
    **_family("V", {"k": 3, "": 0}, is_energy=False),
    **_family("A", {"k": 3, "": 0}, is_energy=False),
    **_family("pf", {"": 0}, is_energy=False),
}


def parse_unit(uom: str) -> Unit:
    """The unit named by a file's UOM field, in any letter case."""
    unit = _UNITS.get(uom.strip().lower())
    if unit is None:
        raise UnknownUnit(f"unknown unit of measure {uom!r}")
    return unit


def to_stored_integer(value: Decimal, unit: Unit) -> int:
    """``value`` (in ``unit``) as the integer the readings keep, rounded once, half-up."""
    return int(value.scaleb(unit.exponent).to_integral_value(rounding=ROUND_HALF_UP))


def texts_to_stored_integers(texts: list[str], unit: Unit) -> list[int]:
    """Plain decimal strings (digits and at most one point, already checked) as stored integers.

    Same result as ``to_stored_integer(Decimal(text), unit)``, twice as fast on a big file:
    when a value has no more decimals than the scale, moving the point is exact and needs
    no rounding; only the others go through Decimal.
    """
    places = unit.exponent
    stored = []
    for text in texts:
        whole, _, fraction = text.partition(".")
        if len(fraction) <= places:
            stored.append(int((whole or "0") + fraction.ljust(places, "0")))
        else:
            stored.append(to_stored_integer(Decimal(text), unit))
    return stored


# -- many values at once --------------------------------------------------------------------

_PLAIN_DECIMAL_BYTES = b"0123456789.,"
_POWERS_OF_TEN = np.array([10**k for k in range(19)], dtype=np.int64)
# Rows whose stored values reach this take the per-value path: exactness in int64 is then
# guaranteed with room to spare, and no meter's interval comes near it.
FAST_STORED_LIMIT = 10**17


def plain_decimal_rows_to_stored(rows: list[str], *, width: int, unit: Unit) -> np.ndarray | None:
    """Rows of ``width`` comma-separated plain decimals as a (rows x width) array of stored
    integers, converted a chunk at a time.

    Row by row the same as ``texts_to_stored_integers(row.split(","), unit)``, or None when
    any row does not hold exactly ``width`` fields or any field is not a plain decimal
    (blank, signed, spaced, exponent, two points, not ASCII) or is too long for int64
    arithmetic: the caller then takes the per-value path, which says what is wrong.

    Meter data files write each value with the same number of decimals (kWh with three is
    the norm), and a household's values mostly with the same number of digits too: rows
    whose values are all one width are read by position, column by column; the others
    are parsed by numpy's C reader with the point removed, then scaled field by field,
    rounding half-up on the first dropped digit (``ROUND_HALF_UP`` for a value >= 0).
    """
    if not rows:
        return None
    stored = np.empty((len(rows), width), dtype=np.int64)
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    cell, misfit = np.divmod(lengths + 1, width)  # a value and its comma, if all are one width
    left = np.ones(len(rows), dtype=bool)
    # The sizes present, ascending: bincount, because np.unique's first call imports numpy.ma (~12 ms).
    for size in np.flatnonzero(np.bincount(cell[misfit == 0])).tolist():
        chosen = np.flatnonzero((misfit == 0) & (cell == size))
        values = _same_width([rows[i] for i in chosen.tolist()], size - 1, unit.exponent)
        if values is not None:
            stored[chosen] = values.reshape(len(chosen), width)
            left[chosen] = False
    if left.any():
        others = np.flatnonzero(left)
        values = _any_width([rows[i] for i in others.tolist()], width, unit.exponent)
        if values is None:
            return None
        stored[others] = values
    return stored


def _same_width(rows: list[str], size: int, places: int) -> np.ndarray | None:
    """Values all ``size`` characters wide, read by position: one field per row of a
    (fields x size+1) grid whose last column holds the commas."""
    if not 2 <= size <= 17:
        return None
    try:
        raw = (",".join(rows) + ",").encode("ascii")
    except UnicodeEncodeError:
        return None
    grid = np.frombuffer(raw, dtype=np.uint8).reshape(-1, size + 1)
    if not np.all(grid[:, size] == ord(",")):
        return None
    point = size - places - 1
    if point >= 0 and np.all(grid[:, point] == ord(".")):
        columns, scale = [c for c in range(size) if c != point], 1  # exactly `places` decimals
    elif size + places <= 17:
        columns, scale = list(range(size)), 10**places  # whole numbers
    else:
        return None
    digits = grid[:, columns] - np.uint8(ord("0"))  # wraps below "0": anything not a digit is > 9
    if digits.max() > 9:
        return None
    return (digits.astype(np.int64) @ _POWERS_OF_TEN[len(columns) - 1 :: -1]) * scale


def _any_width(rows: list[str], width: int, places: int) -> np.ndarray | None:
    fields = len(rows) * width
    try:
        raw = ",".join(rows).encode("ascii")
    except UnicodeEncodeError:
        return None
    if raw.translate(None, _PLAIN_DECIMAL_BYTES):
        return None
    chars = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(chars == ord(","))
    if ends.size != fields - 1:
        return None
    ends = np.append(ends, len(raw))
    # Each row's last field must end where the row does, or values would slide between rows.
    row_ends = np.cumsum(np.fromiter(map(len, rows), dtype=np.int64, count=len(rows)) + 1) - 1
    if not np.array_equal(ends[width - 1 :: width], row_ends):
        return None
    try:
        # A blank field ("1,,2", ",1") makes numpy's reader raise.
        mantissas = np.fromstring(raw.translate(None, b"."), dtype=np.int64, sep=",")
    except ValueError:
        return None
    if mantissas.size != fields:
        return None
    point_count = raw.count(b".")
    if point_count == fields and _all_have_decimals(chars, ends, places):
        stored = mantissas  # every value has exactly `places` decimals: moving the point is exact
    elif point_count == 0:
        if mantissas.max() >= FAST_STORED_LIMIT // 10**places:
            return None
        stored = mantissas * _POWERS_OF_TEN[places]
    else:
        points = np.flatnonzero(chars == ord("."))
        scaled = _scaled(mantissas, ends, points, fields, places)
        if scaled is None:
            return None
        stored = scaled
    # A saturated parse (20 digits) or a long value lands here too and goes the exact way.
    if stored.max() >= FAST_STORED_LIMIT:
        return None
    return stored.reshape(len(rows), width)


def _all_have_decimals(chars: np.ndarray, ends: np.ndarray, places: int) -> bool:
    """Does every field (ending at ``ends``) have a point ``places`` characters before its
    end? With as many points in all as fields, each then has exactly that one."""
    shortest = min(int(ends[0]), int((ends[1:] - ends[:-1]).min(initial=places + 2)) - 1)
    return shortest > places and bool(np.all(chars[ends - (places + 1)] == ord(".")))


def _scaled(mantissas: np.ndarray, ends: np.ndarray, points: np.ndarray, fields: int, places: int) -> np.ndarray | None:
    """Values with varying decimals: each mantissa x 10**(places - its decimals), half-up."""
    owner = np.searchsorted(ends, points)  # the field each point is in
    if owner.size > 1 and not np.all(np.diff(owner) > 0):
        return None  # two points in one field
    starts = np.empty(fields, dtype=np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    decimals = np.zeros(fields, dtype=np.int64)
    decimals[owner] = ends[owner] - points - 1
    digits = ends - starts
    digits[owner] -= 1
    if digits.min() < 1 or digits.max() > 18:
        return None  # "." alone, or more digits than int64 holds exactly
    shift = places - decimals
    if (digits - decimals + places).max() > 17:
        return None
    stored = np.empty(fields, dtype=np.int64)
    up = shift >= 0
    stored[up] = mantissas[up] * _POWERS_OF_TEN[shift[up]]
    down = ~up
    if down.any():
        divisor = _POWERS_OF_TEN[-shift[down]]
        kept, dropped = np.divmod(mantissas[down], divisor)
        stored[down] = kept + (dropped >= divisor // 2)
    return stored
