"""How a cell reads: exact digits, the currency's minor units, no locale."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from consortium.reports.document import Amount, Percent
from consortium.reports.renderers.cells import plain, shown


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (Amount(Decimal("1234567.89"), "USD"), "USD 1,234,567.89"),
        (Amount(Decimal("1000"), "USD"), "USD 1,000.00"),
        (Amount(Decimal("1200"), "JPY"), "JPY 1,200"),
        (Amount(Decimal("1.25"), "KWD"), "KWD 1.250"),
        # more digits than the currency has are shown, never rounded away
        (Amount(Decimal("1.005"), "USD"), "USD 1.005"),
        (Amount(Decimal("-5.5"), "EUR"), "EUR -5.50"),
        (Percent(Decimal("73.33")), "73.33 %"),
        (Percent(Decimal("12.5")), "12.50 %"),
        (Percent(Decimal("3.6667")), "3.6667 %"),
        (dt.date(2026, 3, 1), "1 Mar 2026"),
        (1234567, "1,234,567"),
        ("<b>&", "<b>&"),
        (None, ""),
    ],
)
def test_shown(cell, text):
    assert shown(cell) == text


def test_shown_without_the_currency_when_the_heading_has_it():
    assert shown(Amount(Decimal("2500000000.00"), "USD"), with_currency=False) == (
        "2,500,000,000.00"
    )


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (Amount(Decimal("1234567.89"), "USD"), "1234567.89"),
        (Amount(Decimal("1E+3"), "USD"), "1000"),
        (Percent(Decimal("73.33")), "73.33"),
        (dt.date(2026, 3, 31), "2026-03-31"),
        (7, "7"),
        (None, ""),
    ],
)
def test_plain(cell, text):
    assert plain(cell) == text
