"""Late-payment interest and equalisation: the consortium's dated rates, the arithmetic,
and their rules.

Interest is simple, actual/365: ``principal x rate % x days / 365``, computed exactly (as a
fraction of minor units) and rounded once, to the currency's minor unit, half up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Final

from consortium.domain.allocation import allocate_pro_rata
from consortium.domain.errors import (
    AlreadyExists,
    InvalidAmount,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from consortium.domain.identifiers import check_choice, check_person, shown
from consortium.domain.positions import signed_equity_by_partner
from consortium.domain.rules import check_second_person
from consortium.domain.state import (
    CallState,
    ConsortiumState,
    EqualisationState,
    LateInterestState,
)

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
    return check_second_person(person, proposed_by, "proposed this waiver")


# --- equalisation -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EqualisationFigures:
    """What an equalisation call asks of a late joiner, computed from the record.

    ``amount_minor``: the joiner's signed equity x, for each earlier call, that call's
    allocations / the signed equity of the partners it was allocated to (the fraction of
    commitment the earlier partners were called), exact, summed, rounded once half up.
    ``interest_minor``: each call's exact part x ``rate`` % x days from that call's due
    date to the equalisation due date / 365, exact, summed, rounded once half up.
    ``shares``: the interest pro rata to the earlier partners' net contributions to those
    calls, largest remainder in minor units (sums to ``interest_minor`` exactly)."""

    amount_minor: int
    rate: Decimal
    interest_minor: int
    call_ids: tuple[str, ...]
    shares: dict[str, int]


def calls_to_equalise(state: ConsortiumState, organisation_id: str) -> list[CallState]:
    """The ordinary calls issued before the partner was admitted, in which it has no
    allocation and which no issued equalisation call of the partner has covered."""
    partner = state.partners[organisation_id]
    covered = {
        call_id
        for e in state.equalisations.values()
        if e.organisation_id == organisation_id and e.approved_on is not None
        for call_id in e.call_ids
    }
    return sorted(
        (
            call
            for call in state.calls.values()
            if call.status == "issued"
            and call.equalises is None
            and call.issued_on is not None
            and call.issued_on < partner.admitted_on
            and organisation_id not in call.allocations
            and call.call_id not in covered
        ),
        key=lambda call: (call.due_on, call.call_id),
    )


def equalisation_figures(
    state: ConsortiumState, organisation_id: str, due_on: date, on: date
) -> EqualisationFigures:
    """The figures of an equalisation call on ``organisation_id`` due ``due_on``, at the
    equalisation rate in force on ``on`` (the preparation date). Refuses (InvalidInput)
    when there is nothing to equalise or nobody to pass the interest to."""
    partner = state.partners[organisation_id]
    calls = calls_to_equalise(state, organisation_id)
    if not calls:
        raise InvalidTransition(
            f"{partner.name} was admitted on {partner.admitted_on}; no capital was called "
            "before that which it has not taken part in, so there is nothing to equalise.",
            field="organisation_id",
        )
    signed = signed_equity_by_partner(state)
    joiner = signed.get(organisation_id, 0)
    if joiner <= 0:
        raise InvalidInput(
            f"{partner.name} has no signed equity commitment to equalise; record it first.",
            field="organisation_id",
        )
    rate = state.interest_rate_on("equalisation", on)
    amount, interest = Fraction(0), Fraction(0)
    weights: dict[str, int] = {}
    for call in calls:
        base = sum(signed.get(org, 0) for org in call.allocations)
        part = Fraction(joiner * sum(call.allocations.values()), base) if base else Fraction(0)
        amount += part
        days = max((due_on - call.due_on).days, 0)
        interest += part * Fraction(rate) * days / (100 * DAYS_IN_YEAR)
        for org in call.allocations:
            weights[org] = weights.get(org, 0) + max(call.contributed.get(org, 0), 0)
    interest_minor = round_half_up(interest)
    weights = {org: w for org, w in weights.items() if w > 0}
    if interest_minor and not weights:
        raise InvalidTransition(
            "The earlier partners have contributed nothing to the calls being equalised, so "
            "there is nobody to pass the equalisation interest to yet; record their "
            "contributions first.",
            field="organisation_id",
        )
    shares = allocate_pro_rata(interest_minor, weights) if interest_minor else {}
    call_ids = tuple(call.call_id for call in calls)
    return EqualisationFigures(round_half_up(amount), rate, interest_minor, call_ids, shares)


def check_equalisation_approver(equalisation: EqualisationState, approver: object) -> str:
    """Like a capital call: a named person other than the one who prepared it."""
    did = f"prepared equalisation call {equalisation.call_id!r}"
    return check_second_person(approver, equalisation.prepared_by, did)
