"""Personalised texts: the fixed and variable blocks printed at the top or bottom of an invoice
or on a statement, chosen by the customer's segment, tariff, branch and balance state.

A block is stored text that people type through the API, so it is data, never code:
- placeholders are only the names in ``PLACEHOLDERS`` (``{first_name}``, ``{due_date}``...),
  checked when the block is saved. ``str.format`` would follow ``{customer.__class__}`` or
  ``{0.__globals__}`` into the interpreter and run format specs such as ``{x:>999999}``; here
  an attribute, an index, a positional field, a conversion (``!r``) or a format spec is refused
  at save time, and rendering never calls ``format`` on the stored text: it splices in
  values that were already formatted for the customer's locale (dates and money by babel).
- the result is plain text; the template escapes it like every other customer-facing value.

Selection is deterministic: the blocks whose placement, dates and conditions match, highest
priority first, then by id. A condition left empty matches everyone; a condition with values
matches any of them; all conditions of a block must match. A block with no text in the
customer's language is left out (a Polish bill does not print English), and so is a variable
block whose values the account does not have (no overdue amount, say): half a sentence is
worse than none.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.customers.customer import SEGMENTS
from shared.invoicing.statements import BalanceState
from shared.invoicing.texts import LOCALES, invoice_locale

PLACEMENTS: tuple[str, ...] = ("invoice-top", "invoice-bottom", "statement")
PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "first_name",
        "customer_name",
        "account_number",
        "due_date",
        "overdue_amount",
        "balance",
        "amount_due",
        "credit_amount",
    }
)
BALANCE_STATES: tuple[str, ...] = tuple(state.value for state in BalanceState)
MAX_TEXT_CHARS = 1000
MAX_BLOCK_ID = 60


class TextBlockError(ValueError):
    """A block that cannot be saved; ``field`` names the part of the request at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class Conditions:
    segments: tuple[str, ...] = ()
    tariff_ids: tuple[str, ...] = ()
    branches: tuple[str, ...] = ()
    balance_states: tuple[str, ...] = ()


@dataclass(frozen=True)
class TextBlock:
    block_id: str
    placement: str
    texts: Mapping[str, str]  # locale tag -> text, e.g. {"en-AU": "...", "pl-PL": "..."}
    conditions: Conditions = field(default_factory=Conditions)
    priority: int = 0  # higher first
    active_from: date | None = None
    active_to: date | None = None  # included

    @property
    def variable(self) -> bool:
        return any(placeholders(text) for text in self.texts.values())

    def active_on(self, day: date) -> bool:
        return (self.active_from is None or self.active_from <= day) and (
            self.active_to is None or day <= self.active_to
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.block_id,
            "blockId": self.block_id,
            "kind": "text-block",
            "placement": self.placement,
            "texts": dict(sorted(self.texts.items())),
            "conditions": {
                "segments": list(self.conditions.segments),
                "tariffIds": list(self.conditions.tariff_ids),
                "branches": list(self.conditions.branches),
                "balanceStates": list(self.conditions.balance_states),
            },
            "priority": self.priority,
            "activeFrom": self.active_from.isoformat() if self.active_from else None,
            "activeTo": self.active_to.isoformat() if self.active_to else None,
            "variable": self.variable,
        }


# --- checking a block before it is saved --------------------------------------------------


