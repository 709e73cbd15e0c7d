"""Render a ``Document`` in one format: bytes, a content type and a file name.

Renderers lay out what the document holds and do no arithmetic; the same document gives
the same bytes every time (nothing reads the clock, the machine's fonts or its locale).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass

from consortium.reports.document import Amount, Cell, Document, Format, Percent


@dataclass(frozen=True, slots=True)
class Rendered:
    content: bytes
    content_type: str
    filename: str


class UnknownFormat(ValueError):
    pass


def plain(cell: Cell) -> str:
    """A cell as plain text, exact (``1234567.89``, ``73.33``, ``2026-03-31``)."""
    if cell is None:
        return ""
    if isinstance(cell, Amount):
        return f"{cell.value:f}"
    if isinstance(cell, Percent):
        return f"{cell.value:f}"
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell)


def render_csv(document: Document) -> bytes:
    """Every section's facts and table, one after another, with the anchor at the top.
    Money columns carry the amount; the currency is in the column heading's row below."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([document.title, document.subtitle])
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
            table = section.table
            writer.writerow([column.title for column in table.columns])
            for row in table.rows:
                writer.writerow([plain(cell) for cell in row])
            if table.total is not None:
                writer.writerow([plain(cell) for cell in table.total])
    return out.getvalue().encode("utf-8")


_RENDERERS: dict[str, tuple[Callable[[Document], bytes], str]] = {
    "csv": (render_csv, "text/csv; charset=utf-8"),
}


def render(document: Document, fmt: Format) -> Rendered:
    """The document in ``fmt`` (one of ``document.FORMATS``)."""
    try:
        renderer, content_type = _RENDERERS[fmt]
    except KeyError:
        raise UnknownFormat(
            f"Reports come as {', '.join(sorted(_RENDERERS))}; {fmt!r} is not one of them."
        ) from None
    return Rendered(renderer(document), content_type, f"{document.name}.{fmt}")
