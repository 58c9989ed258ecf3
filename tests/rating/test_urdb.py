"""Importing URDB rates: a small rate mapped by hand, every refusal naming its URDB field, and real rates.

Prices are rate + adj; schedules are 12 months x 24 hours of URDB period indexes (0-based).
"""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from shared.rating import RegisterConsumption, Tariff, rate
from shared.rating.urdb import UrdbError, is_urdb, urdb_document
from tests.rating.builders import intervals_for

FIXTURES = Path(__file__).parent / "urdb"
LA = "America/Los_Angeles"
JAN_1_2026 = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400
ALL_MONTHS = list(range(1, 13))


def hours(*runs: tuple[int, int]) -> list[int]:
    """A 24-hour schedule row from (period, hours) runs: hours((0, 16), (1, 5), (0, 3))."""
    row = [period for period, count in runs for _ in range(count)]
    assert len(row) == 24
    return row


WINTER_PEAK = hours((0, 16), (1, 5), (0, 3))  # peak 16:00-21:00
SUMMER_PEAK = hours((0, 15), (1, 6), (0, 3))  # peak 15:00-21:00
OFF_PEAK = hours((0, 24))


def small_rate(**changes: object) -> dict:
    """Two energy periods whose peak is an hour longer in June-September, flat demand with a summer
    price, a weekday peak demand charge, a fixed and a minimum charge and a fuel adjustment."""
    rate = {
        "label": "abc123",
        "utility": "Example Electric",
        "name": "TOU-1",
        "startdate": JAN_1_2026,
        "enddate": JAN_1_2026 + 365 * DAY,
        "energyratestructure": [[{"unit": "kWh", "rate": 0.10, "adj": 0.01}], [{"unit": "kWh", "rate": 0.30}]],
        "energytoulabels": ["Off-Peak", "Peak"],
        "energyweekdayschedule": [WINTER_PEAK] * 5 + [SUMMER_PEAK] * 4 + [WINTER_PEAK] * 3,
        "energyweekendschedule": [OFF_PEAK] * 12,
        "fueladjustmentsmonthly": [0.005] * 6 + [0] * 6,
        "flatdemandstructure": [[{"rate": 5}], [{"rate": 8.5}]],
        "flatdemandmonths": [0] * 5 + [1] * 4 + [0] * 3,
        "demandratestructure": [[{"rate": 0.0}], [{"rate": 12.25}]],
        "demandweekdayschedule": [WINTER_PEAK] * 12,
        "demandweekendschedule": [OFF_PEAK] * 12,
        "fixedchargefirstmeter": 10,
        "fixedchargeunits": "$/month",
        "mincharge": 25.5,
        "minchargeunits": "$/month",
        "energycomments": "free text is not read",
    }
    rate.update(changes)
    return rate


WINTER = [1, 2, 3, 4, 5, 10, 11, 12]
SUMMER = [6, 7, 8, 9]


