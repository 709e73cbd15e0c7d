"""The PDF renderer, read back with pypdf and rasterised with pdftoppm: text printed
literally, pages numbered, the anchor on every page, the report date as the PDF's date."""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from consortium.reports.document import Cell, Column, Section, Table
from consortium.reports.renderers.pdf import typeset
from consortium.reports.rendering import render
from tests.consortium.reports import documents

ROOT = Path(__file__).resolve().parents[3]
OUTPUT = Path(os.environ.get("TEST_OUTPUT_DIR") or ROOT / "var" / "test-output") / "reports"


def pages(kind: str) -> list[str]:
    reader = PdfReader(io.BytesIO(render(documents.every()[kind], "pdf").content))
    return [page.extract_text() for page in reader.pages]


def squeezed(text: str) -> str:
    return "".join(text.split())


def test_a_long_statement_runs_over_numbered_pages_with_the_anchor_on_each():
    texts = pages("statement")
    count = len(texts)
    assert count >= 3
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {count}" in text
        assert f"Ledger anchor 48213:{documents.HASH}" in text
        assert "Report date 31 Mar 2026" in text
    # the events table repeats its heading on the pages it continues on
    assert all("Date" in text and "Event" in text for text in texts[2:-1])


def test_figures_and_names_are_printed_as_given():
    text = "\n".join(pages("statement"))
    assert "Partner statement" in text
    assert "USD 1,234,567,890.12" in text
    assert "7.3333 %" in text
    assert "169,500,000.00" in text  # the builder's total
    assert squeezed(documents.PARTNER) in squeezed(text)


def test_markup_in_a_name_prints_literally():
    text = "\n".join(pages("notice"))
    assert squeezed(documents.MARKUP) in squeezed(text)
    assert squeezed("(<script>alert('x')</script> is not a purpose)") in squeezed(text)
    assert "USD 93,750,000.00" in text


def test_the_pdf_is_dated_the_report_date_and_titled():
    reader = PdfReader(io.BytesIO(render(documents.statement(), "pdf").content))
    info = reader.metadata
    assert info is not None
    assert info.title == f"Partner statement \u2013 {documents.statement().subtitle}"
    assert info.author == "AI Infrastructure Partnership (AIP)"
    assert info.creation_date is not None
    assert info.creation_date.date().isoformat() == "2026-03-31"


def test_charts_are_drawn_into_the_page():
    reader = PdfReader(io.BytesIO(render(documents.progress(), "pdf").content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Signed and contributed (cumulative)" in text  # the chart's own title, drawn
    assert "30 bn" in text


@pytest.mark.parametrize("kind", ["statement", "progress", "notice"])
def test_a_rendered_first_page_is_saved_as_an_artifact(kind):
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm is missing: CI installs poppler-utils")
        pytest.skip("pdftoppm is missing (apt-get install poppler-utils)")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    pdf = OUTPUT / f"{kind}.pdf"
    pdf.write_bytes(render(documents.every()[kind], "pdf").content)
    prefix = OUTPUT / f"{kind}-page"
    subprocess.run(
        [pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(prefix)],
        check=True,
        timeout=60,
    )
    png = prefix.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 5000  # a page with something on it


def test_a_table_too_wide_for_an_upright_page_gets_a_page_turned_sideways():
    # given a section whose table has a partner's name and twelve amount columns
    columns = (Column("Partner"), *(Column(f"Figure {n}", "amount") for n in range(12)))
    row: tuple[Cell, ...] = (documents.PARTNER, *(documents.usd("12345678901.23"),) * 12)
    wide = Section(title="By partner", sheet="Wide", table=Table(columns=columns, rows=(row,)))
    narrow = documents.statement().sections[1]
    document = dataclasses.replace(documents.statement(), sections=(narrow, wide, narrow))
    reader = PdfReader(io.BytesIO(render(document, "pdf").content))
    # then that table's page is landscape, the others upright, and every figure is there
    shapes = [page.mediabox.width > page.mediabox.height for page in reader.pages]
    assert shapes == [False, True, False]
    turned = reader.pages[1].extract_text()
    assert turned.count("12,345,678,901.23") == 12
    assert "Page 2 of 3" in turned


@pytest.mark.parametrize("kind", ["statement", "progress", "notice"])
def test_typst_has_nothing_to_warn_about(kind):
    # every glyph found in the embedded fonts, every layout rule understood
    pdf, warnings = typeset(documents.every()[kind])
    assert warnings == []
    assert pdf == render(documents.every()[kind], "pdf").content


def test_each_section_is_a_bookmark():
    reader = PdfReader(io.BytesIO(render(documents.statement(), "pdf").content))
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert titles == [section.title for section in documents.statement().sections]
