"""Rendering a report document in every format: reproducible to the byte, typed cells in
XLSX, literal text in PDF and HTML, exact values in CSV, and a clear refusal of a format
that does not exist."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from consortium.reports.document import FORMATS, Anchor, Chart, Column, Section, Table
from consortium.reports.renderers.xlsx import sheet_names
from consortium.reports.rendering import CONTENT_TYPES, UnknownFormat, render
from tests.consortium.reports import documents

ROOT = Path(__file__).resolve().parents[3]
DOCUMENTS = documents.every()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
def test_the_same_document_gives_the_same_bytes(kind, fmt):
    # given a document, when it is rendered twice (from fresh copies of its data)
    first = render(documents.every()[kind], fmt)
    second = render(documents.every()[kind], fmt)
    # then the files are identical, named after the document, with the format's type
    assert first.content == second.content
    assert first.content
    assert first.filename == f"{DOCUMENTS[kind].name}.{fmt}"
    assert first.content_type == CONTENT_TYPES[fmt]


def test_another_process_gives_the_same_bytes():
    # given every sample rendered here, when another interpreter with another hash seed
    # (set and dict order) renders them too, then every file is the same to the byte
    script = (
        "import hashlib, json\n"
        "from consortium.reports.rendering import render\n"
        "from tests.consortium.reports.documents import every\n"
        "print(json.dumps({f'{k}.{f}': hashlib.sha256(render(d, f).content).hexdigest()"
        " for k, d in every().items() for f in ('xlsx', 'csv', 'html', 'pdf')}))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "TZ": "Pacific/Kiritimati", "LANG": "C"}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, check=True
    )
    here = {
        f"{kind}.{fmt}": hashlib.sha256(render(document, fmt).content).hexdigest()
        for kind, document in DOCUMENTS.items()
        for fmt in FORMATS
    }
    assert json.loads(out.stdout) == here


@pytest.mark.parametrize("fmt", FORMATS)
def test_another_anchor_gives_another_file(fmt):
    # given the same figures computed at another ledger position
    document = DOCUMENTS["notice"]
    moved = dataclasses.replace(document, anchor=Anchor(50002, "0" * 64))
    # then the file differs: the anchor is part of every format
    assert render(moved, fmt).content != render(document, fmt).content


def test_an_unknown_format_is_refused_clearly():
    with pytest.raises(UnknownFormat, match=r"xlsx, csv, html, pdf; 'docx' is not one of them"):
        render(DOCUMENTS["notice"], "docx")
    assert issubclass(UnknownFormat, ValueError)


def test_a_total_is_printed_as_the_builder_gave_it_never_added_up():
    # given a table whose total is not the sum of its rows (builders own the arithmetic)
    document = DOCUMENTS["statement"]
    calls = document.sections[1]
    assert calls.table is not None and calls.table.total is not None
    total = (*calls.table.total[:2], documents.usd("1.23"), *calls.table.total[3:])
    odd = dataclasses.replace(
        document,
        sections=(
            document.sections[0],
            dataclasses.replace(calls, table=dataclasses.replace(calls.table, total=total)),
        ),
    )
    # then every format shows that total and no other
    rows = list(csv.reader(io.StringIO(render(odd, "csv").content.decode())))
    assert ["Total", "", "1.23", "136250000.00", "33250000.00"] in rows
    assert "<td" in (page := render(odd, "html").content.decode())
    assert ">1.23</td>" in page
    assert "169,500,000.00" not in page


@pytest.mark.parametrize("fmt", FORMATS)
def test_sparse_documents_render_too(fmt):
    # given a document with an empty table, a chart without figures, a section with words
    # only, and sheet names Excel would refuse (too long, forbidden characters, repeated)
    document = dataclasses.replace(
        DOCUMENTS["notice"],
        sections=(
            Section(title="Nothing called", sheet="Report", paragraphs=("No calls yet.",)),
            Section(
                title="Calls",
                sheet="Calls: [all]/* of them, and a name far too long for Excel",
                table=Table(columns=(Column("Call"), Column("Amount", "amount")), rows=()),
            ),
            Section(
                title="By month",
                sheet="Calls: [all]/* of them, and a name far too long for Excel",
                chart=Chart(title="Called", categories=(), series=(), currency="USD"),
            ),
        ),
        parameters=(),
        notes=(),
    )
    # then each format still renders it, the same way twice
    assert render(document, fmt).content == render(document, fmt).content


def test_sheet_names_are_valid_and_distinct():
    document = dataclasses.replace(
        DOCUMENTS["notice"],
        sections=tuple(
            Section(title=str(n), sheet=sheet)
            for n, sheet in enumerate(("Report", "a/b", "A/B", "x" * 40, "x" * 40, "'quoted'"))
        ),
    )
    assert sheet_names(document) == [
        "Report",
        "Report (2)",
        "a b",
        "A B (2)",
        "x" * 31,
        "x" * 27 + " (2)",
        "quoted",
    ]