def test_a_small_rate_maps_field_by_field():
    doc = urdb_document(small_rate(), time_zone=LA)

    assert {k: v for k, v in doc.items() if k != "components"} == {
        "id": "urdb-abc123",
        "version": "2026-01-01",
        "name": "Example Electric: TOU-1",
        "currency": "USD",
        "timeZone": LA,
        "effectiveFrom": "2026-01-01",
        "effectiveTo": "2027-01-01",
        "taxes": {"NOTAX": "0"},
        "taxRounding": "per_line",
    }
    fixed, energy, fuel, winter_demand, summer_demand, peak_demand, minimum = doc["components"]
    assert fixed == {
        "id": "fixed",
        "kind": "fixed_charge",
        "description": "Fixed charge",
        "rate": "10",
        "per": "month",
        "taxCode": "NOTAX",
    }
    # Each URDB period appears with different hours in summer, so each becomes two periods.
    assert energy["kind"] == "time_of_use"
    assert [(p["id"], p["rate"], p["weekdays"], p["weekends"], p["months"]) for p in energy["periods"]] == [
        ("energy-p0-jan-may+oct-dec", "0.11", [[0, 16], [21, 24]], [[0, 24]], WINTER),
        ("energy-p0-jun-sep", "0.11", [[0, 15], [21, 24]], [[0, 24]], SUMMER),
        ("energy-p1-jan-may+oct-dec", "0.3", [[16, 21]], [], WINTER),
        ("energy-p1-jun-sep", "0.3", [[15, 21]], [], SUMMER),
    ]
    assert [p["description"] for p in energy["periods"]] == [
        "Energy, Off-Peak (Jan-May, Oct-Dec)",
        "Energy, Off-Peak (Jun-Sep)",
        "Energy, Peak (Jan-May, Oct-Dec)",
        "Energy, Peak (Jun-Sep)",
    ]
    assert fuel["kind"] == "seasonal_energy"
    assert [(s["id"], s["rate"], s["months"]) for s in fuel["seasons"]] == [
        ("fuel-adjustment-jan-jun", "0.005", [1, 2, 3, 4, 5, 6]),
        ("fuel-adjustment-jul-dec", "0", [7, 8, 9, 10, 11, 12]),
    ]
    assert (winter_demand["id"], winter_demand["rate"], winter_demand["window"]) == (
        "demand-jan-may+oct-dec",
        "5",
        {"weekdays": [[0, 24]], "weekends": [[0, 24]], "months": WINTER},
    )
    assert (summer_demand["id"], summer_demand["rate"], summer_demand["window"]["months"]) == (
        "demand-jun-sep",
        "8.5",
        SUMMER,
    )
    # Demand period 0 costs nothing, so only the peak window is a charge; it is the same all year.
    assert peak_demand == {
        "id": "demand-p1",
        "kind": "demand_charge",
        "description": "Demand charge, period 1",
        "rate": "12.25",
        "unit": "kW",
        "window": {"weekdays": [[16, 21]], "weekends": []},
        "taxCode": "NOTAX",
    }
    assert minimum == {
        "id": "minimum",
        "kind": "minimum_charge",
        "description": "Minimum charge",
        "amount": "25.5",
        "per": "month",
        "appliesTo": "bill",
        "taxCode": "NOTAX",
    }
    Tariff.from_document(doc)  # the model accepts it: every hour of every month has one period


def test_the_caller_names_the_tax_and_the_zone():
    doc = urdb_document(small_rate(), time_zone="America/Denver", tax_code="SALES", tax_rate=Decimal("0.0725"))
    assert doc["taxes"] == {"SALES": "0.0725"}
    assert doc["timeZone"] == "America/Denver"
    assert {c["taxCode"] for c in doc["components"]} == {"SALES"}
    with pytest.raises(UrdbError, match=r"^timeZone: unknown IANA time zone 'Mars/Olympus'"):
        urdb_document(small_rate(), time_zone="Mars/Olympus")


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (JAN_1_2026, date(2026, 1, 1)),  # entered at midnight UTC
        (JAN_1_2026 + 6 * 3600, date(2026, 1, 1)),  # NREL's Colorado midnight, 06:00 UTC
        (JAN_1_2026 - 3600, date(2026, 1, 1)),  # 23:00 UTC the day before (a UTC+1 midnight)
        (JAN_1_2026 + 11 * 3600, date(2026, 1, 1)),
        (JAN_1_2026 + 13 * 3600, date(2026, 1, 2)),
    ],
)
def test_start_dates_are_the_nearest_utc_midnight(seconds, expected):
    assert urdb_document(small_rate(startdate=seconds, enddate=None), time_zone=LA)["effectiveFrom"] == str(expected)


def test_one_period_is_flat_energy_and_the_schedules_may_be_left_out():
    rate = small_rate(energyratestructure=[[{"rate": 0.1234}]])
    del rate["energyweekdayschedule"], rate["energyweekendschedule"], rate["energytoulabels"]
    energy = urdb_document(rate, time_zone=LA)["components"][1]
    assert energy == {
        "id": "energy",
        "kind": "flat_energy",
        "description": "Energy",
        "rate": "0.1234",
        "taxCode": "NOTAX",
    }


