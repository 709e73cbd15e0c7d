"""Debt facilities: draws within availability; repayments restore it only if revolving."""

from __future__ import annotations

from datetime import date

import pytest

from consortium.domain.commands import ArrangeDebtFacility, DrawDebtFacility, RepayDebtFacility
from consortium.domain.errors import (
    AlreadyExists,
    CurrencyMismatch,
    DateBeforeDependency,
    DrawExceedsAvailable,
    FacilityMatured,
    RepaymentExceedsDrawn,
)
from consortium.domain.money import Money
from consortium.domain.positions import debt_totals

ARRANGED = date(2025, 2, 1)
MATURITY = date(2030, 2, 1)


@pytest.fixture
def lenders(aip, make):
    aip.given(
        make.admit("mufg", "MUFG", "lender", on=ARRANGED),
        ArrangeDebtFacility("term", "mufg", make.usd("1000"), MATURITY, False, ARRANGED),
        ArrangeDebtFacility("rcf", "mufg", make.usd("1000"), MATURITY, True, ARRANGED),
    )
    return aip


def draw(facility: str, draw_id: str, amount: str, on: date = date(2025, 3, 1)):
    return DrawDebtFacility(facility, draw_id, Money.of(amount, "USD"), on)


def repay(facility: str, repayment_id: str, amount: str, on: date = date(2025, 4, 1)):
    return RepayDebtFacility(facility, repayment_id, Money.of(amount, "USD"), on)


def test_a_draw_never_exceeds_availability(lenders) -> None:
    lenders.given(draw("term", "d-1", "600"))
    lenders.refuses(
        draw("term", "d-2", "400.01"),
        DrawExceedsAvailable,
        "'term' has USD 400.00 available; a draw of USD 400.01 exceeds it",
    )


def test_repayment_restores_availability_only_for_a_revolving_facility(lenders) -> None:
    lenders.given(draw("term", "d-1", "600"), repay("term", "r-1", "600"))
    lenders.refuses(draw("term", "d-2", "400.01"), DrawExceedsAvailable, "USD 400.00 available")
    lenders.given(draw("rcf", "d-1", "600"), repay("rcf", "r-1", "600"))
    lenders.when(draw("rcf", "d-2", "1000", on=date(2025, 4, 2)))
    assert lenders.state.facilities["rcf"].available_minor == 0


def test_a_repayment_never_exceeds_what_is_drawn_and_outstanding(lenders) -> None:
    lenders.refuses(repay("rcf", "r-1", "1"), RepaymentExceedsDrawn, "USD 0.00 drawn")
    lenders.given(draw("rcf", "d-1", "600"))
    lenders.refuses(repay("rcf", "r-1", "600.01"), RepaymentExceedsDrawn, "USD 600.00 drawn")


def test_draws_need_an_open_facility_in_its_currency(lenders) -> None:
    lenders.refuses(draw("term", "d-1", "1", on=date(2030, 2, 2)), FacilityMatured, "matured")
    lenders.refuses(draw("term", "d-1", "1", on=date(2025, 1, 31)), DateBeforeDependency, "arr")
    eur = DrawDebtFacility("term", "d-1", Money.of("1", "EUR"), date(2025, 3, 1))
    lenders.refuses(eur, CurrencyMismatch, "'term' is in USD")
    lenders.given(draw("term", "d-1", "1"))
    lenders.refuses(draw("term", "d-1", "1"), AlreadyExists, "Draw 'd-1'")


def test_repayments_are_not_dated_before_the_first_draw(lenders) -> None:
    lenders.given(draw("rcf", "d-1", "600", on=date(2025, 3, 1)))
    lenders.refuses(
        repay("rcf", "r-1", "1", on=date(2025, 2, 28)), DateBeforeDependency, "first draw"
    )


def test_facility_maturity_follows_arrangement_and_lender_is_a_partner(aip, make) -> None:
    aip.refuses(
        ArrangeDebtFacility("f", "mgx", make.usd("1"), date(2025, 1, 1), False, date(2025, 1, 1)),
        DateBeforeDependency,
        "maturity date 2025-01-01 must be after",
    )


def test_arranged_counts_as_signed_debt_and_draws_as_funded(lenders) -> None:
    lenders.given(draw("term", "d-1", "600"), repay("term", "r-1", "100"))
    totals = debt_totals(lenders.state)
    assert totals.signed == Money.of("2000", "USD")
    assert totals.drawn == Money.of("600", "USD")
    assert totals.outstanding == Money.of("500", "USD")
