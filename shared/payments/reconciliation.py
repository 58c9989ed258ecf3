"""Payments reconciliation for a period: what the ledger says came in and went out per channel
and branch, against what each gateway says it paid out, and every difference by id.

The period is ``[from, to)`` in local dates of a stated time zone: it starts at local midnight
of ``from`` and ends at local midnight of ``to`` (a DST month is 743 or 745 hours long). A
posting belongs to the period its ``occurred_at`` falls in.

The ledger side, per row (one row per channel, branch and currency; money never mixes
currencies in one cell):
- ``received``: payments, each the amount its posting set took into the channel's clearing;
- ``allocated`` / ``unallocated``: how each of those payments was applied the moment it was
  received (in the ledger's own order, against the invoices issued before the period's end):
  to open invoices, or left over as account credit; money naming no account (suspense) is all
  unallocated. ``allocated + unallocated = received``, payment by payment;
- ``refunded``, ``chargedBack``, ``disputeReversals``: reversals, by the branch of the account
  whose payment they reverse;
- the branch is the one each posting set recorded when it was posted, so an account moving to
  another branch leaves its past months where they were. Sets posted before the branch was
  recorded fall back to the account's branch now, and the report says so in ``notes``;
- ``netReceived``: the change of the channel's clearing account (debits less credits), read from
  the postings themselves, so ``received - refunded - chargedBack + disputeReversals`` checks it.

The channel is the gateway whose clearing account the posting set moves (``clearing:stripe`` is
``stripe``), so a new channel (a bank feed, cash at an agent) reports without a change here.

The payout side, only for channels whose gateway reports payouts line by line (Stripe):
- every ledger posting of the channel is matched with the payout line of the same balance
  transaction: exactly, by the balance transaction id the posting set recorded from the
  gateway's event (a posting that has one is matched by nothing else, and its line is never
  another posting's); for sets without one (posted before it was recorded, or from an event
  that did not name it), by the line's ``source_id`` (the charge, refund or dispute id) where
  given, else inferred by category and the payment it belongs to, preferring the line of the
  same amount (``notes`` counts those). Matching runs over all time, so a payment at 23:59 on
  the last day that Stripe paid out next month is matched, not reported twice;
- the lines in the period are those matched to the period's postings, and unmatched lines
  created in it; ``gatewayFees`` is their fees (a ``fee``-category line, such as a Radar fee, is
  a fee in full), ``payoutGross`` the rest, ``payoutNet = payoutGross - gatewayFees``;
- ``expectedPayout = netReceived - gatewayFees`` over the row's reconciled channels, and
  ``difference = payoutNet - expectedPayout``, which the listed differences explain to the cent:
  a ledger posting with no payout line, a payout line with no ledger posting, an amount that
  differs. A row with no reconciled channel shows these columns empty, not zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from shared.money import Money
from shared.payments.allocation import account_position
from shared.payments.ledger import (
    CLEARING_PREFIX,
    DEFAULT_BRANCH,
    UNALLOCATED,
    PostingSet,
    PostingType,
    Side,
)
from shared.payments.payouts import PayoutLine

ZERO = Decimal(0)
SUSPENSE_BRANCH = "unallocated"  # money naming no account is its own branch
UNMATCHED_BRANCH = "unmatched"  # payout lines no ledger posting explains have no branch
FEE_CATEGORY = "fee"

# Which Stripe reporting category each posting type appears under in a payout report.
CATEGORY = {
    PostingType.PAYMENT: "charge",
    PostingType.REFUND: "refund",
    PostingType.CHARGEBACK: "dispute",
    PostingType.CHARGEBACK_REVERSED: "dispute_reversal",
}

DifferenceKind = Literal[
    "ledger-without-payout", "payout-without-ledger", "amount-mismatch", "currency-mismatch", "ledger-problem"
]
MatchedBy = Literal["balance-transaction", "source-id", "inferred"]


@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date
    time_zone: str

    def __post_init__(self) -> None:
        if self.date_to <= self.date_from:
            raise ValueError(f"the period ends ({self.date_to}) before or when it starts ({self.date_from})")
        try:
            ZoneInfo(self.time_zone)
        except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"{self.time_zone!r} is not an IANA time zone (e.g. Australia/Sydney, UTC)") from None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, tzinfo=ZoneInfo(self.time_zone))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.date_to, time.min, tzinfo=ZoneInfo(self.time_zone))

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class Movement:
    """One posting set that moved money through a channel's clearing account."""

    posting: PostingSet
    channel: str
    branch: str
    amount: Money  # unsigned, as the posting set states it
    signed: Money  # the clearing account's change: money in positive, out negative
    allocated: Money | None = None  # payments in the period only
    branch_recorded: bool = True  # False: posted before branches were recorded, so the account's branch now

    @property
    def own_id(self) -> str | None:
        """The gateway's id of this balance transaction's source: a refund's or dispute's id,
        a payment's charge."""
        if self.posting.type is PostingType.PAYMENT:
            return self.posting.charge_id
        prefix = f"{self.posting.type.value}:{self.channel}:"  # reversal ids: "<type>:<provider>:<gateway id>"
        return self.posting.posting_id.removeprefix(prefix) if self.posting.posting_id.startswith(prefix) else None


