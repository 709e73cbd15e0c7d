"""Late-payment interest: the consortium's dated rates, the arithmetic, and its rules.

Interest is simple, actual/365: ``principal x rate % x days / 365``, computed exactly (as a
fraction of minor units) and rounded once, to the currency's minor unit, half up.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Final

from consortium.domain.errors import (
    AlreadyExists,
    InvalidAmount,
    InvalidInput,
    InvalidTransition,
    NotFound,
    SamePersonCannotApprove,
)
from consortium.domain.identifiers import check_choice, check_person, same_person, shown
from consortium.domain.state import LateInterestState

RATE_KINDS: Final[tuple[str, ...]] = ("default", "equalisation")
RATE_KIND_WORDS: Final[dict[str, str]] = {
    "default": "default (late-payment)",
    "equalisation": "equalisation",
}
# A rate above 100 % a year is taken for a typing error (8 % typed as 800), not a term.
MAX_RATE_PERCENT: Final = Decimal(100)
RATE_PLACES: Final = 4
DAYS_IN_YEAR: Final = 365


def interest_exact(principal_minor: int, rate: Decimal, days: int) -> Fraction:
    """Simple actual/365 interest on ``principal_minor`` for ``days`` at ``rate`` % a year,
    exactly, in minor units (not rounded: callers sum exact parts, then round once)."""
    if days <= 0 or principal_minor <= 0:
        return Fraction(0)
    return Fraction(principal_minor) * Fraction(rate) * days / (100 * DAYS_IN_YEAR)


def round_half_up(exact: Fraction) -> int:
    """A non-negative exact amount of minor units, rounded once to a whole unit, half up
    (2.5 cents is 3 cents)."""
    whole, remainder = divmod(exact.numerator, exact.denominator)
    return whole + (1 if 2 * remainder >= exact.denominator else 0)


def late_interest_minor(principal_minor: int, rate: Decimal, days: int) -> int:
    """Late-payment interest in minor units: ``principal x rate % x days / 365``, exact,
    then rounded once to the minor unit, half up. 0 when ``days`` is not positive."""
    return round_half_up(interest_exact(principal_minor, rate, days))


def days_late(due_on: date, received_on: date) -> int:
    """Actual days from the due date to the received date (0 when on time)."""
    return max((received_on - due_on).days, 0)


# --- rules ------------------------------------------------------------------------------


def check_rate_kind(kind: object) -> str:
    return check_choice(kind, RATE_KINDS, field="kind", what="A rate's kind")


def check_interest_rate(rate: object) -> Decimal:
    """A finite Decimal percent per year, 0 to 100, at most 4 decimals (0 turns it off)."""
    if isinstance(rate, bool) or not isinstance(rate, Decimal) or not rate.is_finite():
        raise InvalidAmount(
            f"An interest rate is an exact decimal percent per year, such as 8 or 7.25; "
            f"got {shown(rate)}.",
            field="rate",
        )
    if rate < 0:
        raise InvalidAmount(
            f"An interest rate cannot be negative; got {rate} %. Use 0 for no interest.",
            field="rate",
        )
    if rate > MAX_RATE_PERCENT:
        raise InvalidAmount(
            f"{rate} % a year is more than {MAX_RATE_PERCENT} %; give the rate in percent "
            "per year (8 for 8 %).",
            field="rate",
        )
    exponent = rate.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -RATE_PLACES:
        raise InvalidAmount(
            f"An interest rate has at most {RATE_PLACES} decimal places; got {rate}.",
            field="rate",
        )
    return rate.normalize() if rate else Decimal(0)


def check_waivable(
    charges: Mapping[str, LateInterestState], contribution_id: str
) -> LateInterestState:
    """There is late-payment interest on that contribution, still owed."""
    charge = charges.get(contribution_id)
    if charge is None:
        raise NotFound(
            f"No late-payment interest is charged on contribution {shown(contribution_id)}.",
            field="contribution_id",
        )
    if charge.waived_on is not None:
        raise InvalidTransition(
            f"The late-payment interest on contribution {contribution_id!r} was already "
            f"waived on {charge.waived_on}.",
            field="contribution_id",
        )
    if charge.cancelled_on is not None:
        raise InvalidTransition(
            f"Contribution {contribution_id!r} was reversed on {charge.cancelled_on}; no "
            "interest is owed on it.",
            field="contribution_id",
        )
    return charge


def check_no_open_waiver(proposed_by: str | None, contribution_id: str) -> None:
    if proposed_by is not None:
        raise AlreadyExists(
            f"{proposed_by} already proposed waiving the interest on contribution "
            f"{contribution_id!r}; a second person approves it.",
            field="contribution_id",
        )


def check_waiver_approver(proposed_by: str | None, approver: object, contribution_id: str) -> str:
    """A waiver needs two people: a proposal, then a different named person's approval."""
    person = check_person(approver, field="approved_by", what="The approver")
    if proposed_by is None:
        raise InvalidInput(
            f"Nobody has proposed waiving the interest on contribution {contribution_id!r}; "
            "one person proposes the waiver, then a second approves it.",
            field="contribution_id",
        )
    if same_person(person, proposed_by):
        raise SamePersonCannotApprove(
            f"{person} proposed this waiver; a second person must approve it.",
            field="approved_by",
        )
    return person
