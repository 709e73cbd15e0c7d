"""Template filters for the dashboards' tables (``consortium.admin.dashboards``).

``{{ row.called_minor|figure_in:currency }}``: the exact amount without its currency code
(``8,000,000,000.00``), for a table column whose header names the one currency of every
row, so that nine exact figures fit a row. Written by ``consortium.admin.formatting``, like
every other figure (through ``consortium.admin.dashboard_rows.figure``).
"""

from django import template

from consortium.admin.dashboard_rows import figure
from consortium.formatting import MISSING

register = template.Library()


@register.filter
def figure_in(minor: int | None, currency: str) -> str:
    return MISSING if minor is None else figure(minor, currency)
