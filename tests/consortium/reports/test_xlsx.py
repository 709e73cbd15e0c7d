"""The XLSX renderer, read back with openpyxl: numbers are numbers in their currency's
format, dates are dates, headings frozen, totals bold, charts native, metadata fixed."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl.reader.excel import load_workbook

from consortium.reports.rendering import render
from tests.consortium.reports import documents


def workbook(kind: str):
    return load_workbook(io.BytesIO(render(documents.every()[kind], "xlsx").content))


def test_a_cover_then_a_sheet_per_section():
    book = workbook("statement")
    assert book.sheetnames == ["Report", "Summary", "Calls", "Ownership", "Events"]
    cover = book["Report"]
    values = {row[0]: row[1] for row in cover.iter_rows(values_only=True) if row[0]}
    assert values["Ledger anchor"] == f"48213:{documents.HASH}"
    assert values["Ledger position"] == 48213
    assert values["Partner"] == documents.PARTNER
    assert values["Report date"] == dt.datetime(2026, 3, 31)
    assert cover["B4"].is_date is False  # the labels' column is text
    assert book.properties.created == dt.datetime(2026, 3, 31)
    assert str(book.properties.title) == "Partner statement"


def test_amounts_are_numbers_in_their_currencys_format():
    sheet = workbook("statement")["Calls"]
    header = [cell.value for cell in sheet[3]]
    assert header == [
        "Call",
        "Due date",
        "Allocated (USD)",
        "Contributed (USD)",
        "Outstanding (USD)",
    ]
    first = sheet[4]
    assert first[2].data_type == "n"
    assert Decimal(repr(first[2].value)) == Decimal("12750000.00")
    assert first[2].number_format == '"USD "#,##0.00'
    assert first[1].is_date and first[1].value == dt.datetime(2025, 2, 14)
    facilities = workbook("progress")["Facilities"]
    assert facilities["B4"].value == 150000000000
    assert facilities["B4"].number_format == '"JPY "#,##0'  # the yen has no minor unit
    assert facilities["C6"].number_format == '"KWD "#,##0.000'
    assert Decimal(repr(facilities["C6"].value)) == Decimal("1.25")


def test_facts_keep_their_types():
    sheet = workbook("statement")["Summary"]
    values = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2) if row[0].value}
    assert Decimal(repr(values["Called"].value)) == Decimal("1234567890.12")
    assert values["Called"].number_format == '"USD "#,##0.00'
    share = values["Share of signed equity"]
    assert share.value == pytest.approx(7.3333)  # not divided by 100
    assert share.number_format == '0.0000" %"'
    assert values["Calls in the period"].value == 3
    assert values["Last contribution"].is_date
    assert values["Role"].value == documents.MARKUP
    assert values["Role"].data_type == "s"


def test_text_that_looks_like_a_formula_stays_text():
    sheet = workbook("notice")["Payment"]
    memo = next(row[1] for row in sheet.iter_rows() if row[0].value == "Memo")
    assert memo.data_type == "s"
    assert memo.value.startswith("=HYPERLINK(")
    assert not sheet._hyperlinks


def test_headings_are_frozen_and_totals_bold():
    book = workbook("statement")
    calls = book["Calls"]
    assert calls.freeze_panes == "B4"  # heading row 3 and the call column stay in view
    total = next(row for row in calls.iter_rows() if row[0].value == "Total")
    assert all(cell.font.b for cell in total)
    assert total[2].value == pytest.approx(169500000.00)
    assert book["Events"].freeze_panes == "A4"  # a date first: no column frozen
    assert book["Calls"].column_dimensions["A"].width >= 10


def test_each_chart_is_a_native_chart_over_its_figures():
    content = render(documents.progress(), "xlsx").content
    book = load_workbook(io.BytesIO(content))
    assert len(book["By month"]._charts) == 1
    assert len(book["Contributions"]._charts) == 1
    assert book["By month"].freeze_panes == "A5"
    month = book["By month"]["A5"]
    assert month.is_date and month.value == dt.datetime(2025, 1, 1)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        charts = sorted(name for name in archive.namelist() if name.startswith("xl/charts/"))
        xml = [archive.read(name).decode() for name in charts]
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert "<c:lineChart>" in xml[0]
    assert "'By month'!$A$5:$A$16" in xml[0]
    assert '<c:barDir val="col"/>' in xml[1]
