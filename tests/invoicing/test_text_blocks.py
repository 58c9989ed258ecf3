"""Personalised texts: stored text is data, never code; selection by each condition is
deterministic; the store keeps versions by ETag."""

from __future__ import annotations

from datetime import date

import pytest

from shared.invoicing.statements import BalanceState
from shared.invoicing.text_block_store import TextBlockExists, TextBlockNotFound, TextBlockStore
from shared.invoicing.text_blocks import (
    Conditions,
    TextBlock,
    TextBlockError,
    TextContext,
    block_from_request,
    render_text,
    select,
)
from shared.platform.documents import ConcurrencyConflict
from shared.platform.documents.sqlite_store import SqliteDocumentStore

ON = date(2026, 11, 2)


def context(**changes) -> TextContext:
    values = {
        "locale": "en-AU",
        "on": ON,
        "segment": "residential",
        "tariff_id": "res-flat-2026",
        "branch": "NSW",
        "balance_state": BalanceState.NOTHING_OVERDUE,
        "values": {"first_name": "Olivia", "due_date": "16 Nov 2026", "overdue_amount": None, "balance": "$75.40"},
    }
    return TextContext(**(values | changes))


def block(block_id: str, text: str = "Hello", *, priority: int = 0, **conditions) -> TextBlock:
    return TextBlock(block_id, "statement", {"en-AU": text}, Conditions(**conditions), priority)


def ids(blocks, ctx) -> list[str]:
    return [r.block_id for r in select(blocks, ctx)]


@pytest.mark.parametrize(
    "hostile",
    [
        "{customer.__class__}",
        "{0.__globals__}",
        "{first_name.__class__.__init__.__globals__}",
        "{first_name[0]}",
        "{first_name!r}",
        "{first_name:>999999999}",
        "{first_name:{due_date}}",
        "{}",
        "{0}",
        "{password}",
        "Pay now {",
        "Pay now }",
    ],
)
def test_a_hostile_or_unknown_placeholder_is_refused_when_the_block_is_saved(hostile):
    with pytest.raises(TextBlockError) as refused:
        block_from_request("b1", {"placement": "statement", "texts": {"en-AU": f"Dear customer, {hostile}"}})
    assert refused.value.field == "texts.en-AU"


def test_allowed_placeholders_and_literal_braces_are_accepted_and_spliced_not_formatted():
    saved = block_from_request(
        "b1",
        {"placement": "statement", "texts": {"en-AU": "Hi {first_name}, {{not a field}} pay {balance} by {due_date}"}},
    )
    assert saved.variable
    assert select([saved], context())[0].text == "Hi Olivia, {not a field} pay $75.40 by 16 Nov 2026"
    # A value that itself looks like a placeholder is printed as it is, never expanded.
    assert render_text("Hi {first_name}", {"first_name": "{0.__globals__}"}) == "Hi {0.__globals__}"


def test_a_block_that_slipped_past_the_checks_still_evaluates_nothing():
    smuggled = TextBlock("evil", "statement", {"en-AU": "x {customer.__class__} {0.__globals__}"})
    assert select([smuggled], context()) == []


def body(**fields) -> dict:
    return {"placement": "statement", "texts": {"en-AU": "x"}} | fields


@pytest.mark.parametrize(
    ("field", "request_body", "message"),
    [
        ("placement", body(placement="footer"), "one of"),
        ("texts", body(texts={}), "at least one"),
        ("texts.de-DE", body(texts={"de-DE": "Hallo"}), "unsupported locale"),
        ("texts.en-AU", body(texts={"en-AU": "  "}), "required"),
        ("texts.en-AU", body(texts={"en-AU": "x" * 1001}), "at most 1000"),
        ("texts.en-AU", body(texts={"en-AU": "a\x00b"}), "control characters"),
        ("conditions.segments", body(conditions={"segments": ["vip"]}), "not one of"),
        ("conditions.balanceStates", body(conditions={"balanceStates": ["rich"]}), "not one of"),
        ("conditions.colour", body(conditions={"colour": ["red"]}), "unknown"),
        ("priority", body(priority="high"), "whole number"),
        ("activeTo", body(activeFrom="2026-12-01", activeTo="2026-11-01"), "before"),
        ("activeFrom", body(activeFrom="1/12/2026"), "ISO date"),
    ],
)
def test_bad_blocks_are_refused_naming_the_field(field, request_body, message):
    with pytest.raises(TextBlockError) as refused:
        block_from_request("b1", request_body)
    assert refused.value.field == field and message in refused.value.message


