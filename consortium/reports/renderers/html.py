"""A report as one self-contained HTML document for an e-mail body.

Inline styles only (mail clients drop ``<style>`` blocks), no external resource (no image,
font or stylesheet to fetch), every text escaped. Money reads ``USD 1,234,567.89`` (in a
table whose column is in one currency, the heading names it and the cells show figures),
percentages ``73.33 %``; charts are inline SVG. The report date and the ledger anchor close
the message.
"""

from __future__ import annotations

from html import escape

from consortium.reports.document import Cell, Chart, Document, Fact, Section, Table
from consortium.reports.renderers.cells import (
    column_currencies,
    date_text,
    heading,
    is_numeric,
    shown,
)
from consortium.reports.renderers.svg import chart_svg

SANS = "-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
MONO = "'SFMono-Regular', Menlo, Consolas, 'Liberation Mono', monospace"
INK, MUTED, RULE = "#1f2933", "#616e7c", "#e4e7eb"
STRIPE, HEAD_FILL, HEAD_RULE = "#f7f9fb", "#edf1f6", "#bcc6d3"
WIDE_TABLE = 7  # columns; a wider table is set a size smaller
NUMERIC = "text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums;"


def _e(text: str) -> str:
    return escape(text, quote=True)


def render_html(document: Document) -> bytes:
    body = "".join(
        [
            _heading(document),
            *(_section(section) for section in document.sections),
            _notes(document.notes),
            _anchor(document),
        ]
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(document.title)} \u2013 {_e(document.subtitle)}</title></head>"
        f'<body style="margin:0;padding:0;background:#f2f4f7;color:{INK};font-family:{SANS};">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="background:#f2f4f7;border-collapse:collapse;"><tr>'
        '<td align="center" style="padding:24px 12px;">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        f'style="max-width:800px;background:#ffffff;border:1px solid {RULE};'
        # fixed: a wide table scrolls in its own box instead of widening the message
        'border-collapse:collapse;text-align:left;table-layout:fixed;"><tr>'
        f'<td style="padding:28px 32px 24px 32px;font-family:{SANS};font-size:14px;'
        f'line-height:1.45;color:{INK};">{body}</td>'
        "</tr></table></td></tr></table></body></html>\n"
    )
    return page.encode("utf-8")


def _heading(document: Document) -> str:
    parameters = "".join(
        f'<span style="margin-right:18px;white-space:nowrap;">'
        f'<span style="color:{MUTED};">{_e(fact.label)}:</span> {_e(shown(fact.value))}</span> '
        for fact in document.parameters
    )
    return (
        f'<div style="font-size:12px;letter-spacing:0.06em;text-transform:uppercase;'
        f'color:{MUTED};">{_e(document.consortium)}</div>'
        f'<h1 style="margin:4px 0 2px 0;font-size:24px;line-height:1.25;font-weight:600;">'
        f"{_e(document.title)}</h1>"
        f'<div style="font-size:15px;color:{INK};">{_e(document.subtitle)}</div>'
        f'<div style="margin-top:10px;font-size:13px;color:{INK};">'
        f'<span style="margin-right:18px;white-space:nowrap;"><span style="color:{MUTED};">'
        f"Report date:</span> {_e(date_text(document.report_date))}</span> {parameters}</div>"
        f'<div style="border-bottom:2px solid {INK};margin:16px 0 4px 0;"></div>'
    )


def _section(section: Section) -> str:
    parts = [
        f'<h2 style="margin:26px 0 8px 0;font-size:17px;line-height:1.3;font-weight:600;">'
        f"{_e(section.title)}</h2>"
    ]
    parts += [f'<p style="margin:0 0 10px 0;">{_e(text)}</p>' for text in section.paragraphs]
    if section.facts:
        parts.append(_facts(section.facts))
    if section.table is not None:
        parts.append(_table(section.table))
    if section.chart is not None:
        parts.append(_chart(section.chart))
    return "".join(parts)


def _facts(facts: tuple[Fact, ...]) -> str:
    rows = "".join(
        f"<tr>"
        f'<td style="padding:5px 12px 5px 0;color:{MUTED};border-bottom:1px solid {RULE};">'
        f"{_e(fact.label)}</td>"
        f'<td style="padding:5px 0;border-bottom:1px solid {RULE};{_align(fact.value)}">'
        f"{_e(shown(fact.value))}</td></tr>"
        for fact in facts
    )
    return (
        '<table role="presentation" cellpadding="0" cellspacing="0" '
        'style="border-collapse:collapse;width:100%;max-width:560px;margin:4px 0 14px 0;'
        f'font-size:14px;">{rows}</table>'
    )


def _align(cell: Cell) -> str:
    return NUMERIC if not isinstance(cell, str) and cell is not None else ""


def _table(table: Table) -> str:
    currencies = column_currencies(table)
    numeric = [is_numeric(column) for column in table.columns]
    head = "".join(
        f'<th style="padding:7px 8px;background:{HEAD_FILL};border-bottom:2px solid {HEAD_RULE};'
        f'font-weight:600;vertical-align:bottom;{"text-align:right;" if right else ""}">'
        f"{_e(heading(column, currency))}</th>"
        for column, currency, right in zip(table.columns, currencies, numeric, strict=True)
    )

    def line(cells: tuple[Cell, ...], style: str) -> str:
        return "".join(
            f'<td style="padding:5px 8px;{style}{NUMERIC if right else ""}">'
            f"{_e(shown(cell, with_currency=currency is None))}</td>"
            for cell, currency, right in zip(cells, currencies, numeric, strict=True)
        )

    rows = "".join(
        f"<tr>{line(cells, f'border-bottom:1px solid {RULE};' + _stripe(index))}</tr>"
        for index, cells in enumerate(table.rows)
    )
    if table.total is not None:
        rows += f"<tr>{line(table.total, f'font-weight:700;border-top:2px solid {INK};')}</tr>"
    size = 13 if len(table.columns) <= WIDE_TABLE else 12
    return (
        '<div style="overflow-x:auto;margin:4px 0 14px 0;">'
        '<table cellpadding="0" cellspacing="0" '
        f'style="border-collapse:collapse;width:100%;font-size:{size}px;">'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _stripe(index: int) -> str:
    return f"background:{STRIPE};" if index % 2 else ""


def _chart(chart: Chart) -> str:
    svg = chart_svg(chart).replace("<svg ", '<svg style="max-width:100%;height:auto;" ', 1)
    return f'<div style="margin:8px 0 16px 0;">{svg}</div>'


def _notes(notes: tuple[str, ...]) -> str:
    return "".join(
        f'<p style="margin:18px 0 0 0;font-size:12px;color:{MUTED};">{_e(note)}</p>'
        for note in notes
    )


def _anchor(document: Document) -> str:
    anchor = document.anchor
    return (
        f'<div style="margin-top:28px;padding-top:10px;border-top:1px solid {RULE};'
        f'font-size:11px;line-height:1.5;color:{MUTED};">'
        f"Figures as of {_e(date_text(document.report_date))}, computed at ledger position "
        f"{anchor.position:,}; the anchor below lets an auditor prove later that they are "
        f"what the ledger held.<br>"
        f'<span style="font-family:{MONO};word-break:break-all;">'
        f"Ledger anchor {_e(str(anchor))}</span></div>"
    )
