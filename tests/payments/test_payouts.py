"""Stripe's itemized payout reconciliation report, imported: each line read exactly, stored once by
balance transaction id, bad lines refused by line and field while the good ones are kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.money import Money
from shared.payments.payouts import PayoutFileRejected, parse_stripe_payout_csv
from shared.payments.reconciliation_service import PayoutStore

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def store(platform) -> PayoutStore:
    return PayoutStore(platform.documents)


def test_the_itemized_report_is_read_line_by_line_in_the_zone_it_was_run_in():
    raw = (DATA / "stripe_payout_itemized.csv").read_bytes()
    parsed = parse_stripe_payout_csv(raw, file_name="itemized.csv", time_zone="Australia/Sydney")
    assert parsed.errors == []
    assert parsed.ignored_columns == ["available_on", "customer_facing_amount"]
    numbers = [number for number, _ in parsed.lines]
    assert numbers == [2, 3, 4, 5]
    charge, refund, dispute, radar = (line for _, line in parsed.lines)
    assert (charge.payout_id, charge.category, charge.payment_intent_id, charge.source_id) == (
        "po_1QOct07",
        "charge",
        "pi_1A",
        "ch_1A",
    )
    assert [charge.gross, charge.fee, charge.net] == [Money.of(a, "AUD") for a in ("120.00", "2.40", "117.60")]
    # 10:15 in Sydney on 3 October (still standard time, +10:00) is 00:15 UTC.
    assert charge.created_at == datetime(2026, 10, 3, 0, 15, tzinfo=UTC)
    assert charge.payout_effective_at == datetime(2026, 10, 6, 13, 0, tzinfo=UTC)  # 7 Oct 00:00 daylight time
    assert (refund.category, refund.gross, refund.source_id) == ("refund", Money.of("-20.00", "AUD"), "re_1B")
    assert dispute.description == 'Chargeback withdrawal for ch_1D, "fraudulent"'
    assert [dispute.gross, dispute.fee, dispute.net] == [Money.of(a, "AUD") for a in ("-50", "15", "-65")]
    assert (radar.category, radar.charge_id, radar.net) == ("fee", None, Money.of("-0.50", "AUD"))


def test_importing_the_same_report_twice_stores_each_line_once(platform):
    raw = (DATA / "stripe_payout_itemized.csv").read_bytes()
    first = store(platform).import_stripe_csv(raw, file_name="a.csv", time_zone="UTC", now=NOW)
    again = store(platform).import_stripe_csv(raw, file_name="a-again.csv", time_zone="UTC", now=NOW)
    assert (first.status, first.count("imported")) == ("accepted", 4)
    assert (again.status, again.count("imported"), again.count("already-imported")) == ("accepted", 0, 4)
    assert sorted(line.balance_transaction_id for line in store(platform).lines("stripe")) == [
        "txn_1A",
        "txn_1B",
        "txn_1C",
        "txn_1E",
    ]
    assert store(platform).providers() == {"stripe"}


def test_a_line_stored_before_with_other_values_is_refused_not_overwritten(platform):
    raw = (DATA / "stripe_payout_itemized.csv").read_bytes()
    store(platform).import_stripe_csv(raw, file_name="a.csv", time_zone="UTC", now=NOW)
    changed = raw.replace(b"aud,120.00,2.40,117.60", b"aud,121.00,2.40,118.60")
    result = store(platform).import_stripe_csv(changed, file_name="b.csv", time_zone="UTC", now=NOW)
    assert result.status == "partial"
    [refused] = [line for line in result.lines if line.outcome == "rejected"]
    assert (refused.line, refused.record) == (2, "txn_1A")
    assert "imported before with other values (gross was 120.00, now 121.00" in refused.errors[0].message
    stored = next(line for line in store(platform).lines("stripe") if line.balance_transaction_id == "txn_1A")
    assert stored.gross == Money.of("120.00", "AUD")


def test_bad_lines_are_refused_by_line_and_field_and_the_good_ones_kept(platform):
    raw = (DATA / "stripe_payout_bad_lines.csv").read_bytes()
    result = store(platform).import_stripe_csv(raw, file_name="bad.csv", time_zone="UTC", now=NOW)
    outcomes = {line.line: (line.outcome, line.errors[0].field if line.errors else None) for line in result.lines}
    assert outcomes == {
        2: ("imported", None),
        3: ("rejected", "gross"),  # 12.345: more decimals than AUD has
        4: ("rejected", "net"),  # 30.00 - 1.00 is not 28.00
        5: ("imported", None),
        6: ("rejected", "created_utc"),
        7: ("rejected", "balance_transaction_id"),
        8: ("rejected", "gross"),  # "1,000.00": no thousands separators
        9: ("rejected", "line"),  # too few cells
        10: ("rejected", "currency"),
        11: ("imported", None),
    }
    assert result.status == "partial"
    body = result.to_json()
    assert (body["imported"], body["rejected"]) == (3, 7)
    net_error = next(line for line in body["lines"] if line["line"] == 4)["errors"][0]
    assert net_error == {
        "line": 4,
        "record": "txn_2C",
        "field": "net",
        "message": "gross 30.00 - fee 1.00 is 29.00, not 28.00",
    }
    assert sorted(line.balance_transaction_id for line in store(platform).lines("stripe")) == [
        "txn_2A",
        "txn_2D",
        "txn_2J",
    ]


def test_a_quoted_line_break_does_not_shift_the_line_numbers_after_it():
    raw = (
        b"automatic_payout_id,balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,description\r\n"
        b'po_1,txn_a,2026-10-01 00:00:00,aud,1.00,0.00,1.00,charge,"two\r\nlines"\r\n'
        b"po_1,txn_b,2026-10-01 00:00:00,aud,1.00,0.00,9.00,charge,x\r\n"
    )
    parsed = parse_stripe_payout_csv(raw, file_name="f.csv")
    assert [number for number, _ in parsed.lines] == [2]
    assert [(e.line, e.field) for e in parsed.errors] == [(4, "net")]


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        (b"", "header", "the file is empty"),
        (b"balance_transaction_id,gross\r\ntxn_1,1.00\r\n", "header", "missing column automatic_payout_id"),
        (
            b"automatic_payout_id,balance_transaction_id,currency,gross,fee,net,reporting_category\r\n",
            "header",
            "missing column created_utc or created",
        ),
        (b"\xff\xfeb\x00a\x00", "file", "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_is_rejected_whole_and_stores_nothing(platform, raw, field, message):
    with pytest.raises(PayoutFileRejected) as rejected:
        store(platform).import_stripe_csv(raw, file_name="broken.csv", time_zone="UTC", now=NOW)
    assert rejected.value.errors[0].field == field
    assert message in rejected.value.errors[0].message
    assert "broken.csv" in str(rejected.value)
    assert store(platform).lines("stripe") == []


def test_an_unknown_time_zone_is_refused_before_anything_is_read():
    raw = (DATA / "stripe_payout_itemized.csv").read_bytes()
    with pytest.raises(PayoutFileRejected, match="'Mars/Olympus' is not an IANA time zone"):
        parse_stripe_payout_csv(raw, file_name="f.csv", time_zone="Mars/Olympus")


def test_a_byte_order_mark_and_upper_case_headers_are_read():
    raw = (DATA / "stripe_payout_itemized.csv").read_bytes()
    header, rest = raw.split(b"\r\n", 1)
    parsed = parse_stripe_payout_csv(b"\xef\xbb\xbf" + header.upper() + b"\r\n" + rest, file_name="f.csv")
    assert len(parsed.lines) == 4 and parsed.errors == []
