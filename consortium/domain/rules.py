"""The rules of DOMAIN.md as small check_* functions, each raising a named DomainError."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, timedelta
from decimal import Decimal

from consortium.domain.commands import StakeHistory
from consortium.domain.errors import (
    AdvisorCannotCommit,
    AlreadyExists,
    AlreadyReversed,
    AmendBelowCalled,
    CallExceedsUnfunded,
    ContributionExceedsOwed,
    ContributionOnAnotherCall,
    CurrencyMismatch,
    DateBeforeDependency,
    DateBeforeFormation,
    DateInFuture,
    DistributionExceedsProceeds,
    DrawExceedsAvailable,
    FacilityMatured,
    InvalidAmount,
    InvalidInput,
    InvalidTransition,
    NoStakeInAsset,
    NotAPartner,
    NotFound,
    PartnerHasOpenCommitments,
    PeriodIsClosed,
    RecallableExceedsShare,
    RepaymentExceedsDrawn,
    SamePersonCannotApprove,
    StakeExceedsHolding,
    StakesExceed100Percent,
    TranchesDoNotMatchTarget,
    UnknownAsset,
    UnknownConsortium,
    WithdrawAfterCalled,
)
from consortium.domain.identifiers import check_date, check_person, same_person, shown
from consortium.domain.money import HUNDRED, Money, Percent, format_minor, format_percent
from consortium.domain.positions import total_unfunded_minor, unfunded_minor
from consortium.domain.state import (
    AssetState,
    CallState,
    CommitmentState,
    ConsortiumState,
    ContributionState,
    DistributionState,
    FacilityState,
    PartnerState,
)
from consortium.domain.values import Holder, Tranche
from consortium.domain.vocabulary import (
    STAGE_RANK,
    TECHNICAL_ADVISOR,
    CallStatus,
    DistributionStatus,
    Stage,
    label,
)

MAX_RATE_PLACES = 10
MAX_CAPACITY_MW = Decimal(1_000_000)
MAX_RATE = Decimal(1_000_000_000)

# --- dates ----------------------------------------------------------------------------


def check_effective_on(on: object, start: date | None, what: str) -> date:
    """A calendar date not before the stream's start (`what`: "the consortium's formation")."""
    effective_on = check_date(on, field="effective_on", what="The effective date")
    if start is not None and effective_on < start:
        raise DateBeforeFormation(
            f"The effective date {effective_on} is before {what} on {start}.",
            field="effective_on",
        )
    return effective_on


def check_not_before(
    on: date, dependency_on: date | None, what: str, *, field: str = "effective_on"
) -> None:
    """`on` may not precede the date of an event it depends on (`what` names that event)."""
    if dependency_on is not None and on < dependency_on:
        raise DateBeforeDependency(
            f"The date {on} is before {what} on {dependency_on}.", field=field
        )


def check_not_in_future(on: date, today: date | None) -> None:
    if today is not None and on > today:
        raise DateInFuture(
            f"The effective date {on} is after today ({today}); record it when it happens.",
            field="effective_on",
        )


# --- consortium, ids, partners ------------------------------------------------------


def check_formed(state: ConsortiumState) -> date:
    """The consortium exists; returns its formation date."""
    if state.formed_on is None:
        raise UnknownConsortium("This consortium has not been formed yet; form it first.")
    return state.formed_on


def check_new_id(existing: Collection[str], key: str, what: str, *, field: str) -> None:
    if key in existing:
        raise AlreadyExists(f"{what} {key!r} is already recorded; use a new id.", field=field)


def check_partner(
    state: ConsortiumState, organisation_id: str, *, field: str = "organisation_id"
) -> PartnerState:
    """An admitted partner that has not withdrawn."""
    partner = state.partners.get(organisation_id)
    if partner is None:
        raise NotAPartner(
            f"{shown(organisation_id)} is not a partner of {state.name}; admit it first.",
            field=field,
        )
    if not partner.is_active:
        raise NotAPartner(
            f"{partner.name} withdrew from {state.name} on {partner.withdrew_on}; "
            "admit it again first.",
            field=field,
        )
    return partner


