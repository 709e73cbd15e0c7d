"""What a report builder hands every renderer: the figures, computed once, as plain values.

A ``Document`` is the whole report in one format-free structure. Builders do all the
arithmetic (``consortium.reports.builders``); renderers (``consortium.reports.rendering``)
only lay out what is here, so XLSX, CSV, HTML and PDF show the same numbers. Nothing here
reads the clock or the database: a document is a pure function of its kind, parameters,
ledger position and report date, which is what makes a report reproducible byte for byte.

Cells are typed so each format can store them natively:

- ``str`` text; ``int`` a count; ``datetime.date`` a date;
- ``Amount``: money, an exact ``Decimal`` with its ISO 4217 currency (XLSX stores it as
  a number with a currency format, never as text);
- ``Percent``: a percentage as a ``Decimal`` (``Decimal("73.33")`` is 73.33 %);
- ``None``: an empty cell (a figure that does not apply, e.g. no target).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

KINDS = ("progress", "statement", "notice", "ownership")
Kind = Literal["progress", "statement", "notice", "ownership"]
FORMATS = ("xlsx", "csv", "html", "pdf")
Format = Literal["xlsx", "csv", "html", "pdf"]


@dataclass(frozen=True, slots=True)
class Amount:
    """Money in a cell: exact, with its currency."""

    value: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Percent:
    """A percentage in a cell (``Decimal("12.5")`` is 12.5 %)."""

    value: Decimal


Cell = str | int | dt.date | Amount | Percent | None
ColumnKind = Literal["text", "integer", "date", "amount", "percent"]


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a table: its heading and the kind of every cell under it."""

    title: str
    kind: ColumnKind = "text"


@dataclass(frozen=True, slots=True)
class Table:
    """A section's table. ``total``: a totals row computed by the builder (renderers never
    add up), shown apart from the rows."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    total: tuple[Cell, ...] | None = None


@dataclass(frozen=True, slots=True)
class Fact:
    """One labelled value in a section's list of facts (a notice's "Due date", ...)."""

    label: str
    value: Cell


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: tuple[Decimal, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """A line or column chart: one category per point (months, as dates), one or more
    series in ``currency`` (XLSX draws it natively, the others as SVG)."""

    title: str
    categories: tuple[dt.date, ...]
    series: tuple[Series, ...]
    currency: str
    style: Literal["line", "column"] = "line"


@dataclass(frozen=True, slots=True)
class Section:
    """A titled part of a report: words, facts, a table and/or a chart (each optional).
    In XLSX a section is a sheet (``sheet``: its name, at most 31 characters)."""

    title: str
    sheet: str
    paragraphs: tuple[str, ...] = ()
    facts: tuple[Fact, ...] = ()
    table: Table | None = None
    chart: Chart | None = None


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where in the ledger the figures were computed: the position and the chain hash
    there, which ``manage.py verify_ledger --expect POSITION:HASH`` checks later."""

    position: int
    hash: str

    def __str__(self) -> str:
        return f"{self.position}:{self.hash}"


@dataclass(frozen=True, slots=True)
class Document:
    """A whole report, ready to render.

    ``name``: the file name without extension (ASCII, no spaces), the same for every
    format. ``parameters``: what was asked for, as labelled text, printed on the report.
    ``generated_for``: the report date (figures as of it; overdue judged on it)."""

    kind: Kind
    name: str
    title: str
    subtitle: str
    consortium: str
    report_date: dt.date
    anchor: Anchor
    parameters: tuple[Fact, ...]
    sections: tuple[Section, ...]
    # The organisation a partner statement or a capital call notice is addressed to.
    organisation_id: str = ""
    notes: tuple[str, ...] = field(default=())
