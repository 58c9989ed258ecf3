"""How a customer record says what is wrong with it: every problem names its field, the way
the API and the load files name it (``taxIds.0.value``, ``registers.1.dialCount``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidRecord(ValueError):
    """One or more fields of a record cannot be accepted; nothing was stored."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str) -> InvalidRecord:
        return cls([FieldError(field, message)])


class RecordConflict(InvalidRecord):
    """The record is valid on its own but clashes with another one (an overlapping contract,
    a meter already installed elsewhere, an unknown tariff); nothing was stored."""


class Checks:
    """Collects every problem of a record before refusing it, so a caller fixes a form (or a
    load file's row) in one pass instead of one error per attempt."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(self.prefix + field, message))

    def check(self, ok: bool, field: str, message: str) -> None:
        if not ok:
            self.fail(field, message)

    def parse(self, field: str, parser: Callable[[], T]) -> T | None:
        """The parser's value, or None with its ValueError recorded against ``field``."""
        try:
            return parser()
        except InvalidRecord as nested:
            self.errors.extend(FieldError(self.prefix + field + "." + e.field, e.message) for e in nested.errors)
        except ValueError as error:
            self.fail(field, str(error))
        return None

    @contextmanager
    def nested(self, field: str) -> Iterator[Checks]:
        inner = Checks(f"{self.prefix}{field}.")
        yield inner
        self.errors.extend(inner.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidRecord(self.errors)
