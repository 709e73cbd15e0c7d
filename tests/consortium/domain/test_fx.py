"""Currencies: foreign amounts need a rate in force, and keep their historical rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from consortium.domain.commands import AmendCommitment, ArrangeDebtFacility, DrawDebtFacility
from consortium.domain.errors import AlreadyExists, InvalidAmount, InvalidInput, MissingFxRate
from consortium.domain.events import CommitmentRecorded, FxRateRecorded
from consortium.domain.money import Money
from consortium.domain.positions import commitment_totals, to_base_amount

JAN_15 = date(2025, 1, 15)


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def test_a_foreign_amount_without_a_rate_in_force_is_refused_naming_the_rate(aip, make) -> None:
    aip.refuses(
        make.commit("c-site", "mgx", eur("1000000"), instrument="asset_contribution", on=JAN_15),
        MissingFxRate,
        r"^No EUR/USD rate is recorded in force on 2025-01-15; record the FX rate first\.$",
    )
    # A rate in force only from a later date does not help either.
    aip.given(make.rate("EUR", "1.08", date(2025, 1, 16)))
    aip.refuses(
        make.commit("c-site", "mgx", eur("1000000"), instrument="asset_contribution", on=JAN_15),
        MissingFxRate,
        "EUR/USD",
    )


def test_a_later_rate_never_revalues_an_earlier_event(aip, make) -> None:
    aip.given(make.rate("EUR", "1.08", date(2025, 1, 1)))
    events = aip.when(
        make.commit("c-site", "mgx", eur("1000000"), instrument="asset_contribution", on=JAN_15)
    )
    assert events == [
        CommitmentRecorded(
            "c-site",
            "mgx",
            "asset_contribution",
            eur("1000000"),
            "signed",
            make.usd("1080000"),
            Decimal("1.08"),
        )
    ]
    # A later rate, and even a back-dated one recorded afterwards, change nothing already booked.
    aip.given(make.rate("EUR", "1.20", date(2025, 2, 1)), make.rate("EUR", "1.50", JAN_15))
    assert aip.state.commitments["c-site"].base_amount_minor == 108_000_000
    totals = commitment_totals(aip.state)
    assert totals[("asset_contribution", "signed")] == make.usd("1080000")
    # New events use the rate in force on their own date.
    aip.when(AmendCommitment("c-site", eur("2000000"), date(2025, 2, 3)))
    assert aip.state.commitments["c-site"].base_amount_minor == 240_000_000


def test_facilities_and_draws_convert_on_their_own_dates(aip, make) -> None:
    aip.given(
        make.rate("JPY", "0.0067", date(2025, 1, 1)),
        make.rate("JPY", "0.0070", date(2025, 3, 1)),
        make.admit("mufg", "MUFG", "lender", on=date(2025, 1, 2)),
        ArrangeDebtFacility(
            "jpy-1", "mufg", Money.of("100000000", "JPY"), date(2030, 1, 1), True, JAN_15
        ),
        DrawDebtFacility("jpy-1", "d-1", Money.of("10000000", "JPY"), date(2025, 3, 2)),
    )
    facility = aip.state.facilities["jpy-1"]
    assert facility.base_amount_minor == 67_000_000  # USD 670,000.00 at 0.0067
    assert facility.drawn_base_minor == 7_000_000  # USD 70,000.00 at 0.0070
    assert to_base_amount(aip.state, Money.of(1000, "JPY"), date(2025, 2, 1)) == make.usd("6.70")


def test_rates_are_positive_for_foreign_currencies_once_per_date(aip, make) -> None:
    assert aip.when(make.rate("EUR", "1.0834", JAN_15)) == [
        FxRateRecorded("EUR", Decimal("1.0834"), JAN_15)
    ]
    aip.refuses(make.rate("EUR", "1.09", JAN_15), AlreadyExists, "rate in force from 2025-01-15")
    aip.refuses(make.rate("USD", "1", JAN_15), InvalidInput, "is the base currency")
    aip.refuses(make.rate("GBP", "0", JAN_15), InvalidAmount, "positive decimal")
    aip.refuses(make.rate("GBP", "1.12345678901", JAN_15), InvalidAmount, "10 decimal")