def tiered(unit: str = "kWh") -> dict:
    rate = small_rate(
        energyratestructure=[
            [
                {"max": 500, "unit": unit, "rate": 0.10},
                {"max": 1000, "unit": unit, "rate": 0.15},
                {"unit": unit, "rate": 0.2},
            ]
        ],
        energyweekdayschedule=[OFF_PEAK] * 12,
        energyweekendschedule=[OFF_PEAK] * 12,
    )
    for field in (
        "fueladjustmentsmonthly",
        "flatdemandstructure",
        "demandratestructure",
        "mincharge",
        "energytoulabels",
    ):
        del rate[field]
    return rate


def test_tiers_of_a_single_period_are_blocks_per_bill_and_price_by_hand():
    doc = urdb_document(tiered(), time_zone=LA)
    energy = doc["components"][1]
    assert (energy["kind"], energy["thresholdsPer"]) == ("block_energy", "bill")
    assert [(b["id"], b.get("upTo"), b["rate"], b["description"]) for b in energy["blocks"]] == [
        ("energy-tier-1", "500", "0.1", "Energy, tier 1 (to 500 kWh)"),
        ("energy-tier-2", "1000", "0.15", "Energy, tier 2 (to 1000 kWh)"),
        ("energy-tier-3", None, "0.2", "Energy, tier 3 (above 1000 kWh)"),
    ]
    # June: fixed 1 month x 10 = 10.00; 1,200 kWh = 500 x 0.10 + 500 x 0.15 + 200 x 0.20 = 50 + 75 + 40 = 165.00
    june = rate(
        tariff=Tariff.from_document(doc),
        period_start=date(2026, 6, 1),
        period_end=date(2026, 7, 1),
        time_zone=LA,
        consumption=RegisterConsumption(1_200_000, date(2026, 6, 1), date(2026, 7, 1)),
    )
    assert [str(line.amount.amount) for line in june.lines] == ["10.00", "50.00", "75.00", "40.00"]
    assert june.total.amount == Decimal("175.00")


def test_daily_tiers_are_blocks_per_day():
    energy = urdb_document(tiered("kWh daily"), time_zone=LA)["components"][1]
    assert energy["thresholdsPer"] == "day"
    assert energy["blocks"][0]["description"] == "Energy, tier 1 (to 500 kWh a day)"


def test_the_items_wrapper_with_one_rate_reads_and_errors_name_the_item():
    assert is_urdb({"items": [small_rate()]}) and is_urdb(small_rate())
    assert not is_urdb({"components": [], "energyratestructure": []})
    assert urdb_document({"items": [small_rate()]}, time_zone=LA) == urdb_document(small_rate(), time_zone=LA)
    with pytest.raises(UrdbError, match=r"^items\[0\]\.fixedchargeunits: '\$/year'"):
        urdb_document({"items": [small_rate(fixedchargeunits="$/year")]}, time_zone=LA)


def field_of(rate: object) -> str:
    with pytest.raises(UrdbError) as caught:
        urdb_document(rate, time_zone=LA)
    return caught.value.field


def without(*fields: str, **changes: object) -> dict:
    rate = small_rate(**changes)
    for field in fields:
        del rate[field]
    return rate


# tiered time of use whose periods have different tier thresholds: tiers are read on the month's total
UNEQUAL_TIERS = [[{"max": 200, "rate": 0.1}, {"rate": 0.2}], [{"max": 100, "rate": 0.3}, {"rate": 0.4}]]


