"""A report as an XLSX workbook (XlsxWriter): a cover sheet, then a sheet per section.

Cells keep their type: an amount is a number with its currency's format (``"USD "#,##0.00``,
``"JPY "#,##0``), a percentage a number shown as ``73.33 %`` (not divided by 100), a date a
date, a count a number, text a string (never read as a formula or a link). Table headings
are frozen, totals bold, each chart a native Excel chart over its figures on the sheet.

Byte for byte reproducible: the creation date is the report date, and XlsxWriter's in-memory
mode stamps every zip entry 1980-01-01.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format as CellFormat
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from consortium.reports.document import Amount, Cell, Chart, Document, Fact, Percent, Section, Table
from consortium.reports.renderers.cells import (
    PERCENT_PLACES,
    column_currencies,
    currency_places,
    heading,
    places,
    shown,
)
from consortium.reports.renderers.svg import PALETTE

COVER = "Report"
FONT = {"font_name": "Calibri", "font_size": 11}
HEADER_FILL = "#DCE6F1"
MUTED = "#595959"
MIN_WIDTH, MAX_WIDTH = 10, 60
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class _Formats:
    """Each cell format the workbook uses, added once (XlsxWriter wants one object each)."""

    def __init__(self, workbook: Workbook) -> None:
        self._workbook = workbook
        self._made: dict[tuple[Any, ...], CellFormat] = {}

    def get(self, *key: Any, **properties: Any) -> CellFormat:
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = self._workbook.add_format({**FONT, **properties})
        return made

    def text(self, bold: bool = False) -> CellFormat:
        return self.get("text", bold, bold=bold, **_total(bold))

    def cell(self, cell: Cell, bold: bool = False) -> CellFormat:
        """The format showing ``cell`` as its kind, bold with a rule above in a total."""
        if isinstance(cell, Amount):
            digits = places(cell.value, currency_places(cell.currency))
            figures = "#,##0" + ("." + "0" * digits if digits else "")
            code = cell.currency.replace('"', "")
            return self.get(
                "amount", code, digits, bold, num_format=f'"{code} "{figures}', bold=bold,
                **_total(bold),
            )  # fmt: skip
        if isinstance(cell, Percent):
            digits = places(cell.value, PERCENT_PLACES)
            return self.get(
                "percent", digits, bold, num_format=f'0.{"0" * digits}" %"', bold=bold,
                **_total(bold),
            )  # fmt: skip
        if isinstance(cell, dt.date):
            return self.get(
                "date", bold, num_format="d mmm yyyy", align="left", bold=bold, **_total(bold)
            )
        if isinstance(cell, int):
            return self.get("integer", bold, num_format="#,##0", bold=bold, **_total(bold))
        return self.text(bold)


def _total(bold: bool) -> dict[str, Any]:
    return {"top": 1} if bold else {}


def write_cell(sheet: Worksheet, row: int, col: int, cell: Cell, fmt: CellFormat) -> None:
    """``cell`` as its native type: never a formula, a link or a number stored as text."""
    if cell is None:
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(cell, Amount | Percent):
        sheet.write_number(row, col, float(cell.value), fmt)
    elif isinstance(cell, dt.date):
        sheet.write_datetime(row, col, dt.datetime.combine(cell, dt.time()), fmt)
    elif isinstance(cell, int):
        sheet.write_number(row, col, cell, fmt)
    else:
        sheet.write_string(row, col, cell, fmt)


class _Widths:
    """The widest text shown in each column, for widths people do not have to adjust."""

    def __init__(self) -> None:
        self.chars: dict[int, int] = {}

    def see(self, col: int, text: str) -> None:
        self.chars[col] = max(self.chars.get(col, 0), len(text))

    def apply(self, sheet: Worksheet) -> None:
        for col, chars in sorted(self.chars.items()):
            sheet.set_column(col, col, min(MAX_WIDTH, max(MIN_WIDTH, chars + 2)))


def sheet_names(document: Document) -> list[str]:
    """The cover's and each section's sheet name: valid in Excel (31 characters, none of
    ``[]:*?/\\``) and distinct, keeping the builder's names where they already are."""
    names: list[str] = []
    for wanted in (COVER, *(section.sheet for section in document.sections)):
        base = _SHEET_FORBIDDEN.sub(" ", wanted).strip().strip("'")[:31] or "Sheet"
        name, number = base, 2
        while name.casefold() in (taken.casefold() for taken in names):
            suffix = f" ({number})"
            name, number = base[: 31 - len(suffix)] + suffix, number + 1
        names.append(name)
    return names