@dataclass(frozen=True)
class Difference:
    kind: DifferenceKind
    channel: str
    currency: str | None
    detail: str
    branch: str | None = None
    posting_id: str | None = None
    account_id: str | None = None
    payment_id: str | None = None
    balance_transaction_id: str | None = None
    payout_id: str | None = None
    ledger_amount: Money | None = None
    payout_amount: Money | None = None

    @property
    def amount(self) -> Money | None:
        """What it adds to the row's difference (payout less ledger), when both are one currency."""
        if self.kind == "currency-mismatch" or self.kind == "ledger-problem":
            return None
        currency = (self.ledger_amount or self.payout_amount).currency  # type: ignore[union-attr]
        payout = self.payout_amount or Money.zero(currency)
        ledger = self.ledger_amount or Money.zero(currency)
        return payout - ledger

    def to_json(self) -> dict[str, Any]:
        amount = self.amount
        return {
            "kind": self.kind,
            "channel": self.channel,
            "branch": self.branch,
            "currency": self.currency,
            "postingId": self.posting_id,
            "accountId": self.account_id,
            "paymentId": self.payment_id,
            "balanceTransactionId": self.balance_transaction_id,
            "payoutId": self.payout_id,
            "ledgerAmount": _text(self.ledger_amount),
            "payoutAmount": _text(self.payout_amount),
            "difference": _text(amount),
            "detail": self.detail,
        }


MONEY_COLUMNS = (
    "received",
    "allocated",
    "unallocated",
    "refunded",
    "chargedBack",
    "disputeReversals",
    "netReceived",
)
PAYOUT_COLUMNS = ("gatewayFees", "expectedPayout", "payoutGross", "payoutNet", "difference")


@dataclass
class _Sums:
    payments: int = 0
    money: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(MONEY_COLUMNS, ZERO))
    reconciled: bool = False  # the row holds a channel whose gateway reports payouts
    reconciled_net: Decimal = ZERO
    fees: Decimal = ZERO
    payout_gross: Decimal = ZERO


@dataclass(frozen=True)
class Row:
    dimension: Literal["channel", "branch", "total"]
    name: str
    currency: str
    payments: int
    money: Mapping[str, Money]  # MONEY_COLUMNS
    payout: Mapping[str, Money] | None  # PAYOUT_COLUMNS; None: no channel of this row reports payouts

    def __getitem__(self, column: str) -> Money | None:
        if column in self.money:
            return self.money[column]
        return None if self.payout is None else self.payout[column]

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {self.dimension: self.name, "currency": self.currency, "payments": self.payments}
        body |= {column: _text(self[column]) for column in (*MONEY_COLUMNS, *PAYOUT_COLUMNS)}
        return body


