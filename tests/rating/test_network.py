"""Network pass-through: the distributor's tariff priced on the same consumption, as its own lines."""

from __future__ import annotations

from datetime import date

import pytest

from shared.rating import RatingError
from tests.rating.component_builders import SYDNEY, flat, hourly, peak_offpeak, rated, supply, tariff

MON, TUE, WED = date(2026, 7, 6), date(2026, 7, 7), date(2026, 7, 8)
ENERGY = hourly(MON, WED, SYDNEY, {16: 500, 10: 500})  # 1 kWh peak and 1 kWh off-peak each weekday


def retail(**changes):
    return tariff(supply(), flat("0.20"), **({"id": "retail", "networkTariffId": "ea025"} | changes))


def network(net_supply: str = "0.50", **changes):
    tou = peak_offpeak("0.25", "0.05", id="net_tou")
    tou["periods"][0]["id"], tou["periods"][1]["id"] = "net_peak", "net_off"
    return tariff(supply(net_supply, id="net_supply", description="Network supply"), tou, **({"id": "ea025"} | changes))


def lines(charges):
    return [
        (x.tariff_id, x.tariff_version, x.component_id, str(x.quantity), str(x.amount.amount)) for x in charges.lines
    ]


def test_network_charges_follow_the_retail_lines_under_their_own_tariff():
    # Mon and Tue, 4 kWh. Retail: supply 2 x 1.00 = 2.00; energy 4 x 0.20 = 0.80.
    # Network: supply 2 x 0.50 = 1.00; peak 2 x 0.25 = 0.50; off-peak 2 x 0.05 = 0.10.
    # Subtotal 4.40; GST per line 0.20 + 0.08 + 0.10 + 0.05 + 0.01 = 0.44; total 4.84.
    charges = rated(retail(), MON, WED, ENERGY, network=network())
    assert lines(charges) == [
        ("retail", "v1", "supply", "2", "2.00"),
        ("retail", "v1", "energy", "4.000", "0.80"),
        ("ea025", "v1", "net_supply", "2", "1.00"),
        ("ea025", "v1", "net_peak", "2.000", "0.50"),
        ("ea025", "v1", "net_off", "2.000", "0.10"),
    ]
    assert [str(x) for x in (charges.subtotal.amount, charges.tax_total.amount, charges.total.amount)] == [
        "4.40",
        "0.44",
        "4.84",
    ]


def test_the_network_splits_at_its_own_price_change():
    # The network reprices on Tuesday (supply 0.60): Monday at v1, Tuesday at v2; retail is one part.
    v1 = network(effectiveTo="2026-07-07")
    v2 = network("0.60", version="v2", effectiveFrom="2026-07-07")
    charges = rated(retail(), MON, WED, ENERGY, network=[v2, v1])  # order does not matter
    assert lines(charges)[2:] == [
        ("ea025", "v1", "net_supply", "1", "0.50"),
        ("ea025", "v1", "net_peak", "1.000", "0.25"),
        ("ea025", "v1", "net_off", "1.000", "0.05"),
        ("ea025", "v2", "net_supply", "1", "0.60"),
        ("ea025", "v2", "net_peak", "1.000", "0.25"),
        ("ea025", "v2", "net_off", "1.000", "0.05"),
    ]
    assert [(x.period_start, x.period_end) for x in charges.lines[2::3]] == [(MON, TUE), (TUE, WED)]


def test_a_named_network_tariff_must_be_passed():
    with pytest.raises(RatingError, match="passes through network tariff ea025: pass its versions as network"):
        rated(retail(), MON, WED, ENERGY)


def test_the_network_tariff_passed_must_be_the_one_named():
    with pytest.raises(RatingError, match="passes through ea025 but other-network was given"):
        rated(retail(), MON, WED, ENERGY, network=network(id="other-network"))


def test_a_network_tariff_in_another_currency_is_refused():
    with pytest.raises(RatingError) as caught:
        rated(retail(), MON, WED, ENERGY, network=network(currency="NZD"))
    assert str(caught.value) == (
        "network: currency mismatch: network tariff ea025 is priced in NZD but tariff retail in AUD"
    )


def test_a_shared_tax_code_must_have_one_rate():
    with pytest.raises(RatingError, match=r"tax code GST is 0\.15 in network tariff ea025 but 0\.10 in tariff retail"):
        rated(retail(), MON, WED, ENERGY, network=network(taxes={"GST": "0.15"}))


def test_a_network_tariff_no_version_names_is_refused():
    plain = tariff(supply(), flat("0.20"), id="retail")
    with pytest.raises(RatingError, match="tariff retail names no network tariff"):
        rated(plain, MON, WED, ENERGY, network=network())


def test_the_network_must_cover_the_period_too():
    with pytest.raises(RatingError, match=r"tariff ea025 has no version for 2026-07-07..2026-07-08"):
        rated(retail(), MON, WED, ENERGY, network=network(effectiveTo="2026-07-07"))


def test_a_network_tariff_cannot_name_a_network_of_its_own():
    with pytest.raises(RatingError, match="itself names a network tariff"):
        rated(retail(), MON, WED, ENERGY, network=network(networkTariffId="transmission"))
