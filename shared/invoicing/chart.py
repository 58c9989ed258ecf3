"""The consumption history chart: the last 13 periods as bars, drawn as inline SVG markup.

Customers compare months by looking, so the bars share one scale starting at zero and the current
period stands out in the brand's amber. The SVG is built here as text and placed in the page
as it is, so this module escapes every label itself: the labels may come from outside (a
caller's period names), and the chart is the one fragment the template does not escape.
Nothing in it refers to a file or URL, so it asks WeasyPrint to fetch nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from xml.sax.saxutils import escape as _escape
from xml.sax.saxutils import quoteattr as _quoteattr

MAX_BARS = 13
MAX_LABEL_CHARS = 6  # a bar's slot is about 8 mm wide; a longer label would run into its neighbour

# Drawing units: 1 unit = 0.25 mm, so the chart is 118 x 42 mm on the page.
WIDTH, HEIGHT = 472, 168
LEFT, RIGHT, TOP, BOTTOM = 40, 2, 16, 30
FONT = "Invoice Sans"
BAR_COLOUR, CURRENT_COLOUR, GRID_COLOUR, TEXT_COLOUR = "#b8c7d9", "#f5a623", "#dde3ea", "#4a5663"


class InvalidHistory(ValueError):
    pass


# Characters XML 1.0 cannot hold (C0 controls but tab and newlines, lone surrogates, U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def printable(text: str) -> str:
    """Text as it can be printed: a character with no business on a document becomes U+FFFD,
    visibly, instead of failing the render or vanishing."""
    return _NOT_XML.sub("\ufffd", text)


def escape(text: str) -> str:
    return _escape(printable(text))


def quoteattr(text: str) -> str:
    return _quoteattr(printable(text))


@dataclass(frozen=True)
class UsagePeriod:
    label: str  # as printed under the bar, already localised: "Nov"
    kwh: Decimal
    sublabel: str = ""  # a second line under the label, e.g. the year under January


def checked_history(periods: Sequence[UsagePeriod]) -> tuple[UsagePeriod, ...]:
    """The last 13 periods, oldest first; refuses a value a bar cannot show, naming its entry."""
    for index, period in enumerate(periods):
        if not isinstance(period.kwh, Decimal) or not period.kwh.is_finite():
            raise InvalidHistory(f"usage history entry {index} ({period.label!r}): kWh must be a finite Decimal")
        if period.kwh < 0:
            raise InvalidHistory(f"usage history entry {index} ({period.label!r}): negative consumption {period.kwh}")
    return tuple(periods[-MAX_BARS:])


def nice_step(largest: Decimal) -> Decimal:
    """A grid step of 1, 2, 2.5 or 5 times a power of ten giving three to five lines."""
    if largest <= 0:
        return Decimal(1)
    magnitude = Decimal(1).scaleb(largest.adjusted() - 1)
    for factor in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10), Decimal(20)):
        step = factor * magnitude
        if largest / step <= 5:
            return step
    return 25 * magnitude  # unreachable: largest < 100 * magnitude, and 20 x 5 covers it


@dataclass(frozen=True)
class ChartText:
    x: float
    y: float
    content: str  # as printed, not escaped
    size: int
    anchor: str  # "end" or "middle", as SVG's text-anchor
    bold: bool = False


@dataclass(frozen=True)
class ChartBar:
    x: float
    top: float
    width: float
    bottom: float
    current: bool  # the period this invoice bills, in amber


@dataclass(frozen=True)
class ChartDrawing:
    """The chart in drawing units (``WIDTH`` x ``HEIGHT``, y down), rounded to the tenth the
    SVG prints, so the SVG and the stamped PDF (``pdf_stamp.py``) draw the same picture."""

    grid: tuple[float, ...]  # the y of each horizontal grid line, from ``LEFT`` to ``WIDTH - RIGHT``
    bars: tuple[ChartBar, ...]
    texts: tuple[ChartText, ...]


def _tenth(value: float) -> float:
    return float(f"{value:.1f}")


def usage_chart(periods: Sequence[UsagePeriod], *, format_kwh: Callable[[Decimal], str], unit: str) -> ChartDrawing:
    """The bars, grid and labels of the chart; the last period is the one this invoice bills."""
    bars = checked_history(periods)
    if not bars:
        return ChartDrawing((), (), ())
    largest = max(period.kwh for period in bars)
    step = nice_step(largest)
    lines = int((largest / step).to_integral_value(rounding=ROUND_CEILING)) or 1  # up to the tallest bar
    top_value = step * lines
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / MAX_BARS  # fewer periods keep the same bar width, aligned right
    first_slot = MAX_BARS - len(bars)

    def y_of(value: Decimal) -> float:
        return TOP + plot_height * float(1 - value / top_value)

    grid, drawn, texts = [], [], []
    for n in range(lines + 1):
        value = step * n
        y = y_of(value)
        grid.append(_tenth(y))
        texts.append(ChartText(LEFT - 6, _tenth(y + 3.5), format_kwh(value), 10, "end"))
    texts.append(ChartText(LEFT - 6, TOP - 8, unit, 10, "end"))
    for index, period in enumerate(bars):
        current = index == len(bars) - 1
        centre = LEFT + slot * (first_slot + index + 0.5)
        width = slot * 0.62
        y = y_of(period.kwh)
        drawn.append(ChartBar(_tenth(centre - width / 2), _tenth(y), _tenth(width), _tenth(TOP + plot_height), current))
        texts.append(ChartText(_tenth(centre), _tenth(y - 3), format_kwh(period.kwh), 9, "middle", current))
        texts.append(ChartText(_tenth(centre), HEIGHT - BOTTOM + 12, _clipped(period.label), 10, "middle", current))
        if period.sublabel:
            texts.append(ChartText(_tenth(centre), HEIGHT - BOTTOM + 24, _clipped(period.sublabel), 9, "middle"))
    return ChartDrawing(tuple(grid), tuple(drawn), tuple(texts))


def _clipped(text: str) -> str:
    return printable(text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…")


def _svg_text(text: ChartText) -> str:
    weight = ' font-weight="bold"' if text.bold else ""
    return (
        f'<text x="{text.x:.1f}" y="{text.y:.1f}" font-size="{text.size}" text-anchor="{text.anchor}"{weight} '
        f'fill="{TEXT_COLOUR}" font-family="{FONT}">{escape(text.content)}</text>'
    )


def chart_frame_svg(title: str) -> str:
    """The chart's empty frame: the same box on the page, nothing drawn in it."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="usage-chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label={quoteattr(title)}></svg>'
    )