def check_not_advisor(partner: PartnerState, action: str) -> None:
    """Rule 3: a technical advisor commits no capital while it has that role."""
    if partner.role == TECHNICAL_ADVISOR:
        raise AdvisorCannotCommit(
            f"{partner.name} is a technical advisor and cannot {action}; "
            "change its role (for example to member) first.",
            field="organisation_id",
        )


def check_advisor_role_allowed(state: ConsortiumState, partner: PartnerState) -> None:
    """A partner holding live commitments or lending cannot become a technical advisor."""
    live = [c.commitment_id for c in _commitments_of(state, partner) if c.stage != "withdrawn"]
    lending = [
        f.facility_id for f in state.facilities.values() if f.lender == partner.organisation_id
    ]
    if live or lending:
        held = ", ".join(live + lending)
        raise AdvisorCannotCommit(
            f"{partner.name} holds capital commitments or facilities ({held}); a technical "
            "advisor cannot. Withdraw them before changing its role.",
            field="role",
        )


def check_no_open_positions(state: ConsortiumState, partner: PartnerState) -> None:
    """A partner withdraws only once nothing uncalled or unpaid remains."""
    open_ids = [
        c.commitment_id
        for c in _commitments_of(state, partner)
        if c.stage != "withdrawn" and c.amount_minor > c.called_minor
    ]
    if open_ids:
        raise PartnerHasOpenCommitments(
            f"{partner.name} still has uncalled commitments ({', '.join(open_ids)}); withdraw "
            "or amend them down to what was called first.",
            field="organisation_id",
        )
    outstanding = partner.called_minor - partner.contributed_minor
    if outstanding > 0:
        raise PartnerHasOpenCommitments(
            f"{partner.name} still owes {format_minor(outstanding, state.base_currency)} on "
            "issued capital calls.",
            field="organisation_id",
        )


def _commitments_of(state: ConsortiumState, partner: PartnerState) -> Iterable[CommitmentState]:
    return (state.commitments[cid] for cid in partner.commitment_ids)


# --- money ----------------------------------------------------------------------------


def check_positive(amount: Money, what: str, *, field: str = "amount") -> Money:
    """Rule 2: amounts are positive (minor digits are checked when Money is built)."""
    if not isinstance(amount, Money):
        raise InvalidAmount(f"{what} must be an amount of money with a currency.", field=field)
    if not amount.is_positive():
        raise InvalidAmount(f"{what} must be a positive amount; got {amount}.", field=field)
    return amount


def check_base_currency(
    state: ConsortiumState, amount: Money, what: str, *, field: str = "amount"
) -> Money:
    """Equity commitments, calls, contributions and targets are in the base currency."""
    check_positive(amount, what, field=field)
    if amount.currency != state.base_currency:
        raise CurrencyMismatch(
            f"{what} must be in {state.name}'s base currency {state.base_currency}, "
            f"not {amount.currency}.",
            field=field,
        )
    return amount


def check_same_currency(amount: Money, currency: str, what: str) -> None:
    if amount.currency != currency:
        raise CurrencyMismatch(
            f"{what} is in {currency}; {amount} is in another currency.", field="amount"
        )


def _bounded_decimal(value: object, places: int, upper: Decimal) -> Decimal | None:
    """`value` if it is a finite Decimal in (0, upper] with at most `places` decimals."""
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 < value <= upper:
        return None
    exponent = value.normalize().as_tuple().exponent
    return value if isinstance(exponent, int) and exponent >= -places else None


def check_rate(state: ConsortiumState, currency: str, rate: object) -> Decimal:
    """A positive, finite rate of at most 10 decimal places, for a foreign currency."""
    if currency == state.base_currency:
        raise InvalidInput(
            f"{currency} is the base currency; rates are recorded for other currencies only.",
            field="currency",
        )
    checked = _bounded_decimal(rate, MAX_RATE_PLACES, MAX_RATE)
    if checked is None:
        raise InvalidAmount(
            f"An FX rate must be a positive decimal with at most {MAX_RATE_PLACES} decimal "
            f"places; got {shown(rate)}.",
            field="rate",
        )
    return checked


def check_capacity(capacity: object) -> Decimal:
    checked = _bounded_decimal(capacity, 3, MAX_CAPACITY_MW)
    if checked is None:
        raise InvalidAmount(
            "Capacity must be a positive number of MW with at most 3 decimals; "
            f"got {shown(capacity)}.",
            field="capacity_mw",
        )
    return checked