def render_xlsx(document: Document) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    created = dt.datetime.combine(document.report_date, dt.time(), tzinfo=dt.UTC)
    workbook.set_properties(
        {
            "title": document.title,
            "subject": document.subtitle,
            "author": document.consortium,
            "company": document.consortium,
            "comments": f"Ledger anchor {document.anchor}",
            "created": created,
        }
    )
    workbook.set_custom_property("Ledger anchor", str(document.anchor))
    workbook.set_custom_property("Report date", document.report_date.isoformat())
    formats = _Formats(workbook)
    names = sheet_names(document)
    _cover(workbook.add_worksheet(names[0]), document, names[1:], formats)
    for section, name in zip(document.sections, names[1:], strict=True):
        sheet = workbook.add_worksheet(name)
        _print_setup(sheet, document)
        _section(workbook, sheet, name, section, formats)
    workbook.close()
    return buffer.getvalue()


def _print_setup(sheet: Worksheet, document: Document) -> None:
    def escaped(text: str) -> str:
        return text.replace("&", "&&")[:100]

    sheet.set_paper(9)  # A4
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_header(f"&L{escaped(document.consortium)}&R{escaped(document.title)}")
    sheet.set_footer(f"&LLedger anchor {document.anchor.position}&RPage &P of &N")


def _cover(sheet: Worksheet, document: Document, names: list[str], formats: _Formats) -> None:
    _print_setup(sheet, document)
    widths = _Widths()
    muted = formats.get("muted", font_color=MUTED)
    sheet.write_string(0, 0, document.consortium, muted)
    sheet.write_string(1, 0, document.title, formats.get("title", bold=True, font_size=16))
    sheet.write_string(2, 0, document.subtitle, formats.get("subtitle", font_size=12))
    sheet.set_row(1, 22)
    label = formats.get("label", font_color=MUTED)
    rows: list[Fact] = [
        Fact("Report date", document.report_date),
        Fact("Ledger position", document.anchor.position),
        Fact("Chain hash", document.anchor.hash),
        Fact("Ledger anchor", str(document.anchor)),
        *document.parameters,
    ]
    row = 4
    for fact in rows:
        sheet.write_string(row, 0, fact.label, label)
        write_cell(sheet, row, 1, fact.value, formats.cell(fact.value))
        widths.see(0, fact.label)
        widths.see(1, shown(fact.value))
        row += 1
    row += 1
    sheet.write_string(row, 0, "Contents", formats.text(bold=True))
    for section, name in zip(document.sections, names, strict=True):
        row += 1
        target = name.replace("'", "''")
        sheet.write_url(row, 0, f"internal:'{target}'!A1", string=section.title)
        widths.see(0, section.title)
    for note in document.notes:
        row += 2
        sheet.write_string(row, 0, note, muted)
    widths.apply(sheet)
    sheet.set_column(1, 1, max(MIN_WIDTH, min(72, len(document.anchor.hash) + 2)))
    sheet.activate()


def _section(
    workbook: Workbook, sheet: Worksheet, name: str, section: Section, formats: _Formats
) -> None:
    widths = _Widths()
    sheet.write_string(0, 0, section.title, formats.get("heading", bold=True, font_size=14))
    sheet.set_row(0, 20)
    row = 1
    for paragraph in section.paragraphs:
        sheet.write_string(row, 0, paragraph)
        row += 1
    label = formats.get("label", font_color=MUTED)
    row += 1 if section.paragraphs and section.facts else 0
    for fact in section.facts:
        sheet.write_string(row, 0, fact.label, label)
        write_cell(sheet, row, 1, fact.value, formats.cell(fact.value))
        widths.see(0, fact.label)
        widths.see(1, shown(fact.value))
        row += 1
    row += 1
    if section.table is not None:
        row = _table(sheet, row, section.table, formats, widths) + 2
    if section.chart is not None and section.chart.categories and section.chart.series:
        _chart(workbook, sheet, name, row, section.chart, formats, widths)
        if section.table is None:  # the chart's figures are the sheet's table
            sheet.freeze_panes(row + 1, 0)
    widths.apply(sheet)


