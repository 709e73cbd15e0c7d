"""Events of the consortium and asset streams: past-tense facts, stored as JSON-safe data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Final, Self

from consortium.domain.codec import decode_fields, encode_fields
from consortium.domain.identifiers import check_identifier, check_slug
from consortium.domain.money import Money, Percent
from consortium.domain.values import Allocation, ClosingBalance, DistributionShare, Holder, Tranche
from consortium.domain.vocabulary import (
    AssetKind,
    DistributionBasis,
    DistributionKind,
    Instrument,
    ProceedsKind,
    Role,
    Stage,
    TargetInstrument,
)

CONSORTIUM_STREAM_PREFIX: Final = "consortium-"
ASSET_STREAM_PREFIX: Final = "asset-"


def consortium_stream_id(slug: str) -> str:
    """The ledger stream of one consortium: `consortium-<slug>`. A slug no consortium can
    have is ``InvalidInput`` (field ``slug``) here, before any ledger read or append."""
    return f"{CONSORTIUM_STREAM_PREFIX}{check_slug(slug, field='slug', what='A consortium slug')}"


def asset_stream_id(asset_id: str) -> str:
    """The ledger stream of one asset: `asset-<id>`; an id no asset can have is
    ``InvalidInput`` (field ``asset_id``)."""
    checked = check_identifier(asset_id, field="asset_id", what="An asset id")
    return f"{ASSET_STREAM_PREFIX}{checked}"


class Event:
    """Base of all events; the effective date travels beside the event, in DatedEvent."""

    __slots__ = ()
    TYPE: ClassVar[str]

    def to_data(self) -> dict[str, Any]:
        """JSON-safe data: amounts as decimal strings, dates as ISO strings, no floats."""
        return encode_fields(self)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild the event from `to_data()` output; round-trips exactly."""
        return decode_fields(cls, data if type(data) is dict else dict(data))


@dataclass(frozen=True, slots=True)
class DatedEvent:
    """An event with its business date, and (when read from the ledger) when and where."""

    event: Event
    effective_on: date
    recorded_at: datetime | None = None
    version: int | None = None


# --- consortium stream ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsortiumFormed(Event):
    TYPE: ClassVar[str] = "ConsortiumFormed"
    name: str
    slug: str
    base_currency: str
    formed_on: date


@dataclass(frozen=True, slots=True)
class FundraisingTargetSet(Event):
    """Sets (or replaces) the target for one instrument, in the base currency."""

    TYPE: ClassVar[str] = "FundraisingTargetSet"
    instrument: TargetInstrument
    amount: Money
    deadline: date | None = None
    tranches: tuple[Tranche, ...] = ()


@dataclass(frozen=True, slots=True)
class PartnerAdmitted(Event):
    TYPE: ClassVar[str] = "PartnerAdmitted"
    organisation_id: str
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class PartnerRoleChanged(Event):
    TYPE: ClassVar[str] = "PartnerRoleChanged"
    organisation_id: str
    role: Role


@dataclass(frozen=True, slots=True)
class PartnerWithdrew(Event):
    TYPE: ClassVar[str] = "PartnerWithdrew"
    organisation_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CommitmentRecorded(Event):
    """`base_amount` is `amount` at `fx_rate` (None: already base currency), fixed for good."""

    TYPE: ClassVar[str] = "CommitmentRecorded"
    commitment_id: str
    organisation_id: str
    instrument: Instrument
    amount: Money
    stage: Stage
    base_amount: Money
    fx_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CommitmentStageAdvanced(Event):
    TYPE: ClassVar[str] = "CommitmentStageAdvanced"
    commitment_id: str
    stage: Stage


@dataclass(frozen=True, slots=True)
class CommitmentAmended(Event):
    """The commitment's new amount, converted at the rate in force on the amendment date."""

    TYPE: ClassVar[str] = "CommitmentAmended"
    commitment_id: str
    amount: Money
    base_amount: Money
    fx_rate: Decimal | None = None
    # --- sealed periods --- the position of the event this amendment corrects, if any
    corrects_position: int | None = None


@dataclass(frozen=True, slots=True)
class CapitalCallPrepared(Event):
    TYPE: ClassVar[str] = "CapitalCallPrepared"
    call_id: str
    amount: Money
    due_on: date
    purpose: str
    prepared_by: str


@dataclass(frozen=True, slots=True)
class CapitalCallApproved(Event):
    TYPE: ClassVar[str] = "CapitalCallApproved"
    call_id: str
    approved_by: str


@dataclass(frozen=True, slots=True)
class CapitalCallIssued(Event):
    """Allocations are fixed here, one per partner with a positive share, by org id."""

    TYPE: ClassVar[str] = "CapitalCallIssued"
    call_id: str
    allocations: tuple[Allocation, ...]