def check_tranches(state: ConsortiumState, target: Money, tranches: tuple[Tranche, ...]) -> None:
    """Tranches are in the target's currency, in date order, and add up to the target."""
    previous: date | None = None
    for tranche in tranches:
        check_base_currency(state, tranche.amount, "A tranche", field="tranches")
        day = check_date(tranche.available_from, field="tranches", what="A tranche's date")
        if previous is not None and day <= previous:
            raise TranchesDoNotMatchTarget(
                "Tranches must be listed in order of their available-from dates, one per date.",
                field="tranches",
            )
        previous = day
    total = sum(t.amount.to_minor() for t in tranches)
    if tranches and total != target.to_minor():
        raise TranchesDoNotMatchTarget(
            f"The tranches add up to {format_minor(total, target.currency)}, but the target is "
            f"{target}; they must add up to it exactly.",
            field="tranches",
        )


# --- commitments ----------------------------------------------------------------------


def check_commitment(state: ConsortiumState, commitment_id: str) -> CommitmentState:
    commitment = state.commitments.get(commitment_id)
    if commitment is None:
        raise NotFound(f"No commitment {shown(commitment_id)} is recorded.", field="commitment_id")
    return commitment


def check_not_withdrawn(commitment: CommitmentState) -> None:
    if commitment.stage == "withdrawn":
        raise InvalidTransition(
            f"Commitment {commitment.commitment_id!r} was withdrawn; record a new one instead.",
            field="commitment_id",
        )


def check_stage_move(commitment: CommitmentState, stage: Stage) -> None:
    """Stages only move forward; withdrawn is allowed while nothing of it has been called."""
    check_not_withdrawn(commitment)
    if stage == "withdrawn":
        if commitment.called_minor > 0:
            raise WithdrawAfterCalled(
                f"Commitment {commitment.commitment_id!r} has "
                f"{format_minor(commitment.called_minor, commitment.currency)} called already; "
                "it cannot be withdrawn (amend it down to what was called instead).",
                field="stage",
            )
        return
    if STAGE_RANK[stage] <= STAGE_RANK[commitment.stage]:
        raise InvalidTransition(
            f"Commitment {commitment.commitment_id!r} is {label(commitment.stage)}; stages only "
            f"move forward (indicated, soft circled, signed), so it cannot become {label(stage)}.",
            field="stage",
        )


def check_amend_not_below_called(commitment: CommitmentState, amount: Money) -> None:
    if amount.to_minor() < commitment.called_minor:
        called = format_minor(commitment.called_minor, commitment.currency)
        raise AmendBelowCalled(
            f"Commitment {commitment.commitment_id!r} has {called} called already; it cannot "
            f"be reduced to {amount}.",
            field="amount",
        )


# --- capital calls and contributions --------------------------------------------------


def check_call(state: ConsortiumState, call_id: str) -> CallState:
    call = state.calls.get(call_id)
    if call is None:
        raise NotFound(f"No capital call {shown(call_id)} is recorded.", field="call_id")
    return call


def check_call_status(call: CallState, allowed: tuple[CallStatus, ...], action: str) -> None:
    if call.status not in allowed:
        needed = " or ".join(allowed)
        raise InvalidTransition(
            f"Capital call {call.call_id!r} is {call.status}; it can be {action} only while "
            f"{needed}.",
            field="call_id",
        )


def check_second_person(approver: object, first: str, did: str) -> str:
    """Rule 7 and every two-person rule: the approver is a named person other than
    ``first``, who ``did`` what is to be approved ("prepared capital call 'c-1'")."""
    person = check_person(approver, field="approved_by", what="The approver")
    if same_person(person, first):
        raise SamePersonCannotApprove(
            f"{person} {did}; a second person must approve it.", field="approved_by"
        )
    return person


def check_approver(call: CallState, approver: object) -> str:
    """Rule 7: the approver is a named person other than the preparer."""
    return check_second_person(
        approver, call.prepared_by, f"prepared capital call {call.call_id!r}"
    )


def check_call_within_unfunded(state: ConsortiumState, amount: Money) -> None:
    """Rule 4: a call never exceeds the total unfunded equity."""
    unfunded = total_unfunded_minor(state)
    if amount.to_minor() > unfunded:
        raise CallExceedsUnfunded(
            f"The total unfunded equity is {format_minor(unfunded, state.base_currency)}; "
            f"a call of {amount} exceeds it.",
            field="amount",
        )


