"""How figures are written for people (the workspace, events in words): one place, so
every page reads the same way.

- Exact amounts (tables): thousands separators, every minor digit, currency first:
  ``USD 22,000,000,000.00``.
- Summaries (cards, headlines, progress bars): billions and millions with one decimal,
  ``USD 22.0 bn``, ``USD 450.0 m``; smaller amounts exactly. Rounded half up from the
  exact figure, for reading only; totals are always computed on exact amounts.
- Percentages with two decimals: ``12.35 %``. Dates ISO: ``2026-11-30``. A missing value
  is an em dash.
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from consortium.domain.money import Money

MISSING = "—"
_TENTH = Decimal("0.1")
_CENT = Decimal("0.01")
_SCALES = ((Decimal(10) ** 9, "bn"), (Decimal(10) ** 6, "m"))


def exact(money: Money | None) -> str:
    return MISSING if money is None else str(money)


def exact_minor(minor: int | None, currency: str) -> str:
    return MISSING if minor is None else exact(Money.from_minor(minor, currency))


def summary(money: Money | None) -> str:
    if money is None:
        return MISSING
    size = abs(money.amount)
    for scale, word in _SCALES:
        if size >= scale:
            shown = (money.amount / scale).quantize(_TENTH, ROUND_HALF_UP)
            return f"{money.currency} {shown:,} {word}"
    return exact(money)


def summary_minor(minor: int | None, currency: str) -> str:
    return MISSING if minor is None else summary(Money.from_minor(minor, currency))


def percent(value: Decimal | None) -> str:
    if value is None:
        return MISSING
    return f"{Decimal(value).quantize(_CENT, ROUND_HALF_UP):,} %"


def iso(value: dt.date | dt.datetime | None) -> str:
    """A date as ``YYYY-MM-DD``; a moment as ``YYYY-MM-DD HH:MM:SS UTC``."""
    if value is None:
        return MISSING
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return value.isoformat()