def usage_chart_svg(
    periods: Sequence[UsagePeriod], *, format_kwh: Callable[[Decimal], str], unit: str, title: str
) -> str:
    """SVG markup for the bars; the last period is the one this invoice bills."""
    drawing = usage_chart(periods, format_kwh=format_kwh, unit=unit)
    return drawing_svg(drawing, title) if drawing.bars else ""


def drawing_svg(drawing: ChartDrawing, title: str) -> str:
    # Grid lines and the past bars are one path each: every SVG element costs WeasyPrint a
    # cascade and a draw, and the chart would otherwise be a fifth of an invoice's render time.
    grid = "".join(f"M{LEFT} {y:.1f}H{WIDTH - RIGHT}" for y in drawing.grid)
    past = "".join(_bar_path(bar) for bar in drawing.bars if not bar.current)
    current = "".join(_bar_path(bar) for bar in drawing.bars if bar.current)
    parts = [chart_frame_svg(title).removesuffix("</svg>")]
    parts.append(f'<path d="{grid}" stroke="{GRID_COLOUR}" fill="none"/>')
    if past:
        parts.append(f'<path class="past" d="{past}" fill="{BAR_COLOUR}"/>')
    parts.append(f'<path class="current" d="{current}" fill="{CURRENT_COLOUR}"/>')
    parts.extend(_svg_text(text) for text in drawing.texts)
    parts.append("</svg>")
    return "".join(parts)


def _bar_path(bar: ChartBar) -> str:
    return f"M{bar.x:.1f} {bar.top:.1f}h{bar.width:.1f}V{bar.bottom:.1f}h{-bar.width:.1f}Z"