def check_within_owed(
    state: ConsortiumState, call: CallState, organisation_id: str, amount: Money
) -> None:
    """Rule 5: a contribution never exceeds what that partner owes on that call."""
    owed = call.owed_minor(organisation_id)
    if amount.to_minor() > owed:
        name = (
            state.partners[organisation_id].name
            if organisation_id in state.partners
            else organisation_id
        )
        raise ContributionExceedsOwed(
            f"{name} owes {format_minor(owed, state.base_currency)} on capital call "
            f"{call.call_id!r}; a contribution of {amount} exceeds it.",
            field="amount",
        )


def check_contribution(
    state: ConsortiumState, contribution_id: str, call_id: str | None = None
) -> ContributionState:
    """The contribution exists, is not reversed, and (if ``call_id`` is named) was
    received on that capital call."""
    contribution = state.contributions.get(contribution_id)
    if contribution is None:
        raise NotFound(
            f"No contribution {shown(contribution_id)} is recorded.", field="contribution_id"
        )
    if call_id is not None and contribution.call_id != call_id:
        raise ContributionOnAnotherCall(
            f"Contribution {contribution_id!r} was received on capital call "
            f"{contribution.call_id!r}, not {shown(call_id)}.",
            field="contribution_id",
        )
    if contribution.reversed_on is not None:
        raise AlreadyReversed(
            f"Contribution {contribution_id!r} was already reversed on {contribution.reversed_on}.",
            field="contribution_id",
        )
    return contribution


def check_unfunded_of(state: ConsortiumState, organisation_id: str, allocation: int) -> None:
    """Rule 4, per partner: an allocation never exceeds the partner's unfunded amount."""
    unfunded = unfunded_minor(state, organisation_id)
    if allocation > unfunded:
        raise CallExceedsUnfunded(
            f"{state.partners[organisation_id].name}'s unfunded equity is "
            f"{format_minor(unfunded, state.base_currency)}; the allocation of "
            f"{format_minor(allocation, state.base_currency)} exceeds it.",
            field="amount",
        )


# --- debt facilities -------------------------------------------------------------------


def check_facility(state: ConsortiumState, facility_id: str) -> FacilityState:
    facility = state.facilities.get(facility_id)
    if facility is None:
        raise NotFound(f"No debt facility {shown(facility_id)} is recorded.", field="facility_id")
    return facility


def check_not_matured(facility: FacilityState, on: date) -> None:
    if on > facility.maturity_on:
        raise FacilityMatured(
            f"Debt facility {facility.facility_id!r} matured on {facility.maturity_on}; "
            f"nothing can be drawn on {on}.",
            field="effective_on",
        )


def check_draw_within_available(facility: FacilityState, amount: Money) -> None:
    available = facility.available_minor
    if amount.to_minor() > available:
        raise DrawExceedsAvailable(
            f"Debt facility {facility.facility_id!r} has "
            f"{format_minor(available, facility.currency)} available; a draw of {amount} "
            "exceeds it.",
            field="amount",
        )


def check_repayment_within_drawn(facility: FacilityState, amount: Money) -> None:
    outstanding = facility.outstanding_minor
    if amount.to_minor() > outstanding:
        raise RepaymentExceedsDrawn(
            f"Debt facility {facility.facility_id!r} has "
            f"{format_minor(outstanding, facility.currency)} drawn and not repaid; a repayment "
            f"of {amount} exceeds it.",
            field="amount",
        )


# --- assets and stakes ----------------------------------------------------------------


def check_registered(asset: AssetState, asset_id: str) -> date:
    if asset.registered_on is None or asset.asset_id != asset_id:
        raise UnknownAsset(f"No asset {shown(asset_id)} is registered.", field="asset_id")
    return asset.registered_on


def check_stakes_total(asset: AssetState, percent: Percent) -> None:
    """Rule 6: stakes in one asset sum to at most 100 %."""
    total = asset.total_percent + percent.value
    if total > HUNDRED:
        raise StakesExceed100Percent(
            f"{format_percent(asset.total_percent)} of {asset.name} is already held; "
            f"acquiring {percent} more would make {format_percent(total)}, above 100 %.",
            field="percent",
        )