@dataclass(frozen=True, slots=True)
class CapitalCallCancelled(Event):
    TYPE: ClassVar[str] = "CapitalCallCancelled"
    call_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ContributionReceived(Event):
    TYPE: ClassVar[str] = "ContributionReceived"
    contribution_id: str
    call_id: str
    organisation_id: str
    amount: Money
    received_on: date
    bank_reference: str


@dataclass(frozen=True, slots=True)
class ContributionReversed(Event):
    TYPE: ClassVar[str] = "ContributionReversed"
    contribution_id: str
    reason: str
    # --- sealed periods --- the position of the event this reversal corrects, if any
    corrects_position: int | None = None


@dataclass(frozen=True, slots=True)
class DebtFacilityArranged(Event):
    TYPE: ClassVar[str] = "DebtFacilityArranged"
    facility_id: str
    lender: str
    amount: Money
    maturity_on: date
    revolving: bool
    base_amount: Money
    fx_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DebtFacilityDrawn(Event):
    TYPE: ClassVar[str] = "DebtFacilityDrawn"
    facility_id: str
    draw_id: str
    amount: Money
    base_amount: Money
    fx_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DebtFacilityRepaid(Event):
    TYPE: ClassVar[str] = "DebtFacilityRepaid"
    facility_id: str
    repayment_id: str
    amount: Money
    base_amount: Money
    fx_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class FxRateRecorded(Event):
    """`rate` is base-currency units per one unit of `currency`, in force from `effective_on`."""

    TYPE: ClassVar[str] = "FxRateRecorded"
    currency: str
    rate: Decimal
    effective_on: date


# --- sealed periods ---


@dataclass(frozen=True, slots=True)
class PeriodClosed(Event):
    """Finance sealed the consortium's books up to ``closing_date``: ``position`` and
    ``chain_hash`` are the ledger's head the decision saw, ``balances`` each partner's
    figures as of ``closing_date`` from the ledger up to ``position``."""

    TYPE: ClassVar[str] = "PeriodClosed"
    closing_date: date
    position: int
    chain_hash: str
    balances: tuple[ClosingBalance, ...]
    closed_by: str


@dataclass(frozen=True, slots=True)
class PeriodReopenProposed(Event):
    """Someone proposes undoing the latest close (the one up to ``closing_date``)."""

    TYPE: ClassVar[str] = "PeriodReopenProposed"
    closing_date: date
    reason: str
    proposed_by: str


@dataclass(frozen=True, slots=True)
class PeriodReopened(Event):
    """A second person approved the proposal: the latest close is undone (its
    ``PeriodClosed`` stays in the ledger)."""

    TYPE: ClassVar[str] = "PeriodReopened"
    closing_date: date
    proposed_by: str
    approved_by: str


# --- interest and equalisation ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InterestRateSet(Event):
    """The consortium's ``default`` (late-payment) or ``equalisation`` rate, in percent per
    year, in force from the event's effective date until the next one of the same kind."""

    TYPE: ClassVar[str] = "InterestRateSet"
    kind: str
    rate: Decimal
    in_force_from: date


@dataclass(frozen=True, slots=True)
class LatePaymentInterestCharged(Event):
    """Interest on a contribution received after its call's due date: ``amount`` is the
    contribution x ``rate`` % x days / 365 (actual days from ``due_on`` to ``received_on``),
    rounded once to the minor unit, half up. Appended with the ContributionReceived."""

    TYPE: ClassVar[str] = "LatePaymentInterestCharged"
    contribution_id: str
    call_id: str
    organisation_id: str
    amount: Money
    rate: Decimal
    due_on: date
    received_on: date


@dataclass(frozen=True, slots=True)
class LatePaymentInterestWaiverProposed(Event):
    TYPE: ClassVar[str] = "LatePaymentInterestWaiverProposed"
    contribution_id: str
    proposed_by: str
    reason: str


@dataclass(frozen=True, slots=True)
class LatePaymentInterestWaived(Event):
    """A second person approved the proposed waiver: the interest is no longer owed."""

    TYPE: ClassVar[str] = "LatePaymentInterestWaived"
    contribution_id: str
    approved_by: str


@dataclass(frozen=True, slots=True)
class EqualisationCallPrepared(Event):
    """A draft equalisation call on a late joiner, its figures fixed from the record:
    ``amount`` (capital: the fraction of its commitment the earlier partners were called
    by ``call_ids``), ``interest`` at ``rate`` % a year from each call's due date to
    ``due_on`` (exact per call, summed, rounded once half up; never capital) and
    ``interest_shares``, the interest passed to the earlier partners pro rata to their
    contributions to those calls (largest remainder)."""

    TYPE: ClassVar[str] = "EqualisationCallPrepared"
    call_id: str
    organisation_id: str
    amount: Money
    due_on: date
    rate: Decimal
    interest: Money
    call_ids: tuple[str, ...]
    interest_shares: tuple[Allocation, ...]
    prepared_by: str


