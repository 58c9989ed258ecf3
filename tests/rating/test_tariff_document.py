"""Tariff documents: an exact round trip, and every bad field refused by its path."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shared.rating import DailySupply, FlatEnergy, Tariff, TariffError, TaxRounding, TimeOfUse, TouPeriod
from tests.rating.builders import flat_document, tou_document


def refusal(doc: dict) -> TariffError:
    with pytest.raises(TariffError) as caught:
        Tariff.from_document(doc)
    return caught.value


def test_a_document_reads_into_typed_components_with_exact_rates():
    tariff = Tariff.from_document(tou_document())

    supply, tou = tariff.components
    assert isinstance(supply, DailySupply) and supply.rate == Decimal("1.0500")
    assert isinstance(tou, TimeOfUse)
    assert [p.id for p in tou.periods] == ["peak", "shoulder", "offpeak"]
    assert tou.periods[0].weekdays == ((15, 21),)
    assert tariff.taxes == {"GST": Decimal("0.10")}
    assert tariff.tax_rounding is TaxRounding.PER_LINE
    assert tariff.effective_from == date(2026, 1, 1)


@pytest.mark.parametrize("document", [tou_document(), flat_document()], ids=["tou", "flat"])
def test_a_canonical_document_round_trips_byte_for_byte(document):
    assert Tariff.from_document(document).to_document() == document


def test_the_model_round_trips_through_its_document():
    tariff = Tariff.from_document(tou_document(timeZone="Australia/Brisbane", effectiveTo="2027-01-01"))
    assert Tariff.from_document(tariff.to_document()) == tariff
    assert str(tariff.to_document()["components"][1]["periods"][0]["rate"]) == "0.4950"  # trailing zero kept


def test_the_brief_shape_without_optional_fields_reads():
    doc = tou_document()
    for optional in ("tariffId", "timeZone", "effectiveTo"):
        del doc[optional]
    del doc["components"][1]["description"]
    tariff = Tariff.from_document(doc)
    assert tariff.time_zone is None and tariff.effective_to is None
    assert tariff.to_document()["tariffId"] == "res-tou-2026"  # the partition key is always written


def test_cosmos_system_properties_are_ignored():
    doc = {**tou_document(), "_etag": '"0x1"', "_rid": "abc", "_ts": 1767225600, "_self": "x", "_attachments": "y"}
    assert Tariff.from_document(doc) == Tariff.from_document(tou_document())


def test_a_tariff_built_in_code_is_checked_like_a_document():
    with pytest.raises(TariffError, match=r"^rate: floats are refused"):
        FlatEnergy(id="energy", description="General usage", rate=0.312, tax_code="GST")  # type: ignore[arg-type]
    with pytest.raises(TariffError, match=r"^periods: hour 3 on weekends is not covered"):
        TimeOfUse(
            id="tou",
            tax_code="GST",
            periods=(TouPeriod("all", "All day", Decimal("0.3"), ((0, 24),), ((0, 3), (4, 24))),),
        )


# -- bad documents: each names its field --------------------------------------------------------


def test_a_float_rate_is_refused_naming_the_field():
    doc = tou_document()
    doc["components"][1]["periods"][2]["rate"] = 0.165
    error = refusal(doc)
    assert error.field == "components[1].periods[2].rate"
    assert "floats are refused" in str(error) and '"0.165"' in str(error)


def test_a_float_tax_rate_is_refused():
    assert refusal(tou_document(taxes={"GST": 0.1})).field == "taxes.GST"


def test_a_float_hour_is_refused():
    doc = tou_document()
    doc["components"][1]["periods"][0]["weekdays"] = [[15.0, 21]]
    error = refusal(doc)
    assert error.field == "components[1].periods[0].weekdays[0]"
    assert "whole numbers" in error.problem


@pytest.mark.parametrize(
    ("rate", "problem"),
    [("abc", "decimal string"), ("NaN", "finite"), ("Infinity", "finite"), ("-0.10", "negative"), (True, "decimal")],
)
def test_a_rate_that_is_not_a_non_negative_decimal_is_refused(rate, problem):
    doc = flat_document()
    doc["components"][1]["rate"] = rate
    error = refusal(doc)
    assert error.field == "components[1].rate"
    assert problem in error.problem


def test_an_unknown_component_kind_is_refused_with_the_known_kinds():
    doc = flat_document()
    doc["components"].append({"id": "demand", "kind": "demand", "rate": "12.00", "taxCode": "GST"})
    error = refusal(doc)
    assert error.field == "components[2].kind"
    assert "'demand'" in error.problem and "daily_supply, flat_energy, time_of_use" in error.problem


def test_a_component_without_a_kind_is_refused():
    doc = flat_document()
    del doc["components"][0]["kind"]
    assert refusal(doc).field == "components[0].kind"


def test_a_tou_gap_is_refused_naming_the_uncovered_hour_and_day_type():
    doc = tou_document()
    doc["components"][1]["periods"][2]["weekends"] = [[0, 7], [23, 24]]  # 22:00-23:00 on weekends is nobody's
    error = refusal(doc)
    assert error.field == "components[1].periods"
    assert error.problem == "hour 22 on weekends is not covered by any period"


def test_a_tou_overlap_is_refused_naming_the_hour_day_type_and_both_periods():
    doc = tou_document()
    doc["components"][1]["periods"][0]["weekdays"] = [[14, 21]]  # 14:00 is also shoulder
    error = refusal(doc)
    assert error.field == "components[1].periods"
    assert error.problem == "hour 14 on weekdays is covered by more than one period: 'peak', 'shoulder'"


@pytest.mark.parametrize("hours", [[22, 7], [0, 25], [-1, 3], [5, 5], [1, 2, 3]])
def test_hour_ranges_must_be_forward_within_the_day(hours):
    doc = tou_document()
    doc["components"][1]["periods"][0]["weekdays"] = [hours]
    assert refusal(doc).field == "components[1].periods[0].weekdays[0]"


def test_a_wrapping_range_error_says_how_to_split_it():
    doc = tou_document()
    doc["components"][1]["periods"][2]["weekdays"] = [[22, 7]]
    assert "[[22, 24], [0, 7]]" in refusal(doc).problem


@pytest.mark.parametrize(
    "missing", ["id", "version", "currency", "effectiveFrom", "components", "taxes", "taxRounding"]
)
def test_a_missing_field_is_named(missing):
    doc = tou_document()
    del doc[missing]
    error = refusal(doc)
    assert error.field == missing and "missing" in error.problem


def test_an_unknown_field_is_refused_rather_than_ignored():
    doc = flat_document()
    doc["components"][1]["minimumCharge"] = "5.00"
    error = refusal(doc)
    assert error.field == "components[1].minimumCharge"
    assert refusal(flat_document(taxRouding="per_line")).field == "taxRouding"


def test_a_tax_code_missing_from_taxes_is_refused():
    doc = flat_document()
    doc["components"][1]["taxCode"] = "VAT23"
    error = refusal(doc)
    assert error.field == "components[1].taxCode"
    assert "'VAT23' is not in taxes (known: GST)" in error.problem


def test_ids_are_unique_across_components_and_periods():
    doc = tou_document()
    doc["components"][1]["periods"][0]["id"] = "supply"
    error = refusal(doc)
    assert error.field == "components[1].periods[0].id"
    assert "components[0].id" in error.problem


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"timeZone": "Mars/Olympus"}, "timeZone"),
        ({"effectiveFrom": "2026-13-01"}, "effectiveFrom"),
        ({"effectiveTo": "2025-12-31"}, "effectiveTo"),
        ({"taxRounding": "per_month"}, "taxRounding"),
        ({"taxes": {"GST": "1.5"}}, "taxes.GST"),
        ({"components": []}, "components"),
        ({"components": "supply"}, "components"),
        ({"tariffId": "someone-else"}, "tariffId"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_tariff_fields_are_named(changes, field):
    assert refusal(tou_document(**changes)).field == field


def test_a_component_that_is_not_an_object_is_named_by_its_index():
    doc = flat_document()
    doc["components"][1] = "energy"
    error = refusal(doc)
    assert error.field == "components[1]"
    assert str(error).startswith("components[1]: ")
