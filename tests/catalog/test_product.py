"""Products and their versioned prices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shared.catalog.product import Product, ProductError, changed_fields, new_product

TODAY = date(2026, 11, 29)


def heat_pump(**overrides) -> Product:
    fields = {
        "product_id": "HWS-HP-270",
        "name": "Heat pump hot water 270 L",
        "kind": "hardware",
        "unit": "each",
        "tax_code": "GST",
        "price": "3890.00",
        "currency": "AUD",
        "active_from": date(2026, 1, 1),
        "stock_item_id": "STK-HP270",
    }
    return new_product(**(fields | overrides))


def test_a_price_change_closes_the_old_price_the_day_before_and_keeps_it():
    product = heat_pump().with_price(Decimal("3650.00"), valid_from=date(2027, 1, 1), as_of=TODAY)
    assert [(p.valid_from, p.valid_to, p.amount) for p in product.prices] == [
        (date(2026, 1, 1), date(2026, 12, 31), Decimal("3890.00")),
        (date(2027, 1, 1), None, Decimal("3650.00")),
    ]
    assert product.price_on(date(2026, 12, 31)).amount == Decimal("3890.00")
    assert product.price_on(date(2027, 1, 1)).amount == Decimal("3650.00")
    with pytest.raises(ProductError, match="no price on 2025-12-31"):
        product.price_on(date(2025, 12, 31))


def test_a_correction_before_the_new_price_starts_replaces_it_instead_of_stacking():
    planned = heat_pump().with_price(Decimal("3650.00"), valid_from=date(2027, 1, 1), as_of=TODAY)
    corrected = planned.with_price(Decimal("3700.00"), valid_from=date(2027, 1, 1), as_of=TODAY)
    assert [p.amount for p in corrected.prices] == [Decimal("3890.00"), Decimal("3700.00")]


def test_prices_are_never_back_dated():
    with pytest.raises(ProductError) as raised:
        heat_pump().with_price(Decimal("1"), valid_from=date(2026, 11, 28), as_of=TODAY)
    assert raised.value.field == "priceValidFrom"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"product_id": "hws lower"}, "productId"),
        ({"name": "  "}, "name"),
        ({"kind": "gadget"}, "kind"),
        ({"unit": "barrel"}, "unit"),
        ({"tax_code": "VAT99"}, "taxCode"),
        ({"currency": "XXX"}, "currency"),
        ({"price": "-1"}, "price"),
        ({"price": "12.34567"}, "price"),
        ({"price": "twelve"}, "price"),
        ({"stock_item_id": None}, "stockItemId"),  # hardware comes out of a warehouse
        ({"active_to": date(2025, 1, 1)}, "activeTo"),
        ({"name": "Tab\x00null"}, "name"),
    ],
)
def test_a_bad_field_is_named(overrides, field):
    with pytest.raises(ProductError) as raised:
        heat_pump(**overrides)
    assert raised.value.field == field


def test_a_service_needs_no_stock_item_and_round_trips_through_its_document():
    service = heat_pump(product_id="SVC-ANNUAL", kind="maintenance", unit="visit", stock_item_id=None, price="189")
    assert Product.from_document(service.to_document()) == service
    changes = changed_fields(service, service.with_price(Decimal("199"), valid_from=date(2027, 2, 1), as_of=TODAY))
    assert set(changes) == {"prices"}
