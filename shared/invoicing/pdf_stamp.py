"""Invoices stamped onto a page WeasyPrint laid out once per shape: the print shop's form overlay.

A bill run prints thousands of invoices that differ only in their values: the same tariff gives
the same lines, the same locale the same words, the same boxes in the same places. WeasyPrint
spends about 250 ms laying out and drawing each one from scratch. Here the page is laid out once
per *shape*, and each invoice of that shape is the same PDF with its own values written in:

1. The template is rendered with every printed value marked (``finalize``). The page's words
   (``t()`` without per-invoice values, the title) are not values. The marked page, with the
   values taken out, is the invoice's *shape*: two invoices of one shape differ only in values.
2. The first time a shape is seen again, WeasyPrint lays the page out once with real values.
   Every line holding a value is taken off the page (its text blanked before drawing) and kept
   as a *stamped block*: its box, alignment, baselines, and the pieces of text on it (the words
   around the values, the values, each with its font, size, colour and letter spacing). The
   usage chart is drawn as an empty frame; its box is kept. The rest is written once as the
   *skeleton*: a PDF whose pages end with room for one more content stream each.
3. For each invoice, the values are set into their blocks with the packaged font's own metrics
   (``glyphs.py``: same glyphs, advances and kerning as WeasyPrint's, within 0.02 px), wrapped
   at spaces the way the skeleton wrapped, aligned as the box says, and written as glyph ids
   into the page's extra stream, with the chart's bars and labels; the PDF is the skeleton's
   bytes, those streams, the document information and a new cross-reference table.

It is exact or it is not used. Building a skeleton re-sets the skeleton's own values with this
code and compares every piece's place with WeasyPrint's (within half a pixel); any difference,
or anything this code does not set (a value beside an image, in a heading, in a decorated
inline box, justified, a character the font lacks), makes the shape unstampable, and its
invoices are rendered the ordinary way. An invoice whose value would not fit its box, would wrap
to a different number of lines, or holds a character the packaged font lacks, is rendered the
ordinary way too. Values are never escaped into PDF syntax: they become glyph ids in hex, so a
customer's name cannot reach the PDF's syntax at all.
"""

from __future__ import annotations

import hashlib
import html as html_text
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pydyf
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from weasyprint.formatting_structure import boxes

from shared.invoicing import pdf
from shared.invoicing.chart import (
    BAR_COLOUR,
    CURRENT_COLOUR,
    GRID_COLOUR,
    LEFT,
    RIGHT,
    TEXT_COLOUR,
    WIDTH,
    ChartDrawing,
    chart_frame_svg,
    printable,
)
from shared.invoicing.glyphs import FACES, face
from shared.invoicing.invoice import Invoice
from shared.invoicing.texts import DEFAULT_LOCALE

if TYPE_CHECKING:
    from shared.invoicing.text_blocks import RenderedText

PX_TO_PT = 0.75  # 72 points per inch over 96 CSS pixels per inch
TOLERANCE_PX = 0.5  # how far a re-set piece may sit from WeasyPrint's own placing
OPEN, CLOSE = "\ue000", "\ue001"  # a marked value in the page while the shape is worked out
_MARK = re.compile(f"{OPEN}(\\d+){CLOSE}")
_TAG = re.compile(r"(<[^>]*>)")
_COLLAPSIBLE = re.compile(r"[ \t\n\r]+")


class Words(str):
    """The page's own words: part of the shape, not a value."""


class NotStampable(Exception):
    """Why an invoice (or every invoice of a shape) is rendered the ordinary way."""


# --- the shape -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkedPage:
    shape: str  # digest of the page with its values taken out
    html: str  # the page with each value in a <span data-slot="n">, for laying out a skeleton
    values: tuple[str, ...]
    metadata: dict[str, str]  # Title, Author, Subject as WeasyPrint would put in the PDF
    chart: ChartDrawing | None
    lang: str


# The values of the page being marked. A context variable, not the template's context: the
# macros in _parts.html are imported without it.
_marked_values: ContextVar[list[str]] = ContextVar("marked_values")


def _mark(value: Any) -> Any:
    if isinstance(value, (Markup, Words)):  # a macro's output, the chart frame, the page's words
        return value
    values = _marked_values.get()
    values.append(printable(str(value)))
    return f"{OPEN}{len(values) - 1}{CLOSE}"


