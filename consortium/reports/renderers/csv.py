"""A report as CSV: exact plain values (``1234567.89``, ``73.33``, ``2026-03-31``), UTF-8.

The heading block (title, consortium, report date, ledger anchor, parameters) comes first,
then each section: its facts (label, value, currency), its table and its chart's figures.
An amount column whose amounts share one currency names it in its heading
(``Signed (USD)``); a column with mixed currencies is followed by one giving each row's.
"""

from __future__ import annotations

import csv
import io

from consortium.reports.document import Amount, Cell, Chart, Document, Table
from consortium.reports.renderers.cells import column_currencies, heading, plain


def render_csv(document: Document) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([document.title, document.subtitle])
    writer.writerow(["Consortium", document.consortium])
    writer.writerow(["Report date", document.report_date.isoformat()])
    writer.writerow(["Ledger anchor", str(document.anchor)])
    for fact in document.parameters:
        writer.writerow([fact.label, plain(fact.value)])
    for section in document.sections:
        writer.writerow([])
        writer.writerow([section.title])
        for fact in section.facts:
            currency = fact.value.currency if isinstance(fact.value, Amount) else ""
            writer.writerow([fact.label, plain(fact.value), currency])
        if section.table is not None:
            writer.writerows(_table(section.table))
        if section.chart is not None:
            writer.writerows(_chart(section.chart))
    for note in document.notes:
        writer.writerow([])
        writer.writerow([note])
    return out.getvalue().encode("utf-8")


def _table(table: Table) -> list[list[str]]:
    currencies = column_currencies(table)
    # Amount columns with mixed currencies get a column of currencies beside them.
    mixed = tuple(
        column.kind == "amount" and currency is None
        for column, currency in zip(table.columns, currencies, strict=True)
    )

    def line(cells: tuple[Cell, ...]) -> list[str]:
        out = []
        for cell, extra in zip(cells, mixed, strict=True):
            out.append(plain(cell))
            if extra:
                out.append(cell.currency if isinstance(cell, Amount) else "")
        return out

    titles: list[str] = []
    for column, currency, extra in zip(table.columns, currencies, mixed, strict=True):
        titles.append(heading(column, currency))
        if extra:
            titles.append(f"{column.title} currency")
    rows = [titles, *(line(row) for row in table.rows)]
    if table.total is not None:
        rows.append(line(table.total))
    return rows


def _chart(chart: Chart) -> list[list[str]]:
    rows = [[chart.title], ["Month", *(f"{s.name} ({chart.currency})" for s in chart.series)]]
    for index, category in enumerate(chart.categories):
        rows.append(
            [category.isoformat(), *(f"{series.values[index]:f}" for series in chart.series)]
        )
    return rows