def check_holding(asset: AssetState, holder: Holder, percent: Percent) -> date:
    """A holder cannot sell or transfer more than it holds; returns when it began holding."""
    held = asset.holdings.get(holder, Decimal(0))
    if percent.value > held:
        raise StakeExceedsHolding(
            f"The {holder} holds {format_percent(held)} of {asset.name}; it cannot part "
            f"with {percent}.",
            field="percent",
        )
    return asset.held_since[holder]


# --- sealed periods ---


def spoken_date(day: date) -> str:
    """A date as people write it in a sentence: ``31 March 2026``."""
    return f"{day.day} {day:%B %Y}"


def check_open_period(state: ConsortiumState, on: date) -> None:
    """No event takes effect on or before the closing date of the consortium's latest close
    in force; the message names the period and the first open day."""
    seal = state.latest_seal
    if seal is None or on > seal.closing_date:
        return
    name = state.name or state.slug or "The consortium"
    raise PeriodIsClosed(
        f"{name}'s books are closed up to {spoken_date(seal.closing_date)} (sealed at position "
        f"{seal.position}); record the correction in the next open period, dated "
        f"{spoken_date(seal.closing_date + timedelta(days=1))} or later.",
        field="effective_on",
    )


def check_corrects_position(value: object) -> int | None:
    """An optional ledger position a correction names: a whole number of at least 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(
            f"The position corrected must be a whole number of at least 1, not {value!r}.",
            field="corrects_position",
        )
    return value


# --- distributions ---


def check_proceeds_source(state: ConsortiumState, holding: StakeHistory, on: date) -> None:
    """Proceeds come from a registered asset the consortium held a stake in by that date."""
    if not holding.registered:
        raise UnknownAsset(f"No asset {shown(holding.asset_id)} is registered.", field="asset_id")
    if holding.held_from is None:
        raise NoStakeInAsset(
            f"{state.name} has never held a stake in asset {holding.asset_id!r}; it cannot "
            f"receive proceeds from it.",
            field="asset_id",
        )
    if on < holding.held_from:
        raise NoStakeInAsset(
            f"{state.name} first held a stake in asset {holding.asset_id!r} on "
            f"{holding.held_from}; it cannot have received proceeds from it on {on}.",
            field="effective_on",
        )


def check_distribution(state: ConsortiumState, distribution_id: str) -> DistributionState:
    distribution = state.distributions.get(distribution_id)
    if distribution is None:
        raise NotFound(
            f"No distribution {shown(distribution_id)} is recorded.", field="distribution_id"
        )
    return distribution


def check_distribution_status(
    distribution: DistributionState, allowed: tuple[DistributionStatus, ...], action: str
) -> None:
    if distribution.status not in allowed:
        needed = " or ".join(allowed)
        raise InvalidTransition(
            f"Distribution {distribution.distribution_id!r} is {distribution.status}; it can "
            f"be {action} only while {needed}.",
            field="distribution_id",
        )


def check_distribution_approver(distribution: DistributionState, approver: object) -> str:
    """As rule 7 for calls: the approver is a named person other than the preparer."""
    did = f"prepared distribution {distribution.distribution_id!r}"
    return check_second_person(approver, distribution.prepared_by, did)


def check_within_proceeds(state: ConsortiumState, amount: Money) -> None:
    """A distribution never pays out more than the proceeds received and not yet set
    aside by an earlier distribution (prepared, approved or paid)."""
    available = state.proceeds_minor - state.distributions_minor
    if amount.to_minor() > available:
        raise DistributionExceedsProceeds(
            f"{state.name} has {format_minor(max(available, 0), state.base_currency)} of "
            f"proceeds not yet distributed; a distribution of {amount} exceeds it.",
            field="amount",
        )


def check_recallable_within_share(
    state: ConsortiumState, organisation_id: str, recallable: Money, share: int
) -> None:
    """A partner's recallable amount is never more than its share of the distribution."""
    if recallable.to_minor() > share:
        name = state.partners[organisation_id].name
        raise RecallableExceedsShare(
            f"{name}'s share of the distribution is "
            f"{format_minor(share, state.base_currency)}; a recallable amount of {recallable} "
            f"exceeds it.",
            field="recallable",
        )
