"""The SVG chart writer: drawn from the chart's figures alone, the same text every time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from consortium.reports.document import Chart, Series
from consortium.reports.renderers.svg import chart_svg, tick_label

NS = "{http://www.w3.org/2000/svg}"


def chart(style="line", values=("10", "25.5", "40")) -> Chart:
    return Chart(
        title="Signed <& contributed>",
        categories=tuple(dt.date(2025, month, 1) for month in range(1, len(values) + 1)),
        series=(Series("Signed & sealed", tuple(Decimal(v) for v in values)),),
        currency="USD",
        style=style,
    )


def test_a_line_chart_is_well_formed_escaped_svg_with_a_point_per_month():
    text = chart_svg(chart())
    assert text == chart_svg(chart())
    root = ElementTree.fromstring(text)  # well formed: the title's <& are escaped
    assert root.findtext(f"{NS}title") == "Signed <& contributed>"
    (line,) = root.iter(f"{NS}polyline")
    assert len(str(line.get("points")).split()) == 3
    labels = [element.text for element in root.iter(f"{NS}text")]
    assert {"Jan 2025", "Feb 2025", "Mar 2025", "Signed & sealed", "USD"} <= set(labels)


def test_a_column_chart_has_a_bar_per_value_and_negative_bars_go_down():
    root = ElementTree.fromstring(chart_svg(chart("column", ("5", "-2"))))
    bars = [rect for rect in root.iter(f"{NS}rect") if rect.get("fill") == "#1f4e79"]
    assert len(bars) == 3  # the legend's swatch and two bars
    up, down = bars[1], bars[2]
    assert float(up.get("y", "")) + float(up.get("height", "")) == pytest.approx(
        float(down.get("y", ""))
    )


def test_a_chart_without_figures_says_so():
    empty = Chart(title="Nothing yet", categories=(), series=(), currency="USD")
    assert "No figures for this period" in chart_svg(empty)


def test_tick_labels_are_short():
    assert tick_label(30e9) == "30 bn"
    assert tick_label(2.5e6) == "2.5 m"
    assert tick_label(0) == "0"
