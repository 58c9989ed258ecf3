"""Every component kind reads from and writes back to its document exactly; bad fields are named."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from shared.demo.sample_utility import FLAT_TARIFF, TOU_TARIFF
from shared.rating import (
    BlockEnergy,
    DemandCharge,
    Discount,
    ExportCredit,
    FixedCharge,
    MinimumCharge,
    PublicHolidays,
    SeasonalEnergy,
    Tariff,
    TariffError,
)
from tests.rating.component_builders import ALL_DAY, document, period

EVERY_KIND = document(
    {"id": "supply", "kind": "daily_supply", "description": "Supply", "rate": "1.0500", "taxCode": "GST"},
    {
        "id": "meter",
        "kind": "fixed_charge",
        "description": "Metering",
        "rate": "0.10",
        "per": "day",
        "perMeter": True,
        "taxCode": "GST",
    },
    {
        "id": "account",
        "kind": "fixed_charge",
        "description": "Account fee",
        "rate": "5.00",
        "per": "month",
        "taxCode": "GST",
    },
    {
        "id": "blocks",
        "kind": "block_energy",
        "description": "General usage",
        "thresholdsPer": "day",
        "blocks": [
            {"id": "step1", "description": "First 10.959 kWh a day", "rate": "0.28", "upTo": "10.959"},
            {"id": "step2", "description": "Above", "rate": "0.33"},
        ],
        "taxCode": "GST",
    },
    {
        "id": "seasonal",
        "kind": "seasonal_energy",
        "description": "Network energy",
        "seasons": [
            {"id": "high", "description": "High season", "rate": "0.12", "months": [12, 1, 2, 6, 7, 8]},
            {"id": "low", "description": "Low season", "rate": "0.08", "months": [3, 4, 5, 9, 10, 11]},
        ],
        "taxCode": "GST",
    },
    {
        "id": "tou",
        "kind": "time_of_use",
        "description": "Time of use",
        "register": "E2",
        "periods": [
            period("peak", "0.50", [[15, 21]], [], holidays=[], months=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
            period("off", "0.20", [[0, 15], [21, 24]], ALL_DAY, holidays=ALL_DAY),
        ],
        "taxCode": "GST",
    },
    {
        "id": "demand",
        "kind": "demand_charge",
        "description": "Peak demand",
        "rate": "12.00",
        "unit": "kVA",
        "window": {"weekdays": [[15, 21]], "weekends": [], "holidays": [], "months": [6, 7, 8]},
        "ratchet": {"months": 11, "fraction": "0.80"},
        "taxCode": "GST",
    },
    {
        "id": "feed_in",
        "kind": "export_credit",
        "description": "Solar feed-in",
        "periods": [period("fit", "0.05", ALL_DAY, ALL_DAY, holidays=ALL_DAY)],
        "taxCode": "FREE",
    },
    {
        "id": "fit_flat",
        "kind": "export_credit",
        "description": "Battery export",
        "register": "B2",
        "rate": "0.03",
        "taxCode": "FREE",
    },
    {
        "id": "minimum",
        "kind": "minimum_charge",
        "description": "Minimum",
        "amount": "20.00",
        "per": "month",
        "appliesTo": "bill",
        "taxCode": "GST",
    },
    {
        "id": "guaranteed",
        "kind": "discount",
        "description": "Guaranteed discount",
        "fraction": "0.03",
        "taxCode": "GST",
    },
    {
        "id": "on_time",
        "kind": "discount",
        "description": "Pay on time",
        "fraction": "0.07",
        "condition": "pay_on_time",
        "taxCode": "GST",
    },
    taxes={"GST": "0.10", "FREE": "0"},
    tariffId="test-tariff",
    timeZone="Australia/Sydney",
    effectiveTo="2027-01-01",
    publicHolidays={"region": "AU-NSW", "rateAs": "holidays"},
    networkTariffId="ea025",
)


def test_a_document_with_every_kind_round_trips_byte_for_byte():
    tariff = Tariff.from_document(EVERY_KIND)
    assert tariff.to_document() == EVERY_KIND
    assert Tariff.from_document(tariff.to_document()) == tariff


def test_the_kinds_read_into_typed_components():
    tariff = Tariff.from_document(EVERY_KIND)
    kinds = [type(c) for c in tariff.components]
    assert kinds[1:3] == [FixedCharge, FixedCharge] and kinds[3:5] == [BlockEnergy, SeasonalEnergy]
    assert kinds[6:] == [DemandCharge, ExportCredit, ExportCredit, MinimumCharge, Discount, Discount]
    demand = tariff.components[6]
    assert isinstance(demand, DemandCharge) and demand.ratchet is not None
    assert (
        demand.ratchet.fraction == Decimal("0.80") and demand.window is not None and demand.window.months == (6, 7, 8)
    )
    assert tariff.public_holidays == PublicHolidays("AU-NSW", "holidays")
    assert tariff.network_tariff_id == "ea025"


@pytest.mark.parametrize("demo", [FLAT_TARIFF, TOU_TARIFF], ids=["flat", "tou"])
def test_the_demo_tariffs_read_as_before_and_gain_no_new_fields(demo):
    tariff = Tariff.from_document(demo)
    written = tariff.to_document()
    assert Tariff.from_document(written) == tariff
    assert set(written) == set(demo) | {"timeZone"}  # the writer has always stated the zone, even None
    assert [set(c) for c in written["components"]] == [set(c) | {"description"} for c in demo["components"]]


def refusal(doc: dict) -> TariffError:
    with pytest.raises(TariffError) as caught:
        Tariff.from_document(doc)
    return caught.value


@pytest.mark.parametrize(
    ("index", "field", "value", "path"),
    [
        (1, "perMeter", 1, "components[1].perMeter"),
        (3, "blocks", "many", "components[3].blocks"),
        (4, "seasons", [{"id": "x"}], "components[4].seasons[0].description"),
        (6, "unit", "kWh", "components[6].unit"),
        (6, "window", {"weekdays": [], "weekends": [], "days": []}, "components[6].window.days"),
        (7, "periods", [], "components[7].periods"),
        (9, "amount", 20.0, "components[9].amount"),
        (10, "fraction", "seven percent", "components[10].fraction"),
        (10, "register", "E1", "components[10].register"),  # discounts price no register
    ],
)
def test_a_bad_field_of_a_new_kind_is_named_by_its_path(index, field, value, path):
    doc = copy.deepcopy(EVERY_KIND)
    doc["components"][index][field] = value
    assert refusal(doc).field == path


def test_a_duplicate_block_id_is_named():
    doc = copy.deepcopy(EVERY_KIND)
    doc["components"][3]["blocks"][1]["id"] = "supply"
    error = refusal(doc)
    assert (error.field, error.problem) == (
        "components[3].blocks[1].id",
        "id 'supply' is already used by components[0].id",
    )


def test_unknown_kinds_list_every_known_kind():
    doc = copy.deepcopy(EVERY_KIND)
    doc["components"][0]["kind"] = "rebate"
    problem = refusal(doc).problem
    for kind in ("daily_supply", "fixed_charge", "block_energy", "seasonal_energy", "demand_charge", "export_credit"):
        assert kind in problem
