"""Glyphs and advances of the packaged invoice font, read with fontTools, for stamped text.

The stamped renderer (``pdf_stamp.py``) writes a value's glyphs straight into a page laid out
once by WeasyPrint, so it must place them where WeasyPrint would: the same glyph per character
(the font's cmap; it has no ligatures, its GSUB is empty) and the same advances (hmtx), with the
pair kerning HarfBuzz applies by default (the GPOS ``kern`` feature). A character the font lacks
is reported, never drawn as a box: the caller renders that invoice the ordinary way, where the
fallback font takes over.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont

TEMPLATES = Path(__file__).resolve().with_name("templates")
FACES = {"regular": "invoice-sans.ttf", "bold": "invoice-sans-bold.ttf"}


@dataclass(frozen=True)
class GlyphRun:
    """A text as glyph ids, with the extra displacement after each glyph (kerning and letter
    spacing) and the whole width, in CSS px at the size asked for."""

    glyphs: tuple[int, ...]
    extra: tuple[float, ...]
    width: float


class _Kerning:
    """GPOS pair adjustments, looked up the way HarfBuzz applies a PairPos lookup: the first
    subtable covering the first glyph decides (a class-based one always, a glyph-pair one only
    when it lists the pair)."""

    def __init__(self, font: TTFont) -> None:
        self._subtables: list[list[object]] = []
        if "GPOS" not in font:
            return
        table = font["GPOS"].table
        lookups = {
            index
            for record in table.FeatureList.FeatureRecord
            if record.FeatureTag == "kern"
            for index in record.Feature.LookupListIndex
        }
        for index in sorted(lookups):
            lookup = table.LookupList.Lookup[index]
            subtables = []
            for subtable in lookup.SubTable:
                if lookup.LookupType == 9:  # extension: the real subtable is inside
                    subtable = subtable.ExtSubTable
                if getattr(subtable, "LookupType", 2) == 2 or lookup.LookupType == 2:
                    subtables.append(subtable)
            self._subtables.append(subtables)
        self._order = font.getGlyphOrder()
        self._cache: dict[tuple[int, int], int] = {}

    def pair(self, first: int, second: int) -> int:
        """The advance adjustment in font units after ``first`` when ``second`` follows."""
        key = (first, second)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = sum(self._lookup(subtables, first, second) for subtables in self._subtables)
        return cached

    def _lookup(self, subtables: list[object], first: int, second: int) -> int:
        a, b = self._order[first], self._order[second]
        for subtable in subtables:
            if a not in subtable.Coverage.glyphs:  # type: ignore[attr-defined]
                continue
            if subtable.Format == 1:  # type: ignore[attr-defined]
                pairs = subtable.PairSet[subtable.Coverage.glyphs.index(a)]  # type: ignore[attr-defined]
                for record in pairs.PairValueRecord:
                    if record.SecondGlyph == b:
                        return _x_advance(record.Value1)
                continue
            class1 = subtable.ClassDef1.classDefs.get(a, 0)  # type: ignore[attr-defined]
            class2 = subtable.ClassDef2.classDefs.get(b, 0)  # type: ignore[attr-defined]
            record = subtable.Class1Record[class1].Class2Record[class2]  # type: ignore[attr-defined]
            return _x_advance(record.Value1)
        return 0


def _x_advance(value: object) -> int:
    return int(getattr(value, "XAdvance", 0) or 0) if value is not None else 0


class Face:
    """One packaged font file: its glyph per character, advances and kerning."""

    def __init__(self, data: bytes) -> None:
        font = TTFont(io.BytesIO(data))
        self.units_per_em = font["head"].unitsPerEm
        order = font.getGlyphOrder()
        ids = {name: index for index, name in enumerate(order)}
        self._glyph = {code: ids[name] for code, name in font.getBestCmap().items()}
        metrics = font["hmtx"].metrics
        self._advance = [metrics[name][0] for name in order]
        self._kerning = _Kerning(font)

    def missing(self, text: str) -> str:
        """The characters of ``text`` this font cannot draw (empty when it can draw them all)."""
        return "".join(sorted({ch for ch in text if ord(ch) not in self._glyph}))

    def run(self, text: str, size: float, letter_spacing: float = 0.0) -> GlyphRun:
        """``text`` (every character covered, see ``missing``) at ``size`` px."""
        glyphs = tuple(self._glyph[ord(ch)] for ch in text)
        scale = size / self.units_per_em
        extra = []
        width = 0.0
        for index, glyph in enumerate(glyphs):
            kern = self._kerning.pair(glyph, glyphs[index + 1]) if index + 1 < len(glyphs) else 0
            shift = kern * scale + letter_spacing
            extra.append(shift)
            width += self._advance[glyph] * scale + shift
        return GlyphRun(glyphs, tuple(extra), width)

    def width(self, text: str, size: float, letter_spacing: float = 0.0) -> float:
        return self.run(text, size, letter_spacing).width


@functools.cache
def face(name: str) -> Face:
    return Face((TEMPLATES / FACES[name]).read_bytes())


def faces_missing(text: str, names: Sequence[str] = tuple(FACES)) -> str:
    return "".join(sorted({ch for name in names for ch in face(name).missing(text)}))
