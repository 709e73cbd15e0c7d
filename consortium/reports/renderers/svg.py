"""A report chart as SVG, drawn from its figures alone: axes, gridlines, lines or columns,
a legend. Used inline in HTML and as an image in the PDF.

The only arithmetic is the mapping of figures to pixels (and the axis' round tick values);
coordinates are written with fixed decimals, so the same chart gives the same text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from consortium.reports.document import Chart
from consortium.reports.renderers.cells import month_text

# Series colours: dark enough on white and in greyscale print, told apart by hue.
PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0", "#2e75b6")
INK = "#222222"
MUTED = "#666666"
GRID = "#dddddd"
SANS = "Helvetica, Arial, sans-serif"

_SCALES = ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k"))


def _n(value: float) -> str:
    """A coordinate, written the same way every time."""
    return f"{value:.1f}"


def _nice_step(span: float, ticks: int) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``ticks`` intervals."""
    raw = span / ticks
    power: float = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power  # pragma: no cover - the loop ends at 10


def tick_label(value: float) -> str:
    """An axis value, short: ``150 bn``, ``2.5 m``, ``0``."""
    for size, suffix in _SCALES:
        if abs(value) >= size:
            return f"{value / size:g} {suffix}"
    return f"{value:g}"


def _scale(chart: Chart) -> tuple[float, float, float]:
    """The axis' bottom, top and step: zero always shown, round ticks around the figures."""
    values = [float(value) for series in chart.series for value in series.values]
    low, high = min([0.0, *values]), max([0.0, *values])
    if high == low:
        high = low + 1.0
    step = _nice_step(high - low, 4)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def chart_svg(chart: Chart, *, width: int = 640, height: int = 300, font_family: str = SANS) -> str:
    """``chart`` as a self-contained SVG document (no external resource, no script)."""
    font = escape(font_family)
    left, right, top, bottom = 64.0, 12.0, 64.0, 30.0
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high, step = _scale(chart)

    def y_of(value: float) -> float:
        return top + plot_h * (high - value) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="{font}" font-size="11">',
        f"<title>{escape(chart.title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{_n(left)}" y="16" font-size="13" font-weight="bold" fill="{INK}">'
        f"{escape(chart.title)}</text>",
        f'<text x="{_n(left - 8)}" y="{_n(top - 16)}" text-anchor="end" fill="{MUTED}">'
        f"{escape(chart.currency)}</text>",
    ]
    parts += _legend(chart, left, 34.0)
    ticks = round((high - low) / step)
    for index in range(ticks + 1):
        value = low + index * step
        y = y_of(value)
        colour = INK if value == 0 else GRID
        parts.append(
            f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(left + plot_w)}" y2="{_n(y)}" '
            f'stroke="{colour}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{_n(left - 8)}" y="{_n(y + 4)}" text-anchor="end" fill="{MUTED}">'
            f"{escape(tick_label(value))}</text>"
        )
    count = len(chart.categories)
    if not count or not chart.series:
        parts.append(
            f'<text x="{_n(left + plot_w / 2)}" y="{_n(top + plot_h / 2)}" '
            f'text-anchor="middle" fill="{MUTED}">No figures for this period</text>'
        )
        parts.append("</svg>")
        return "".join(parts)
    band = plot_w / count
    every = max(1, math.ceil(count / 8))
    for index, category in enumerate(chart.categories):
        if index % every == 0:
            x = left + band * (index + 0.5)
            parts.append(
                f'<text x="{_n(x)}" y="{_n(top + plot_h + 18)}" text-anchor="middle" '
                f'fill="{MUTED}">{escape(month_text(category))}</text>'
            )
    if chart.style == "column":
        parts += _columns(chart, left, band, y_of)
    else:
        parts += _lines(chart, left, band, y_of)
    parts.append("</svg>")
    return "".join(parts)


def _legend(chart: Chart, x: float, y: float) -> list[str]:
    parts = []
    for index, series in enumerate(chart.series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="{_n(x)}" y="{_n(y - 9)}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{_n(x + 14)}" y="{_n(y)}" fill="{INK}">{escape(series.name)}</text>'
        )
        x += 14 + 6.5 * len(series.name) + 18
    return parts


def _lines(chart: Chart, left: float, band: float, y_of: Callable[[float], float]) -> list[str]:
    parts = []
    for index, series in enumerate(chart.series):
        colour = PALETTE[index % len(PALETTE)]
        points = [
            (left + band * (i + 0.5), y_of(float(value))) for i, value in enumerate(series.values)
        ]
        path = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2" '
            f'stroke-linejoin="round"/>'
        )
        if len(points) <= 24:
            parts += [
                f'<circle cx="{_n(x)}" cy="{_n(y)}" r="2.5" fill="{colour}"/>' for x, y in points
            ]
    return parts


def _columns(chart: Chart, left: float, band: float, y_of: Callable[[float], float]) -> list[str]:
    parts = []
    group = band * 0.7
    width = group / len(chart.series)
    zero = y_of(0.0)
    for index, series in enumerate(chart.series):
        colour = PALETTE[index % len(PALETTE)]
        for i, value in enumerate(series.values):
            x = left + band * i + (band - group) / 2 + width * index
            y = y_of(float(value))
            # Edges rounded first, so a bar meets the zero line exactly.
            upper, lower = round(min(y, zero), 1), round(max(y, zero), 1)
            parts.append(
                f'<rect x="{_n(x)}" y="{_n(upper)}" width="{_n(width)}" '
                f'height="{_n(lower - upper)}" fill="{colour}"/>'
            )
    return parts