@pytest.mark.parametrize(
    ("rate", "field"),
    [
        ({"items": []}, "items"),
        ({"items": [small_rate(), small_rate(label="def456")]}, "items"),
        (small_rate(energyratestructure=UNEQUAL_TIERS), "energyratestructure[1][0].max"),
        (tiered() | {"energyratestructure": [[{"max": 500, "rate": 0.1}, {"max": 900, "rate": 0.2}]]},
         "energyratestructure[0][1].max"),
        (tiered() | {"energyratestructure": [[{"max": 500, "rate": 0.1}, {"max": 400, "rate": 0.2}, {"rate": 0.3}]]},
         "energyratestructure[0][1].max"),
        (tiered("kWh/kW"), "energyratestructure[0][0].unit"),
        (tiered() | {"energyratestructure": [[{"max": 0.0005, "rate": 0.1}, {"rate": 0.2}]]},
         "energyratestructure[0][0].max"),
        (small_rate(energyratestructure=[[{"rate": 0.1, "adj": -0.2}], [{"rate": 0.3}]]),
         "energyratestructure[0][0].rate"),
        (small_rate(energyratestructure=[[{"unit": "kWh"}], [{"rate": 0.3}]]), "energyratestructure[0][0]"),
        (small_rate(energyratestructure=[[{"rate": "cheap"}], [{"rate": 0.3}]]), "energyratestructure[0][0].rate"),
        (small_rate(energyratestructure=[[{"rate": 0.1, "sell": 0.05}], [{"rate": 0.3}]]),
         "energyratestructure[0][0].sell"),
        (small_rate(energyratestructure=[[{"rate": 0.1}]]), "energyweekdayschedule[0][16]"),
        (small_rate(energyweekendschedule=[OFF_PEAK] * 11), "energyweekendschedule"),
        (small_rate(energyweekdayschedule=[WINTER_PEAK] * 11 + [WINTER_PEAK[:23]]), "energyweekdayschedule[11]"),
        (without("energyratestructure"), "energyratestructure"),
        (small_rate(fueladjustmentsmonthly=[0.01] * 11), "fueladjustmentsmonthly"),
        (small_rate(flatdemandstructure=[[{"max": 100, "rate": 5}, {"rate": 6}], [{"rate": 8.5}]]),
         "flatdemandstructure[0][1]"),
        (small_rate(flatdemandmonths=[0, 0, 2] + [0] * 9), "flatdemandmonths[2]"),
        (without("flatdemandmonths"), "flatdemandmonths"),
        (small_rate(demandratestructure=[[{"rate": 0}], [{"max": 50, "rate": 12}, {"rate": 15}]]),
         "demandratestructure[1][1]"),
        (without("demandweekendschedule"), "demandweekendschedule"),
        (small_rate(demandunits="hp"), "demandunits"),
        (small_rate(flatDemandUnits="kW daily"), "flatDemandUnits"),
        (small_rate(fixedchargeunits="$/year"), "fixedchargeunits"),
        (without("fixedchargeunits"), "fixedchargeunits"),
        (small_rate(fixedchargeeaaddl=4), "fixedchargeeaaddl"),
        (small_rate(minchargeunits="$/year"), "minchargeunits"),
        (small_rate(annualmincharge=300), "annualmincharge"),
        (small_rate(demandReactPwrCharge=0.25), "demandReactPwrCharge"),
        (small_rate(demandreactivepowercharge=0.52), "demandreactivepowercharge"),
        (small_rate(coincidentratestructure=[[{"rate": 3}]]), "coincidentratestructure"),
        (small_rate(demandratchetpercentage=[0] * 11 + [0.8]), "demandratchetpercentage"),
        (small_rate(lookbackpercent=0.5, lookbackrange=12), "lookbackpercent"),
        (without("startdate"), "startdate"),
        (small_rate(startdate=JAN_1_2026 + 12 * 3600), "startdate"),
        (small_rate(enddate=JAN_1_2026), "enddate"),
        (small_rate(startdate="2026-01-01"), "startdate"),
        (
            without("energyratestructure", "energyweekdayschedule", "energyweekendschedule", "fueladjustmentsmonthly",
                    "flatdemandstructure", "demandratestructure", "fixedchargefirstmeter", "mincharge"),
            "",
        ),
    ],
)  # fmt: skip
def test_what_cannot_be_imported_is_refused_by_its_urdb_field(rate, field):
    assert field_of(rate) == field