_environment_lock = threading.Lock()
_environment: Environment | None = None


def marking_environment() -> Environment:
    global _environment
    with _environment_lock:
        if _environment is None:
            _environment = Environment(
                loader=FileSystemLoader(pdf.TEMPLATES),
                autoescape=True,
                undefined=StrictUndefined,
                finalize=_mark,
                trim_blocks=True,
                lstrip_blocks=True,
            )
        return _environment


def _words_or_text(text: Any) -> Any:
    def t(key: str, **values: Any) -> str:
        # Words filled only with counts (the chart's "last 13 periods") are still words: the
        # count is part of the shape, like the number of lines.
        printed = text(key, **values)
        return Words(printed) if all(isinstance(v, (int, Words)) for v in values.values()) else printed

    return t


def mark_page(
    invoice: Invoice,
    *,
    locale: str = DEFAULT_LOCALE,
    history: Sequence[pdf.HistoryEntry] | None = None,
    payment: pdf.PaymentDetails | None = None,
    texts: Sequence[RenderedText] = (),
) -> MarkedPage:
    context = pdf.invoice_page_context(invoice, locale=locale, history=history, payment=payment, texts=texts)
    chart = context["history"]
    if chart is not None:
        frame = Markup(chart_frame_svg(chart.title)) if chart.drawing.bars else Markup("")
        context["history"] = _Frame(frame, chart.count, chart.last_year_kwh, chart.title_key)
    context["t"] = _words_or_text(context["t"])
    context["title"] = Words(context["title"])
    values: list[str] = []
    reset = _marked_values.set(values)
    try:
        marked = marking_environment().get_template("invoice.html").render(**context)
    finally:
        _marked_values.reset(reset)
    shape_parts, page_parts = [], []
    in_head = True
    for part in _TAG.split(marked):
        if part.startswith("<"):
            if part.startswith("<body"):
                in_head = False
            # A value inside a tag (a class, a style, a language) shapes the page; inside the
            # head it is metadata only.
            filled = _MARK.sub(lambda m: str(escape(values[int(m[1])])), part)
            if in_head:
                shape_parts.append(_MARK.sub("\ue002", part))
            else:
                shape_parts.append(filled)
            page_parts.append(filled)
        elif in_head:
            shape_parts.append(_MARK.sub("\ue002", part))
            page_parts.append(_MARK.sub(lambda m: str(escape(values[int(m[1])])), part))
        else:
            shape_parts.append(_MARK.sub(lambda m: f"<span data-slot='{m[1]}'/>", part))
            page_parts.append(_MARK.sub(lambda m: f"<span data-slot='{m[1]}'>{escape(values[int(m[1])])}</span>", part))
    page = "".join(page_parts)
    return MarkedPage(
        shape=hashlib.sha256("".join(shape_parts).encode("utf-8")).hexdigest(),
        html=page,
        values=tuple(values),
        metadata=_metadata(page),
        chart=chart.drawing if chart is not None and chart.drawing.bars else None,
        lang=context["lang"],
    )


@dataclass(frozen=True)
class _Frame:
    svg: Markup
    count: int
    last_year_kwh: Any
    title_key: str


def _metadata(page: str) -> dict[str, str]:
    """What WeasyPrint puts in the document information dictionary from the page's head."""
    found: dict[str, str] = {}
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    if title:
        found["Title"] = _COLLAPSIBLE.sub(" ", html_text.unescape(re.sub(r"<[^>]*>", "", title[1]))).strip()
    for name, key in (("author", "Author"), ("description", "Subject")):
        meta = re.search(f'<meta name="{name}" content="([^"]*)"', page)
        if meta:
            found[key] = html_text.unescape(meta[1]).strip()
    return found


# --- the skeleton ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    slot: int | None  # the value set here, or None for the page's words around it
    text: str  # the words; for a value, the skeleton's (only to check the layout)
    face: str
    size: float  # px
    colour: str  # the PDF fill operator, e.g. "0.29 0.34 0.39 rg"
    letter_spacing: float
    transform: str  # "none", "uppercase" or "lowercase"
    derived: tuple[tuple[str, int], ...] = ()  # a footer's copy of values: (skeleton's text, slot)


@dataclass(frozen=True)
class Block:
    page: int
    left: float
    width: float
    align: str  # "left", "right" or "center"
    wrap: bool
    baselines: tuple[float, ...]
    pieces: tuple[Piece, ...]
    observed: tuple[tuple[int, float, str], ...] = ()  # WeasyPrint's (line, x, text) of the skeleton


