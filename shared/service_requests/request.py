"""A customer's service request, as branch staff and the call centre handle it: what was
asked, how urgent it is, when it is due under the service level, and who did what since.

Pure domain: the clock comes in as ``at=``, nothing is stored here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class RequestType(StrEnum):
    MOVE_IN = "move_in"
    MOVE_OUT = "move_out"
    BILLING_ENQUIRY = "billing_enquiry"
    PAYMENT_ARRANGEMENT = "payment_arrangement"
    METER_FAULT = "meter_fault"
    SPECIAL_READ = "special_read"
    RECONNECTION = "reconnection"
    INSTALLATION = "installation"
    MAINTENANCE = "maintenance"
    HARDSHIP = "hardship"
    COMPLAINT = "complaint"
    OTHER = "other"


class Priority(StrEnum):
    URGENT = "urgent"  # a life-support customer without supply, a safety issue
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


# Time to resolve, in elapsed hours from opening (state the rule: calendar hours, not
# business hours; a utility's regulator-facing SLAs for supply and safety run around the clock).
SLA_HOURS = {Priority.URGENT: 4, Priority.HIGH: 24, Priority.NORMAL: 72, Priority.LOW: 240}


class Status(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER, Status.RESOLVED, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset({Status.WAITING_ON_CUSTOMER, Status.RESOLVED, Status.CANCELLED}),
    Status.WAITING_ON_CUSTOMER: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CANCELLED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),  # reopened if the fix did not hold
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
}
FINISHED = frozenset({Status.RESOLVED, Status.CLOSED, Status.CANCELLED})
LINK_KINDS = ("accounts", "servicePoints", "invoices", "workOrders")


class RequestError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    by: str
    action: str  # "opened", "status", "note", "priority", "linked"
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "by": self.by, "action": self.action, "detail": self.detail}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HistoryEntry:
        return cls(datetime.fromisoformat(data["at"]), data["by"], data["action"], data.get("detail", {}))


@dataclass(frozen=True)
class ServiceRequest:
    request_id: str
    customer_id: str
    request_type: RequestType
    priority: Priority
    summary: str
    opened_at: datetime
    channel: str  # "branch", "call-centre", "portal"
    status: Status = Status.OPEN
    description: str = ""
    links: dict[str, tuple[str, ...]] = field(default_factory=dict)
    external_ref: str | None = None
    history: tuple[HistoryEntry, ...] = ()

    def __post_init__(self) -> None:
        if self.opened_at.tzinfo is None:
            raise RequestError("openedAt", "must carry a time zone")
        if not self.summary.strip() or len(self.summary) > 200:
            raise RequestError("summary", "1 to 200 characters")
        if len(self.description) > 4000:
            raise RequestError("description", "at most 4000 characters")
        unknown = set(self.links) - set(LINK_KINDS)
        if unknown:
            raise RequestError("links", f"unknown link kind(s) {', '.join(sorted(unknown))}: {', '.join(LINK_KINDS)}")

    @property
    def due_at(self) -> datetime:
        return self.opened_at + timedelta(hours=SLA_HOURS[self.priority])

    def is_overdue(self, *, at: datetime) -> bool:
        return self.status not in FINISHED and at > self.due_at

    def moved_to(self, status: Status, *, by: str, at: datetime, note: str = "") -> ServiceRequest:
        if status not in ALLOWED[self.status]:
            allowed = ", ".join(sorted(ALLOWED[self.status])) or "nothing (it is final)"
            raise RequestError("status", f"a {self.status} request can move to {allowed}, not {status}")
        entry = HistoryEntry(at, by, "status", {"from": self.status.value, "to": status.value, "note": note})
        return replace(self, status=status, history=(*self.history, entry))

    def noted(self, note: str, *, by: str, at: datetime) -> ServiceRequest:
        if not note.strip() or len(note) > 4000:
            raise RequestError("note", "1 to 4000 characters")
        return replace(self, history=(*self.history, HistoryEntry(at, by, "note", {"note": note})))

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.request_id,
            "requestId": self.request_id,
            "customerId": self.customer_id,
            "kind": "service-request",
            "type": self.request_type.value,
            "priority": self.priority.value,
            "summary": self.summary,
            "description": self.description,
            "status": self.status.value,
            "channel": self.channel,
            "openedAt": self.opened_at.isoformat(),
            "dueAt": self.due_at.isoformat(),
            "links": {k: list(v) for k, v in self.links.items()},
            "externalRef": self.external_ref,
            "history": [h.to_json() for h in self.history],
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> ServiceRequest:
        return cls(
            request_id=doc["requestId"],
            customer_id=doc["customerId"],
            request_type=RequestType(doc["type"]),
            priority=Priority(doc["priority"]),
            summary=doc["summary"],
            opened_at=datetime.fromisoformat(doc["openedAt"]),
            channel=doc["channel"],
            status=Status(doc["status"]),
            description=doc.get("description", ""),
            links={k: tuple(v) for k, v in doc.get("links", {}).items()},
            external_ref=doc.get("externalRef"),
            history=tuple(HistoryEntry.from_json(h) for h in doc.get("history", [])),
        )


def open_request(
    *,
    request_id: str,
    customer_id: str,
    request_type: str,
    priority: str,
    summary: str,
    at: datetime,
    by: str,
    channel: str,
    description: str = "",
    links: dict[str, list[str]] | None = None,
    external_ref: str | None = None,
) -> ServiceRequest:
    try:
        kind = RequestType(request_type)
    except ValueError:
        raise RequestError("type", f"one of {', '.join(t.value for t in RequestType)}") from None
    try:
        urgency = Priority(priority)
    except ValueError:
        raise RequestError("priority", f"one of {', '.join(p.value for p in Priority)}") from None
    opened = HistoryEntry(at, by, "opened", {"channel": channel, "priority": urgency.value})
    return ServiceRequest(
        request_id=request_id,
        customer_id=customer_id,
        request_type=kind,
        priority=urgency,
        summary=summary,
        opened_at=at,
        channel=channel,
        description=description,
        links={k: tuple(v) for k, v in (links or {}).items()},
        external_ref=external_ref,
        history=(opened,),
    )
