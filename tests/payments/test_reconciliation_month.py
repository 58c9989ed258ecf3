"""The issue's done-when: the reconciliation report balances to the cent on a generated month.

October 2026 in Australia/Sydney (the month daylight saving starts: 743 hours). A fixed seed
makes 300 accounts in three branches (a few billed in NZD) with issued invoices, then pays them
through the real PaymentLedger over Stripe and the generic gateway: full, partial, over- and
split payments, money quoting no known reference (suspense), then Stripe refunds, chargebacks and
one won dispute. Stripe's payout report for the month is written as finance would download it,
with fees, a standalone Radar fee and one deliberate mismatch (a charge paid out 1.00 more than
posted), and imported through the real parser.

Every expected figure is summed here from what the test generated, never from the report.
"""

from __future__ import annotations

import random
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.money import Money
from shared.payments.facts import ChargebackOpened, ChargebackReversed, PaymentReceived, RefundIssued
from shared.payments.ledger_command import check_ledger
from shared.payments.ledger_service import PaymentLedger
from shared.payments.reconciliation import MONEY_COLUMNS, PAYOUT_COLUMNS, Period
from shared.payments.reconciliation_command import run_reconciliation
from shared.payments.reconciliation_service import PayoutStore, ReconciliationService
from shared.resources import ACCOUNTS
from tests.conftest import Clock
from tests.payments.support import issue_invoice, ledger_platform

SYDNEY = ZoneInfo("Australia/Sydney")
PERIOD = Period(date(2026, 10, 1), date(2026, 11, 1), "Australia/Sydney")
BRANCHES = ("north", "south", None)  # None: no branch field, so the account is in "main"
CENTS = Decimal("0.01")


@dataclass
class Month:
    """What the generator did, in its own words: the source of every expected figure."""

    payments: list[tuple[PaymentReceived, str]] = field(default_factory=list)  # (fact, branch)
    reversals: list[tuple[RefundIssued | ChargebackOpened | ChargebackReversed, str]] = field(default_factory=list)
    allocated: dict[str, Decimal] = field(default_factory=dict)  # payment id -> allocated at receipt
    payout_lines: list[dict[str, str]] = field(default_factory=list)
    mismatch: tuple[str, str] = ("", "")  # (payment id, balance transaction id)


def local(day: int, minute: int) -> datetime:
    """``minute`` minutes after 08:00 Sydney time on ``day`` October, in UTC as the ledger stores it."""
    return datetime(2026, 10, day, 8, 0, tzinfo=SYDNEY).astimezone(UTC) + timedelta(minutes=minute)


def stripe_fee(gross_cents: int) -> int:
    return int((Decimal(gross_cents) * Decimal("0.0175")).quantize(Decimal(1), rounding=ROUND_HALF_UP)) + 30