@dataclass(frozen=True)
class ChartBox:
    page: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Skeleton:
    shape: str
    head: bytes  # the PDF up to the per-invoice objects
    xref: list[bytes]  # its cross-reference entries
    first_free: int  # the object number of the first page's extra stream
    catalog: int
    page_heights: tuple[float, ...]  # pt
    fonts: dict[str, str]  # face -> the font's resource name on the pages
    blocks: tuple[Block, ...]
    chart: ChartBox | None
    producer: str


def build_skeleton(page: MarkedPage) -> Skeleton:
    fetcher = pdf.PackagedAssetFetcher()
    document = pdf.parse_invoice_html(page.html, fetcher)
    laid_out = document.render(stylesheets=pdf.invoice_stylesheets(page.lang), font_config=pdf.font_configuration())
    if len(laid_out.pages) > 9:
        raise NotStampable(f"{len(laid_out.pages)} pages")
    collector = _Collector(_string_set_values(laid_out))
    for number, laid_page in enumerate(laid_out.pages):
        collector.page(number, laid_page._page_box)
    blocks, chart, to_blank = collector.blocks, collector.charts, collector.to_blank
    for block in blocks:
        _check_against_weasyprint(block, page.values)
    for text_box in to_blank:
        text_box.text = ""  # drawn by the stamp, not by WeasyPrint
    found: dict[str, Any] = {}

    def finish(document: Any, written: pydyf.PDF) -> None:
        found.update(_prepare_skeleton_pdf(document, written))

    raw = laid_out.write_pdf(full_fonts=True, uncompressed_pdf=True, finisher=finish)
    assert raw is not None
    needed = {piece.face for block in blocks for piece in block.pieces} | ({"regular", "bold"} if chart else set())
    missing = needed - set(found["fonts"])
    if missing:
        raise NotStampable(f"the skeleton does not carry the {', '.join(sorted(missing))} face")
    first_free = found["first_free"]
    marker = f"\n{first_free} 0 obj\n".encode()
    cut = raw.index(marker) + 1
    xref_at = raw.rindex(b"\nxref\n")
    entries = raw[xref_at:].split(b"\n")[4 : 4 + first_free - 1]  # objects 1 .. first_free - 1
    return Skeleton(
        shape=page.shape,
        head=raw[:cut],
        xref=entries,
        first_free=first_free,
        catalog=found["catalog"],
        page_heights=tuple(p.height * PX_TO_PT for p in laid_out.pages),
        fonts=found["fonts"],
        blocks=tuple(blocks),
        chart=chart[0] if chart else None,
        producer=found["producer"],
    )


def _prepare_skeleton_pdf(document: Any, written: pydyf.PDF) -> dict[str, Any]:
    """The finisher: each page's contents become [q, its own stream, Q, the invoice's stream],
    the invoice's streams are the file's last objects (cut off and written per invoice), the
    streams are compressed one by one and the information dictionary loses what is per invoice."""
    producer = str(getattr(written.info.get("Producer"), "string", ""))
    for key in list(written.info):
        del written.info[key]
    for stream in written.objects:
        if isinstance(stream, pydyf.Stream):
            stream.compress = True
    save, restore = pydyf.Stream([b"q"]), pydyf.Stream([b"Q"])
    written.add_object(save)
    written.add_object(restore)
    pages = [obj for obj in written.objects if isinstance(obj, pydyf.Dictionary) and obj.get("Type") == "/Page"]
    first_free = len(written.objects)
    for index, page_object in enumerate(pages):
        own = page_object["Contents"]
        page_object["Contents"] = pydyf.Array(
            [save.reference, own, restore.reference, f"{first_free + index} 0 R".encode()]
        )
    for _ in pages:
        written.add_object(pydyf.Stream([b"%"]))
    fonts: dict[str, str] = {}
    assets = pdf.packaged_assets()
    packaged = {name: assets[pdf.BASE_URL + file].data for name, file in FACES.items()}
    for font in document.fonts.values():
        for name, data in packaged.items():
            if font.file_content == data and name not in fonts:
                fonts[name] = font.hash
    return {"first_free": first_free, "catalog": written.catalog.number, "fonts": fonts, "producer": producer}


