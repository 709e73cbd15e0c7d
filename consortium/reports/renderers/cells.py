"""A cell as text, plainly (CSV: exact, machine-readable) or for people (HTML, PDF).

Formatting only: the digits shown are the digits the builder gave (padded to the currency's
minor units), never rounded away; nothing is added up or converted.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from consortium.domain.money import MINOR_UNITS
from consortium.reports.document import Amount, Cell, Column, Percent, Table

# Percentages are shown with at least this many decimal places (73.30 %), more if given.
PERCENT_PLACES = 2


def currency_places(currency: str) -> int:
    """The ISO 4217 minor-unit digits of ``currency`` (2 for one the table does not list)."""
    return MINOR_UNITS.get(currency, 2)


def places(value: Decimal, at_least: int) -> int:
    """Digits after the point that show ``value`` exactly, and at least ``at_least``."""
    exponent = value.as_tuple().exponent
    given = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return max(at_least, given)


def plain(cell: Cell) -> str:
    """A cell as plain text, exact (``1234567.89``, ``73.33``, ``2026-03-31``)."""
    if cell is None:
        return ""
    if isinstance(cell, Amount | Percent):
        return f"{cell.value:f}"
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell)


def number(value: Decimal, digits: int) -> str:
    """``value`` with thousands separators and at least ``digits`` decimals (1,234.50)."""
    return f"{value:,.{places(value, digits)}f}"


def amount_text(cell: Amount, *, with_currency: bool = True) -> str:
    """Money for people: ``USD 1,234,567.89`` (``JPY 1,200``), or without the code."""
    figures = number(cell.value, currency_places(cell.currency))
    return f"{cell.currency} {figures}" if with_currency else figures


def percent_text(cell: Percent) -> str:
    """A percentage for people: ``73.33 %``."""
    return f"{number(cell.value, PERCENT_PLACES)} %"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_text(value: dt.date) -> str:
    """A date for people, unambiguous in every country: ``31 Mar 2026`` (month names
    from this module, not the machine's locale)."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def month_text(value: dt.date) -> str:
    """A chart's category: ``Mar 2026``."""
    return f"{MONTHS[value.month - 1]} {value.year}"


def shown(cell: Cell, *, with_currency: bool = True) -> str:
    """A cell as people read it in HTML and PDF; ``with_currency=False`` leaves the code of
    an amount out (when its column's heading carries it)."""
    if cell is None:
        return ""
    if isinstance(cell, Amount):
        return amount_text(cell, with_currency=with_currency)
    if isinstance(cell, Percent):
        return percent_text(cell)
    if isinstance(cell, dt.date):
        return date_text(cell)
    if isinstance(cell, int):
        return f"{cell:,}"
    return cell


def is_numeric(column: Column) -> bool:
    """Whether a column's cells are figures (right-aligned)."""
    return column.kind in ("integer", "amount", "percent")


def column_currencies(table: Table) -> tuple[str | None, ...]:
    """Per column: the one currency every amount in it (rows and total) is in, or None
    (not an amount column, no amounts, or mixed currencies: each cell then shows its own)."""
    found: list[set[str]] = [set() for _ in table.columns]
    for row in (*table.rows, *((table.total,) if table.total is not None else ())):
        for index, cell in enumerate(row):
            if isinstance(cell, Amount) and index < len(found):
                found[index].add(cell.currency)
    return tuple(
        next(iter(currencies)) if len(currencies) == 1 and column.kind == "amount" else None
        for column, currencies in zip(table.columns, found, strict=True)
    )


def heading(column: Column, currency: str | None) -> str:
    """A column's heading, naming the currency its amounts are in (``Signed (USD)``)."""
    return f"{column.title} ({currency})" if currency else column.title
