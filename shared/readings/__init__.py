"""Meter readings: importing meter data files and register reads, and keeping them.

Each file format is one module exposing an ``Importer`` (``nem12.NEM12`` so far); all of them
produce the types in ``model``. ``history`` stores what the importers accepted.
"""

from shared.readings.model import (
    NEM_TIME,
    Importer,
    ImportResult,
    IntervalDay,
    ReadingError,
    RegisterRead,
)
from shared.readings.nem12 import NEM12

# By MDFF VersionHeader; the NEM13 and spreadsheet importers join here.
IMPORTERS: dict[str, Importer] = {NEM12.name: NEM12}

__all__ = ["IMPORTERS", "NEM_TIME", "ImportResult", "Importer", "IntervalDay", "ReadingError", "RegisterRead"]
