"""The daily dunning run: for every account that may owe something overdue, read what the
ledger says, decide (``dunning.decide``) and carry the decision out, recording each step on
the account's case with when and why.

Finding the accounts without reading every one: an invoice's cached ``status`` (written from
the ledger by ``payments.projection``) is ``issued``, ``sent`` or ``partly_paid`` while money
is open on it, so three equality queries over the invoices, filtered on the due date, plus
the accounts with an open case (to close them), name every candidate. The cache only picks
the candidates; every amount a decision uses is derived from the ledger's postings again.
(The queries cross partitions: fine at a retailer's scale on Cosmos DB, and a plain index
scan on SQLite.)

Every effect has an id made from the account, the case and the step, and runs before the
step is recorded, so a crash, a rerun the same day or two runs racing repeat the effect
harmlessly and record the step once:
- a reminder or warning e-mail: the mailer's message key;
- the fee: an invoice id, through the shared issue path (one number, one invoice);
- a disconnection or reconnection order: the field order's id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from shared.bootstrap import Platform
from shared.collections.cases import CaseBook, case_so_far
from shared.collections.disputes import Disputes
from shared.collections.dunning import (
    Action,
    Close,
    DisconnectionState,
    Fire,
    OpenInvoice,
    Protections,
    Wait,
    decide,
)
from shared.collections.fees import FeeAccount, fee_draft
from shared.collections.field_orders import FieldOrders, NewOrder
from shared.collections.notices import Addressee, notice_mail
from shared.collections.policy import DEFAULT_POLICY_ID, DunningPolicy, built_in_policy
from shared.invoicing.billing import Supplier
from shared.invoicing.invoice import Party
from shared.invoicing.issuing import InvoiceIssuer
from shared.invoicing.numbering import InvoiceNumbering
from shared.observability import log_event
from shared.payments.ledger_store import LedgerStore
from shared.payments.projection import InvoiceProjection, settle_account
from shared.platform.documents import DocumentStore
from shared.platform.mail import Mailer
from shared.platform.messaging import MessageSender
from shared.resources import ACCOUNTS, CUSTOMERS, DUNNING_POLICIES, INVOICES, NUMBERING, SERVICE_POINTS

log = logging.getLogger(__name__)

OPEN_STATUSES = ("issued", "sent", "partly_paid")
HELD_NO_SERVICE_POINT = "held: no service point"
OutcomeStatus = Literal["step", "closed", "waiting", "skipped", "failed"]


@dataclass(frozen=True)
class AccountOutcome:
    account_id: str
    status: OutcomeStatus
    detail: str
    case_id: str | None = None
    step: int | None = None  # 1-based, as an operator counts
    action: str | None = None
    fee_invoice: str | None = None
    field_order: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc = {
            "accountId": self.account_id,
            "status": self.status,
            "detail": self.detail,
            "caseId": self.case_id,
            "step": self.step,
            "action": self.action,
            "feeInvoice": self.fee_invoice,
            "fieldOrder": self.field_order,
        }
        return {k: v for k, v in doc.items() if v is not None}


@dataclass
class RunReport:
    as_of: datetime
    on: date | None
    outcomes: list[AccountOutcome] = field(default_factory=list)

    def of(self, status: OutcomeStatus) -> list[AccountOutcome]:
        return [o for o in self.outcomes if o.status == status]

    def to_json(self) -> dict[str, Any]:
        return {
            "asOf": self.as_of.isoformat(),
            "localDate": self.on.isoformat() if self.on else None,
            "accounts": len(self.outcomes),
            "steps": [o.to_json() for o in self.of("step")],
            "closed": [o.to_json() for o in self.of("closed")],
            "waiting": len(self.of("waiting")),
            "skipped": [o.to_json() for o in self.of("skipped")],
            "failed": [o.to_json() for o in self.of("failed")],
        }


@dataclass(frozen=True)
class AccountView:
    """What collections needs from the account, its customer and its service point."""

    account_id: str
    name: str
    email: str | None
    billing_address: tuple[str, ...]
    payment_reference: str
    payment_terms_days: int
    service_point_id: str | None
    service_address: str
    time_zone: str | None
    segment: str
    protections: Protections
    customer_known: bool


@dataclass(frozen=True)
class Senders:
    """What taking a step needs beyond the documents: closing a case needs none of it."""

    bus: MessageSender
    mailer: Mailer
    mail_from: str
    supplier: Party


class DunningService:
    def __init__(self, documents: DocumentStore, senders: Senders | None = None) -> None:
        self._documents = documents
        self._senders = senders
        self._accounts = documents.container(ACCOUNTS.name)
        self._customers = documents.container(CUSTOMERS.name)
        self._service_points = documents.container(SERVICE_POINTS.name)
        self._policies = documents.container(DUNNING_POLICIES.name)
        self._invoices = documents.container(INVOICES.name)
        self._projection = InvoiceProjection(documents, LedgerStore(documents))
        self.cases = CaseBook(documents)
        self.disputes = Disputes(documents)
        self.orders = FieldOrders(documents)

    @classmethod
    def for_platform(cls, platform: Platform) -> DunningService:
        settings = platform.settings
        supplier = Supplier(settings.legal_entity, settings.legal_entity_abn)
        party = Party(supplier.name, supplier.address_lines, tax_id=supplier.abn)
        return cls(platform.documents, Senders(platform.bus, platform.mailer, settings.mail_from, party))

    @property
    def senders(self) -> Senders:
        if self._senders is None:
            raise RuntimeError("this DunningService was built to close cases only: it cannot mail or invoice")
        return self._senders

    # -- the run --------------------------------------------------------------------------

    def run(self, *, now: datetime, on: date | None = None) -> RunReport:
        """One daily run. ``on`` fixes every account's local date (an operator's --as-of);
        without it each account's date is ``now`` in its service point's zone."""
        self.senders  # noqa: B018 (fail before touching any account, not inside each)
        report = RunReport(as_of=now, on=on)
        for account_id in sorted(self.candidates(now=now, on=on)):
            report.outcomes.append(self.process(account_id, now=now, on=on, take_steps=True))
        log_event(
            log,
            "dunning run",
            accounts=len(report.outcomes),
            steps=len(report.of("step")),
            closed=len(report.of("closed")),
            failed=len(report.of("failed")),
        )
        return report

    def settle(self, account_id: str, *, now: datetime) -> AccountOutcome:
        """Close the account's case if a payment or a dispute ended it; takes no new step.
        For the payment ledger to call after it posts, and the dispute API after a dispute.

        Without an open case there is nothing to close (settling takes no step), so the
        account's position is not derived again: the ledger has just derived it, on every
        payment, and this runs right after."""
        if self.cases.open_case(account_id) is None:
            return AccountOutcome(account_id, "waiting", "no open dunning case")
        return self.process(account_id, now=now, on=None, take_steps=False)

    def candidates(self, *, now: datetime, on: date | None) -> set[str]:
        # No place on earth is more than a day ahead of UTC: what is due before that day is
        # the most that can be overdue anywhere today.
        upper = (on or (now.astimezone(UTC).date() + timedelta(days=1))).isoformat()
        accounts = self.cases.accounts_with_open_cases()
        for status in OPEN_STATUSES:
            for doc in self._invoices.query({"status": status}):
                due = doc.get("dueDate")
                if due and due < upper and doc.get("number"):
                    accounts.add(doc["accountId"])
        # Accounts migrated owing money: their opening balance is chased like an invoice.
        accounts |= LedgerStore(self._documents).opening_balance_accounts()
        return accounts

    def process(self, account_id: str, *, now: datetime, on: date | None, take_steps: bool) -> AccountOutcome:
        try:
            return self._process(account_id, now=now, on=on, take_steps=take_steps)
        except Exception as exc:  # one account's problem must not stop the others' collections
            log.exception("dunning failed for account %s", account_id)
            return AccountOutcome(account_id, "failed", f"{type(exc).__name__}: {exc}")

    def _process(self, account_id: str, *, now: datetime, on: date | None, take_steps: bool) -> AccountOutcome:
        account = self._view(account_id)
        if account is None:
            return AccountOutcome(account_id, "skipped", "no such account")
        today = on or self._local_today(account, now)
        policy = self.policy_for(account.segment)
        invoices = self._open_invoices(account_id, policy.currency)
        case_doc = self.cases.open_case(account_id)
        case = case_so_far(case_doc, self._disconnection(case_doc)) if case_doc else None
        decision = decide(
            policy=policy,
            invoices=invoices,
            protections=account.protections,
            disputed=bool(self.disputes.open_on(account_id)),
            case=case,
            today=today,
        )
        if isinstance(decision, Close):
            assert case_doc is not None
            return self._close(account, case_doc, decision, today=today, now=now)
        if isinstance(decision, Wait):
            return AccountOutcome(account_id, "waiting", decision.reason, case_doc["caseId"] if case_doc else None)
        if not take_steps:
            return AccountOutcome(account_id, "waiting", f"step {decision.index + 1} is for the daily run")
        if not account.customer_known:
            # Without the customer record we cannot know about life support or hardship.
            return AccountOutcome(account_id, "skipped", "no customer record: protections unknown, nothing chased")
        if case_doc is None:
            case_doc = self.cases.open(account_id, policy_id=policy.policy_id, today=today, at=now.isoformat())
        return self._fire(account, case_doc["caseId"], decision, policy, today=today, now=now)

    # -- reading ------------------------------------------------------------------------

    def policy_for(self, segment: str) -> DunningPolicy:
        for policy_id in (segment, DEFAULT_POLICY_ID):
            doc = self._policies.find(policy_id, policy_id)
            if doc is not None:
                return DunningPolicy.from_document(policy_id, doc)
        return built_in_policy()

    def _view(self, account_id: str) -> AccountView | None:
        doc = self._accounts.find(account_id, account_id)
        if doc is None:
            return None
        customer = self._customers.find(doc["customerId"], doc["customerId"]) if doc.get("customerId") else None
        point_id = doc.get("servicePointId")
        point = self._service_points.find(point_id, point_id) if point_id else None
        email = doc.get("email") or _delivery_email(customer)
        return AccountView(
            account_id=account_id,
            name=doc.get("name") or account_id,
            email=email,
            billing_address=tuple(doc.get("billingAddress") or ()),
            payment_reference=doc.get("paymentReference", ""),
            payment_terms_days=int(doc.get("paymentTermsDays", 14)),
            service_point_id=point_id if point else None,
            service_address=point.get("address", "") if point else "",
            time_zone=point.get("timeZone") if point else None,
            segment=(customer or {}).get("segment") or DEFAULT_POLICY_ID,
            # Anything but an explicit false counts as protected: a wrong "no" could cut off
            # someone's life support.
            protections=Protections(
                hardship=(customer or {}).get("hardshipProgram", False) is not False,
                life_support=(customer or {}).get("lifeSupport", False) is not False,
            ),
            customer_known=customer is not None,
        )

    @staticmethod
    def _local_today(account: AccountView, now: datetime) -> date:
        zone = ZoneInfo(account.time_zone) if account.time_zone else UTC
        return now.astimezone(zone).date()

    def _open_invoices(self, account_id: str, currency: str) -> list[OpenInvoice]:
        """What is open with a due date: the invoices and, for an account migrated owing
        money, its opening balance (due on its as-of day), all derived from the ledger."""
        position, items = self._projection.due_items(account_id)
        if position is not None and position.currency != currency:
            raise ValueError(f"account {account_id} is billed in {position.currency}; its policy is in {currency}")
        return [OpenInvoice(item.item_id, item.number, item.due_date, item.open) for item in items]

    def _disconnection(self, case_doc: dict[str, Any]) -> DisconnectionState:
        order_id = case_doc.get("disconnectionOrderId")
        order = self.orders.find(order_id) if order_id else None
        if order is None:
            return "none"
        return {"open": "ordered", "completed": "completed"}.get(order["status"], "cancelled")  # type: ignore[return-value]

    # -- acting ---------------------------------------------------------------------------

    def _fire(
        self, account: AccountView, case_id: str, decision: Fire, policy: DunningPolicy, *, today: date, now: datetime
    ) -> AccountOutcome:
        action: str = decision.action.value
        record: dict[str, Any] = {
            "index": decision.index,
            "kind": decision.step.kind.value,
            "daysOverdue": decision.overdue.days,
            "overdue": decision.overdue.amount.rounded().to_json(),
            "invoices": [i.number or i.invoice_id for i in decision.overdue.invoices],
            "on": today.isoformat(),
            "at": now.isoformat(),
            "reason": decision.reason,
        }
        fee_number = None
        if decision.action is Action.REMINDER_AND_FEE:
            fee = self._issue_fee(account, case_id, decision, today=today, now=now)
            fee_number = fee.number
            record |= {"feeInvoiceId": fee.invoice_id, "feeInvoiceNumber": fee.number, "fee": fee.total.to_json()}
        if decision.action.sends_mail:
            record["notice"] = self._send_notice(
                account,
                case_id,
                decision,
                today=today,
                notice_days=policy.min_days_between_steps,
                fee_number=fee_number,
            )
        if decision.action is Action.DISCONNECTION_ORDERED:
            if account.service_point_id is None:
                action = HELD_NO_SERVICE_POINT
            else:
                order = self.orders.create(
                    NewOrder("disconnection", account.account_id, case_id, account.service_point_id, decision.reason),
                    now=now,
                )
                record |= {"fieldOrderId": order["orderId"], "servicePointId": account.service_point_id}
        record["action"] = action
        self.cases.record_step(account.account_id, case_id, record)
        log_event(
            log, "dunning step", accountId=account.account_id, case=case_id, step=decision.index + 1, action=action
        )
        return AccountOutcome(
            account.account_id,
            "step",
            decision.reason,
            case_id,
            decision.index + 1,
            action,
            fee_invoice=record.get("feeInvoiceNumber"),
            field_order=record.get("fieldOrderId"),
        )

    def _issue_fee(self, account: AccountView, case_id: str, decision: Fire, *, today: date, now: datetime) -> Any:
        draft = fee_draft(
            account=FeeAccount(
                account.account_id,
                account.name,
                account.email,
                account.billing_address,
                account.payment_reference,
                account.service_point_id or "",
                account.service_address,
            ),
            supplier=self.senders.supplier,
            step=decision.step,
            case_id=case_id,
            step_index=decision.index,
            today=today,
            reason=decision.reason,
        )
        issuer = InvoiceIssuer(
            self._invoices, InvoiceNumbering(self._documents.container(NUMBERING.name)), self.senders.bus
        )
        issued = issuer.issue(
            draft,
            now=now,
            local_today=today,
            payment_terms_days=account.payment_terms_days,
            message_id=f"dunning-fee:{draft.invoice_id}",
        )
        settle_account(self._documents, account.account_id)  # credit on the account pays the fee at once
        return issued

    def _send_notice(
        self,
        account: AccountView,
        case_id: str,
        decision: Fire,
        *,
        today: date,
        notice_days: int,
        fee_number: str | None,
    ) -> dict[str, Any]:
        if not account.email:
            return {"channel": "post", "note": "no e-mail address: print and post the notice"}
        mail = notice_mail(
            to=Addressee(
                account.account_id, account.name, account.email, account.payment_reference, account.service_address
            ),
            action=decision.action,
            overdue=decision.overdue,
            case_id=case_id,
            step_index=decision.index,
            today=today,
            notice_days=notice_days,
            sender=self.senders.mail_from,
            supplier=self.senders.supplier.name,
            fee_invoice=fee_number,
        )
        self.senders.mailer.send(mail)
        return {"channel": "email", "to": account.email, "messageKey": mail.message_key}

    def _close(
        self, account: AccountView, case_doc: dict[str, Any], decision: Close, *, today: date, now: datetime
    ) -> AccountOutcome:
        case_id = case_doc["caseId"]
        closing: dict[str, Any] = {
            "closedOn": today.isoformat(),
            "closedAt": now.isoformat(),
            "closeReason": decision.reason,
            "closeDetail": decision.detail,
        }
        reconnect = decision.reconnect
        disconnection_id = case_doc.get("disconnectionOrderId")
        if decision.cancel_disconnection and disconnection_id:
            order = self.orders.find(disconnection_id)
            assert order is not None
            order = self.orders.cancel(disconnection_id, order["servicePointId"], why=decision.detail, now=now)
            closing["disconnectionOrder"] = order["status"]
            reconnect = reconnect or order["status"] == "completed"  # the crew was quicker
        if reconnect and disconnection_id:
            disconnected = self.orders.find(disconnection_id)
            assert disconnected is not None
            order = self.orders.create(
                NewOrder(
                    "reconnection",
                    account.account_id,
                    case_id,
                    disconnected["servicePointId"],
                    f"case {case_id} closed: {decision.detail}",
                ),
                now=now,
            )
            closing["reconnectionOrderId"] = order["orderId"]
        self.cases.close(account.account_id, case_id, closing)
        log_event(log, "dunning case closed", accountId=account.account_id, case=case_id, reason=decision.reason)
        return AccountOutcome(
            account.account_id,
            "closed",
            f"{decision.reason}: {decision.detail}",
            case_id,
            field_order=closing.get("reconnectionOrderId"),
        )


def _delivery_email(customer: dict[str, Any] | None) -> str | None:
    for role in ("billing", "primary"):
        for contact in (customer or {}).get("contacts", []):
            if contact.get("role") == role and contact.get("email"):
                return str(contact["email"])
    return None