def generate(platform) -> Month:
    rng = random.Random(20261001)
    documents = platform.documents
    ledger = PaymentLedger(documents, platform.bus)
    month = Month()
    accounts = documents.container(ACCOUNTS.name)
    minute = 0
    for n in range(300):
        account_id, reference = f"ACC-{n:04d}", f"7100{n:04d}"
        branch = BRANCHES[n % 3]
        currency = "NZD" if n % 30 == 7 else "AUD"
        doc = {"id": account_id, "accountId": account_id, "paymentReference": reference}
        accounts.create(doc if branch is None else {**doc, "branch": branch})
        owed = rng.randrange(5_000, 40_000)
        issue_invoice(documents, account_id=account_id, number=f"INV-{n:04d}-1", total_cents=owed,
                      issue_date=date(2026, 9, 15), reference=reference, currency=currency)  # fmt: skip
        if n % 4 == 0:  # a second bill issued mid-month: still before the period ends
            second = rng.randrange(2_000, 20_000)
            issue_invoice(documents, account_id=account_id, number=f"INV-{n:04d}-2", total_cents=second,
                          issue_date=date(2026, 10, 10), reference=reference, currency=currency)  # fmt: skip
            owed += second
        scenario = rng.choice(["none", "full", "full", "partial", "over", "split", "split"])
        amounts = {
            "none": [],
            "full": [owed],
            "partial": [rng.randrange(100, owed)],
            "over": [owed + rng.randrange(100, 5_000)],
            "split": [owed // 3, owed - owed // 3 + rng.randrange(0, 2) * 1_000],
        }[scenario]
        open_cents = owed
        for cents in amounts:
            minute += 50  # about 450 payments over days 1 to 17, each at its own minute
            provider = rng.choice(["stripe", "gateway"])
            fact = _payment(provider, f"{n:04d}x{minute}", cents, currency, reference, local(1, minute))
            ledger.record(fact, event_id=None, now=fact.occurred_at)
            month.payments.append((fact, branch or "main"))
            month.allocated[fact.payment_id] = Decimal(min(cents, open_cents)) / 100
            open_cents -= min(cents, open_cents)
    for n in range(6):  # money that names no account waits in suspense
        minute += 50
        fact = _payment(["stripe", "gateway"][n % 2], f"susp{n}", 1_000 + n, "AUD", f"9999000{n}", local(1, minute))
        ledger.record(fact, event_id=None, now=fact.occurred_at)
        month.payments.append((fact, "unallocated"))
        month.allocated[fact.payment_id] = Decimal(0)
    _reverse(ledger, month, rng)
    month.payout_lines = _payout_report(month)
    return month


def _payment(provider: str, key: str, cents: int, currency: str, reference: str, at: datetime) -> PaymentReceived:
    prefix = "pi_" if provider == "stripe" else "gw_"
    return PaymentReceived(
        provider=provider,
        payment_id=f"{prefix}{key}",
        amount=Money.from_minor(cents, currency),
        occurred_at=at,
        reference=reference,
        charge_id=f"ch_{key}" if provider == "stripe" else None,
    )


def _reverse(ledger: PaymentLedger, month: Month, rng: random.Random) -> None:
    """After the last payment (day 21 on): 8 partial refunds, 4 chargebacks, one dispute won."""
    stripe = [
        (fact, branch) for fact, branch in month.payments if fact.provider == "stripe" and branch != "unallocated"
    ]
    chosen = rng.sample(stripe, 12)
    for i, (paid, branch) in enumerate(chosen):
        at = local(22 + i % 5, i)
        kind: type[RefundIssued | ChargebackOpened]
        if i < 8:
            kind, rid, amount = RefundIssued, f"re_{i}", paid.amount - Money.from_minor(1 + i, paid.amount.currency)
        else:
            kind, rid, amount = ChargebackOpened, f"dp_{i}", paid.amount
        fact = kind("stripe", rid, paid.payment_id, amount, at, charge_id=paid.charge_id)
        assert ledger.record(fact, event_id=None, now=at).status == "posted"
        month.reversals.append((fact, branch))
        if i == 11:  # this dispute is won: the scheme gives the money back
            won = ChargebackReversed("stripe", rid, paid.payment_id, amount, local(29, 0), charge_id=paid.charge_id)
            assert ledger.record(won, event_id=None, now=won.occurred_at).status == "posted"
            month.reversals.append((won, branch))


def _payout_report(month: Month) -> list[dict[str, str]]:
    """Stripe's itemized payout reconciliation lines for every Stripe money movement."""
    lines: list[dict[str, str]] = []
    category = {RefundIssued: "refund", ChargebackOpened: "dispute", ChargebackReversed: "dispute_reversal"}
    charges = [fact for fact, _ in month.payments if fact.provider == "stripe"]
    for i, fact in enumerate(charges):
        gross = fact.amount.minor
        if i == 40:  # the deliberate difference: Stripe paid this charge out 1.00 more than we posted
            gross += 100
            month.mismatch = (fact.payment_id, f"txn_c{i}")
        fee = stripe_fee(gross)
        lines.append(_line(f"txn_c{i}", fact.occurred_at, fact.amount.currency, gross, fee, "charge", fact, None))
    for i, (reversal, _) in enumerate(month.reversals):
        sign = 1 if isinstance(reversal, ChargebackReversed) else -1
        fee = {RefundIssued: 0, ChargebackOpened: 1_500, ChargebackReversed: -1_500}[type(reversal)]
        source = reversal.reversal_id if i % 2 == 0 else None  # half matched by source id, half by payment
        gross = sign * reversal.amount.minor
        currency = reversal.amount.currency
        lines.append(
            _line(f"txn_r{i}", reversal.occurred_at, currency, gross, fee, category[type(reversal)], reversal, source)
        )
    radar = {"charge_id": "", "payment_intent_id": "", "source_id": ""}
    lines.append(_line("txn_radar", local(31, 0), "AUD", -200, 0, "fee", None, None) | radar)
    return lines


def _line(txn, at, currency, gross, fee, category, fact, source) -> dict[str, str]:
    payout_day = (at + timedelta(days=2)).date()
    return {
        "automatic_payout_id": f"po_{payout_day.isoformat().replace('-', '')}",
        "automatic_payout_effective_at_utc": f"{payout_day} 00:00:00",
        "balance_transaction_id": txn,
        "created_utc": at.strftime("%Y-%m-%d %H:%M:%S"),
        "currency": currency.lower(),
        "gross": str(Decimal(gross) / 100),
        "fee": str(Decimal(fee) / 100),
        "net": str(Decimal(gross - fee) / 100),
        "reporting_category": category,
        "source_id": source or "",
        "charge_id": (fact.charge_id or "") if fact else "",
        "payment_intent_id": fact.payment_id if fact else "",
        "description": "Radar screening fees" if category == "fee" else f"Payment {txn}",
    }


def _csv(lines: list[dict[str, str]]) -> bytes:
    header = list(lines[0])
    rows = [",".join(header)] + [",".join(line[column] for column in header) for line in lines]
    return ("\r\n".join(rows) + "\r\n").encode()


@pytest.fixture(scope="module")
def month():
    """Generated once for the module. The SQLite file lives in /dev/shm where there is one: the
    store syncs every write to disk (synchronous=FULL), which on a plain disk is most of the cost."""
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as folder:
        clock = Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
        platform = ledger_platform(Path(folder), clock)
        generated = generate(platform)
        result = PayoutStore(platform.documents).import_stripe_csv(
            _csv(generated.payout_lines), file_name="payout_reconciliation_october.csv", time_zone="UTC", now=clock()
        )
        assert result.status == "accepted", result.to_json()["lines"][:3]
        yield platform, generated
        platform.close()


def test_a_generated_month_balances_to_the_cent_but_for_the_one_deliberate_difference(month):
    platform, generated = month
    assert check_ledger(platform.documents).balanced
    report = ReconciliationService(platform.documents).report(PERIOD)

    # The ledger side per channel, summed by hand from what was generated.
    expected: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(MONEY_COLUMNS, Decimal(0)))
    for fact, _ in generated.payments:
        sums = expected[(fact.provider, fact.amount.currency)]
        sums["received"] += fact.amount.amount
        sums["allocated"] += generated.allocated[fact.payment_id]
    for reversal, _ in generated.reversals:
        column = {RefundIssued: "refunded", ChargebackOpened: "chargedBack", ChargebackReversed: "disputeReversals"}
        expected[(reversal.provider, reversal.amount.currency)][column[type(reversal)]] += reversal.amount.amount
    rows = {(row.name, row.currency): row for row in report.channels}
    assert set(rows) == set(expected) == {("stripe", "AUD"), ("stripe", "NZD"), ("gateway", "AUD"), ("gateway", "NZD")}
    for key, sums in expected.items():
        row = rows[key]
        assert row["received"].amount == sums["received"]
        assert row["allocated"].amount == sums["allocated"]
        assert row["refunded"].amount == sums["refunded"]
        assert row["chargedBack"].amount == sums["chargedBack"]
        assert row["disputeReversals"].amount == sums["disputeReversals"]
        # The identities, each side read independently by the report (net from the clearing account).
        net = sums["received"] - sums["refunded"] - sums["chargedBack"] + sums["disputeReversals"]
        assert row["netReceived"].amount == net
        assert row["allocated"] + row["unallocated"] == row["received"]
    assert sum(expected[("stripe", "AUD")][c] for c in ("refunded", "chargedBack", "disputeReversals")) > 0

    # Branches add up to the total, cell by cell, per currency; suspense money is its own branch.
    for total in report.totals:
        branches = [row for row in report.branches if row.currency == total.currency]
        for column in (*MONEY_COLUMNS, *PAYOUT_COLUMNS):
            assert sum((row[column].amount for row in branches if row[column] is not None), Decimal(0)) == (
                total[column].amount
            ), column
        assert sum(row.payments for row in branches) == total.payments
    branch_names = {row.name for row in report.branches}
    assert branch_names == {"north", "south", "main", "unallocated", "unmatched"}
    suspense = next(row for row in report.branches if row.name == "unallocated")
    assert suspense["allocated"].amount == 0
    assert suspense["received"].amount == sum(Decimal(1_000 + n) / 100 for n in range(6))

    # The payout side: fees from Stripe's report, net = gross - fees, expected = ledger net - fees.
    lines = generated.payout_lines
    for currency in ("aud", "nzd"):
        row = rows[("stripe", currency.upper())]
        mine = [line for line in lines if line["currency"] == currency]
        fees = sum(Decimal(line["fee"]) for line in mine)
        fees -= sum(Decimal(line["gross"]) for line in mine if line["reporting_category"] == "fee")  # a fee in full
        reported = sum(Decimal(line["net"]) for line in mine)
        assert row["gatewayFees"].amount == fees
        assert row["payoutNet"].amount == reported
        assert row["payoutNet"] == row["payoutGross"] - row["gatewayFees"]
        assert row["expectedPayout"] == row["netReceived"] - row["gatewayFees"]
        assert row["difference"].amount == (Decimal("1.00") if currency == "aud" else Decimal(0))
        payouts = [p for p in report.payouts if p.currency == currency.upper()]
        assert {p.payout_id for p in payouts} == {line["automatic_payout_id"] for line in mine}
        assert sum(p.net.amount for p in payouts) == reported
    assert rows[("gateway", "AUD")].payout is None  # the generic gateway reports no payouts: not zero, empty

    # The one deliberate difference, and nothing else.
    payment_id, txn = generated.mismatch
    [difference] = report.differences
    assert (difference.kind, difference.payment_id, difference.balance_transaction_id) == (
        "amount-mismatch",
        payment_id,
        txn,
    )
    assert difference.amount == Money.of("1.00", "AUD")
    assert difference.posting_id == f"payment:stripe:{payment_id}"
    assert not report.balanced


def test_the_command_reports_the_month_and_exits_1_for_its_difference(month, tmp_path):
    platform, generated = month
    out = tmp_path / "october.xlsx"
    document, status = run_reconciliation(
        platform, date_from="2026-10-01", date_to="2026-11-01", fmt="xlsx", out=out, tz="Australia/Sydney"
    )
    assert status == 1
    assert [d["balanceTransactionId"] for d in document["differences"]] == [generated.mismatch[1]]
    assert out.read_bytes()[:2] == b"PK"  # an XLSX is a zip