def _table(sheet: Worksheet, top: int, table: Table, formats: _Formats, widths: _Widths) -> int:
    """The table with its heading row at ``top`` (frozen); returns the row after it."""
    head = formats.get(
        "head", bold=True, bg_color=HEADER_FILL, bottom=1, text_wrap=True, valign="bottom"
    )
    head_right = formats.get(
        "head-right", bold=True, bg_color=HEADER_FILL, bottom=1, text_wrap=True,
        valign="bottom", align="right",
    )  # fmt: skip
    for col, (column, currency) in enumerate(
        zip(table.columns, column_currencies(table), strict=True)
    ):
        title = heading(column, currency)
        numeric = column.kind in ("integer", "amount", "percent")
        sheet.write_string(top, col, title, head_right if numeric else head)
        widths.see(col, title if len(title) < 24 else title[:24])
    first_text = bool(table.columns) and table.columns[0].kind == "text"
    sheet.freeze_panes(top + 1, 1 if first_text else 0)
    sheet.repeat_rows(top)
    row = top + 1
    for cells in table.rows:
        for col, cell in enumerate(cells):
            write_cell(sheet, row, col, cell, formats.cell(cell))
            widths.see(col, shown(cell))
        row += 1
    if table.total is not None:
        for col, cell in enumerate(table.total):
            write_cell(sheet, row, col, cell, formats.cell(cell, bold=True))
            widths.see(col, shown(cell))
        row += 1
    return row


def _chart(
    workbook: Workbook,
    sheet: Worksheet,
    name: str,
    top: int,
    chart: Chart,
    formats: _Formats,
    widths: _Widths,
) -> None:
    """The chart's figures as a small table at ``top``, and a native chart beside it."""
    head = formats.get("head", bold=True, bg_color=HEADER_FILL, bottom=1, text_wrap=True)
    sheet.write_string(top - 1, 0, chart.title, formats.text(bold=True))
    sheet.write_string(top, 0, "Month", head)
    month = formats.get("month", num_format="mmm yyyy", align="left")
    for index, category in enumerate(chart.categories):
        sheet.write_datetime(top + 1 + index, 0, dt.datetime.combine(category, dt.time()), month)
    widths.see(0, "Month")
    native = workbook.add_chart({"type": "column" if chart.style == "column" else "line"})
    assert native is not None  # None only for a type XlsxWriter does not know
    last = top + len(chart.categories)
    for col, series in enumerate(chart.series, start=1):
        title = f"{series.name} ({chart.currency})"
        sheet.write_string(top, col, title, head)
        widths.see(col, title)
        for index, value in enumerate(series.values):
            cell = Amount(value, chart.currency)
            write_cell(sheet, top + 1 + index, col, cell, formats.cell(cell))
            widths.see(col, shown(cell))
        colour = PALETTE[(col - 1) % len(PALETTE)]
        native.add_series(
            {
                "name": [name, top, col],
                "categories": [name, top + 1, 0, last, 0],
                "values": [name, top + 1, col, last, col],
                "line": {"color": colour, "width": 2.25},
                "fill": {"color": colour},
                "marker": {"type": "none"},
            }
        )
    native.set_title({"name": chart.title, "name_font": {"size": 12, "bold": True}})
    native.set_x_axis({"num_format": "mmm yyyy", "num_font": {"rotation": -45}})
    native.set_y_axis(
        {
            "name": chart.currency,
            "num_format": "#,##0",
            "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
        }
    )
    native.set_legend({"position": "bottom"})
    native.set_size({"width": 720, "height": 360})
    sheet.insert_chart(top, len(chart.series) + 2, native, {"x_offset": 10, "y_offset": 0})