def test_refusals_say_what_to_do():
    with pytest.raises(UrdbError) as caught:
        urdb_document(small_rate(energyratestructure=UNEQUAL_TIERS), time_zone=LA)
    assert str(caught.value) == (
        "energyratestructure[1][0].max: tier thresholds differ between periods (200 kWh in period 0, "
        "100 kWh in period 1): tiers are read on the month's total across periods, so every period must "
        "have the same tiers"
    )
    with pytest.raises(UrdbError) as caught:
        urdb_document({"items": [small_rate(), small_rate(label="def456")]}, time_zone=LA)
    assert str(caught.value) == "items: holds 2 rates ('abc123', 'def456'): keep the one to import"
    with pytest.raises(UrdbError, match=r"remove the field to import the rate without it$"):
        urdb_document(small_rate(demandReactPwrCharge=0.25), time_zone=LA)


def test_zero_valued_unmodelled_fields_are_harmless():
    rate = small_rate(
        demandratchetpercentage=[0] * 12, lookbackmonths=[False] * 12, annualmincharge=0, fixedchargeeaaddl=10
    )
    assert urdb_document(rate, time_zone=LA)["components"][0]["perMeter"] is True  # the same rate for each meter


# -- real rates (tests/rating/urdb/SOURCES.md) ------------------------------------------------------------


def real(name: str, *remove: str) -> dict:
    doc = json.loads((FIXTURES / name).read_text())
    for field in remove:
        del doc["items"][0][field]
    return doc


def test_smud_ci_tod3_imports_with_five_periods_and_a_summer_peak_demand_charge():
    doc = urdb_document(real("smud_ci_tod3.json"), time_zone=LA)
    assert (doc["id"], doc["effectiveFrom"]) == ("urdb-68c0ca32d7afaa668b0dc6fb", "2025-05-01")  # 1746057600
    fixed, energy, flat_demand, peak_demand = doc["components"]
    assert (fixed["rate"], fixed["per"]) == ("2339.5", "month")
    winter, summer = [1, 2, 3, 4, 5, 10, 11, 12], [6, 7, 8, 9]
    assert [(p["id"], p["rate"], p["weekdays"], p["weekends"], p.get("months")) for p in energy["periods"]] == [
        ("energy-p0", "0.1408", [[16, 21]], [], winter),  # 0.1405 + 0.0003
        ("energy-p1", "0.1163", [[0, 9], [21, 24]], [[0, 24]], winter),
        ("energy-p2", "0.0753", [[9, 16]], [], winter),
        ("energy-p3", "0.2297", [[16, 21]], [], summer),
        ("energy-p4", "0.1121", [[0, 16], [21, 24]], [[0, 24]], summer),
    ]
    assert (flat_demand["rate"], flat_demand.get("window")) == ("5.539", None)
    assert (peak_demand["id"], peak_demand["rate"], peak_demand["window"]) == (
        "demand-p1",
        "11.609",
        {"weekdays": [[16, 21]], "weekends": [], "months": summer},
    )
    Tariff.from_document(doc)


def test_sdge_al_tou_is_refused_for_its_reactive_power_charge():
    with pytest.raises(UrdbError) as caught:
        urdb_document(real("sdge_al_tou.json"), time_zone=LA)
    assert caught.value.field == "items[0].demandReactPwrCharge"
    assert "reactive power" in caught.value.problem


