"""FX: the rate in force on a date, and conversion to the base currency at that rate."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from consortium.domain.errors import MissingFxRate
from consortium.domain.money import Money, convert


@dataclass(slots=True)
class FxSeries:
    """The recorded rates of one currency, sorted by the date each comes into force."""

    dates: list[date] = field(default_factory=list)
    rates: list[Decimal] = field(default_factory=list)

    def record(self, effective_on: date, rate: Decimal) -> None:
        """Insert a rate in date order; a rate for an already-known date replaces it."""
        index = bisect_right(self.dates, effective_on)
        if index and self.dates[index - 1] == effective_on:
            self.rates[index - 1] = rate
            return
        self.dates.insert(index, effective_on)
        self.rates.insert(index, rate)

    def rate_on(self, on: date) -> Decimal | None:
        """The rate in force on `on`: the latest one dated on or before it."""
        index = bisect_right(self.dates, on)
        return self.rates[index - 1] if index else None

    def has_rate_dated(self, on: date) -> bool:
        index = bisect_right(self.dates, on)
        return bool(index) and self.dates[index - 1] == on


def rate_in_force(
    series: Mapping[str, FxSeries], base_currency: str, currency: str, on: date
) -> Decimal:
    """The rate for `currency` in force on `on`, or MissingFxRate naming the pair and day."""
    known = series.get(currency)
    rate = known.rate_on(on) if known is not None else None
    if rate is None:
        raise MissingFxRate(
            f"No {currency}/{base_currency} rate is recorded in force on {on.isoformat()}; "
            "record the FX rate first.",
            field="currency",
        )
    return rate


def to_base(
    series: Mapping[str, FxSeries], base_currency: str, money: Money, on: date
) -> tuple[Money, Decimal | None]:
    """`money` in the base currency at the rate in force on `on`, and the rate (None if base)."""
    if money.currency == base_currency:
        return money, None
    rate = rate_in_force(series, base_currency, money.currency, on)
    return convert(money, rate, base_currency), rate