@dataclass(frozen=True, slots=True)
class EqualisationCallApproved(Event):
    """A second person approved the equalisation call; it is issued on approval (its
    figures were fixed when prepared and are checked unchanged)."""

    TYPE: ClassVar[str] = "EqualisationCallApproved"
    call_id: str
    approved_by: str


# --- distributions ---


@dataclass(frozen=True, slots=True)
class ProceedsReceived(Event):
    """Income or sale proceeds the consortium received from an asset it holds a stake in,
    in the base currency."""

    TYPE: ClassVar[str] = "ProceedsReceived"
    proceeds_id: str
    asset_id: str
    kind: ProceedsKind
    amount: Money
    received_on: date


@dataclass(frozen=True, slots=True)
class DistributionPrepared(Event):
    """A draft distribution; its shares (one per partner with a positive share, by org id)
    are fixed here, so the approver approves the figures that will be paid."""

    TYPE: ClassVar[str] = "DistributionPrepared"
    distribution_id: str
    amount: Money
    kind: DistributionKind
    basis: DistributionBasis
    shares: tuple[DistributionShare, ...]
    purpose: str
    prepared_by: str


@dataclass(frozen=True, slots=True)
class DistributionApproved(Event):
    TYPE: ClassVar[str] = "DistributionApproved"
    distribution_id: str
    approved_by: str


@dataclass(frozen=True, slots=True)
class DistributionPaid(Event):
    """The approved shares were paid; recallable parts add back to unfunded from now."""

    TYPE: ClassVar[str] = "DistributionPaid"
    distribution_id: str


# --- asset stream ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssetRegistered(Event):
    """`estimated_cost_base` is in the sponsor's base currency at `fx_rate` on registration."""

    TYPE: ClassVar[str] = "AssetRegistered"
    asset_id: str
    sponsor: str
    kind: AssetKind
    name: str
    location: str
    capacity_mw: Decimal
    estimated_cost: Money
    estimated_cost_base: Money
    fx_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class StakeAcquired(Event):
    TYPE: ClassVar[str] = "StakeAcquired"
    asset_id: str
    holder: Holder
    percent: Percent


@dataclass(frozen=True, slots=True)
class StakeTransferred(Event):
    TYPE: ClassVar[str] = "StakeTransferred"
    asset_id: str
    from_holder: Holder
    to_holder: Holder
    percent: Percent


@dataclass(frozen=True, slots=True)
class StakeSold(Event):
    TYPE: ClassVar[str] = "StakeSold"
    asset_id: str
    holder: Holder
    percent: Percent


CONSORTIUM_EVENTS: Final[tuple[type[Event], ...]] = (
    ConsortiumFormed,
    FundraisingTargetSet,
    PartnerAdmitted,
    PartnerRoleChanged,
    PartnerWithdrew,
    CommitmentRecorded,
    CommitmentStageAdvanced,
    CommitmentAmended,
    CapitalCallPrepared,
    CapitalCallApproved,
    CapitalCallIssued,
    CapitalCallCancelled,
    ContributionReceived,
    ContributionReversed,
    DebtFacilityArranged,
    DebtFacilityDrawn,
    DebtFacilityRepaid,
    FxRateRecorded,
    # --- sealed periods ---
    PeriodClosed,
    PeriodReopenProposed,
    PeriodReopened,
    # --- interest and equalisation ---
    InterestRateSet,
    LatePaymentInterestCharged,
    LatePaymentInterestWaiverProposed,
    LatePaymentInterestWaived,
    EqualisationCallPrepared,
    EqualisationCallApproved,
    # --- distributions ---
    ProceedsReceived,
    DistributionPrepared,
    DistributionApproved,
    DistributionPaid,
)
ASSET_EVENTS: Final[tuple[type[Event], ...]] = (
    AssetRegistered,
    StakeAcquired,
    StakeTransferred,
    StakeSold,
)
EVENT_TYPES: Final[dict[str, type[Event]]] = {
    cls.TYPE: cls for cls in CONSORTIUM_EVENTS + ASSET_EVENTS
}


class UnknownEventType(ValueError):
    """The ledger holds a type name no event class is registered for."""


def event_to_stored(event: Event) -> tuple[str, dict[str, Any]]:
    """The (type, data) pair the ledger stores for `event`."""
    if EVENT_TYPES.get(event.TYPE) is not type(event):
        raise UnknownEventType(f"{type(event).__name__} is not a registered event class.")
    return event.TYPE, event.to_data()


def event_from_stored(type_: str, data: Mapping[str, Any]) -> Event:
    """Rebuild an event from the (type, data) pair the ledger stored."""
    try:
        cls = EVENT_TYPES[type_]
    except KeyError:
        raise UnknownEventType(f"No event class is registered for type {type_!r}.") from None
    return cls.from_data(data)
