"""What the bill cycle rates: tariff versions, the network tariff, demand history and the
consumption after VEE, or the reason the bill waits. Expected amounts are worked by hand.

The service point is in Brisbane: no daylight saving, and its local days are the NEM market
days the interval data is stored in, so a period's days and the data's days line up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from shared.customers.contract import Contract
from shared.customers.records import Account, ServicePoint
from shared.demo.sample_utility import FLAT_TARIFF
from shared.invoicing.bill_cycle import BillingPeriod
from shared.invoicing.rating_inputs import RatingInputs, Skip, gather, rate_for_bill
from shared.platform.documents import DocumentStore
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.rating.results import DemandReading
from shared.rating.tariff import Tariff
from shared.rating.tariff_store import TariffStore
from shared.readings.history import interval_day_id, interval_document, store_register_read
from shared.readings.model import RegisterRead
from shared.resources import CONTRACTS, INVOICES, METERS, READINGS, SERVICE_POINTS, TARIFFS
from tests.rating.test_tariff_store import JUNE, version_doc

BRISBANE = "Australia/Brisbane"
SP, SERIAL, ACCOUNT = "3120045577", "MTR-Q1", "ACC-1"
AS_OF = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FOUR_DAYS = BillingPeriod(date(2026, 10, 1), date(2026, 10, 5))
OCTOBER = BillingPeriod(date(2026, 10, 1), date(2026, 11, 1))


@pytest.fixture
def documents(tmp_path) -> Iterator[DocumentStore]:
    store = SqliteDocumentStore(tmp_path / "documents.sqlite3")
    yield store
    store.close()


def point(kind: str) -> ServicePoint:
    return ServicePoint(SP, "3/22 Boundary Street", BRISBANE, kind, SERIAL, "E1")  # type: ignore[arg-type]


def account(tariff_id: str = "res-flat") -> Account:
    return Account(
        ACCOUNT, "CUS-1", "Aarav Patel", "a@example.com", ("3/22 Boundary Street",), "1", SP, tariff_id, "QLD",
        "monthly", date(2026, 10, 1),
    )  # fmt: skip


def meter(documents: DocumentStore, kind: str, *, dials: int = 5, multiplier: str = "1") -> ServicePoint:
    documents.container(SERVICE_POINTS.name).create(
        {"id": SP, "servicePointId": SP, "address": "3/22 Boundary Street", "timeZone": BRISBANE,
         "meterKind": kind, "meterSerial": SERIAL, "registerId": "E1"}
    )  # fmt: skip
    documents.container(METERS.name).create(
        {"id": SERIAL, "meterId": SERIAL, "kind": "meter", "serial": SERIAL,
         "meterKind": "interval" if kind == "interval" else "accumulation",
         "intervalMinutes": 30 if kind == "interval" else None,
         "registers": [{"registerId": "E1", "unit": "kWh", "dialCount": dials, "multiplier": multiplier}]}
    )  # fmt: skip
    return point(kind)


def local(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(BRISBANE))


def read(documents: DocumentStore, at: date, value: str) -> None:
    reading = RegisterRead(SERIAL, "E1", Decimal(value), local(at), "actual", "reader-7")
    store_register_read(documents.container(READINGS.name), SP, reading, source="test")


def day_of(documents: DocumentStore, day: date, values: list[int]) -> None:
    documents.container(READINGS.name).create(
        interval_document(
            SP, suffix="E1", day=day, interval_minutes=30, value_unit="Wh", values=values,
            quality="A" * len(values), update_datetime=None, meter_serial=SERIAL, source="test",
        )
    )  # fmt: skip


def tariff(documents: DocumentStore, *docs: dict[str, Any]) -> None:
    store = TariffStore(documents)
    store.create(Tariff.from_document(docs[0]), as_of=JUNE)
    for doc in docs[1:]:
        store.add_version(Tariff.from_document(doc), as_of=JUNE)


def gathered(documents: DocumentStore, sp: ServicePoint, period: BillingPeriod, **kwargs: Any) -> RatingInputs:
    inputs = gather(documents, account(**kwargs), sp, period, as_of=AS_OF)
    assert isinstance(inputs, RatingInputs), inputs
    return inputs


def lines_of(inputs: RatingInputs, period: BillingPeriod) -> list[tuple[str, str, str, Decimal, str]]:
    rated = rate_for_bill(inputs, period, BRISBANE)
    return [(x.tariff_id, x.tariff_version, x.component_id, x.quantity, str(x.amount.amount)) for x in rated.lines]


# -- tariffs -----------------------------------------------------------------------------------------------


def test_a_price_change_mid_period_bills_two_parts_each_at_its_own_prices(documents):
    sp = meter(documents, "register")
    read(documents, date(2026, 10, 1), "1000")
    read(documents, date(2026, 10, 5), "1040")
    tariff(
        documents,
        version_doc("2026-07-01", "2026-07-01", energy="0.3000"),
        version_doc("2026-10-03", "2026-10-03", energy="0.3500"),
    )
    inputs = gathered(documents, sp, FOUR_DAYS)

    # 40 kWh over 4 days, shared by days: 20 kWh before 3 October, 20 after.
    # Before: 2 days x 1.00 = 2.00; 20 kWh x 0.30 = 6.00. After: 2 x 1.00 = 2.00; 20 x 0.35 = 7.00.
    assert [v.version for v in inputs.tariff] == ["2026-07-01", "2026-10-03"]
    assert lines_of(inputs, FOUR_DAYS) == [
        ("res-flat", "2026-07-01", "supply", Decimal(2), "2.00"),
        ("res-flat", "2026-07-01", "energy", Decimal(20), "6.00"),
        ("res-flat", "2026-10-03", "supply", Decimal(2), "2.00"),
        ("res-flat", "2026-10-03", "energy", Decimal(20), "7.00"),
    ]
    rated = rate_for_bill(inputs, FOUR_DAYS, BRISBANE)
    # 17.00, GST per invoice 1.70, 18.70
    assert (rated.subtotal.amount, rated.tax_total.amount, rated.total.amount) == (
        Decimal("17.00"),
        Decimal("1.70"),
        Decimal("18.70"),
    )


def test_a_single_document_tariff_of_the_demo_still_bills(documents):
    sp = meter(documents, "register")
    read(documents, date(2026, 10, 1), "1000")
    read(documents, date(2026, 10, 5), "1040")
    documents.container(TARIFFS.name).create(FLAT_TARIFF)

    rated = rate_for_bill(gathered(documents, sp, FOUR_DAYS, tariff_id="res-flat-2026"), FOUR_DAYS, BRISBANE)

    # 4 x 1.0450 = 4.18; 40 x 0.3124 = 12.496 -> 12.50; 16.68 + GST 1.668 -> 1.67 = 18.35
    assert [str(x.amount.amount) for x in rated.lines] == ["4.18", "12.50"]
    assert rated.total.amount == Decimal("18.35")


def test_a_missing_tariff_or_a_period_no_version_covers_waits_with_the_reason(documents):
    sp = meter(documents, "register")
    read(documents, date(2026, 10, 1), "1000")
    read(documents, date(2026, 10, 5), "1040")
    assert gather(documents, account("nope"), sp, FOUR_DAYS, as_of=AS_OF) == Skip("no tariff 'nope'")

    tariff(documents, version_doc("2026-10-03", "2026-10-03"))
    skipped = gather(documents, account(), sp, FOUR_DAYS, as_of=AS_OF)
    assert skipped == Skip(
        "tariff res-flat has no version for 2026-10-01..2026-10-03 of the period 2026-10-01..2026-10-05"
    )


# -- network pass-through --------------------------------------------------------------------------------


def contract(documents: DocumentStore, network: str | None) -> None:
    signed = Contract(
        "CON-1", ACCOUNT, SP, "sales", "res-flat", date(2026, 7, 1), network_tariff=network,
        billing_cycles={"variable": "monthly", "fixed": "monthly"},
    )  # fmt: skip
    documents.container(CONTRACTS.name).create(signed.to_document())


def network_setup(documents: DocumentStore, named_on_contract: str | None) -> ServicePoint:
    sp = meter(documents, "register")
    read(documents, date(2026, 10, 1), "1000")
    read(documents, date(2026, 10, 5), "1040")
    tariff(documents, version_doc("2026-07-01", "2026-07-01", networkTariffId="EA025"))
    network = version_doc("2026-07-01", "2026-07-01", id="EA025", name="Ausgrid EA025", energy="0.1000")
    network["components"][0]["rate"] = "0.50"
    tariff(documents, network)
    contract(documents, named_on_contract)
    return sp


def test_a_network_tariff_adds_its_own_pass_through_lines(documents):
    sp = network_setup(documents, "EA025")

    # The contract's tariff is billed, not the account's stale copy of it.
    inputs = gathered(documents, sp, FOUR_DAYS, tariff_id="res-old")

    # Retail: 4 x 1.00 = 4.00, 40 x 0.30 = 12.00. Network: 4 x 0.50 = 2.00, 40 x 0.10 = 4.00.
    assert lines_of(inputs, FOUR_DAYS) == [
        ("res-flat", "2026-07-01", "supply", Decimal(4), "4.00"),
        ("res-flat", "2026-07-01", "energy", Decimal(40), "12.00"),
        ("EA025", "2026-07-01", "supply", Decimal(4), "2.00"),
        ("EA025", "2026-07-01", "energy", Decimal(40), "4.00"),
    ]
    # 22.00 + GST 2.20 = 24.20
    assert rate_for_bill(inputs, FOUR_DAYS, BRISBANE).total.amount == Decimal("24.20")


def test_a_contract_naming_another_network_tariff_waits(documents):
    sp = network_setup(documents, "EA116")
    assert gather(documents, account(), sp, FOUR_DAYS, as_of=AS_OF) == Skip(
        "contract CON-1 names network tariff EA116 but tariff res-flat passes through EA025"
    )


# -- registers ------------------------------------------------------------------------------------------


def test_a_register_rollover_counts_the_units_turned_through_times_the_multiplier(documents):
    sp = meter(documents, "register", dials=5, multiplier="2")
    read(documents, date(2026, 10, 1), "99950")
    read(documents, date(2026, 10, 5), "00120")
    tariff(documents, version_doc("2026-07-01", "2026-07-01"))

    inputs = gathered(documents, sp, FOUR_DAYS)

    # 99 950 -> 100 000 is 50, then 0 -> 120 is 120: 170 kWh on the dials, x 2 = 340 kWh.
    assert inputs.consumption["E1"].wh == 340_000
    # 4 x 1.00 = 4.00; 340 x 0.30 = 102.00; 106.00 + GST 10.60 = 116.60
    assert rate_for_bill(inputs, FOUR_DAYS, BRISBANE).total.amount == Decimal("116.60")
    assert inputs.notes == ()


def test_a_register_gone_backwards_is_held_by_validation(documents):
    sp = meter(documents, "register", dials=5)
    read(documents, date(2026, 10, 1), "50000")
    read(documents, date(2026, 10, 5), "10000")  # a "rollover" of 60 000 kWh in 4 days: a misread
    tariff(documents, version_doc("2026-07-01", "2026-07-01"))

    skipped = gather(documents, account(), sp, FOUR_DAYS, as_of=AS_OF)

    assert isinstance(skipped, Skip)
    assert skipped.reason.startswith("validation hold: register E1 read at 2026-10-04T14:00:00+00:00: ")


def test_a_missing_end_read_is_estimated_by_vee_used_and_flagged(documents):
    sp = meter(documents, "register")
    read(documents, date(2026, 9, 10), "790")
    read(documents, date(2026, 10, 1), "1000")  # 210 kWh in 21 days: 10 kWh a day
    tariff(documents, version_doc("2026-07-01", "2026-07-01"))

    inputs = gathered(documents, sp, FOUR_DAYS)

    # The end read is estimated at 1000 + 4 days x 10 kWh = 1040: 40 kWh.
    assert inputs.consumption["E1"].wh == 40_000
    assert inputs.notes == ("register E1: the read at 2026-10-04T14:00:00+00:00 is estimated (estimated)",)


def test_a_missing_end_read_that_vee_cannot_estimate_waits(documents):
    sp = meter(documents, "register")
    read(documents, date(2026, 10, 1), "1000")  # one read: no average daily use to estimate from
    tariff(documents, version_doc("2026-07-01", "2026-07-01"))

    assert gather(documents, account(), sp, FOUR_DAYS, as_of=AS_OF) == Skip(
        "missing reads beyond tolerance: no usable read of register E1 within 3 days of "
        "2026-10-04T14:00:00+00:00 (VEE could not estimate one)"
    )


# -- interval data after VEE -------------------------------------------------------------------------------


def test_a_rejected_interval_is_replaced_by_its_like_day_and_flagged(documents):
    sp = meter(documents, "interval")
    day_of(documents, date(2026, 10, 1), [100] * 48)  # a Thursday, all actual
    friday = [100] * 48
    friday[9] = -5  # negative: rejected, then substituted from Thursday's interval 10
    day_of(documents, date(2026, 10, 2), friday)
    tariff(documents, version_doc("2026-07-01", "2026-07-01"))
    period = BillingPeriod(date(2026, 10, 1), date(2026, 10, 3))

    inputs = gathered(documents, sp, period)

    assert int(inputs.consumption["E1"].wh.sum()) == 96 * 100
    assert inputs.notes == ("register E1: intervals estimated or substituted (1 E) of 96",)
    stored = documents.container(READINGS.name).get(interval_day_id("E1", date(2026, 10, 2)), SP)
    assert (stored["valuesWh"][9], stored["quality"][9], stored["estimate"]["likeDay"]) == (100, "E", "2026-10-01")


def test_a_rejected_interval_vee_cannot_replace_holds_the_bill(documents):
    sp = meter(documents, "interval")
    friday = [100] * 48
    friday[9] = -5  # no earlier day to take a like day from
    day_of(documents, date(2026, 10, 2), friday)
    tariff(documents, version_doc("2026-07-01", "2026-07-01"))

    skipped = gather(documents, account(), sp, BillingPeriod(date(2026, 10, 2), date(2026, 10, 3)), as_of=AS_OF)

    assert isinstance(skipped, Skip)
    assert skipped.reason.startswith("validation hold: negative-value on 2026-10-02: ")


def test_a_missing_day_vee_cannot_estimate_waits(documents):
    sp = meter(documents, "interval")
    day_of(documents, date(2026, 10, 2), [100] * 48)  # 1 October missing, nothing before it to copy
    tariff(documents, version_doc("2026-07-01", "2026-07-01"))

    skipped = gather(documents, account(), sp, BillingPeriod(date(2026, 10, 1), date(2026, 10, 3)), as_of=AS_OF)

    assert isinstance(skipped, Skip)
    assert skipped.reason.startswith(
        "missing reads beyond tolerance: 48 intervals of register E1 in 2026-10-01..2026-10-03 have no reading "
        "after VEE (not estimated: 2026-10-01 no all-actual like day"
    )


# -- demand ratchet ----------------------------------------------------------------------------------------

DEMAND_TARIFF = version_doc("2026-01-01", "2026-01-01", id="res-demand") | {
    "components": [
        {"id": "demand", "kind": "demand_charge", "description": "Demand", "rate": "10.00", "unit": "kW",
         "ratchet": {"months": 3, "fraction": "0.8"}, "taxCode": "GST"},
    ]
}  # fmt: skip


def invoice(documents: DocumentStore, month: int, *, status: str = "issued", **fields: Any) -> None:
    start = date(2026, month, 1)
    end = date(2026, month + 1, 1)
    documents.container(INVOICES.name).create(
        {"id": f"{ACCOUNT}:{start}", "accountId": ACCOUNT, "status": status, "number": f"INV-{month}",
         "periodStart": start.isoformat(), "periodEnd": end.isoformat(), "lines": []} | fields
    )  # fmt: skip


def demand_line(month: int, quantity: str, description: str = "Demand") -> dict[str, Any]:
    return {"tariffId": "res-demand", "componentId": "demand", "unit": "kW", "quantity": quantity,
            "description": description, "periodStart": date(2026, month, 1).isoformat()}  # fmt: skip


def reading(month: int, kw: str) -> dict[str, Any]:
    return DemandReading("res-demand", "demand", date(2026, month, 1), Decimal(kw), "kW").to_json()


def october_intervals(documents: DocumentStore) -> ServicePoint:
    sp = meter(documents, "interval")
    for n in range(31):
        values = [500] * 48  # 1 kW all month...
        if n == 14:
            values[29] = 1500  # ...and 3 kW for half an hour on 15 October
        day_of(documents, date(2026, 10, 1) + timedelta(days=n), values)
    TariffStore(documents).create(Tariff.from_document(DEMAND_TARIFF), as_of=JUNE)
    return sp


def test_a_demand_ratchet_uses_the_measured_history_of_issued_invoices(documents):
    sp = october_intervals(documents)
    # September stores what it measured (10 kW), whatever its line billed.
    september = {"id": f"{ACCOUNT}:2026-09-01:r2", "demand": [reading(9, "10")]}
    invoice(documents, 9, **september, lines=[demand_line(9, "12.5", "Demand (ratchet: ...)")])
    invoice(documents, 8, lines=[demand_line(8, "6")])  # older: its unratcheted line is the measured demand
    invoice(documents, 6, demand=[reading(6, "20")])  # outside the 3 months before October
    invoice(documents, 10, status="draft", demand=[reading(10, "50")])  # not issued
    # September's first invoice, taken back by a credit note when corrected data rebilled it as the one above.
    invoice(documents, 9, status="credited", demand=[reading(9, "40")])
    invoice(documents, 9, id="CN-1", kind="credit_note", lines=[demand_line(9, "-40")])

    inputs = gathered(documents, sp, OCTOBER, tariff_id="res-demand")

    assert inputs.prior_demand == {"demand": (Decimal(6), Decimal(10))}
    rated = rate_for_bill(inputs, OCTOBER, BRISBANE)
    # Measured 3 kW; the ratchet is 0.8 x max(6, 10) = 8 kW; 8 x 10.00 = 80.00 + GST 8.00 = 88.00
    assert [(x.quantity, str(x.amount.amount)) for x in rated.lines] == [(Decimal(8), "80.00")]
    assert rated.total.amount == Decimal("88.00")
    assert [(d.month, d.measured) for d in rated.demand] == [(date(2026, 10, 1), Decimal(3))]


def test_an_older_ratcheted_line_without_its_measured_demand_waits(documents):
    sp = october_intervals(documents)
    invoice(documents, 9, lines=[demand_line(9, "8", "Demand (September 2026; ratchet: 8 kW billed, 3 kW measured)")])

    assert gather(documents, account("res-demand"), sp, OCTOBER, as_of=AS_OF) == Skip(
        "demand history: invoice INV-9 billed demand for 2026-09 lifted by a ratchet "
        "and does not store the measured demand"
    )


def test_a_first_bill_has_no_demand_history(documents):
    sp = october_intervals(documents)
    inputs = gathered(documents, sp, OCTOBER, tariff_id="res-demand")
    assert inputs.prior_demand == {"demand": ()}
    rated = rate_for_bill(inputs, OCTOBER, BRISBANE)
    assert [(x.quantity, str(x.amount.amount)) for x in rated.lines] == [(Decimal(3), "30.00")]
    assert np.array_equal(inputs.consumption["E1"].wh[:2], [500, 500])