def _string_set_values(laid_out: Any) -> dict[int, str]:
    """The values a footer copies (``string-set``): slot -> the skeleton's text."""
    found: dict[int, str] = {}

    def walk(box: Any, copied: bool) -> None:
        copied = copied or (getattr(box, "style", None) is not None and box.style["string_set"] not in ("none", ()))
        if isinstance(box, boxes.TextBox):
            slot = _slot_of(box)
            if copied and slot is not None:
                found[slot] = box.text
            return
        for child in getattr(box, "children", ()):
            walk(child, copied)

    for laid_page in laid_out.pages:
        walk(laid_page._page_box, False)
    return found


def _slot_of(box: Any) -> int | None:
    element = box.element
    if element is None:
        return None
    slot = element.get("data-slot")
    return None if slot is None else int(slot)


@dataclass
class _Collector:
    """Walks a laid-out page, keeping each block that holds a value and the chart's box."""

    derived: dict[int, str]
    blocks: list[Block] = field(default_factory=list)
    charts: list[ChartBox] = field(default_factory=list)
    to_blank: list[boxes.TextBox] = field(default_factory=list)

    def page(self, number: int, page_box: Any) -> None:
        self._walk(page_box, number, page_box, in_margin=False)

    def _walk(self, box: Any, page: int, page_box: Any, *, in_margin: bool) -> None:
        in_margin = in_margin or isinstance(box, boxes.MarginBox)
        if isinstance(box, (boxes.ReplacedBox, boxes.InlineReplacedBox)):
            element = box.element
            if element is not None and "usage-chart" in (element.get("class") or ""):
                self.charts.append(ChartBox(page, box.content_box_x(), box.content_box_y(), box.width, box.height))
            return
        children = getattr(box, "children", ())
        if children and any(isinstance(child, boxes.LineBox) for child in children):
            block = _block(box, page, self.derived, in_margin, self.to_blank, page_box)
            if block is not None:
                self.blocks.append(block)
            for line in children:  # inline blocks and the chart's frame sit inside lines
                for leaf in _leaves(line):
                    if not isinstance(leaf, boxes.TextBox):
                        self._walk(leaf, page, page_box, in_margin=in_margin)
            return
        for child in children:
            self._walk(child, page, page_box, in_margin=in_margin)


def _leaves(box: Any) -> Any:
    for child in box.children:
        if isinstance(child, (boxes.InlineBox, boxes.LineBox)):
            yield from _leaves(child)
        else:
            yield child


def _decorated(box: Any) -> bool:
    style = box.style
    return (
        bool(box.padding_left or box.padding_right or box.border_left_width or box.border_right_width)
        or bool(box.margin_left or box.margin_right)
        or style["background_color"].alpha != 0
    )


def _block(
    container: Any,
    page: int,
    derived: dict[int, str],
    in_margin: bool,
    to_blank: list[boxes.TextBox],
    page_box: Any,
) -> Block | None:
    lines = [child for child in container.children if isinstance(child, boxes.LineBox)]
    leaves_by_line = [list(_leaves(line)) for line in lines]
    text_boxes = [leaf for leaves in leaves_by_line for leaf in leaves if isinstance(leaf, boxes.TextBox)]
    holds_value = any(_slot_of(leaf) is not None for leaf in text_boxes)
    copies = in_margin and any(value in leaf.text for leaf in text_boxes for value in derived.values())
    if not holds_value and not copies:
        return None
    what = " ".join(leaf.text for leaf in text_boxes)[:60]
    if container.style["bookmark_level"] != "none":
        raise NotStampable(f"a heading holds a value: {what!r}")
    for leaves, line in zip(leaves_by_line, lines, strict=True):
        for leaf in leaves:
            if not isinstance(leaf, boxes.TextBox):
                raise NotStampable(f"a line mixes a value with a {type(leaf).__name__}: {what!r}")
        for inline in _inline_boxes(line):
            if _decorated(inline):
                raise NotStampable(f"a value in a decorated inline box: {what!r}")
    align = container.style["text_align_all"]
    align = {"start": "left", "left": "left", "end": "right", "right": "right", "center": "center"}.get(align)
    if align is None or container.style["direction"] != "ltr":
        raise NotStampable(f"text-align {container.style['text_align_all']} in {what!r}")
    pieces: list[Piece] = []
    previous: tuple[Any, ...] | None = None
    for line_index, leaves in enumerate(leaves_by_line):
        for position, leaf in enumerate(leaves):
            piece = _piece(leaf, derived if in_margin else {})
            key = (piece.slot, id(leaf.element), piece.face, piece.size, piece.colour, piece.letter_spacing)
            # The same element and style carried over a line break: one piece, wrapped.
            if position == 0 and line_index > 0 and previous == key:
                last = pieces[-1]
                pieces[-1] = Piece(
                    last.slot,
                    last.text + " " + piece.text,
                    last.face,
                    last.size,
                    last.colour,
                    last.letter_spacing,
                    last.transform,
                    last.derived,
                )
            else:
                pieces.append(piece)
            previous = key
            to_blank.append(leaf)
    return Block(
        page=page,
        left=container.content_box_x(),
        width=_margin_room(container, page_box) if in_margin else container.width,
        align=align,
        wrap=not in_margin and container.style["white_space"] in ("normal", "pre-line"),
        baselines=tuple(leaves[0].position_y + leaves[0].baseline for leaves in leaves_by_line if leaves),
        pieces=tuple(pieces),
        observed=tuple(
            (number, leaf.position_x, leaf.text)
            for number, leaves in enumerate(leaves_by_line)
            for leaf in leaves
            if leaf.text
        ),
    )


