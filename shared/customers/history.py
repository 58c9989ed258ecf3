"""Change history: who changed which fields of a record, when, from what to what.

A change is described by comparing the record's document before and after, so a field
added to a record later is tracked without touching this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Fields that identify the record or its document type: never "changed".
_IDENTITY = frozenset({"id", "kind"})


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"from": old, "to": new}}`` for each top-level field whose value differs;
    a creation lists every field that has a value."""
    previous = before or {}
    changes = {}
    for name in sorted(set(previous) | set(after)):
        if name in _IDENTITY:
            continue
        old, new = previous.get(name), after.get(name)
        if old != new and (before is not None or new not in (None, [], {}, False)):
            changes[name] = {"from": old, "to": new}
    return changes


@dataclass(frozen=True)
class Change:
    record_type: str  # "customer", "account", "servicePoint", "meter", "contract"
    record_id: str
    revision: int  # 1 for the creation, then one more per change
    at: datetime
    by: str
    action: str  # "create", "update", "close", "install", "remove"
    fields: Mapping[str, Mapping[str, Any]]

    def to_document(self) -> dict[str, Any]:
        return {
            "recordType": self.record_type,
            "recordId": self.record_id,
            "revision": self.revision,
            "at": self.at.isoformat(),
            "by": self.by,
            "action": self.action,
            "fields": {name: dict(values) for name, values in self.fields.items()},
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Change:
        return cls(
            record_type=doc["recordType"],
            record_id=doc["recordId"],
            revision=int(doc["revision"]),
            at=datetime.fromisoformat(doc["at"]),
            by=doc["by"],
            action=doc["action"],
            fields=doc["fields"],
        )
