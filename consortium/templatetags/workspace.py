"""Template filters for the workspace's figures (``consortium.admin.formatting``).

``{{ money|exact }}``, ``{{ money|summary }}``, ``{{ row.signed_minor|exact_in:row.currency }}``,
``{{ row.signed_minor|summary_in:row.currency }}``, ``{{ value|percent }}``, ``{{ date|iso }}``.
"""

import datetime as dt
from decimal import Decimal

from django import template

from consortium import formatting
from consortium.domain.money import Money

register = template.Library()


@register.filter
def exact(money: Money | None) -> str:
    return formatting.exact(money)


@register.filter
def summary(money: Money | None) -> str:
    return formatting.summary(money)


@register.filter
def exact_in(minor: int | None, currency: str) -> str:
    return formatting.exact_minor(minor, currency)


@register.filter
def summary_in(minor: int | None, currency: str) -> str:
    return formatting.summary_minor(minor, currency)


@register.filter
def percent(value: Decimal | None) -> str:
    return formatting.percent(value)


@register.filter
def iso(value: dt.date | dt.datetime | None) -> str:
    return formatting.iso(value)