def _margin_room(container: Any, page_box: Any) -> float:
    """A page footer's box is as wide as its text: the room a longer one has is up to the next
    footer box on its right, less a gap, or the page's edge margin when there is none."""
    left = container.content_box_x()
    right_edges = [
        other.position_x - 8
        for other in getattr(page_box, "children", ())
        if isinstance(other, boxes.MarginBox)
        and other is not container
        and other.position_x > left
        and abs(other.position_y - container.position_y) < 1
    ]
    return min(right_edges, default=left + container.width) - left


def _inline_boxes(box: Any) -> Any:
    for child in box.children:
        if isinstance(child, boxes.InlineBox):
            yield child
            yield from _inline_boxes(child)


def _piece(leaf: boxes.TextBox, derived: dict[int, str]) -> Piece:
    style = leaf.style
    family = style["font_family"]
    if not family or family[0] != "Invoice Sans" or style["font_style"] != "normal":
        raise NotStampable(f"text {leaf.text[:40]!r} is not in the packaged font")
    if style["text_decoration_line"] not in ("none", (), frozenset()) and style["text_decoration_line"]:
        raise NotStampable(f"decorated text {leaf.text[:40]!r}")
    if style["word_spacing"] not in (0, "normal"):
        raise NotStampable(f"word spacing in {leaf.text[:40]!r}")
    transform = style["text_transform"]
    if transform not in ("none", "uppercase", "lowercase"):
        raise NotStampable(f"text-transform {transform}")
    letter_spacing = style["letter_spacing"]
    colour = style["color"]
    *_, alpha = colour
    if alpha != 1:
        raise NotStampable(f"translucent text {leaf.text[:40]!r}")
    red, green, blue = colour.to("srgb").coordinates
    copied = tuple((text, slot) for slot, text in derived.items() if text and text in leaf.text)
    if copied and any(len(text) < 3 for text, _ in copied):
        raise NotStampable("a footer copies a value too short to find again")
    return Piece(
        slot=_slot_of(leaf),
        text=leaf.text,
        face="bold" if style["font_weight"] >= 600 else "regular",
        size=style["font_size"],
        colour=f"{_number(red)} {_number(green)} {_number(blue)} rg",
        letter_spacing=0.0 if letter_spacing == "normal" else float(letter_spacing),
        transform=transform,
        derived=copied,
    )


