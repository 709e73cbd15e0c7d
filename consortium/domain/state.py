"""Current state of a consortium or asset stream, folded from its dated events."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from consortium.domain.events import (
    AssetRegistered,
    CapitalCallApproved,
    CapitalCallCancelled,
    CapitalCallIssued,
    CapitalCallPrepared,
    CommitmentAmended,
    CommitmentRecorded,
    CommitmentStageAdvanced,
    ConsortiumFormed,
    ContributionReceived,
    ContributionReversed,
    DatedEvent,
    DebtFacilityArranged,
    DebtFacilityDrawn,
    DebtFacilityRepaid,
    DistributionApproved,
    DistributionPaid,
    DistributionPrepared,
    EqualisationCallApproved,
    EqualisationCallPrepared,
    Event,
    FundraisingTargetSet,
    FxRateRecorded,
    InterestRateSet,
    LatePaymentInterestCharged,
    LatePaymentInterestWaived,
    LatePaymentInterestWaiverProposed,
    PartnerAdmitted,
    PartnerRoleChanged,
    PartnerWithdrew,
    PeriodClosed,
    PeriodReopened,
    PeriodReopenProposed,
    ProceedsReceived,
    StakeAcquired,
    StakeSold,
    StakeTransferred,
)
from consortium.domain.fx import FxSeries
from consortium.domain.values import Holder
from consortium.domain.vocabulary import (
    AssetKind,
    CallStatus,
    DistributionBasis,
    DistributionKind,
    DistributionStatus,
    Instrument,
    ProceedsKind,
    Role,
    Stage,
    TargetInstrument,
)

# Bump whenever folding changes what a state holds: snapshots are keyed by it.
STATE_CODE_VERSION: Final = 6  # 4: sealed periods; 5: interest; 6: distributions


@dataclass(slots=True)
class PartnerState:
    organisation_id: str
    name: str
    role: Role
    admitted_on: date
    role_changed_on: date
    withdrew_on: date | None = None
    role_history: list[tuple[date, Role]] = field(default_factory=list)
    commitment_ids: list[str] = field(default_factory=list)
    # Kept running by the commitment appliers so that call decisions cost O(partners),
    # not O(commitments): the sum of this partner's signed equity commitments.
    signed_equity_minor: int = 0
    # Index of the first commitment that may still take a call (see _attribute_called).
    call_cursor: int = 0
    called_minor: int = 0
    contributed_minor: int = 0
    # --- interest and equalisation ---
    late_interest_minor: int = 0  # charged, less waived and less that on reversed payments
    late_interest_waived_minor: int = 0
    equalisation_called_minor: int = 0  # capital called by equalisation calls (issued)
    equalisation_interest_paid_minor: int = 0  # equalisation interest the joiner pays
    equalisation_interest_received_minor: int = 0  # its share as an earlier partner
    # --- distributions ---
    # Paid distributions (all, and those of capital); recallable capital not yet recalled,
    # and what later calls recalled of it. Unfunded = signed - called + recalled +
    # recallable (see positions.unfunded_minor).
    distributed_minor: int = 0
    distributed_capital_minor: int = 0
    recallable_minor: int = 0
    recalled_minor: int = 0

    @property
    def is_active(self) -> bool:
        return self.withdrew_on is None


@dataclass(slots=True)
class CommitmentState:
    commitment_id: str
    organisation_id: str
    instrument: Instrument
    currency: str
    amount_minor: int
    base_amount_minor: int
    fx_rate: Decimal | None
    stage: Stage
    recorded_on: date
    stage_on: date
    amended_on: date | None = None
    called_minor: int = 0

    @property
    def is_signed_equity(self) -> bool:
        return self.instrument == "equity" and self.stage == "signed"


@dataclass(slots=True)
class CallState:
    call_id: str
    amount_minor: int
    due_on: date
    purpose: str
    prepared_by: str
    prepared_on: date
    status: CallStatus = "draft"
    approved_by: str | None = None
    approved_on: date | None = None
    issued_on: date | None = None
    cancelled_on: date | None = None
    cancel_reason: str = ""
    allocations: dict[str, int] = field(default_factory=dict)
    contributed: dict[str, int] = field(default_factory=dict)
    equalises: str | None = None  # an equalisation call: the late joiner it calls

    def owed_minor(self, organisation_id: str) -> int:
        """What the partner still owes on this call: allocation less net contributions."""
        allocated = self.allocations.get(organisation_id, 0)
        return allocated - self.contributed.get(organisation_id, 0)


@dataclass(slots=True)
class ContributionState:
    contribution_id: str
    call_id: str
    organisation_id: str
    amount_minor: int
    received_on: date
    bank_reference: str
    reversed_on: date | None = None
    reversal_reason: str = ""


@dataclass(slots=True)
class LateInterestState:
    """Late-payment interest charged on one contribution (interest and equalisation)."""

    contribution_id: str
    organisation_id: str
    amount_minor: int
    charged_on: date
    waiver_proposed_by: str | None = None
    waiver_reason: str = ""
    waiver_proposed_on: date | None = None
    waived_by: str | None = None
    waived_on: date | None = None
    cancelled_on: date | None = None  # its contribution was reversed

    @property
    def is_owed(self) -> bool:
        return self.waived_on is None and self.cancelled_on is None


@dataclass(slots=True)
class EqualisationState:
    """An equalisation call (interest and equalisation); see EqualisationCallPrepared."""

    call_id: str
    organisation_id: str
    amount_minor: int
    due_on: date
    rate: Decimal
    interest_minor: int
    call_ids: tuple[str, ...]
    interest_shares: dict[str, int]
    prepared_by: str
    prepared_on: date
    approved_by: str | None = None
    approved_on: date | None = None

    @property
    def status(self) -> str:
        return "draft" if self.approved_on is None else "issued"


@dataclass(slots=True)
class FacilityState:
    facility_id: str
    lender: str
    currency: str
    amount_minor: int
    base_amount_minor: int
    fx_rate: Decimal | None
    maturity_on: date
    revolving: bool
    arranged_on: date
    drawn_minor: int = 0
    repaid_minor: int = 0
    drawn_base_minor: int = 0
    repaid_base_minor: int = 0
    first_draw_on: date | None = None
    draws: dict[str, date] = field(default_factory=dict)
    repayments: dict[str, date] = field(default_factory=dict)

    @property
    def outstanding_minor(self) -> int:
        return self.drawn_minor - self.repaid_minor

    @property
    def available_minor(self) -> int:
        """Undrawn amount; repayments restore it only on a revolving facility."""
        used = self.outstanding_minor if self.revolving else self.drawn_minor
        return self.amount_minor - used


@dataclass(slots=True)
class TargetState:
    instrument: TargetInstrument
    amount_minor: int
    deadline: date | None
    tranches: list[tuple[int, date]]
    set_on: date


# --- sealed periods ---


@dataclass(slots=True)
class SealState:
    """One close in force: the books are sealed up to ``closing_date``."""

    closing_date: date
    position: int
    chain_hash: str
    closed_by: str
    closed_on: date


@dataclass(slots=True)
class ReopenProposal:
    """A pending proposal to undo the latest close (a second person must approve it)."""

    closing_date: date
    reason: str
    proposed_by: str
    proposed_on: date


# --- distributions ---


@dataclass(slots=True)
class ProceedsState:
    proceeds_id: str
    asset_id: str
    kind: ProceedsKind
    amount_minor: int
    received_on: date


@dataclass(slots=True)
class DistributionState:
    distribution_id: str
    amount_minor: int
    kind: DistributionKind
    basis: DistributionBasis
    shares: dict[str, int]
    recallable: dict[str, int]
    purpose: str
    prepared_by: str
    prepared_on: date
    status: DistributionStatus = "draft"
    approved_by: str | None = None
    approved_on: date | None = None
    paid_on: date | None = None


@dataclass(slots=True)
class ConsortiumState:
    """Everything the rules need about one consortium; plain data, cheap to pickle."""

    slug: str | None = None
    name: str = ""
    base_currency: str = ""
    formed_on: date | None = None
    version: int = 0
    last_effective_on: date | None = None
    partners: dict[str, PartnerState] = field(default_factory=dict)
    commitments: dict[str, CommitmentState] = field(default_factory=dict)
    calls: dict[str, CallState] = field(default_factory=dict)
    contributions: dict[str, ContributionState] = field(default_factory=dict)
    facilities: dict[str, FacilityState] = field(default_factory=dict)
    fx_rates: dict[str, FxSeries] = field(default_factory=dict)
    targets: dict[str, TargetState] = field(default_factory=dict)
    # Latest effective date of any change to signed equity; an issue may not precede it.
    signed_equity_changed_on: date | None = None
    # --- sealed periods --- the closes in force, oldest first, and a pending reopening
    seals: list[SealState] = field(default_factory=list)
    reopen_proposal: ReopenProposal | None = None
    # --- interest and equalisation ---
    interest_rates: dict[str, FxSeries] = field(default_factory=dict)  # by kind
    late_interest: dict[str, LateInterestState] = field(default_factory=dict)
    equalisations: dict[str, EqualisationState] = field(default_factory=dict)

    def interest_rate_on(self, kind: str, on: date) -> Decimal:
        """The ``kind`` rate (percent a year) in force on ``on``: 0 when none was set."""
        series = self.interest_rates.get(kind)
        rate = series.rate_on(on) if series is not None else None
        return rate if rate is not None else Decimal(0)

    # --- distributions ---
    proceeds: dict[str, ProceedsState] = field(default_factory=dict)
    distributions: dict[str, DistributionState] = field(default_factory=dict)
    proceeds_minor: int = 0
    # Proceeds set aside by distributions prepared (draft, approved or paid).
    distributions_minor: int = 0
    # Latest date a paid distribution added recallable capital; a call may not be issued
    # before it (so an as-of view never shows a recall without what it recalled).
    recallable_changed_on: date | None = None

    @property
    def is_formed(self) -> bool:
        return self.formed_on is not None

    @property
    def latest_seal(self) -> SealState | None:
        """The close in force with the latest closing date (None: every period is open)."""
        return self.seals[-1] if self.seals else None

    def apply(self, dated: DatedEvent) -> None:
        """Fold one event into this state, in place (O(1) except call issue: O(partner))."""
        applier = _CONSORTIUM_APPLIERS.get(type(dated.event))
        if applier is None:
            raise TypeError(f"{dated.event.TYPE} does not belong to a consortium stream.")
        applier(self, dated.event, dated.effective_on)
        _advance(self, dated)


@dataclass(slots=True)
class AssetState:
    """One asset and who holds which stake in it; plain data, cheap to pickle."""

    asset_id: str | None = None
    sponsor: str = ""
    kind: AssetKind = "data_centre"
    name: str = ""
    location: str = ""
    capacity_mw: Decimal = Decimal(0)
    estimated_cost_currency: str = ""
    estimated_cost_minor: int = 0
    base_currency: str = ""
    estimated_cost_base_minor: int = 0
    fx_rate: Decimal | None = None
    registered_on: date | None = None
    version: int = 0
    last_effective_on: date | None = None
    holdings: dict[Holder, Decimal] = field(default_factory=dict)
    held_since: dict[Holder, date] = field(default_factory=dict)
    total_percent: Decimal = Decimal(0)

    @property
    def is_registered(self) -> bool:
        return self.registered_on is not None

    def apply(self, dated: DatedEvent) -> None:
        """Fold one event into this state, in place, in O(1)."""
        applier = _ASSET_APPLIERS.get(type(dated.event))
        if applier is None:
            raise TypeError(f"{dated.event.TYPE} does not belong to an asset stream.")
        applier(self, dated.event, dated.effective_on)
        _advance(self, dated)


def _advance(state: ConsortiumState | AssetState, dated: DatedEvent) -> None:
    state.version = dated.version if dated.version is not None else state.version + 1
    if state.last_effective_on is None or dated.effective_on > state.last_effective_on:
        state.last_effective_on = dated.effective_on


def is_visible(dated: DatedEvent, *, as_of: date | None, known_at: datetime | None) -> bool:
    """Whether an "as of" / "as known at" view includes the event."""
    if as_of is not None and dated.effective_on > as_of:
        return False
    if known_at is None:
        return True
    if dated.recorded_at is None:
        raise ValueError("An 'as known at' view needs events with their recorded_at time.")
    return dated.recorded_at <= known_at


def fold_consortium(
    events: Iterable[DatedEvent],
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
    state: ConsortiumState | None = None,
) -> ConsortiumState:
    """Fold events in ledger order, skipping those outside the as-of / known-at view."""
    folded = state if state is not None else ConsortiumState()
    for dated in events:
        if is_visible(dated, as_of=as_of, known_at=known_at):
            folded.apply(dated)
    return folded


def fold_asset(
    events: Iterable[DatedEvent],
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
    state: AssetState | None = None,
) -> AssetState:
    """Fold asset events in ledger order, skipping those outside the view."""
    folded = state if state is not None else AssetState()
    for dated in events:
        if is_visible(dated, as_of=as_of, known_at=known_at):
            folded.apply(dated)
    return folded


# --- consortium appliers ------------------------------------------------------------


def _formed(state: ConsortiumState, event: ConsortiumFormed, on: date) -> None:
    state.slug = event.slug
    state.name = event.name
    state.base_currency = event.base_currency
    state.formed_on = event.formed_on


def _target_set(state: ConsortiumState, event: FundraisingTargetSet, on: date) -> None:
    tranches = [(t.amount.to_minor(), t.available_from) for t in event.tranches]
    state.targets[event.instrument] = TargetState(
        event.instrument, event.amount.to_minor(), event.deadline, tranches, on
    )


def _partner_admitted(state: ConsortiumState, event: PartnerAdmitted, on: date) -> None:
    partner = state.partners.get(event.organisation_id)
    if partner is None:
        partner = PartnerState(event.organisation_id, event.name, event.role, on, on)
        state.partners[event.organisation_id] = partner
    else:  # re-admitted after withdrawing: history and commitments stay
        partner.name, partner.role, partner.withdrew_on = event.name, event.role, None
        partner.admitted_on = partner.role_changed_on = on
    partner.role_history.append((on, event.role))


def _partner_role_changed(state: ConsortiumState, event: PartnerRoleChanged, on: date) -> None:
    partner = state.partners[event.organisation_id]
    partner.role, partner.role_changed_on = event.role, on
    partner.role_history.append((on, event.role))


def _partner_withdrew(state: ConsortiumState, event: PartnerWithdrew, on: date) -> None:
    state.partners[event.organisation_id].withdrew_on = on


def _commitment_recorded(state: ConsortiumState, event: CommitmentRecorded, on: date) -> None:
    state.commitments[event.commitment_id] = CommitmentState(
        commitment_id=event.commitment_id,
        organisation_id=event.organisation_id,
        instrument=event.instrument,
        currency=event.amount.currency,
        amount_minor=event.amount.to_minor(),
        base_amount_minor=event.base_amount.to_minor(),
        fx_rate=event.fx_rate,
        stage=event.stage,
        recorded_on=on,
        stage_on=on,
    )
    partner = state.partners.get(event.organisation_id)
    if partner is not None:
        partner.commitment_ids.append(event.commitment_id)
    commitment = state.commitments[event.commitment_id]
    _add_signed_equity(
        state, commitment, commitment.amount_minor if commitment.is_signed_equity else 0
    )
    _note_signed_equity_change(state, commitment, on)


def _stage_advanced(state: ConsortiumState, event: CommitmentStageAdvanced, on: date) -> None:
    commitment = state.commitments[event.commitment_id]
    was_signed_equity = commitment.is_signed_equity
    commitment.stage, commitment.stage_on = event.stage, on
    change = int(commitment.is_signed_equity) - int(was_signed_equity)
    _add_signed_equity(state, commitment, change * commitment.amount_minor)
    if was_signed_equity or commitment.is_signed_equity:
        _note_signed_equity_change(state, commitment, on, force=True)


def _commitment_amended(state: ConsortiumState, event: CommitmentAmended, on: date) -> None:
    commitment = state.commitments[event.commitment_id]
    if commitment.is_signed_equity:
        _add_signed_equity(state, commitment, event.amount.to_minor() - commitment.amount_minor)
    commitment.amount_minor = event.amount.to_minor()
    commitment.base_amount_minor = event.base_amount.to_minor()
    commitment.fx_rate = event.fx_rate
    commitment.amended_on = on
    _note_signed_equity_change(state, commitment, on)


def _add_signed_equity(state: ConsortiumState, commitment: CommitmentState, minor: int) -> None:
    partner = state.partners.get(commitment.organisation_id)
    if partner is not None:
        partner.signed_equity_minor += minor
        partner.call_cursor = 0  # a commitment changed: it may take calls again


def _note_signed_equity_change(
    state: ConsortiumState, commitment: CommitmentState, on: date, *, force: bool = False
) -> None:
    if not (force or commitment.is_signed_equity):
        return
    if state.signed_equity_changed_on is None or on > state.signed_equity_changed_on:
        state.signed_equity_changed_on = on


def _call_prepared(state: ConsortiumState, event: CapitalCallPrepared, on: date) -> None:
    state.calls[event.call_id] = CallState(
        call_id=event.call_id,
        amount_minor=event.amount.to_minor(),
        due_on=event.due_on,
        purpose=event.purpose,
        prepared_by=event.prepared_by,
        prepared_on=on,
    )


def _call_approved(state: ConsortiumState, event: CapitalCallApproved, on: date) -> None:
    call = state.calls[event.call_id]
    call.status, call.approved_by, call.approved_on = "approved", event.approved_by, on


def _call_issued(state: ConsortiumState, event: CapitalCallIssued, on: date) -> None:
    call = state.calls[event.call_id]
    call.status, call.issued_on = "issued", on
    for allocation in event.allocations:
        amount = allocation.amount.to_minor()
        call.allocations[allocation.organisation_id] = amount
        _attribute_called(state, allocation.organisation_id, amount)


def _attribute_called(state: ConsortiumState, organisation_id: str, amount: int) -> None:
    """Add a call to the partner, and to its signed equity commitments oldest first.

    ``call_cursor`` skips the commitments already full (or not signed equity), so a call
    costs what is left to fill, not the partner's whole history; any change to one of the
    partner's commitments (a stage, an amendment) sends the cursor back to the start.
    """
    partner = state.partners.get(organisation_id)
    if partner is None:
        return
    partner.called_minor += amount
    ids, index = partner.commitment_ids, partner.call_cursor
    while amount > 0 and index < len(ids):
        commitment = state.commitments[ids[index]]
        if commitment.is_signed_equity:
            taken = min(amount, commitment.amount_minor - commitment.called_minor)
            if taken > 0:
                commitment.called_minor += taken
                amount -= taken
            if commitment.called_minor < commitment.amount_minor:
                break  # room left: the next call starts here
        index += 1
    partner.call_cursor = index
    if amount > 0:  # beyond the signed commitments: a recall of recallable capital
        recalled = min(amount, partner.recallable_minor)
        partner.recallable_minor -= recalled
        partner.recalled_minor += recalled


def _call_cancelled(state: ConsortiumState, event: CapitalCallCancelled, on: date) -> None:
    call = state.calls[event.call_id]
    call.status, call.cancelled_on, call.cancel_reason = "cancelled", on, event.reason


def _contribution_received(state: ConsortiumState, event: ContributionReceived, on: date) -> None:
    amount = event.amount.to_minor()
    state.contributions[event.contribution_id] = ContributionState(
        contribution_id=event.contribution_id,
        call_id=event.call_id,
        organisation_id=event.organisation_id,
        amount_minor=amount,
        received_on=event.received_on,
        bank_reference=event.bank_reference,
    )
    _add_contributed(state, event.call_id, event.organisation_id, amount)


def _contribution_reversed(state: ConsortiumState, event: ContributionReversed, on: date) -> None:
    contribution = state.contributions.get(event.contribution_id)
    if contribution is None:  # only possible in a view that hides the contribution
        return
    contribution.reversed_on, contribution.reversal_reason = on, event.reason
    _add_contributed(
        state, contribution.call_id, contribution.organisation_id, -contribution.amount_minor
    )
    _late_interest_cancelled(state, event.contribution_id, on)  # interest and equalisation


def _add_contributed(
    state: ConsortiumState, call_id: str, organisation_id: str, amount: int
) -> None:
    call = state.calls.get(call_id)
    if call is not None:
        call.contributed[organisation_id] = call.contributed.get(organisation_id, 0) + amount
    partner = state.partners.get(organisation_id)
    if partner is not None:
        partner.contributed_minor += amount


def _facility_arranged(state: ConsortiumState, event: DebtFacilityArranged, on: date) -> None:
    state.facilities[event.facility_id] = FacilityState(
        facility_id=event.facility_id,
        lender=event.lender,
        currency=event.amount.currency,
        amount_minor=event.amount.to_minor(),
        base_amount_minor=event.base_amount.to_minor(),
        fx_rate=event.fx_rate,
        maturity_on=event.maturity_on,
        revolving=event.revolving,
        arranged_on=on,
    )


def _facility_drawn(state: ConsortiumState, event: DebtFacilityDrawn, on: date) -> None:
    facility = state.facilities[event.facility_id]
    facility.drawn_minor += event.amount.to_minor()
    facility.drawn_base_minor += event.base_amount.to_minor()
    facility.draws[event.draw_id] = on
    if facility.first_draw_on is None or on < facility.first_draw_on:
        facility.first_draw_on = on


def _facility_repaid(state: ConsortiumState, event: DebtFacilityRepaid, on: date) -> None:
    facility = state.facilities[event.facility_id]
    facility.repaid_minor += event.amount.to_minor()
    facility.repaid_base_minor += event.base_amount.to_minor()
    facility.repayments[event.repayment_id] = on


def _fx_rate_recorded(state: ConsortiumState, event: FxRateRecorded, on: date) -> None:
    state.fx_rates.setdefault(event.currency, FxSeries()).record(event.effective_on, event.rate)


# --- sealed periods ---


def _period_closed(state: ConsortiumState, event: PeriodClosed, on: date) -> None:
    state.seals.append(
        SealState(event.closing_date, event.position, event.chain_hash, event.closed_by, on)
    )
    state.reopen_proposal = None


def _reopen_proposed(state: ConsortiumState, event: PeriodReopenProposed, on: date) -> None:
    state.reopen_proposal = ReopenProposal(event.closing_date, event.reason, event.proposed_by, on)


def _period_reopened(state: ConsortiumState, event: PeriodReopened, on: date) -> None:
    if state.seals and state.seals[-1].closing_date == event.closing_date:
        state.seals.pop()
    state.reopen_proposal = None


# --- distributions ---


def _proceeds_received(state: ConsortiumState, event: ProceedsReceived, on: date) -> None:
    amount = event.amount.to_minor()
    state.proceeds[event.proceeds_id] = ProceedsState(
        event.proceeds_id, event.asset_id, event.kind, amount, event.received_on
    )
    state.proceeds_minor += amount


def _distribution_prepared(state: ConsortiumState, event: DistributionPrepared, on: date) -> None:
    amount = event.amount.to_minor()
    state.distributions[event.distribution_id] = DistributionState(
        distribution_id=event.distribution_id,
        amount_minor=amount,
        kind=event.kind,
        basis=event.basis,
        shares={s.organisation_id: s.amount.to_minor() for s in event.shares},
        recallable={
            s.organisation_id: s.recallable.to_minor()
            for s in event.shares
            if s.recallable.to_minor() > 0
        },
        purpose=event.purpose,
        prepared_by=event.prepared_by,
        prepared_on=on,
    )
    state.distributions_minor += amount


def _distribution_approved(state: ConsortiumState, event: DistributionApproved, on: date) -> None:
    distribution = state.distributions[event.distribution_id]
    distribution.status, distribution.approved_by = "approved", event.approved_by
    distribution.approved_on = on


def _distribution_paid(state: ConsortiumState, event: DistributionPaid, on: date) -> None:
    distribution = state.distributions[event.distribution_id]
    distribution.status, distribution.paid_on = "paid", on
    for org, amount in distribution.shares.items():
        partner = state.partners.get(org)
        if partner is None:
            continue
        partner.distributed_minor += amount
        if distribution.kind == "capital":
            partner.distributed_capital_minor += amount
        partner.recallable_minor += distribution.recallable.get(org, 0)
    if distribution.recallable and (
        state.recallable_changed_on is None or on > state.recallable_changed_on
    ):
        state.recallable_changed_on = on


_CONSORTIUM_APPLIERS: Final[dict[type[Event], Callable[[ConsortiumState, Any, date], None]]] = {
    ConsortiumFormed: _formed,
    FundraisingTargetSet: _target_set,
    PartnerAdmitted: _partner_admitted,
    PartnerRoleChanged: _partner_role_changed,
    PartnerWithdrew: _partner_withdrew,
    CommitmentRecorded: _commitment_recorded,
    CommitmentStageAdvanced: _stage_advanced,
    CommitmentAmended: _commitment_amended,
    CapitalCallPrepared: _call_prepared,
    CapitalCallApproved: _call_approved,
    CapitalCallIssued: _call_issued,
    CapitalCallCancelled: _call_cancelled,
    ContributionReceived: _contribution_received,
    ContributionReversed: _contribution_reversed,
    DebtFacilityArranged: _facility_arranged,
    DebtFacilityDrawn: _facility_drawn,
    DebtFacilityRepaid: _facility_repaid,
    FxRateRecorded: _fx_rate_recorded,
    # --- sealed periods ---
    PeriodClosed: _period_closed,
    PeriodReopenProposed: _reopen_proposed,
    PeriodReopened: _period_reopened,
    # --- distributions ---
    ProceedsReceived: _proceeds_received,
    DistributionPrepared: _distribution_prepared,
    DistributionApproved: _distribution_approved,
    DistributionPaid: _distribution_paid,
}


# --- interest and equalisation ---------------------------------------------------------


def _interest_rate_set(state: ConsortiumState, event: InterestRateSet, on: date) -> None:
    state.interest_rates.setdefault(event.kind, FxSeries()).record(event.in_force_from, event.rate)


def _late_interest_charged(
    state: ConsortiumState, event: LatePaymentInterestCharged, on: date
) -> None:
    amount = event.amount.to_minor()
    state.late_interest[event.contribution_id] = LateInterestState(
        event.contribution_id, event.organisation_id, amount, on
    )
    _add_late_interest(state, event.organisation_id, amount, 0)


def _late_interest_waiver_proposed(
    state: ConsortiumState, event: LatePaymentInterestWaiverProposed, on: date
) -> None:
    charge = state.late_interest[event.contribution_id]
    charge.waiver_proposed_by, charge.waiver_reason = event.proposed_by, event.reason
    charge.waiver_proposed_on = on


def _late_interest_waived(
    state: ConsortiumState, event: LatePaymentInterestWaived, on: date
) -> None:
    charge = state.late_interest[event.contribution_id]
    if charge.is_owed:
        _add_late_interest(state, charge.organisation_id, -charge.amount_minor, charge.amount_minor)
    charge.waived_by, charge.waived_on = event.approved_by, on


def _late_interest_cancelled(state: ConsortiumState, contribution_id: str, on: date) -> None:
    """A reversed contribution was never paid late: its interest is no longer owed."""
    charge = state.late_interest.get(contribution_id)
    if charge is not None and charge.is_owed:
        charge.cancelled_on = on
        _add_late_interest(state, charge.organisation_id, -charge.amount_minor, 0)


def _add_late_interest(
    state: ConsortiumState, organisation_id: str, owed: int, waived: int
) -> None:
    partner = state.partners.get(organisation_id)
    if partner is not None:
        partner.late_interest_minor += owed
        partner.late_interest_waived_minor += waived


def _equalisation_prepared(
    state: ConsortiumState, event: EqualisationCallPrepared, on: date
) -> None:
    state.equalisations[event.call_id] = EqualisationState(
        call_id=event.call_id,
        organisation_id=event.organisation_id,
        amount_minor=event.amount.to_minor(),
        due_on=event.due_on,
        rate=event.rate,
        interest_minor=event.interest.to_minor(),
        call_ids=event.call_ids,
        interest_shares={a.organisation_id: a.amount.to_minor() for a in event.interest_shares},
        prepared_by=event.prepared_by,
        prepared_on=on,
    )


def _equalisation_approved(
    state: ConsortiumState, event: EqualisationCallApproved, on: date
) -> None:
    """Issued on approval: a call with one allocation, to the joiner, which contributions
    pay like any call's; the interest is charged to the joiner and shared out."""
    equalisation = state.equalisations[event.call_id]
    equalisation.approved_by, equalisation.approved_on = event.approved_by, on
    org, amount = equalisation.organisation_id, equalisation.amount_minor
    state.calls[event.call_id] = CallState(
        call_id=event.call_id,
        amount_minor=amount,
        due_on=equalisation.due_on,
        purpose="Equalisation",
        prepared_by=equalisation.prepared_by,
        prepared_on=equalisation.prepared_on,
        status="issued",
        approved_by=event.approved_by,
        approved_on=on,
        issued_on=on,
        allocations={org: amount},
        equalises=org,
    )
    _attribute_called(state, org, amount)
    joiner = state.partners.get(org)
    if joiner is not None:
        joiner.equalisation_called_minor += amount
        joiner.equalisation_interest_paid_minor += equalisation.interest_minor
    for earlier, share in equalisation.interest_shares.items():
        partner = state.partners.get(earlier)
        if partner is not None:
            partner.equalisation_interest_received_minor += share