def placeholders(text: str) -> tuple[str, ...]:
    """The placeholder names in ``text``, which must already be checked."""
    return tuple(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def check_text(text: str, where: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise TextBlockError(where, "a text is required")
    if len(text) > MAX_TEXT_CHARS:
        raise TextBlockError(where, f"{len(text)} characters (at most {MAX_TEXT_CHARS})")
    if any(ord(ch) < 32 and ch not in "\n" for ch in text):
        raise TextBlockError(where, "control characters are not allowed (a line break is)")
    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError as error:  # an unmatched brace
        raise TextBlockError(where, f"{error}; write a literal brace as {{{{ or }}}}") from None
    allowed = ", ".join("{" + name + "}" for name in sorted(PLACEHOLDERS))
    for _, name, spec, conversion in pieces:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise TextBlockError(where, f"unknown placeholder {{{name[:40]}}}; allowed: {allowed}")
        if spec or conversion:
            # Formatting is the locale's job; a spec in stored text could also ask for a
            # megabyte of padding.
            raise TextBlockError(where, f"placeholder {{{name}}} takes no format spec or conversion")
    return text


def _words(value: Any, where: str, options: Sequence[str] | None = None) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TextBlockError(where, "a list of non-empty strings")
    if options is not None:
        for item in value:
            if item not in options:
                raise TextBlockError(where, f"{item!r} is not one of {', '.join(options)}")
    return tuple(sorted(set(value)))


def _day(value: Any, where: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise TextBlockError(where, f"an ISO date (YYYY-MM-DD), got {value!r}") from None


def block_from_request(block_id: str, body: Mapping[str, Any]) -> TextBlock:
    """A block from an API body (or a stored document: the same names), checked field by field."""
    if not isinstance(block_id, str) or not 0 < len(block_id) <= MAX_BLOCK_ID or not block_id.isprintable():
        raise TextBlockError("blockId", f"1 to {MAX_BLOCK_ID} printable characters")
    if "/" in block_id or "\\" in block_id or block_id.strip() != block_id:
        raise TextBlockError("blockId", "no slashes and no surrounding spaces")
    placement = body.get("placement")
    if placement not in PLACEMENTS:
        raise TextBlockError("placement", f"one of {', '.join(PLACEMENTS)}")
    texts = body.get("texts")
    if not isinstance(texts, Mapping) or not texts:
        raise TextBlockError("texts", "an object of locale -> text, with at least one locale")
    checked: dict[str, str] = {}
    for tag, text in texts.items():
        if tag not in LOCALES:
            raise TextBlockError(f"texts.{tag}", f"unsupported locale; supported: {', '.join(LOCALES)}")
        checked[tag] = check_text(text, f"texts.{tag}")
    raw = body.get("conditions") or {}
    if not isinstance(raw, Mapping):
        raise TextBlockError("conditions", "an object")
    unknown = set(raw) - {"segments", "tariffIds", "branches", "balanceStates"}
    if unknown:
        raise TextBlockError(f"conditions.{sorted(unknown)[0]}", "unknown condition")
    conditions = Conditions(
        segments=_words(raw.get("segments"), "conditions.segments", SEGMENTS),
        tariff_ids=_words(raw.get("tariffIds"), "conditions.tariffIds"),
        branches=_words(raw.get("branches"), "conditions.branches"),
        balance_states=_words(raw.get("balanceStates"), "conditions.balanceStates", BALANCE_STATES),
    )
    priority = body.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or not -1000 <= priority <= 1000:
        raise TextBlockError("priority", "a whole number from -1000 to 1000")
    active_from = _day(body.get("activeFrom"), "activeFrom")
    active_to = _day(body.get("activeTo"), "activeTo")
    if active_from and active_to and active_to < active_from:
        raise TextBlockError("activeTo", f"{active_to} is before activeFrom {active_from}")
    return TextBlock(block_id, placement, checked, conditions, priority, active_from, active_to)


# --- choosing and printing ----------------------------------------------------------------


@dataclass(frozen=True)
class TextContext:
    """What the account is, and the values a variable block may print, already formatted in
    the customer's locale (``None``: the account has no such value now)."""

    locale: str
    on: date
    segment: str | None
    tariff_id: str | None
    branch: str | None
    balance_state: BalanceState
    values: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedText:
    block_id: str
    placement: str
    text: str
    priority: int


def matches(block: TextBlock, context: TextContext) -> bool:
    c = block.conditions
    return (
        block.active_on(context.on)
        and (not c.segments or context.segment in c.segments)
        and (not c.tariff_ids or context.tariff_id in c.tariff_ids)
        and (not c.branches or context.branch in c.branches)
        and (not c.balance_states or context.balance_state.value in c.balance_states)
    )


def render_text(text: str, values: Mapping[str, str | None]) -> str | None:
    """The text with its placeholders replaced; None when a value it needs is missing.
    Splices strings: nothing in ``text`` is evaluated or formatted."""
    out = []
    for literal, name, _, _ in string.Formatter().parse(text):
        out.append(literal)
        if name is None:
            continue
        value = values.get(name) if name in PLACEHOLDERS else None
        if value is None:
            return None
        out.append(value)
    return "".join(out)


def select(blocks: Iterable[TextBlock], context: TextContext, *, placement: str | None = None) -> list[RenderedText]:
    """The texts an account gets, highest priority first, then by block id."""
    tag = invoice_locale(context.locale).tag
    chosen = []
    for block in sorted(blocks, key=lambda b: (-b.priority, b.block_id)):
        if placement is not None and block.placement != placement:
            continue
        text = block.texts.get(tag)
        if text is None or not matches(block, context):
            continue
        rendered = render_text(text, context.values)
        if rendered is not None:
            chosen.append(RenderedText(block.block_id, block.placement, rendered, block.priority))
    return chosen