@dataclass(frozen=True)
class Note:
    """Something the reader should know about how a figure was reached (not a difference)."""

    kind: Literal["branch-at-report-time", "payout-lines-inferred"]
    detail: str
    postings: int
    accounts: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "postings": self.postings, "accounts": list(self.accounts), "detail": self.detail}


@dataclass(frozen=True)
class Reconciliation:
    period: Period
    channels: tuple[Row, ...]
    branches: tuple[Row, ...]
    totals: tuple[Row, ...]
    differences: tuple[Difference, ...]
    reconciled_channels: tuple[str, ...]
    branch_filter: str | None = None
    channel_filter: str | None = None
    payouts: tuple[PayoutTotal, ...] = ()  # what each payout of the period's lines came to
    notes: tuple[Note, ...] = ()

    @property
    def balanced(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        return {
            "period": {
                "from": self.period.date_from.isoformat(),
                "to": self.period.date_to.isoformat(),
                "timeZone": self.period.time_zone,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "filters": {"branch": self.branch_filter, "channel": self.channel_filter},
            "balanced": self.balanced,
            "reconciledChannels": list(self.reconciled_channels),
            "byChannel": [row.to_json() for row in self.channels],
            "byBranch": [row.to_json() for row in self.branches],
            "total": [row.to_json() for row in self.totals],
            "differences": [difference.to_json() for difference in self.differences],
            "payouts": [payout.to_json() for payout in self.payouts],
            "notes": [note.to_json() for note in self.notes],
        }


@dataclass(frozen=True)
class PayoutTotal:
    """One payout as the period's lines make it up: what the bank statement should show arriving
    (a payout also settling other periods' lines is shown with only this period's part)."""

    channel: str
    payout_id: str
    currency: str
    effective_at: datetime | None
    lines: int
    gross: Money
    fees: Money
    net: Money

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "payoutId": self.payout_id,
            "currency": self.currency,
            "effectiveAt": self.effective_at.isoformat() if self.effective_at else None,
            "lines": self.lines,
            "gross": _text(self.gross),
            "fees": _text(self.fees),
            "net": _text(self.net),
        }


def payout_totals(paid_out: Iterable[tuple[str, PayoutLine]]) -> tuple[PayoutTotal, ...]:
    grouped: dict[tuple[str, str, str], list[PayoutLine]] = defaultdict(list)
    for channel, line in paid_out:
        grouped[(channel, line.payout_id, line.currency)].append(line)
    totals = []
    for (channel, payout_id, currency), lines in sorted(grouped.items()):
        gross = sum((_line_gross(line).amount for line in lines), ZERO)
        fees = sum((_line_fee(line).amount for line in lines), ZERO)
        effective = next((line.payout_effective_at for line in lines if line.payout_effective_at), None)
        totals.append(
            PayoutTotal(
                channel,
                payout_id,
                currency,
                effective,
                len(lines),
                Money(gross, currency).rounded(),
                Money(fees, currency).rounded(),
                Money(gross - fees, currency).rounded(),
            )
        )
    return tuple(totals)


def _text(money: Money | None) -> str | None:
    return None if money is None else str(money.amount)


# -- the ledger side ---------------------------------------------------------------------------


def channel_of(posting: PostingSet) -> str | None:
    """The gateway whose clearing account the set moves; None for a set that moves no cash."""
    for posting_line in posting.postings:
        if posting_line.ledger_account.startswith(CLEARING_PREFIX):
            return posting_line.ledger_account[len(CLEARING_PREFIX) :]
    return None


def _money_order(posting: PostingSet) -> tuple[object, ...]:
    # The order allocation.py folds money in: by time, a payment before what reverses it, by id.
    rank = {PostingType.PAYMENT: 0, PostingType.REFUND: 1, PostingType.CHARGEBACK: 1}.get(posting.type, 2)
    return posting.occurred_at, rank, posting.posting_id


def _allocations(account_id: str, sets: Sequence[PostingSet], period: Period) -> dict[str, Money]:
    """What each of the account's payments in the period paid off on invoices when it came in:
    the drop in the account's open invoices that folding it in caused."""
    invoices = [s for s in sets if s.type is PostingType.INVOICE and s.occurred_at < period.end]
    money = sorted((s for s in sets if s.type is not PostingType.INVOICE), key=_money_order)
    allocated: dict[str, Money] = {}
    for index, posting in enumerate(money):
        if posting.type is not PostingType.PAYMENT or not period.contains(posting.occurred_at):
            continue
        if account_id == UNALLOCATED:
            allocated[posting.posting_id] = Money.zero(posting.currency)
            continue
        before = account_position(account_id, [*invoices, *money[:index]], currency=posting.currency)
        after = account_position(account_id, [*invoices, *money[: index + 1]], currency=posting.currency)
        allocated[posting.posting_id] = before.open_total - after.open_total
    return allocated


def branch_of(posting: PostingSet, branches: Mapping[str, str]) -> tuple[str, bool]:
    """The branch a set counts in, and whether the set recorded it: suspense is its own branch;
    a set posted before branches were recorded takes the account's branch now (``branches``)."""
    if posting.account_id == UNALLOCATED:
        return SUSPENSE_BRANCH, True
    if posting.branch:
        return posting.branch, True
    return branches.get(posting.account_id, DEFAULT_BRANCH), False


def movements(
    sets: Iterable[PostingSet], branches: Mapping[str, str], period: Period, problems: list[Difference]
) -> list[Movement]:
    """Every posting set that moved cash, any time, with its channel and branch; the period's
    payments carry their allocation. ``branches`` is each account's branch now, for sets that
    did not record theirs. Accounts whose allocation cannot be worked out are named in
    ``problems``."""
    by_account: dict[str, list[PostingSet]] = defaultdict(list)
    for posting in sets:
        by_account[posting.account_id].append(posting)
    found: list[Movement] = []
    for account_id, account_sets in by_account.items():
        try:
            allocated = _allocations(account_id, account_sets, period)
        except ValueError as exc:  # e.g. an account with postings in two currencies
            allocated = {}
            problems.append(
                Difference("ledger-problem", "", None, f"account {account_id}: {exc}", account_id=account_id)
            )
        for posting in account_sets:
            channel = channel_of(posting)
            if channel is None or posting.type is PostingType.INVOICE:
                continue
            branch, recorded = branch_of(posting, branches)
            found.append(
                Movement(
                    posting=posting,
                    channel=channel,
                    branch=branch,
                    amount=posting.total(Side.DEBIT),
                    signed=posting.change(f"{CLEARING_PREFIX}{channel}"),
                    allocated=allocated.get(posting.posting_id),
                    branch_recorded=recorded,
                )
            )
    return found


# -- the payout side -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    movement: Movement
    line: PayoutLine
    matched_by: MatchedBy = "inferred"


def match_lines(channel_movements: Sequence[Movement], lines: Sequence[PayoutLine]) -> list[Match]:
    """Pair ledger postings with payout lines, each at most once: first by the balance
    transaction id a posting recorded (exact, and final: such a posting is matched by nothing
    else); then, for postings without one, by the line's source id, then by category and
    payment, the same amount first."""
    claimed: set[str] = set()
    matches: list[Match] = []
    unmatched: list[Movement] = []
    by_transaction = {line.balance_transaction_id: line for line in lines}
    ordered = sorted(channel_movements, key=lambda m: _money_order(m.posting))
    without_id = []
    for movement in ordered:
        transaction = movement.posting.balance_transaction_id
        if transaction is None:
            without_id.append(movement)
        elif transaction in by_transaction and transaction not in claimed:
            claimed.add(transaction)
            matches.append(Match(movement, by_transaction[transaction], "balance-transaction"))
    by_source: dict[str, list[PayoutLine]] = defaultdict(list)
    for line in lines:
        if line.source_id:
            by_source[line.source_id].append(line)
    for movement in without_id:
        category = CATEGORY.get(movement.posting.type)
        own = movement.own_id
        exact = [
            line
            for line in by_source.get(own or "", [])
            if line.category == category and line.balance_transaction_id not in claimed
        ]
        if exact:
            claimed.add(exact[0].balance_transaction_id)
            matches.append(Match(movement, exact[0], "source-id"))
        else:
            unmatched.append(movement)
    by_payment: dict[tuple[str, str], list[PayoutLine]] = defaultdict(list)
    for line in sorted(lines, key=lambda line: (line.created_at, line.balance_transaction_id)):
        for payment in {line.payment_intent_id, line.charge_id} - {None}:
            by_payment[(line.category, str(payment))].append(line)
    for movement in unmatched:
        category = CATEGORY.get(movement.posting.type, "")
        own = movement.own_id
        seen: dict[str, PayoutLine] = {}
        for payment in (movement.posting.payment_id, movement.posting.charge_id):
            for line in by_payment.get((category, payment or ""), []):
                seen.setdefault(line.balance_transaction_id, line)
        candidates = [
            line
            for line in seen.values()
            if line.balance_transaction_id not in claimed and not (line.source_id and own and line.source_id != own)
        ]
        if not candidates:
            continue
        same = [line for line in candidates if line.gross == movement.signed]
        chosen = (same or candidates)[0]
        claimed.add(chosen.balance_transaction_id)
        matches.append(Match(movement, chosen))
    return matches


def _line_fee(line: PayoutLine) -> Money:
    # A fee-category line (a Radar or account fee) is a fee in full; any other line's fee column.
    return line.fee - line.gross if line.category == FEE_CATEGORY else line.fee


def _line_gross(line: PayoutLine) -> Money:
    return Money.zero(line.currency) if line.category == FEE_CATEGORY else line.gross


# -- the report ------------------------------------------------------------------------------------


def reconcile(
    *,
    period: Period,
    posting_sets: Sequence[PostingSet],
    branches: Mapping[str, str],
    payout_lines: Mapping[str, Sequence[PayoutLine]],
    reconciled_channels: Iterable[str],
    branch: str | None = None,
    channel: str | None = None,
    problems: Sequence[str] = (),
) -> Reconciliation:
    """The reconciliation of ``period``. ``posting_sets`` is the whole ledger (invoices too: the
    allocation needs them), ``branches`` each account's branch now (for sets posted before they
    recorded their own), ``payout_lines`` each provider's
    imported payout lines, ``reconciled_channels`` the channels whose gateway reports payouts;
    ``problems`` are ledger documents the caller could not read (each becomes a difference, shown
    whatever the filter). ``branch`` and ``channel`` keep only what belongs to them."""
    differences = [Difference("ledger-problem", "", None, problem) for problem in problems]
    reconciled = set(reconciled_channels) | {provider for provider, lines in payout_lines.items() if lines}
    every = movements(posting_sets, branches, period, differences)
    in_period = [m for m in every if period.contains(m.posting.occurred_at)]
    paid_out: list[tuple[str, str, PayoutLine]] = []  # (channel, branch, line) of the period
    inferred: list[Movement] = []  # the period's postings paired with their line by inference

    def kept(row_channel: str, row_branch: str | None) -> bool:
        return channel in (None, row_channel) and branch in (None, row_branch)

    for name in sorted(reconciled):
        lines = payout_lines.get(name, ())
        matches = match_lines([m for m in every if m.channel == name], lines)
        paid_out += _compare(name, matches, in_period, lines, period, differences)
        inferred += [
            m.movement
            for m in matches
            if m.matched_by == "inferred" and period.contains(m.movement.posting.occurred_at)
        ]

    rows: dict[tuple[str, str, str], _Sums] = defaultdict(_Sums)
    for movement in in_period:
        if kept(movement.channel, movement.branch):
            for key in _keys(movement.channel, movement.branch, movement.posting.currency):
                _add_movement(rows[key], movement, reconciled)
    for line_channel, line_branch, line in paid_out:
        if kept(line_channel, line_branch):
            for key in _keys(line_channel, line_branch, line.currency):
                _add_line(rows[key], line)
    built = sorted((_row(key, sums) for key, sums in rows.items()), key=_row_order)
    return Reconciliation(
        period=period,
        channels=tuple(row for row in built if row.dimension == "channel"),
        branches=tuple(row for row in built if row.dimension == "branch"),
        totals=tuple(row for row in built if row.dimension == "total"),
        differences=tuple(
            sorted(
                (d for d in differences if d.kind == "ledger-problem" or kept(d.channel, d.branch)),
                key=_difference_order,
            )
        ),
        reconciled_channels=tuple(sorted(reconciled)),
        branch_filter=branch,
        channel_filter=channel,
        payouts=payout_totals((c, line) for c, b, line in paid_out if kept(c, b)),
        notes=_notes(
            [m for m in in_period if not m.branch_recorded and kept(m.channel, m.branch)],
            [m for m in inferred if kept(m.channel, m.branch)],
        ),
    )


def _notes(current_branch: Sequence[Movement], inferred: Sequence[Movement]) -> tuple[Note, ...]:
    notes = []
    if current_branch:
        notes.append(
            Note(
                "branch-at-report-time",
                f"{len(current_branch)} posting set(s) of the period were posted before GridLedger recorded the "
                "branch at posting: they are reported in their account's branch as it is now, so they move if "
                "the account changes branch",
                len(current_branch),
                tuple(sorted({m.posting.account_id for m in current_branch})),
            )
        )
    if inferred:
        notes.append(
            Note(
                "payout-lines-inferred",
                f"{len(inferred)} posting set(s) of the period record no balance transaction id and their payout "
                "line names no source id: each was paired with a line by category, payment and amount",
                len(inferred),
                tuple(sorted({m.posting.account_id for m in inferred})),
            )
        )
    return tuple(notes)


def _keys(channel: str, branch: str, currency: str) -> tuple[tuple[str, str, str], ...]:
    return ("channel", channel, currency), ("branch", branch, currency), ("total", "total", currency)


def _compare(
    channel: str,
    matches: Sequence[Match],
    in_period: Sequence[Movement],
    lines: Sequence[PayoutLine],
    period: Period,
    differences: list[Difference],
) -> list[tuple[str, str, PayoutLine]]:
    """The channel's payout lines that belong to the period (with the branch each counts in),
    adding every difference found to ``differences``."""
    paid_out: list[tuple[str, str, PayoutLine]] = []
    for match in matches:
        movement, line = match.movement, match.line
        if not period.contains(movement.posting.occurred_at):
            continue  # the line settles a posting of another period: reported there
        if line.currency != movement.posting.currency:
            differences.append(_currency_mismatch(channel, movement, line))
            continue
        paid_out.append((channel, movement.branch, line))
        if line.gross != movement.signed:
            differences.append(_difference("amount-mismatch", channel, movement, line))
    matched_postings = {match.movement.posting.posting_id for match in matches}
    for movement in in_period:
        if movement.channel == channel and movement.posting.posting_id not in matched_postings:
            differences.append(_difference("ledger-without-payout", channel, movement, None))
    matched_lines = {match.line.balance_transaction_id for match in matches}
    for line in lines:
        if line.balance_transaction_id in matched_lines or not period.contains(line.created_at):
            continue
        paid_out.append((channel, UNMATCHED_BRANCH, line))
        if line.category != FEE_CATEGORY:
            differences.append(_difference("payout-without-ledger", channel, None, line))
    return paid_out


def _add_movement(sums: _Sums, movement: Movement, reconciled: set[str]) -> None:
    kind = movement.posting.type
    amount = movement.amount.amount
    if kind is PostingType.PAYMENT:
        sums.payments += 1
        sums.money["received"] += amount
        allocated = movement.allocated.amount if movement.allocated is not None else ZERO
        sums.money["allocated"] += allocated
        sums.money["unallocated"] += amount - allocated
    elif kind is PostingType.REFUND:
        sums.money["refunded"] += amount
    elif kind is PostingType.CHARGEBACK:
        sums.money["chargedBack"] += amount
    elif kind is PostingType.CHARGEBACK_REVERSED:
        sums.money["disputeReversals"] += amount
    sums.money["netReceived"] += movement.signed.amount
    if movement.channel in reconciled:
        sums.reconciled = True
        sums.reconciled_net += movement.signed.amount


def _add_line(sums: _Sums, line: PayoutLine) -> None:
    sums.reconciled = True
    sums.fees += _line_fee(line).amount
    sums.payout_gross += _line_gross(line).amount


def _row(key: tuple[str, str, str], sums: _Sums) -> Row:
    dimension, name, currency = key

    def money(amount: Decimal) -> Money:
        return Money(amount, currency).rounded()  # sums of cents: only the scale changes ("0" -> "0.00")

    payout = None
    if sums.reconciled:
        expected = sums.reconciled_net - sums.fees
        payout_net = sums.payout_gross - sums.fees
        payout = {
            "gatewayFees": money(sums.fees),
            "expectedPayout": money(expected),
            "payoutGross": money(sums.payout_gross),
            "payoutNet": money(payout_net),
            "difference": money(payout_net - expected),
        }
    return Row(
        dimension=dimension,  # type: ignore[arg-type]
        name=name,
        currency=currency,
        payments=sums.payments,
        money={column: money(amount) for column, amount in sums.money.items()},
        payout=payout,
    )


def _row_order(row: Row) -> tuple[str, str]:
    return row.name, row.currency  # rows are split by dimension after sorting


def _difference_order(difference: Difference) -> tuple[str, ...]:
    return (
        difference.channel,
        difference.kind,
        difference.posting_id or "",
        difference.balance_transaction_id or "",
        difference.detail,
    )


def _difference(kind: DifferenceKind, channel: str, movement: Movement | None, line: PayoutLine | None) -> Difference:
    posting = movement.posting if movement else None
    currency = posting.currency if posting else line.currency  # type: ignore[union-attr]
    if kind == "ledger-without-payout":
        detail = f"{posting.type.value} {posting.posting_id} is in no payout line"  # type: ignore[union-attr]
        if posting.balance_transaction_id:  # type: ignore[union-attr]
            detail += f" (its balance transaction {posting.balance_transaction_id} is in none imported)"  # type: ignore[union-attr]
    elif kind == "payout-without-ledger":
        detail = f"{line.category} line {line.balance_transaction_id} matches no ledger posting"  # type: ignore[union-attr]
    else:
        detail = (
            f"{posting.posting_id} posted {movement.signed.amount}, "  # type: ignore[union-attr]
            f"payout line {line.balance_transaction_id} says {line.gross.amount}"  # type: ignore[union-attr]
        )
    difference = Difference(
        kind=kind,
        channel=channel,
        currency=currency,
        detail=detail,
        branch=movement.branch if movement else UNMATCHED_BRANCH,
        ledger_amount=movement.signed if movement else None,
        payout_amount=line.gross if line else None,
    )
    if posting is not None:
        difference = replace(
            difference,
            posting_id=posting.posting_id,
            account_id=posting.account_id,
            payment_id=posting.payment_id,
            balance_transaction_id=posting.balance_transaction_id,
        )
    if line is not None:
        difference = replace(
            difference,
            balance_transaction_id=line.balance_transaction_id,
            payout_id=line.payout_id,
            payment_id=difference.payment_id or line.payment_intent_id or line.charge_id,
        )
    return difference


def _currency_mismatch(channel: str, movement: Movement, line: PayoutLine) -> Difference:
    posting = movement.posting
    return Difference(
        kind="currency-mismatch",
        channel=channel,
        currency=posting.currency,
        detail=f"{posting.posting_id} is in {posting.currency}, payout line {line.balance_transaction_id} in "
        f"{line.currency}: not compared",
        branch=movement.branch,
        posting_id=posting.posting_id,
        account_id=posting.account_id,
        payment_id=posting.payment_id,
        balance_transaction_id=line.balance_transaction_id,
        payout_id=line.payout_id,
        ledger_amount=movement.signed,
        payout_amount=line.gross,
    )


# -- as tables, for the CSV and XLSX exports -------------------------------------------------------

Cell = str | Decimal | int | None
SUMMARY_COLUMNS = ("section", "channel", "branch", "currency", "payments", *MONEY_COLUMNS, *PAYOUT_COLUMNS)
DIFFERENCE_COLUMNS = (
    "kind",
    "postingId",
    "accountId",
    "paymentId",
    "balanceTransactionId",
    "payoutId",
    "ledgerAmount",
    "payoutAmount",
    "detail",
)
# The CSV is one table: the summary rows, then one row per difference (section "difference",
# its amount in the ``difference`` column), so a spreadsheet filter on ``section`` splits them.
CSV_COLUMNS = (*SUMMARY_COLUMNS, *DIFFERENCE_COLUMNS)


def summary_rows(report: Reconciliation) -> list[tuple[Cell, ...]]:
    """Channels, then branches, then totals, in SUMMARY_COLUMNS."""

    def cells(row: Row) -> tuple[Cell, ...]:
        channel = row.name if row.dimension == "channel" else None
        branch = row.name if row.dimension == "branch" else None
        amounts = tuple(_amount(row[column]) for column in (*MONEY_COLUMNS, *PAYOUT_COLUMNS))
        return (row.dimension, channel, branch, row.currency, row.payments, *amounts)

    return [cells(row) for row in (*report.channels, *report.branches, *report.totals)]


def difference_rows(report: Reconciliation) -> list[tuple[Cell, ...]]:
    """One row per difference, in ``("channel", "branch", "currency", "difference", *DIFFERENCE_COLUMNS)``."""
    return [
        (
            d.channel or None,
            d.branch,
            d.currency,
            _amount(d.amount),
            d.kind,
            d.posting_id,
            d.account_id,
            d.payment_id,
            d.balance_transaction_id,
            d.payout_id,
            _amount(d.ledger_amount),
            _amount(d.payout_amount),
            d.detail,
        )
        for d in report.differences
    ]


DIFFERENCE_SHEET_COLUMNS = ("channel", "branch", "currency", "difference", *DIFFERENCE_COLUMNS)


def csv_rows(report: Reconciliation) -> list[tuple[Cell, ...]]:
    """The summary and the differences as one table in CSV_COLUMNS."""
    rows = [(*row, *(None,) * len(DIFFERENCE_COLUMNS)) for row in summary_rows(report)]
    gap = len(MONEY_COLUMNS) + len(PAYOUT_COLUMNS) - 1  # every amount column but ``difference``
    for channel, branch, currency, amount, *rest in difference_rows(report):
        rows.append(("difference", channel, branch, currency, None, *(None,) * gap, amount, *rest))
    return rows


PAYOUT_SHEET_COLUMNS = ("channel", "payoutId", "currency", "effectiveAt", "lines", "gross", "fees", "net")


def payout_rows(report: Reconciliation) -> list[tuple[Cell, ...]]:
    return [
        (
            p.channel,
            p.payout_id,
            p.currency,
            p.effective_at.isoformat() if p.effective_at else None,
            p.lines,
            p.gross.amount,
            p.fees.amount,
            p.net.amount,
        )
        for p in report.payouts
    ]


def _amount(money: Money | None) -> Decimal | None:
    return None if money is None else money.amount
