"""Rule 2: money is exact Decimal with an ISO 4217 currency and its minor-unit digits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consortium.domain.errors import (
    CurrencyMismatch,
    DomainError,
    InvalidAmount,
    InvalidCurrency,
    InvalidPercent,
)
from consortium.domain.money import (
    MINOR_UNITS,
    Money,
    Percent,
    convert,
    require_positive,
    to_decimal,
)


def test_formats_amounts_the_way_deal_teams_write_them() -> None:
    assert str(Money.of("1250000000", "USD")) == "USD 1,250,000,000.00"
    assert str(Money.of("1500", "JPY")) == "JPY 1,500"
    assert str(Money.of("12.5", "KWD")) == "KWD 12.500"


def test_int_is_converted_and_amounts_keep_the_currency_digits() -> None:
    assert Money(Decimal(10), "USD").amount == Decimal("10.00")
    assert Money(10, "USD") == Money(Decimal("10.00"), "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [1.5, True, None, "abc"])
def test_refuses_floats_bools_and_non_numbers(amount: object) -> None:
    with pytest.raises(InvalidAmount, match="decimal"):
        Money(amount, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity"])
def test_refuses_non_finite_amounts(amount: str) -> None:
    with pytest.raises(InvalidAmount, match="finite"):
        Money(Decimal(amount), "USD")


@pytest.mark.parametrize(
    ("amount", "currency"), [("1.001", "USD"), ("1.5", "JPY"), ("1.0001", "KWD"), ("7.1", "KRW")]
)
def test_refuses_more_decimals_than_the_currency_has(amount: str, currency: str) -> None:
    with pytest.raises(InvalidAmount, match="decimal places"):
        Money.of(amount, currency)


def test_refuses_unknown_currencies() -> None:
    with pytest.raises(InvalidCurrency, match="ISO 4217"):
        Money.of("1", "XYZ")


def test_refuses_amounts_beyond_the_int64_safe_limit() -> None:
    with pytest.raises(InvalidAmount, match="largest amount"):
        Money.of(10**15, "USD")


def test_adds_and_subtracts_only_within_one_currency() -> None:
    assert Money.of("1.10", "USD") + Money.of("2.20", "USD") == Money.of("3.30", "USD")
    assert Money.of("1", "USD") - Money.of("2", "USD") == Money.of("-1", "USD")
    with pytest.raises(CurrencyMismatch, match="currencies differ"):
        _ = Money.of("1", "USD") + Money.of("1", "EUR")
    with pytest.raises(CurrencyMismatch):
        _ = Money.of("1", "USD") < Money.of("1", "EUR")


def test_require_positive_names_what_was_wrong() -> None:
    with pytest.raises(InvalidAmount, match="A capital call must be a positive amount"):
        require_positive(Money.zero("USD"), what="A capital call")


def test_converts_at_a_rate_rounding_half_up() -> None:
    assert convert(Money.of("1.00", "EUR"), Decimal("1.085"), "USD") == Money.of("1.09", "USD")
    assert convert(Money.of("1000", "JPY"), Decimal("0.0066667"), "USD") == Money.of("6.67", "USD")


@given(
    currency=st.sampled_from(sorted(MINOR_UNITS)),
    minor=st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1),
)
def test_minor_units_round_trip(currency: str, minor: int) -> None:
    money = Money.from_minor(minor, currency)
    assert money.to_minor() == minor
    assert Money.of(format(money.amount, "f"), currency) == money


@pytest.mark.parametrize(
    "value", ["0", "-1", "100.0001", "12.34567", "1e400", "-1e400", "1e-400", "150.5"]
)
def test_percent_is_above_zero_at_most_100_with_four_decimals(value: str) -> None:
    with pytest.raises(InvalidPercent):
        Percent.of(value)


def test_a_percent_far_out_of_range_is_refused_in_words() -> None:
    with pytest.raises(InvalidPercent, match=r"at most 100 %; got 1E\+400 %"):
        Percent.of("1e400")
    with pytest.raises(InvalidPercent, match=r"at most 100 %; got 150\.5 %"):
        Percent.of("150.5")


def test_percent_accepts_the_bounds_and_formats() -> None:
    assert str(Percent.of("100")) == "100 %"
    assert str(Percent.of("12.5000")) == "12.5 %"
    assert Percent.of("0.0001").value == Decimal("0.0001")


@given(
    amount=st.decimals(
        min_value=-(10**14), max_value=10**14, allow_nan=False, allow_infinity=False, places=4
    ),
    currency=st.sampled_from(["USD", "JPY", "KWD", "EUR"]),
)
def test_money_from_stored_text_equals_the_general_constructor(amount, currency) -> None:
    """The decode fast path agrees with ``Money(...)``: same value, or the same refusal."""
    text = format(amount, "f")
    try:
        expected: object = Money(to_decimal(text), currency)
    except DomainError as error:
        expected = type(error)
    try:
        actual: object = Money.from_stored(text, currency)
    except DomainError as error:
        actual = type(error)
    assert actual == expected
    if isinstance(actual, Money) and isinstance(expected, Money):
        assert str(actual.amount) == str(expected.amount)
