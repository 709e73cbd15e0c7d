"""Exact money and percentages: Decimal amounts with ISO 4217 currency codes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from consortium.domain.errors import (
    CurrencyMismatch,
    InvalidAmount,
    InvalidCurrency,
    InvalidPercent,
    MalformedAmount,
)
from consortium.domain.identifiers import shown

# ISO 4217 minor-unit digits of the currencies the service accepts.
MINOR_UNITS: dict[str, int] = {
    "AED": 2,
    "AUD": 2,
    "BHD": 3,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CNY": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "IDR": 2,
    "ILS": 2,
    "INR": 2,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "MXN": 2,
    "MYR": 2,
    "NOK": 2,
    "NZD": 2,
    "OMR": 3,
    "QAR": 2,
    "SAR": 2,
    "SEK": 2,
    "SGD": 2,
    "TWD": 2,
    "USD": 2,
    "ZAR": 2,
}

# Amounts stay below 10**15 major units so minor units always fit a signed 64-bit integer.
MAX_MAJOR_UNITS = 10**15
PERCENT_DIGITS = 4
HUNDRED = Decimal(100)
# Precision wide enough for any amount times any accepted FX rate, without rounding.
_WORK_PRECISION = 60


def minor_digits(currency: str) -> int:
    """Return the ISO 4217 minor-unit digits of `currency`, or raise InvalidCurrency."""
    if not isinstance(currency, str) or currency not in MINOR_UNITS:
        raise InvalidCurrency(
            f"{shown(currency)} is not a supported ISO 4217 currency code "
            f"(use one of {', '.join(sorted(MINOR_UNITS))}).",
            field="currency",
        )
    return MINOR_UNITS[currency]


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Accept Decimal, int or a decimal string; refuse float, bool and non-finite values."""
    if type(value) is Decimal and value.is_finite():  # the common case, as decoded
        return value
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InvalidAmount(
            f"Amounts must be exact decimals, not {type(value).__name__}.", field=field
        )
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise InvalidAmount(f"{shown(value)} is not a decimal number.", field=field) from None
    if not number.is_finite():
        raise InvalidAmount(f"{shown(value)} is not a finite number.", field=field)
    return number


def _written(number: Decimal) -> str:
    """A number for a message: plainly, or in E notation when too long to read."""
    text = format(number, "f")
    return text if len(text) <= 40 else format(number, "E")


def _quantize(number: Decimal, places: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = _WORK_PRECISION
        return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _check_places(number: Decimal, places: int, what: str, field: str) -> Decimal:
    if number.as_tuple().exponent == -places and number:  # already exact (every stored amount)
        return number
    exact = _quantize(number, places)
    if exact != number:
        raise MalformedAmount(
            f"{what} has at most {places} decimal places; {format(number, 'f')} has more.",
            field=field,
        )
    return exact if exact != 0 else exact.copy_abs()


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency, held with exactly the currency's minor digits."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        places = minor_digits(self.currency)
        number = to_decimal(self.amount)
        if abs(number) >= MAX_MAJOR_UNITS:
            raise MalformedAmount(
                f"{self.currency} {format(number, 'f')} is beyond the largest amount accepted "
                f"({MAX_MAJOR_UNITS:,} units).",
                field="amount",
            )
        exact = _check_places(number, places, f"A {self.currency} amount", "amount")
        object.__setattr__(self, "amount", exact)

    @classmethod
    def from_stored(cls, amount: str, currency: str) -> Money:
        """Money as an event stores it (``"1250000000.00"``): exactly the currency's digits
        is checked on the text, which spares the general path's work on every decode."""
        places = MINOR_UNITS.get(currency)
        dot = amount.find(".")
        digits = len(amount) - dot - 1 if dot >= 0 else 0
        if places is None or digits != places or (places == 0) != (dot < 0):
            return cls(to_decimal(amount), currency)  # the general path explains any fault
        number = Decimal(amount)
        if not number.is_finite() or abs(number) >= MAX_MAJOR_UNITS:
            return cls(to_decimal(amount), currency)
        money = object.__new__(cls)
        object.__setattr__(money, "amount", number if number else number.copy_abs())
        object.__setattr__(money, "currency", currency)
        return money

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        """Build from a Decimal, int or decimal string (as posted by a form or an API)."""
        return cls(to_decimal(amount), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """Build from an integer count of minor units (cents, fils, yen)."""
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise InvalidAmount("Minor units must be an integer.", field="amount")
        return cls(Decimal(minor).scaleb(-minor_digits(currency)), currency)

    def to_minor(self) -> int:
        """Return the amount as an integer count of minor units."""
        return int(self.amount.scaleb(MINOR_UNITS[self.currency]))

    def is_positive(self) -> bool:
        return self.amount > 0

    def _same(self, other: Money) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"Cannot combine Money with {type(other).__name__}.")
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"Cannot combine {self} with {other}: the currencies differ.", field="currency"
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __str__(self) -> str:
        """Format for messages and reports, e.g. "USD 1,250,000,000.00"."""
        return f"{self.currency} {self.amount:,.{MINOR_UNITS[self.currency]}f}"


def format_minor(minor: int, currency: str) -> str:
    """Format an integer count of minor units for a message, e.g. "USD 12.50"."""
    return str(Money.from_minor(minor, currency))


def require_positive(money: Money, *, what: str, field: str = "amount") -> Money:
    """Return `money` if it is above zero, else raise InvalidAmount naming `what`."""
    if not money.is_positive():
        raise InvalidAmount(f"{what} must be a positive amount; got {money}.", field=field)
    return money


def convert(money: Money, rate: Decimal, currency: str) -> Money:
    """Convert at `rate` (target units per one unit of money's currency), rounding half up."""
    with localcontext() as ctx:
        ctx.prec = _WORK_PRECISION
        product = money.amount * rate
    return Money(_quantize(product, minor_digits(currency)), currency)


@dataclass(frozen=True, slots=True, order=True)
class Percent:
    """A stake in percent: above 0, at most 100, with at most four decimal places."""

    value: Decimal

    def __post_init__(self) -> None:
        try:
            number = to_decimal(self.value, field="percent")
        except InvalidAmount as error:
            raise InvalidPercent(error.message, field="percent") from None
        if not 0 < number <= HUNDRED:  # before rounding: 1e400 cannot be quantized
            raise InvalidPercent(
                f"A stake must be above 0 % and at most 100 %; got {_written(number)} %.",
                field="percent",
            )
        try:
            _check_places(number, PERCENT_DIGITS, "A percentage", "percent")
        except InvalidAmount as error:
            raise InvalidPercent(error.message, field="percent") from None
        object.__setattr__(self, "value", number)

    @classmethod
    def of(cls, value: Decimal | int | str) -> Percent:
        return cls(to_decimal(value, field="percent"))

    def __str__(self) -> str:
        return format_percent(self.value)


def format_percent(value: Decimal) -> str:
    """Format a percentage for a message, e.g. "12.5 %"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} %"