_INTEREST_APPLIERS: Final[dict[type[Event], Callable[[ConsortiumState, Any, date], None]]] = {
    InterestRateSet: _interest_rate_set,
    LatePaymentInterestCharged: _late_interest_charged,
    LatePaymentInterestWaiverProposed: _late_interest_waiver_proposed,
    LatePaymentInterestWaived: _late_interest_waived,
    EqualisationCallPrepared: _equalisation_prepared,
    EqualisationCallApproved: _equalisation_approved,
}
_CONSORTIUM_APPLIERS.update(_INTEREST_APPLIERS)


# --- asset appliers -----------------------------------------------------------------


def _asset_registered(state: AssetState, event: AssetRegistered, on: date) -> None:
    state.asset_id, state.sponsor, state.kind = event.asset_id, event.sponsor, event.kind
    state.name, state.location, state.capacity_mw = event.name, event.location, event.capacity_mw
    state.estimated_cost_currency = event.estimated_cost.currency
    state.estimated_cost_minor = event.estimated_cost.to_minor()
    state.base_currency = event.estimated_cost_base.currency
    state.estimated_cost_base_minor = event.estimated_cost_base.to_minor()
    state.fx_rate, state.registered_on = event.fx_rate, on


def _add_holding(state: AssetState, holder: Holder, percent: Decimal, on: date) -> None:
    held = state.holdings.get(holder, Decimal(0)) + percent
    if held > 0:
        state.holdings[holder] = held
        since = state.held_since.get(holder)
        state.held_since[holder] = on if since is None or on < since else since
    else:  # a stake sold or transferred in full: the holder no longer holds one
        state.holdings.pop(holder, None)
        state.held_since.pop(holder, None)
    state.total_percent += percent


def _stake_acquired(state: AssetState, event: StakeAcquired, on: date) -> None:
    _add_holding(state, event.holder, event.percent.value, on)


def _stake_transferred(state: AssetState, event: StakeTransferred, on: date) -> None:
    _add_holding(state, event.from_holder, -event.percent.value, on)
    _add_holding(state, event.to_holder, event.percent.value, on)


def _stake_sold(state: AssetState, event: StakeSold, on: date) -> None:
    _add_holding(state, event.holder, -event.percent.value, on)


_ASSET_APPLIERS: Final[dict[type[Event], Callable[[AssetState, Any, date], None]]] = {
    AssetRegistered: _asset_registered,
    StakeAcquired: _stake_acquired,
    StakeTransferred: _stake_transferred,
    StakeSold: _stake_sold,
}
