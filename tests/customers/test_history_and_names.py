"""What a change records, and the words a customer is found by."""

from __future__ import annotations

from shared.customers.history import changed_fields
from shared.customers.names import name_terms


def test_a_creation_lists_the_fields_with_a_value():
    assert changed_fields(
        None, {"id": "A", "kind": "customer", "name": "Olivia", "tradingName": None, "taxIds": []}
    ) == {"name": {"from": None, "to": "Olivia"}}


def test_an_update_lists_only_what_differs_including_a_cleared_field():
    before = {"id": "A", "name": "Olivia", "email": "o@example.com", "branch": "NSW"}
    after = {"id": "A", "name": "Olivia Tran", "email": None, "branch": "NSW"}
    assert changed_fields(before, after) == {
        "email": {"from": "o@example.com", "to": None},
        "name": {"from": "Olivia", "to": "Olivia Tran"},
    }
    assert changed_fields(after, after) == {}


def test_names_fold_to_plain_words():
    assert name_terms("Łukasz Żółć") == ["lukasz", "zolc"]
    assert name_terms("Jack & Mia O'Brien") == ["jack", "mia", "obrien"]
    assert name_terms("Ødegård Æsir AS", "ØDEGÅRD") == ["odegard", "aesir", "as"]
    assert name_terms(None, "  ") == []
