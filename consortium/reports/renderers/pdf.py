"""A report as a paginated, printable A4 PDF, typeset by Typst (the ``typst`` package).

The layout is ``templates/report.typ``; the document reaches it as JSON through
``sys.inputs`` (texts already formatted by ``cells``, charts as SVG from ``svg``), so no
text of a report is ever read as Typst markup. Reproducible byte for byte: the fonts are
the ones compiled into Typst (Libertinus Serif, DejaVu Sans Mono; the machine's are
ignored) and the PDF's dates are the report date.

One compiler is made per process, on first use, and reused: it keeps the template parsed
and the fonts loaded, so a report costs only its own layout.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from importlib.resources import files
from typing import Any

import typst

from consortium.reports.document import Cell, Document, Section, Table
from consortium.reports.renderers.cells import (
    column_currencies,
    date_text,
    heading,
    is_numeric,
    shown,
)
from consortium.reports.renderers.svg import chart_svg

TEMPLATE = files("consortium.reports.renderers") / "templates" / "report.typ"
CHART_FONT = "Libertinus Serif"
# Table type size in points; the template goes smaller (to 6.5), then sideways, for a table
# too wide for the page.
TABLE_SIZE = 8.5
# A text column is never narrower than this (names do not wrap a syllable a line).
TEXT_FLOOR = "MMMMMMMM"

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_compiler: typst.Compiler | None = None
_source: bytes = b""


class PdfError(RuntimeError):
    """Typst refused the document (a fault in the template, not in the figures)."""


def _get_compiler() -> typst.Compiler:
    global _compiler, _source  # one compiler per process, made on first use
    if _compiler is None:
        # The template goes to every compile: the binding forgets in-memory input after one.
        _source = TEMPLATE.read_bytes()
        _compiler = typst.Compiler(font_paths=[], ignore_system_fonts=True)
    return _compiler


def render_pdf(document: Document) -> bytes:
    pdf, warnings = typeset(document)
    for warning in warnings:
        # A warning (a glyph no embedded font has, say) changes nothing reproducible: the
        # same document still gives the same bytes; it is logged for someone to look at.
        logger.warning("Typst, laying out %s: %s", document.name, warning)
    return pdf


def typeset(document: Document) -> tuple[bytes, list[str]]:
    """The PDF of ``document`` and Typst's warnings about it (none for a sound template)."""
    data = json.dumps(payload(document), ensure_ascii=False, separators=(",", ":"))
    midnight = dt.datetime.combine(document.report_date, dt.time(), tzinfo=dt.UTC)
    with _lock:
        try:
            pdf, warnings = _get_compiler().compile_with_warnings(
                input=_source,
                format="pdf",
                sys_inputs={"document": data},
                timestamp=int(midnight.timestamp()),
            )
        except typst.TypstError as error:
            raise PdfError(f"Typst could not lay out {document.name}: {error.message}") from error
    assert isinstance(pdf, bytes)  # one PDF, not pages
    return pdf, [warning.message for warning in warnings]


def payload(document: Document) -> dict[str, Any]:
    """What the template reads: every text as it is printed, charts as SVG."""
    return {
        "consortium": document.consortium,
        "title": document.title,
        "subtitle": document.subtitle,
        "report_date": date_text(document.report_date),
        "date": [document.report_date.year, document.report_date.month, document.report_date.day],
        "anchor": str(document.anchor),
        "parameters": [
            ["Report date", date_text(document.report_date)],
            *([fact.label, shown(fact.value)] for fact in document.parameters),
            ["Ledger position", f"{document.anchor.position:,}"],
        ],
        "sections": [_section(section) for section in document.sections],
        "notes": list(document.notes),
    }


def _section(section: Section) -> dict[str, Any]:
    return {
        "title": section.title,
        "paragraphs": list(section.paragraphs),
        "facts": [
            {"label": fact.label, "value": shown(fact.value), "numeric": _numeric(fact.value)}
            for fact in section.facts
        ],
        "table": _table(section.table) if section.table is not None else None,
        "chart": (
            chart_svg(section.chart, width=680, height=300, font_family=CHART_FONT)
            if section.chart is not None
            else None
        ),
    }


def _numeric(cell: Cell) -> bool:
    return cell is not None and not isinstance(cell, str)


def _table(table: Table) -> dict[str, Any]:
    currencies = column_currencies(table)

    def line(cells: tuple[Cell, ...]) -> list[str]:
        return [
            shown(cell, with_currency=currency is None)
            for cell, currency in zip(cells, currencies, strict=True)
        ]

    rows = [line(row) for row in table.rows]
    total = line(table.total) if table.total is not None else None
    lines = [*rows, *([total] if total is not None else [])]
    columns = []
    for index, (column, currency) in enumerate(zip(table.columns, currencies, strict=True)):
        title = heading(column, currency)
        texts = [cells[index] for cells in lines]
        columns.append(
            {
                "title": title,
                "numeric": is_numeric(column),
                "text": column.kind == "text",
                "probes": _probes(title, texts, wraps=column.kind == "text"),
                # A text column's share of the width left: its longest cell, within bounds.
                "share": min(40, max([8, *(len(text) for text in texts)])),
            }
        )
    return {"columns": columns, "rows": rows, "total": total, "size": TABLE_SIZE}


def _probes(title: str, texts: list[str], *, wraps: bool) -> list[str]:
    """The texts that decide a column's least width: the longest word of its heading and
    the longest cell (of a text column, which wraps, the longest word and a floor)."""
    pieces = [word for text in texts for word in text.split()] if wraps else texts
    probes = [max(title.split() or [""], key=len), max(pieces or [""], key=len)]
    return [*probes, TEXT_FLOOR] if wraps else probes