def _number(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


# --- setting a block ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    line: int
    x: float  # px from the page's left
    text: str
    piece: Piece


def _text_of(piece: Piece, values: Sequence[str]) -> str:
    if piece.derived:
        # One pass, longest first: a new number must not be rewritten again because it happens
        # to contain the skeleton's account id.
        replacements = {skeleton_text: values[slot] for skeleton_text, slot in piece.derived}
        pattern = "|".join(re.escape(text) for text in sorted(replacements, key=len, reverse=True))
        return re.sub(pattern, lambda found: replacements[found[0]], piece.text)
    if piece.slot is None:
        return piece.text
    value = values[piece.slot]
    if piece.transform == "uppercase":
        value = value.upper()
    elif piece.transform == "lowercase":
        value = value.lower()
    return value


def set_block(block: Block, values: Sequence[str]) -> list[Placed]:
    """The block's pieces with these values, broken into the block's lines (at spaces, greedily,
    as WeasyPrint breaks plain text) and aligned. Raises ``NotStampable`` when they do not fit
    the lines the skeleton has."""
    units: list[list[tuple[Piece, str]]] = [[]]  # runs of text with no break between them
    spaces: list[tuple[Piece, str] | None] = []  # the space before each unit after the first
    for piece in block.pieces:
        text = _text_of(piece, values)
        missing = face(piece.face).missing(text)
        if missing:
            raise NotStampable(f"the packaged font lacks {missing!r}")
        if text != _COLLAPSIBLE.sub(" ", text):
            raise NotStampable(f"{text[:40]!r} holds white space the page would collapse")
        words = text.split(" ")
        for index, word in enumerate(words):
            if index > 0:
                spaces.append((piece, " "))
                units.append([])
            if word:
                units[-1].append((piece, word))
    lines: list[list[tuple[Piece, str]]] = [[]]
    widths = [0.0]
    for index, unit in enumerate(units):
        if not unit:
            continue
        unit_width = sum(_width(piece, text) for piece, text in unit)
        space = spaces[index - 1] if index > 0 and lines[-1] else None
        space_width = _width(*space) if space else 0.0
        if lines[-1] and block.wrap and widths[-1] + space_width + unit_width > block.width + 0.05:
            lines.append([])
            widths.append(0.0)
            space = None
            space_width = 0.0
        if space:
            lines[-1].append(space)
        lines[-1].extend(unit)
        widths[-1] += space_width + unit_width
    if len(lines) != len(block.baselines):
        raise NotStampable(f"{len(lines)} lines where the page has {len(block.baselines)}")
    placed: list[Placed] = []
    for number, (line, width) in enumerate(zip(lines, widths, strict=True)):
        # A line that may not wrap (an account number) overflows its box to the right, as
        # WeasyPrint lets it; where an overflowing line would start otherwise is not modelled.
        if width > block.width + 0.05 and (block.wrap or block.align != "left"):
            raise NotStampable(f"{width:.1f} px of text in a {block.width:.1f} px box")
        x = block.left + {"left": 0.0, "right": block.width - width, "center": (block.width - width) / 2}[block.align]
        for piece, text in _merged(line):
            placed.append(Placed(number, x, text, piece))
            x += _width(piece, text)
    return placed


def _merged(line: list[tuple[Piece, str]]) -> list[tuple[Piece, str]]:
    merged: list[tuple[Piece, str]] = []
    for piece, text in line:
        if merged and merged[-1][0] is piece:
            merged[-1] = (piece, merged[-1][1] + text)
        else:
            merged.append((piece, text))
    return merged


def _width(piece: Piece, text: str) -> float:
    return face(piece.face).width(text, piece.size, piece.letter_spacing)


def _check_against_weasyprint(block: Block, values: Sequence[str]) -> None:
    """Set the skeleton's own values with this code and compare every piece with where
    WeasyPrint put it: the same lines, the same text, within ``TOLERANCE_PX``."""
    placed = [(p.line, p.x, p.text) for p in set_block(block, values)]
    if [(line, text) for line, _, text in placed] != [(line, text) for line, _, text in block.observed]:
        raise NotStampable(f"lines differ from WeasyPrint's: {placed[:3]} against {list(block.observed)[:3]}")
    for (_, x, text), (_, seen, _) in zip(placed, block.observed, strict=True):
        if abs(x - seen) > TOLERANCE_PX:
            raise NotStampable(f"{text[:30]!r} set at {x:.2f} px where WeasyPrint put it at {seen:.2f} px")


# --- the PDF ---------------------------------------------------------------------------------


def _glyph_text(piece: Piece, text: str) -> str:
    run = face(piece.face).run(text, piece.size, piece.letter_spacing)
    size = piece.size
    parts = ["["]
    chunk = []
    for glyph, extra in zip(run.glyphs, run.extra, strict=True):
        chunk.append(f"{glyph:04x}")
        if abs(extra) > 1e-9:
            parts.append(f"<{''.join(chunk)}> {_number(-extra / size * 1000)} ")
            chunk = []
    if chunk:
        parts.append(f"<{''.join(chunk)}>")
    parts.append("] TJ")
    return "".join(parts)


def _text_ops(skeleton: Skeleton, page_height: float, x: float, baseline: float, piece: Piece, text: str) -> str:
    return (
        f"BT /{skeleton.fonts[piece.face]} {_number(piece.size * PX_TO_PT)} Tf {piece.colour} "
        f"1 0 0 1 {_number(x * PX_TO_PT)} {_number(page_height - baseline * PX_TO_PT)} Tm "
        f"{_glyph_text(piece, text)} ET\n"
    )


def _hex_colour(value: str) -> str:
    return " ".join(_number(int(value[i : i + 2], 16) / 255) for i in (1, 3, 5))


def _chart_ops(skeleton: Skeleton, drawing: ChartDrawing) -> str:
    box = skeleton.chart
    assert box is not None
    height = skeleton.page_heights[box.page]
    scale = box.width / WIDTH  # drawing units to px

    def at(x: float, y: float) -> str:
        return f"{_number((box.x + x * scale) * PX_TO_PT)} {_number(height - (box.y + y * scale) * PX_TO_PT)}"

    ops = [f"q {_hex_colour(GRID_COLOUR)} RG {_number(scale * PX_TO_PT)} w"]
    ops.extend(f"{at(LEFT, y)} m {at(WIDTH - RIGHT, y)} l S" for y in drawing.grid)
    for current in (False, True):
        ops.append(f"{_hex_colour(CURRENT_COLOUR if current else BAR_COLOUR)} rg")
        for bar in drawing.bars:
            if bar.current == current:
                ops.append(
                    f"{at(bar.x, bar.bottom)} {_number(bar.width * scale * PX_TO_PT)} "
                    f"{_number((bar.bottom - bar.top) * scale * PX_TO_PT)} re f"
                )
    ops.append("Q")
    colour = f"{_hex_colour(TEXT_COLOUR)} rg"
    for label in drawing.texts:
        piece = Piece(None, label.content, "bold" if label.bold else "regular", label.size * scale, colour, 0.0, "none")
        width = _width(piece, label.content)
        left = label.x - (width / scale if label.anchor == "end" else width / scale / 2)
        ops.append(_text_ops(skeleton, height, box.x + left * scale, box.y + label.y * scale, piece, label.content))
    return "\n".join(ops) + "\n"


def _pdf_string(text: str) -> str:
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def stamp(skeleton: Skeleton, page: MarkedPage) -> bytes:
    """The invoice's PDF: the skeleton with this page's values set in."""
    if page.shape != skeleton.shape:
        raise NotStampable("a page of another shape")
    streams = [[] for _ in skeleton.page_heights]
    for block in skeleton.blocks:
        height = skeleton.page_heights[block.page]
        for placed in set_block(block, page.values):
            streams[block.page].append(
                _text_ops(skeleton, height, placed.x, block.baselines[placed.line], placed.piece, placed.text)
            )
    if skeleton.chart is not None and page.chart is not None:
        labels = "".join(text.content for text in page.chart.texts)
        missing = face("regular").missing(labels) or face("bold").missing(labels)
        if missing:
            raise NotStampable(f"the packaged font lacks {missing!r}")
        streams[skeleton.chart.page].append(_chart_ops(skeleton, page.chart))
    elif (skeleton.chart is None) != (page.chart is None):
        raise NotStampable("the chart's frame and the history disagree")
    out = [skeleton.head]
    offsets: list[int] = []
    position = len(skeleton.head)
    for number, ops in enumerate(streams, start=skeleton.first_free):
        data = zlib.compress("".join(ops).encode("ascii"), 6)
        chunk = (
            f"{number} 0 obj\n<</Filter /FlateDecode /Length {len(data)}>>\nstream\n".encode()
            + data
            + b"\nendstream\nendobj\n"
        )
        offsets.append(position)
        out.append(chunk)
        position += len(chunk)
    info_number = skeleton.first_free + len(streams)
    info = {"Producer": skeleton.producer, **page.metadata}
    info_body = " ".join(f"/{key} {_pdf_string(value)}" for key, value in info.items() if value)
    chunk = f"{info_number} 0 obj\n<<{info_body}>>\nendobj\n".encode()
    offsets.append(position)
    out.append(chunk)
    position += len(chunk)
    digest = hashlib.md5(b"".join(out[1:]), usedforsecurity=False).hexdigest()  # the file's /ID, not a seal
    size = info_number + 1
    xref = [f"xref\n0 {size}\n0000000000 65535 f \n".encode()]
    xref.extend(entry + b"\n" for entry in skeleton.xref)
    xref.extend(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    trailer = (
        f"trailer\n<</Size {size} /Root {skeleton.catalog} 0 R /Info {info_number} 0 R "
        f"/ID [<{digest}> <{digest}>]>>\nstartxref\n{position}\n%%EOF\n"
    )
    out.extend(xref)
    out.append(trailer.encode())
    return b"".join(out)


# --- the renderer ---------------------------------------------------------------------------


@dataclass
class StampCounts:
    stamped: int = 0
    rendered: int = 0  # the ordinary way: a new shape, an unstampable one, or a value that did not fit
    skeletons: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class StampedRenderer:
    """Renders invoices, stamping those whose shape has been seen before. One per process; the
    skeletons it keeps are a few hundred kB each, at most ``max_shapes`` of them."""

    def __init__(self, max_shapes: int = 64) -> None:
        self._max_shapes = max_shapes
        self._skeletons: OrderedDict[str, Skeleton | NotStampable] = OrderedDict()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self.counts = StampCounts()

    def render(
        self,
        invoice: Invoice,
        *,
        locale: str = DEFAULT_LOCALE,
        history: Sequence[pdf.HistoryEntry] | None = None,
        payment: pdf.PaymentDetails | None = None,
        texts: Sequence[RenderedText] = (),
    ) -> bytes:
        page = mark_page(invoice, locale=locale, history=history, payment=payment, texts=texts)
        skeleton = self._skeleton_for(page)
        if isinstance(skeleton, Skeleton):
            try:
                stamped = stamp(skeleton, page)
            except NotStampable as reason:
                self._count_rendered(str(reason))
            else:
                with self._lock:
                    self.counts.stamped += 1
                return stamped
        elif isinstance(skeleton, NotStampable):
            self._count_rendered(str(skeleton))
        else:
            self._count_rendered("first of its shape")
        return pdf.render_invoice_pdf(invoice, locale=locale, history=history, payment=payment, texts=texts)

    def _count_rendered(self, reason: str) -> None:
        with self._lock:
            self.counts.rendered += 1
            self.counts.reasons[reason[:80]] = self.counts.reasons.get(reason[:80], 0) + 1

    def _skeleton_for(self, page: MarkedPage) -> Skeleton | NotStampable | None:
        with self._lock:
            known = self._skeletons.get(page.shape)
            if known is not None:
                self._skeletons.move_to_end(page.shape)
                return known
            if page.shape not in self._seen:
                # A shape earns a skeleton the second time it is seen: a one-off invoice (a
                # personalised note, an odd period) would pay for a layout it never reuses.
                self._seen[page.shape] = None
                if len(self._seen) > 16 * self._max_shapes:
                    self._seen.popitem(last=False)
                return None
        try:
            built: Skeleton | NotStampable = build_skeleton(page)
            try:
                stamp(built, page)  # the skeleton's own invoice must stamp
            except NotStampable as reason:
                built = NotStampable(f"skeleton's own values: {reason}")
        except NotStampable as reason:
            built = reason
        with self._lock:
            self.counts.skeletons += 1
            self._skeletons[page.shape] = built
            if len(self._skeletons) > self._max_shapes:
                self._skeletons.popitem(last=False)
        return built


_renderer_lock = threading.Lock()
_renderer: StampedRenderer | None = None


def stamped_renderer() -> StampedRenderer:
    """The process's renderer: its skeletons serve every invoice this process renders."""
    global _renderer
    with _renderer_lock:
        if _renderer is None:
            _renderer = StampedRenderer()
        return _renderer


def render_invoice_pdf_fast(
    invoice: Invoice,
    *,
    locale: str = DEFAULT_LOCALE,
    history: Sequence[pdf.HistoryEntry] | None = None,
    payment: pdf.PaymentDetails | None = None,
    texts: Sequence[RenderedText] = (),
) -> bytes:
    """The invoice's PDF, stamped when its shape has a skeleton, laid out by WeasyPrint when not."""
    return stamped_renderer().render(invoice, locale=locale, history=history, payment=payment, texts=texts)