def test_sdge_al_tou_without_it_splits_periods_whose_spring_hours_differ():
    doc = urdb_document(real("sdge_al_tou.json", "demandReactPwrCharge"), time_zone=LA)
    assert doc["effectiveFrom"] == "2024-10-01"  # 1727737200 is 2024-09-30T23:00Z
    _, energy, _, summer_demand, winter_demand = doc["components"]
    by_id = {p["id"]: p for p in energy["periods"]}
    assert list(by_id) == [
        "energy-p0",
        "energy-p1",
        "energy-p2",
        "energy-p3",
        "energy-p4-jan-feb+may+nov-dec",
        "energy-p4-mar-apr",
        "energy-p5-jan-feb+may+nov-dec",
        "energy-p5-mar-apr",
    ]
    # March and April weekdays have a super off-peak 10:00-14:00 the other winter months lack.
    assert by_id["energy-p5-mar-apr"]["weekdays"] == [[0, 6], [10, 14]]
    assert by_id["energy-p5-jan-feb+may+nov-dec"]["weekdays"] == [[0, 6]]
    assert by_id["energy-p5-mar-apr"]["rate"] == "0.11473"  # 0.01874 + 0.09599
    assert (summer_demand["rate"], summer_demand["window"]["months"]) == ("45.61", [6, 7, 8, 9, 10])  # 30.8 + 14.81
    assert (winter_demand["rate"], winter_demand["window"]["months"]) == ("32.93", [1, 2, 3, 4, 5, 11, 12])


def test_sdge_al_tou_rates_a_march_weekday_by_hand():
    tariff = Tariff.from_document(urdb_document(real("sdge_al_tou.json", "demandReactPwrCharge"), time_zone=LA))
    wednesday = date(2026, 3, 4)
    usage = intervals_for(wednesday, date(2026, 3, 5), LA, minutes=60, wh=np.full(24, 1_000, dtype=np.int64))
    rated = rate(tariff=tariff, period_start=wednesday, period_end=date(2026, 3, 5), time_zone=LA, consumption=usage)
    # 1 kWh an hour, so 1 kW of demand in every window. One of March's 31 days is 0.032258 month.
    assert [(line.component_id, str(line.quantity), str(line.amount.amount)) for line in rated.lines] == [
        ("fixed", "0.032258", "24.74"),  # 766.91 x 0.032258 = 24.7390
        ("energy-p3", "5.000", "1.20"),  # 16:00-21:00 x 0.23992 = 1.1996
        ("energy-p4-mar-apr", "9.000", "1.29"),  # 06-10, 14-16, 21-24 x 0.14299 = 1.28691
        ("energy-p5-mar-apr", "10.000", "1.15"),  # 00-06, 10-14 x 0.11473 = 1.1473
        ("demand", "1.000", "0.99"),  # 30.63 x 0.032258 = 0.98806
        ("demand-p1", "0.000", "0.00"),  # the summer window measures nothing in March
        ("demand-p2", "1.000", "1.06"),  # 32.93 x 0.032258 = 1.06226
    ]
    assert rated.total.amount == Decimal("30.43")


def test_pge_bev_2_s_is_refused_for_its_reactive_power_charge_and_reads_without_it():
    assert field_of(real("pge_bev_2_s.json")) == "items[0].demandreactivepowercharge"
    doc = urdb_document(real("pge_bev_2_s.json", "demandreactivepowercharge"), time_zone=LA)
    assert doc["effectiveFrom"] == "2024-10-01"  # 1727762400 is 2024-10-01T06:00Z
    fixed, energy, demand = doc["components"]
    assert (fixed["rate"], demand["rate"], demand.get("window")) == ("447.44", "1.91", None)
    assert [(p["id"], p["description"], p["rate"], p["weekdays"], "months" in p) for p in energy["periods"]] == [
        ("energy-p0", "Energy, Off-Peak", "0.18081", [[0, 9], [14, 16], [21, 24]], False),
        ("energy-p1", "Energy, Super Off-Peak", "0.15754", [[9, 14]], False),
        ("energy-p2", "Energy, Peak", "0.39404", [[16, 21]], False),
    ]
    Tariff.from_document(doc)


def test_importing_does_not_change_the_rate_it_reads():
    rate = real("smud_ci_tod3.json")
    before = copy.deepcopy(rate)
    urdb_document(rate, time_zone=LA)
    assert rate == before
