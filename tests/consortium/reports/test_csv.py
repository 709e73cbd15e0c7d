"""The CSV renderer: exact plain values, UTF-8, currencies named, charts' figures kept."""

from __future__ import annotations

import csv
import io

from consortium.reports.rendering import render
from tests.consortium.reports import documents


def rows(kind: str) -> list[list[str]]:
    content = render(documents.every()[kind], "csv").content
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


def test_the_heading_block_carries_the_anchor_and_the_parameters():
    lines = rows("statement")
    assert lines[0] == ["Partner statement", documents.statement().subtitle]
    assert ["Report date", "2026-03-31"] in lines
    assert ["Ledger anchor", f"48213:{documents.HASH}"] in lines
    assert ["Partner", documents.PARTNER] in lines  # UTF-8, markup kept as text


def test_facts_are_exact_with_their_currency():
    lines = rows("statement")
    assert ["Called", "1234567890.12", "USD"] in lines
    assert ["Share of signed equity", "7.3333", ""] in lines
    assert ["Last contribution", "2026-03-12", ""] in lines
    assert ["Calls in the period", "3", ""] in lines
    assert ["Role", documents.MARKUP, ""] in lines


def test_table_amounts_are_exact_and_the_heading_names_the_currency():
    lines = rows("statement")
    assert ["Call", "Due date", "Allocated (USD)", "Contributed (USD)", "Outstanding (USD)"] in (
        lines
    )
    assert ["AIP-CC-001", "2025-02-14", "12750000.00", "12750000.00", "0.00"] in lines
    assert ["Désert Solaire", "Ouarzazate", "0.5", "73.33", "580"] in lines


def test_a_column_in_several_currencies_gets_each_rows_currency():
    lines = rows("progress")
    assert ["Lender", "Amount", "Amount currency", "Drawn", "Drawn currency", "Maturity"] in lines
    assert ["MUFG", "150000000000", "JPY", "20000000000", "JPY", "2032-06-30"] in lines
    assert ["NBK", "300000000.000", "KWD", "1.250", "KWD", "2030-01-15"] in lines


def test_a_charts_figures_are_kept_exactly():
    lines = rows("progress")
    assert ["Month", "Signed (USD)", "Contributed (USD)"] in lines
    assert ["2025-01-01", "2123456789.12", "900000000.00"] in lines