def test_selection_by_segment():
    blocks = [block("business", segments=("small-business", "commercial")), block("homes", segments=("residential",))]
    assert ids(blocks, context()) == ["homes"]
    assert ids(blocks, context(segment="commercial")) == ["business"]


def test_selection_by_tariff():
    blocks = [block("tou", tariff_ids=("res-tou-2026",)), block("any")]
    assert ids(blocks, context()) == ["any"]
    assert ids(blocks, context(tariff_id="res-tou-2026")) == ["any", "tou"]


def test_selection_by_branch():
    blocks = [block("vic", branches=("VIC",)), block("nsw", branches=("NSW",))]
    assert ids(blocks, context()) == ["nsw"]
    assert ids(blocks, context(branch="VIC")) == ["vic"]
    assert ids(blocks, context(branch=None)) == []


def test_selection_by_balance_state():
    blocks = [
        block("credit", balance_states=("in_credit",)),
        block("fine", balance_states=("nothing_overdue",)),
        block("late", "{first_name}, {overdue_amount} is overdue", balance_states=("overdue",)),
    ]
    assert ids(blocks, context(balance_state=BalanceState.IN_CREDIT)) == ["credit"]
    assert ids(blocks, context()) == ["fine"]
    overdue = context(balance_state=BalanceState.OVERDUE, values={"first_name": "Olivia", "overdue_amount": "$70.00"})
    assert [r.text for r in select(blocks, overdue)] == ["Olivia, $70.00 is overdue"]


def test_all_conditions_of_a_block_must_hold():
    both = block("both", segments=("residential",), branches=("VIC",))
    assert ids([both], context()) == []
    assert ids([both], context(branch="VIC")) == ["both"]


def test_active_dates_include_both_ends():
    timed = TextBlock(
        "winter", "statement", {"en-AU": "Winter"}, active_from=date(2026, 11, 2), active_to=date(2026, 11, 30)
    )
    assert ids([timed], context(on=date(2026, 11, 1))) == []
    assert ids([timed], context(on=date(2026, 11, 2))) == ["winter"]
    assert ids([timed], context(on=date(2026, 11, 30))) == ["winter"]
    assert ids([timed], context(on=date(2026, 12, 1))) == []


def test_priority_then_id_decides_the_order_whatever_the_input_order():
    blocks = [block("b", priority=5), block("a", priority=5), block("z", priority=9), block("c", priority=-1)]
    assert ids(blocks, context()) == ["z", "a", "b", "c"]
    assert ids(list(reversed(blocks)), context()) == ["z", "a", "b", "c"]


def test_language_placement_and_missing_values_leave_a_block_out():
    polish_only = TextBlock("pl", "statement", {"pl-PL": "Dzień dobry"})
    top = TextBlock("top", "invoice-top", {"en-AU": "Top"})
    needs_overdue = block("late", "You owe {overdue_amount}")
    blocks = [polish_only, top, needs_overdue]
    assert ids(blocks, context()) == ["top"]
    assert [r.block_id for r in select(blocks, context(), placement="statement")] == []
    assert [r.text for r in select(blocks, context(locale="pl_PL"))] == ["Dzień dobry"]


def test_the_store_keeps_versions_by_etag(tmp_path):
    documents = SqliteDocumentStore(tmp_path / "documents.sqlite")
    store = TextBlockStore(documents)
    saved = block_from_request("welcome", {"placement": "statement", "texts": {"en-AU": "Welcome {first_name}"}})
    etag = store.create(saved)
    with pytest.raises(TextBlockExists):
        store.create(saved)
    read, read_etag = store.get("welcome")
    assert read == saved and read_etag == etag

    changed = block_from_request("welcome", {"placement": "statement", "texts": {"en-AU": "Hi {first_name}"}})
    new_etag = store.replace(changed, etag=etag)
    assert new_etag != etag
    with pytest.raises(ConcurrencyConflict):
        store.replace(saved, etag=etag)  # stale: nothing overwritten
    assert store.get("welcome")[0].texts["en-AU"] == "Hi {first_name}"
    with pytest.raises(ConcurrencyConflict):
        store.delete("welcome", etag=etag)
    store.delete("welcome", etag=new_etag)
    with pytest.raises(TextBlockNotFound):
        store.get("welcome")
    assert store.all() == []
    documents.close()
