"""Decisions: a command and the current state give new events, or a named DomainError."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Final

from consortium.domain.allocation import allocate_call, allocate_pro_rata
from consortium.domain.commands import (
    AcquireStake,
    AdmitPartner,
    AdvanceCommitmentStage,
    AmendCommitment,
    ApproveCapitalCall,
    ApproveDistribution,
    ApproveEqualisationCall,
    ApproveLateInterestWaiver,
    ApproveReopening,
    ArrangeDebtFacility,
    AssetCommand,
    CancelCapitalCall,
    ChangePartnerRole,
    ClosePeriod,
    ConsortiumCommand,
    DrawDebtFacility,
    FormConsortium,
    IssueCapitalCall,
    PayDistribution,
    PrepareCapitalCall,
    PrepareDistribution,
    PrepareEqualisationCall,
    ProposeLateInterestWaiver,
    ProposeReopening,
    ReceiveContribution,
    RecordCommitment,
    RecordFxRate,
    RecordProceeds,
    RegisterAsset,
    RepayDebtFacility,
    ReverseContribution,
    SellStake,
    SetFundraisingTarget,
    SetInterestRate,
    StakeHistory,
    TransferStake,
    WithdrawPartner,
)
from consortium.domain.errors import (
    AlreadyExists,
    DateBeforeDependency,
    InvalidDate,
    InvalidInput,
    InvalidPercent,
    InvalidTransition,
    NotAPartner,
    NotFound,
    NothingToDistributeOn,
    SealBasisMoved,
)
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
from consortium.domain.fx import to_base
from consortium.domain.identifiers import (
    BANK_REFERENCE,
    LOCATION,
    NAME,
    OPTIONAL_REASON,
    PURPOSE,
    REASON,
    check_choice,
    check_date,
    check_identifier,
    check_person,
    check_slug,
    check_text,
    shown,
)
from consortium.domain.interest import (
    RATE_KIND_WORDS,
    check_equalisation_approver,
    check_interest_rate,
    check_no_open_waiver,
    check_rate_kind,
    check_waivable,
    check_waiver_approver,
    days_late,
    equalisation_figures,
    late_interest_minor,
)
from consortium.domain.money import Money, Percent, minor_digits
from consortium.domain.positions import (
    recallable_by_partner,
    signed_equity_by_partner,
    unfunded_by_partner,
)
from consortium.domain.rules import (
    check_advisor_role_allowed,
    check_amend_not_below_called,
    check_approver,
    check_base_currency,
    check_call,
    check_call_status,
    check_call_within_unfunded,
    check_capacity,
    check_commitment,
    check_contribution,
    check_corrects_position,
    # --- distributions ---
    check_distribution,
    check_distribution_approver,
    check_distribution_status,
    check_draw_within_available,
    check_effective_on,
    check_facility,
    check_formed,
    check_holding,
    check_new_id,
    check_no_open_positions,
    check_not_advisor,
    check_not_before,
    check_not_in_future,
    check_not_matured,
    check_not_withdrawn,
    check_open_period,
    check_partner,
    check_positive,
    check_proceeds_source,
    check_rate,
    check_recallable_within_share,
    check_registered,
    check_repayment_within_drawn,
    check_same_currency,
    check_second_person,
    check_stage_move,
    check_stakes_total,
    check_tranches,
    check_unfunded_of,
    check_within_owed,
    check_within_proceeds,
    spoken_date,
)
from consortium.domain.state import AssetState, CallState, ConsortiumState
from consortium.domain.values import Allocation, DistributionShare, Holder
from consortium.domain.vocabulary import (
    ASSET_KINDS,
    DISTRIBUTION_BASES,
    DISTRIBUTION_KINDS,
    INSTRUMENTS,
    PROCEEDS_KINDS,
    ROLES,
    STAGES,
    TARGET_INSTRUMENTS,
    TECHNICAL_ADVISOR,
    Instrument,
    Stage,
    label,
)

RECORDABLE_STAGES: Final[tuple[Stage, ...]] = ("indicated", "soft_circled", "signed")


def _start(state: ConsortiumState, on: object) -> date:
    """The consortium exists and `on` is not before its formation."""
    formed_on = check_formed(state)
    return check_effective_on(on, formed_on, f"{state.name}'s formation")


def _in_base(state: ConsortiumState, amount: Money, on: date) -> tuple[Money, Decimal | None]:
    return to_base(state.fx_rates, state.base_currency, amount, on)


# --- consortium and targets -------------------------------------------------------------


def decide_form_consortium(state: ConsortiumState, command: FormConsortium) -> list[Event]:
    if state.formed_on is not None:
        raise AlreadyExists(
            f"Consortium {state.slug!r} was already formed on {state.formed_on}.", field="slug"
        )
    name = check_text(command.name, field="name", what="The consortium's name", kind=NAME)
    slug = check_slug(command.slug, field="slug", what="The consortium's slug")
    minor_digits(command.base_currency)
    on = check_effective_on(command.effective_on, None, "")
    return [ConsortiumFormed(name, slug, command.base_currency, on)]


def decide_set_fundraising_target(
    state: ConsortiumState, command: SetFundraisingTarget
) -> list[Event]:
    on = _start(state, command.effective_on)
    instrument = check_choice(
        command.instrument, TARGET_INSTRUMENTS, field="instrument", what="A target's instrument"
    )
    amount = check_base_currency(state, command.amount, "A fundraising target")
    if command.deadline is not None:
        deadline = check_date(command.deadline, field="deadline", what="The deadline")
        check_not_before(deadline, on, "the date the target is set", field="deadline")
    check_tranches(state, amount, command.tranches)
    return [FundraisingTargetSet(instrument, amount, command.deadline, tuple(command.tranches))]


# --- partners ---------------------------------------------------------------------------


def decide_admit_partner(state: ConsortiumState, command: AdmitPartner) -> list[Event]:
    on = _start(state, command.effective_on)
    org = check_slug(command.organisation_id, field="organisation_id", what="An organisation id")
    existing = state.partners.get(org)
    if existing is not None and existing.is_active:
        raise AlreadyExists(
            f"{existing.name} is already a partner of {state.name}, as {label(existing.role)}.",
            field="organisation_id",
        )
    if existing is not None:
        check_not_before(on, existing.withdrew_on, f"{existing.name}'s withdrawal")
    name = check_text(command.name, field="name", what="The partner's name", kind=NAME)
    role = check_choice(command.role, ROLES, field="role", what="A partner's role")
    return [PartnerAdmitted(org, name, role)]


def decide_change_partner_role(state: ConsortiumState, command: ChangePartnerRole) -> list[Event]:
    on = _start(state, command.effective_on)
    partner = check_partner(state, command.organisation_id)
    role = check_choice(command.role, ROLES, field="role", what="A partner's role")
    if role == partner.role:
        raise InvalidTransition(f"{partner.name} is already a {label(role)}.", field="role")
    check_not_before(on, partner.role_changed_on, f"{partner.name}'s current role took effect")
    if role == TECHNICAL_ADVISOR:
        check_advisor_role_allowed(state, partner)
    return [PartnerRoleChanged(partner.organisation_id, role)]


def decide_withdraw_partner(state: ConsortiumState, command: WithdrawPartner) -> list[Event]:
    on = _start(state, command.effective_on)
    reason = check_text(
        command.reason, field="reason", what="The reason for withdrawing", kind=OPTIONAL_REASON
    )
    partner = check_partner(state, command.organisation_id)
    check_not_before(on, partner.role_changed_on, f"{partner.name}'s current role took effect")
    check_no_open_positions(state, partner)
    return [PartnerWithdrew(partner.organisation_id, reason)]


# --- commitments ------------------------------------------------------------------------


def decide_record_commitment(state: ConsortiumState, command: RecordCommitment) -> list[Event]:
    on = _start(state, command.effective_on)
    commitment_id = check_identifier(
        command.commitment_id, field="commitment_id", what="A commitment id"
    )
    check_new_id(state.commitments, commitment_id, "Commitment", field="commitment_id")
    partner = check_partner(state, command.organisation_id)
    check_not_before(on, partner.admitted_on, f"{partner.name}'s admission")
    check_not_advisor(partner, "hold a commitment")
    instrument = check_choice(
        command.instrument, INSTRUMENTS, field="instrument", what="A commitment's instrument"
    )
    stage = check_choice(
        command.stage, RECORDABLE_STAGES, field="stage", what="A new commitment's stage"
    )
    base_amount, rate = _commitment_in_base(state, instrument, command.amount, on)
    return [
        CommitmentRecorded(
            commitment_id,
            partner.organisation_id,
            instrument,
            command.amount,
            stage,
            base_amount,
            rate,
        )
    ]


def _commitment_in_base(
    state: ConsortiumState, instrument: Instrument, amount: Money, on: date
) -> tuple[Money, Decimal | None]:
    """Equity is in base currency; other instruments convert at the rate in force on `on`."""
    if instrument == "equity":
        check_base_currency(state, amount, "An equity commitment")
    else:
        check_positive(amount, f"An {label(instrument)} commitment")
    return _in_base(state, amount, on)


def decide_advance_commitment_stage(
    state: ConsortiumState, command: AdvanceCommitmentStage
) -> list[Event]:
    on = _start(state, command.effective_on)
    commitment = check_commitment(state, command.commitment_id)
    stage = check_choice(command.stage, STAGES, field="stage", what="A commitment's stage")
    check_stage_move(commitment, stage)
    check_not_before(
        on, commitment.stage_on, f"commitment {commitment.commitment_id!r} reached its stage"
    )
    return [CommitmentStageAdvanced(commitment.commitment_id, stage)]


def decide_amend_commitment(state: ConsortiumState, command: AmendCommitment) -> list[Event]:
    on = _start(state, command.effective_on)
    commitment = check_commitment(state, command.commitment_id)
    check_not_withdrawn(commitment)
    last_change = commitment.amended_on or commitment.recorded_on
    check_not_before(on, last_change, f"commitment {commitment.commitment_id!r} last changed")
    amount = check_positive(command.amount, "The amended commitment")
    check_same_currency(amount, commitment.currency, f"Commitment {commitment.commitment_id!r}")
    if amount.to_minor() == commitment.amount_minor:
        raise InvalidTransition(
            f"Commitment {commitment.commitment_id!r} is already {amount}.", field="amount"
        )
    check_amend_not_below_called(commitment, amount)
    base_amount, rate = _in_base(state, amount, on)
    corrects = check_corrects_position(command.corrects_position)
    return [CommitmentAmended(commitment.commitment_id, amount, base_amount, rate, corrects)]


# --- capital calls ----------------------------------------------------------------------


def decide_prepare_capital_call(state: ConsortiumState, command: PrepareCapitalCall) -> list[Event]:
    on = _start(state, command.effective_on)
    call_id = check_identifier(command.call_id, field="call_id", what="A capital call id")
    check_new_id(state.calls, call_id, "Capital call", field="call_id")
    amount = check_base_currency(state, command.amount, "A capital call")
    due_on = check_date(command.due_on, field="due_on", what="The due date")
    check_not_before(due_on, on, "the call's own date", field="due_on")
    purpose = check_text(command.purpose, field="purpose", what="The purpose", kind=PURPOSE)
    preparer = check_person(command.prepared_by, field="prepared_by", what="The preparer")
    check_call_within_unfunded(state, amount)
    return [CapitalCallPrepared(call_id, amount, due_on, purpose, preparer)]


def decide_approve_capital_call(state: ConsortiumState, command: ApproveCapitalCall) -> list[Event]:
    on = _start(state, command.effective_on)
    call = check_call(state, command.call_id)
    check_call_status(call, ("draft",), "approved")
    check_not_before(on, call.prepared_on, f"capital call {call.call_id!r} was prepared")
    approver = check_approver(call, command.approved_by)
    return [CapitalCallApproved(call.call_id, approver)]


def decide_issue_capital_call(state: ConsortiumState, command: IssueCapitalCall) -> list[Event]:
    on = _start(state, command.effective_on)
    call = check_call(state, command.call_id)
    check_call_status(call, ("approved",), "issued")
    check_not_before(on, call.approved_on, f"capital call {call.call_id!r} was approved")
    check_not_before(on, state.signed_equity_changed_on, "the last change to signed equity")
    check_not_before(
        on, state.recallable_changed_on, "the last distribution with recallable capital was paid"
    )
    if on > call.due_on:
        raise InvalidDate(
            f"Capital call {call.call_id!r} is due on {call.due_on}; it cannot be issued "
            f"after that ({on}). Cancel it and prepare a new one.",
            field="effective_on",
        )
    amount = Money.from_minor(call.amount_minor, state.base_currency)
    check_call_within_unfunded(state, amount)
    shares = allocate_call(
        call.amount_minor,
        signed_equity_by_partner(state),
        unfunded_by_partner(state),
        recallable_by_partner(state),
    )
    for org, share in shares.items():
        check_unfunded_of(state, org, share)
    allocations = tuple(
        Allocation(org, Money.from_minor(share, state.base_currency))
        for org, share in sorted(shares.items())
        if share > 0
    )
    return [CapitalCallIssued(call.call_id, allocations)]


def decide_cancel_capital_call(state: ConsortiumState, command: CancelCapitalCall) -> list[Event]:
    on = _start(state, command.effective_on)
    call = check_call(state, command.call_id)
    check_call_status(call, ("draft", "approved"), "cancelled")
    last_change = call.approved_on or call.prepared_on
    check_not_before(on, last_change, f"capital call {call.call_id!r} was last changed")
    reason = check_text(
        command.reason, field="reason", what="The reason for cancelling", kind=REASON
    )
    return [CapitalCallCancelled(call.call_id, reason)]


# --- contributions ----------------------------------------------------------------------


def decide_receive_contribution(
    state: ConsortiumState, command: ReceiveContribution
) -> list[Event]:
    on = _start(state, command.effective_on)
    contribution_id = check_identifier(
        command.contribution_id, field="contribution_id", what="A contribution id"
    )
    check_new_id(state.contributions, contribution_id, "Contribution", field="contribution_id")
    call = check_call(state, command.call_id)
    check_call_status(call, ("issued",), "paid into")
    check_not_before(on, call.issued_on, f"capital call {call.call_id!r} was issued")
    org = command.organisation_id
    if org not in state.partners:
        raise NotAPartner(
            f"{shown(org)} is not a partner of {state.name}.", field="organisation_id"
        )
    amount = check_base_currency(state, command.amount, "A contribution")
    check_within_owed(state, call, org, amount)
    reference = check_text(
        command.bank_reference,
        field="bank_reference",
        what="The bank reference",
        kind=BANK_REFERENCE,
    )
    received = ContributionReceived(contribution_id, call.call_id, org, amount, on, reference)
    return [received, *late_interest_on(state, call, received)]


def decide_reverse_contribution(
    state: ConsortiumState, command: ReverseContribution
) -> list[Event]:
    on = _start(state, command.effective_on)
    contribution = check_contribution(state, command.contribution_id, command.call_id)
    check_not_before(
        on, contribution.received_on, f"contribution {contribution.contribution_id!r} was received"
    )
    reason = check_text(
        command.reason, field="reason", what="The reason for the reversal", kind=REASON
    )
    corrects = check_corrects_position(command.corrects_position)
    return [ContributionReversed(contribution.contribution_id, reason, corrects)]


# --- debt facilities --------------------------------------------------------------------


def decide_arrange_debt_facility(
    state: ConsortiumState, command: ArrangeDebtFacility
) -> list[Event]:
    on = _start(state, command.effective_on)
    facility_id = check_identifier(
        command.facility_id, field="facility_id", what="A debt facility id"
    )
    check_new_id(state.facilities, facility_id, "Debt facility", field="facility_id")
    lender = check_partner(state, command.lender, field="lender")
    check_not_before(on, lender.admitted_on, f"{lender.name}'s admission")
    check_not_advisor(lender, "lend to the consortium")
    amount = check_positive(command.amount, "A debt facility")
    maturity_on = check_date(command.maturity_on, field="maturity_on", what="The maturity date")
    if maturity_on <= on:
        raise DateBeforeDependency(
            f"The maturity date {maturity_on} must be after the date the facility is arranged "
            f"({on}).",
            field="maturity_on",
        )
    if not isinstance(command.revolving, bool):
        raise InvalidInput("Say whether the facility is revolving (yes or no).", field="revolving")
    base_amount, rate = _in_base(state, amount, on)
    return [
        DebtFacilityArranged(
            facility_id,
            lender.organisation_id,
            amount,
            maturity_on,
            command.revolving,
            base_amount,
            rate,
        )
    ]


def decide_draw_debt_facility(state: ConsortiumState, command: DrawDebtFacility) -> list[Event]:
    on = _start(state, command.effective_on)
    facility = check_facility(state, command.facility_id)
    draw_id = check_identifier(command.draw_id, field="draw_id", what="A draw id")
    check_new_id(facility.draws, draw_id, "Draw", field="draw_id")
    check_not_before(on, facility.arranged_on, f"facility {facility.facility_id!r} was arranged")
    check_not_matured(facility, on)
    amount = check_positive(command.amount, "A draw")
    check_same_currency(amount, facility.currency, f"Debt facility {facility.facility_id!r}")
    check_draw_within_available(facility, amount)
    base_amount, rate = _in_base(state, amount, on)
    return [DebtFacilityDrawn(facility.facility_id, draw_id, amount, base_amount, rate)]


def decide_repay_debt_facility(state: ConsortiumState, command: RepayDebtFacility) -> list[Event]:
    on = _start(state, command.effective_on)
    facility = check_facility(state, command.facility_id)
    repayment_id = check_identifier(
        command.repayment_id, field="repayment_id", what="A repayment id"
    )
    check_new_id(facility.repayments, repayment_id, "Repayment", field="repayment_id")
    amount = check_positive(command.amount, "A repayment")
    check_same_currency(amount, facility.currency, f"Debt facility {facility.facility_id!r}")
    check_repayment_within_drawn(facility, amount)
    first_draw = facility.first_draw_on
    check_not_before(on, first_draw, f"the first draw on facility {facility.facility_id!r}")
    base_amount, rate = _in_base(state, amount, on)
    return [DebtFacilityRepaid(facility.facility_id, repayment_id, amount, base_amount, rate)]


# --- FX ---------------------------------------------------------------------------------


def decide_record_fx_rate(state: ConsortiumState, command: RecordFxRate) -> list[Event]:
    on = _start(state, command.effective_on)
    minor_digits(command.currency)
    rate = check_rate(state, command.currency, command.rate)
    series = state.fx_rates.get(command.currency)
    if series is not None and series.has_rate_dated(on):
        raise AlreadyExists(
            f"A {command.currency}/{state.base_currency} rate in force from {on} is already "
            "recorded; a recorded rate is never changed.",
            field="effective_on",
        )
    return [FxRateRecorded(command.currency, rate, on)]


# --- sealed periods ---------------------------------------------------------------------


def decide_close_period(state: ConsortiumState, command: ClosePeriod) -> list[Event]:
    """Seal the books up to the closing date, with the basis the service read (the head
    and each partner's balances as of the closing date) for exactly this state."""
    on = _start(state, command.effective_on)
    closing = check_date(command.closing_date, field="closing_date", what="The closing date")
    check_not_before(closing, state.formed_on, f"{state.name}'s formation", field="closing_date")
    if closing > on:
        raise InvalidDate(
            f"A period closes once it has ended: the closing date {spoken_date(closing)} is "
            f"after the close's own date ({spoken_date(on)}).",
            field="closing_date",
        )
    latest = state.latest_seal
    if latest is not None and closing <= latest.closing_date:
        raise InvalidDate(
            f"{state.name}'s books are already closed up to {spoken_date(latest.closing_date)}; "
            "a new close must have a later closing date.",
            field="closing_date",
        )
    closer = check_person(command.closed_by, field="closed_by", what="The person closing")
    basis = command.basis
    if basis is None:
        raise TypeError("ClosePeriod needs its seal basis (consortium.periods reads it).")
    if basis.version != state.version:
        raise SealBasisMoved(
            f"{state.name}'s ledger moved while the close was being sealed; nothing was "
            "recorded. Try again."
        )
    return [PeriodClosed(closing, basis.position, basis.chain_hash, basis.balances, closer)]


def decide_propose_reopening(state: ConsortiumState, command: ProposeReopening) -> list[Event]:
    _start(state, command.effective_on)
    latest = state.latest_seal
    if latest is None:
        raise InvalidTransition(f"{state.name} has no closed period to reopen.")
    pending = state.reopen_proposal
    if pending is not None:
        raise AlreadyExists(
            f"{pending.proposed_by} already proposed reopening the period closed up to "
            f"{spoken_date(pending.closing_date)}; a second person must approve it."
        )
    reason = check_text(
        command.reason, field="reason", what="The reason for reopening", kind=REASON
    )
    proposer = check_person(command.proposed_by, field="proposed_by", what="The proposer")
    return [PeriodReopenProposed(latest.closing_date, reason, proposer)]


def decide_approve_reopening(state: ConsortiumState, command: ApproveReopening) -> list[Event]:
    _start(state, command.effective_on)
    proposal = state.reopen_proposal
    if proposal is None:
        raise InvalidTransition(
            f"Nobody has proposed reopening a period of {state.name}; propose it first."
        )
    did = f"proposed reopening the period closed up to {spoken_date(proposal.closing_date)}"
    approver = check_second_person(command.approved_by, proposal.proposed_by, did)
    return [PeriodReopened(proposal.closing_date, proposal.proposed_by, approver)]


# --- assets and stakes ------------------------------------------------------------------


def decide_register_asset(
    asset: AssetState, command: RegisterAsset, sponsor: ConsortiumState
) -> list[Event]:
    """`sponsor` is the state of the consortium registering the asset (for its FX rates)."""
    asset_id = check_identifier(command.asset_id, field="asset_id", what="An asset id")
    if asset.registered_on is not None:
        raise AlreadyExists(f"Asset {asset_id!r} is already registered.", field="asset_id")
    formed_on = check_formed(sponsor)
    if sponsor.slug != command.sponsor:
        raise InvalidInput(
            f"The sponsor {shown(command.sponsor)} is not the consortium {sponsor.slug!r}.",
            field="sponsor",
        )
    on = check_effective_on(command.effective_on, formed_on, f"{sponsor.name}'s formation")
    kind = check_choice(command.kind, ASSET_KINDS, field="kind", what="An asset's kind")
    name = check_text(command.name, field="name", what="The asset's name", kind=NAME)
    location = check_text(command.location, field="location", what="The location", kind=LOCATION)
    capacity = check_capacity(command.capacity_mw)
    cost = check_positive(command.estimated_cost, "The estimated cost", field="estimated_cost")
    base_cost, rate = _in_base(sponsor, cost, on)
    return [
        AssetRegistered(
            asset_id, command.sponsor, kind, name, location, capacity, cost, base_cost, rate
        )
    ]


def _asset_start(asset: AssetState, asset_id: str, on: object) -> date:
    registered_on = check_registered(asset, asset_id)
    return check_effective_on(on, registered_on, f"{asset.name}'s registration")


def _check_stake(holder: object, percent: object, field: str = "holder") -> tuple[Holder, Percent]:
    if not isinstance(holder, Holder):
        raise InvalidInput("A holder is a consortium or an organisation.", field=field)
    if not isinstance(percent, Percent):
        raise InvalidPercent("A stake must be a percentage.", field="percent")
    return holder, percent


def decide_acquire_stake(asset: AssetState, command: AcquireStake) -> list[Event]:
    _asset_start(asset, command.asset_id, command.effective_on)
    holder, percent = _check_stake(command.holder, command.percent)
    check_stakes_total(asset, percent)
    return [StakeAcquired(command.asset_id, holder, percent)]


def decide_transfer_stake(asset: AssetState, command: TransferStake) -> list[Event]:
    on = _asset_start(asset, command.asset_id, command.effective_on)
    seller, percent = _check_stake(command.from_holder, command.percent, "from_holder")
    buyer, _ = _check_stake(command.to_holder, command.percent, "to_holder")
    if seller == buyer:
        raise InvalidInput(f"The {seller} cannot transfer a stake to itself.", field="to_holder")
    held_since = check_holding(asset, seller, percent)
    check_not_before(on, held_since, f"the {seller} acquired its stake")
    return [StakeTransferred(command.asset_id, seller, buyer, percent)]


def decide_sell_stake(asset: AssetState, command: SellStake) -> list[Event]:
    on = _asset_start(asset, command.asset_id, command.effective_on)
    holder, percent = _check_stake(command.holder, command.percent)
    held_since = check_holding(asset, holder, percent)
    check_not_before(on, held_since, f"the {holder} acquired its stake")
    return [StakeSold(command.asset_id, holder, percent)]


# --- interest and equalisation ---------------------------------------------------------


def late_interest_on(
    state: ConsortiumState, call: CallState, received: ContributionReceived
) -> list[Event]:
    """The interest a contribution received after its call's due date owes: at the
    default rate in force on the due date, simple, actual/365, from the due date to the
    received date, rounded once to the minor unit, half up. Nothing when on time, when
    no default rate is set (or it is 0), or when it rounds to nothing."""
    days = days_late(call.due_on, received.received_on)
    rate = state.interest_rate_on("default", call.due_on)
    minor = late_interest_minor(received.amount.to_minor(), rate, days)
    if minor <= 0:
        return []
    interest = Money.from_minor(minor, received.amount.currency)
    return [
        LatePaymentInterestCharged(
            received.contribution_id,
            call.call_id,
            received.organisation_id,
            interest,
            rate,
            call.due_on,
            received.received_on,
        )
    ]


def decide_set_interest_rate(state: ConsortiumState, command: SetInterestRate) -> list[Event]:
    on = _start(state, command.effective_on)
    kind = check_rate_kind(command.kind)
    rate = check_interest_rate(command.rate)
    series = state.interest_rates.get(kind)
    if series is not None and series.has_rate_dated(on):
        raise AlreadyExists(
            f"A {RATE_KIND_WORDS[kind]} rate in force from {on} is already set; set the "
            "new rate from another date.",
            field="effective_on",
        )
    return [InterestRateSet(kind, rate, on)]


def decide_propose_late_interest_waiver(
    state: ConsortiumState, command: ProposeLateInterestWaiver
) -> list[Event]:
    on = _start(state, command.effective_on)
    charge = check_waivable(state.late_interest, command.contribution_id)
    check_no_open_waiver(charge.waiver_proposed_by, charge.contribution_id)
    check_not_before(on, charge.charged_on, "the interest was charged")
    person = check_person(command.proposed_by, field="proposed_by", what="The proposer")
    reason = check_text(command.reason, field="reason", what="The reason for waiving", kind=REASON)
    return [LatePaymentInterestWaiverProposed(charge.contribution_id, person, reason)]


def decide_approve_late_interest_waiver(
    state: ConsortiumState, command: ApproveLateInterestWaiver
) -> list[Event]:
    on = _start(state, command.effective_on)
    charge = check_waivable(state.late_interest, command.contribution_id)
    approver = check_waiver_approver(
        charge.waiver_proposed_by, command.approved_by, charge.contribution_id
    )
    check_not_before(on, charge.waiver_proposed_on, "the waiver was proposed")
    return [LatePaymentInterestWaived(charge.contribution_id, approver)]


def decide_prepare_equalisation_call(
    state: ConsortiumState, command: PrepareEqualisationCall
) -> list[Event]:
    on = _start(state, command.effective_on)
    call_id = check_identifier(command.call_id, field="call_id", what="A capital call id")
    check_new_id(state.calls, call_id, "Capital call", field="call_id")
    check_new_id(state.equalisations, call_id, "Equalisation call", field="call_id")
    partner = check_partner(state, command.organisation_id)
    check_not_advisor(partner, "be called")
    due_on = check_date(command.due_on, field="due_on", what="The due date")
    check_not_before(due_on, on, "the call's own date", field="due_on")
    preparer = check_person(command.prepared_by, field="prepared_by", what="The preparer")
    figures = equalisation_figures(state, partner.organisation_id, due_on, on)
    check_unfunded_of(state, partner.organisation_id, figures.amount_minor)
    currency = state.base_currency
    shares = tuple(
        Allocation(org, Money.from_minor(share, currency))
        for org, share in sorted(figures.shares.items())
        if share > 0
    )
    return [
        EqualisationCallPrepared(
            call_id,
            partner.organisation_id,
            Money.from_minor(figures.amount_minor, currency),
            due_on,
            figures.rate,
            Money.from_minor(figures.interest_minor, currency),
            figures.call_ids,
            shares,
            preparer,
        )
    ]


def decide_approve_equalisation_call(
    state: ConsortiumState, command: ApproveEqualisationCall
) -> list[Event]:
    on = _start(state, command.effective_on)
    equalisation = state.equalisations.get(command.call_id)
    if equalisation is None:
        raise NotFound(
            f"No equalisation call {shown(command.call_id)} is prepared.", field="call_id"
        )
    if equalisation.approved_on is not None:
        raise InvalidTransition(
            f"Equalisation call {equalisation.call_id!r} was already approved and issued on "
            f"{equalisation.approved_on}.",
            field="call_id",
        )
    check_not_before(on, equalisation.prepared_on, f"{equalisation.call_id!r} was prepared")
    if on > equalisation.due_on:
        raise InvalidDate(
            f"Equalisation call {equalisation.call_id!r} is due on {equalisation.due_on}; it "
            f"cannot be issued after that ({on}). Prepare a new one.",
            field="effective_on",
        )
    approver = check_equalisation_approver(equalisation, command.approved_by)
    org = equalisation.organisation_id
    now = equalisation_figures(state, org, equalisation.due_on, equalisation.prepared_on)
    prepared = (
        equalisation.amount_minor,
        equalisation.interest_minor,
        equalisation.call_ids,
        {k: v for k, v in equalisation.interest_shares.items() if v},
    )
    if (
        now.amount_minor,
        now.interest_minor,
        now.call_ids,
        {k: v for k, v in now.shares.items() if v},
    ) != prepared:
        raise InvalidTransition(
            f"The record changed since equalisation call {equalisation.call_id!r} was "
            "prepared (calls, commitments or contributions); prepare a new one.",
            field="call_id",
        )
    check_unfunded_of(state, org, equalisation.amount_minor)
    return [EqualisationCallApproved(equalisation.call_id, approver)]


_INTEREST_DECIDERS: Final[dict[type[Any], Callable[[ConsortiumState, Any], list[Event]]]] = {
    SetInterestRate: decide_set_interest_rate,
    ProposeLateInterestWaiver: decide_propose_late_interest_waiver,
    ApproveLateInterestWaiver: decide_approve_late_interest_waiver,
    PrepareEqualisationCall: decide_prepare_equalisation_call,
    ApproveEqualisationCall: decide_approve_equalisation_call,
}


# --- distributions ---------------------------------------------------------------------


def decide_record_proceeds(
    state: ConsortiumState, command: RecordProceeds, holding: StakeHistory
) -> list[Event]:
    on = _start(state, command.effective_on)
    proceeds_id = check_identifier(command.proceeds_id, field="proceeds_id", what="A proceeds id")
    check_new_id(state.proceeds, proceeds_id, "Proceeds", field="proceeds_id")
    if holding.asset_id != command.asset_id:
        raise TypeError("The stake history is of another asset than the command's.")
    kind = check_choice(command.kind, PROCEEDS_KINDS, field="kind", what="The proceeds kind")
    amount = check_base_currency(state, command.amount, "Proceeds")
    check_proceeds_source(state, holding, on)
    return [ProceedsReceived(proceeds_id, command.asset_id, kind, amount, on)]


def decide_prepare_distribution(
    state: ConsortiumState, command: PrepareDistribution
) -> list[Event]:
    _start(state, command.effective_on)
    distribution_id = check_identifier(
        command.distribution_id, field="distribution_id", what="A distribution id"
    )
    check_new_id(state.distributions, distribution_id, "Distribution", field="distribution_id")
    amount = check_base_currency(state, command.amount, "A distribution")
    kind = check_choice(
        command.kind, DISTRIBUTION_KINDS, field="kind", what="The distribution kind"
    )
    basis = check_choice(
        command.basis, DISTRIBUTION_BASES, field="basis", what="The distribution basis"
    )
    purpose = check_text(command.purpose, field="purpose", what="The purpose", kind=PURPOSE)
    preparer = check_person(command.prepared_by, field="prepared_by", what="The preparer")
    check_within_proceeds(state, amount)
    weights = _distribution_weights(state, basis)
    if sum(weights.values()) <= 0:
        what = "contributed capital" if basis == "contributed" else "signed equity"
        raise NothingToDistributeOn(
            f"No partner of {state.name} has any {what} yet; there is nothing to distribute "
            f"pro rata to.",
            field="basis",
        )
    shares = allocate_pro_rata(amount.to_minor(), weights)
    recallable = _recallable_parts(state, command.recallable, shares)
    currency = state.base_currency
    parts = tuple(
        DistributionShare(
            org,
            Money.from_minor(share, currency),
            Money.from_minor(recallable.get(org, 0), currency),
        )
        for org, share in sorted(shares.items())
        if share > 0
    )
    return [DistributionPrepared(distribution_id, amount, kind, basis, parts, purpose, preparer)]


def _distribution_weights(state: ConsortiumState, basis: str) -> dict[str, int]:
    """Contributed capital (net of reversals) or signed equity, by partner with any."""
    if basis == "contributed":
        found = {org: p.contributed_minor for org, p in state.partners.items()}
    else:
        found = signed_equity_by_partner(state)
    return {org: minor for org, minor in sorted(found.items()) if minor > 0}


def _recallable_parts(
    state: ConsortiumState, recallable: object, shares: dict[str, int]
) -> dict[str, int]:
    """The recallable amounts by partner: each a partner with a share, named once, in the
    base currency, and at most its share."""
    if not isinstance(recallable, tuple | list):
        raise InvalidInput(
            "The recallable amounts must be a list of partners and amounts.", field="recallable"
        )
    parts: dict[str, int] = {}
    for entry in recallable:
        if not (isinstance(entry, tuple | list) and len(entry) == 2):
            raise InvalidInput(
                "Each recallable amount names a partner and an amount.", field="recallable"
            )
        org, amount = entry
        if org not in state.partners:
            raise NotAPartner(f"{shown(org)} is not a partner of {state.name}.", field="recallable")
        if org in parts:
            raise InvalidInput(
                f"{state.partners[org].name} is named twice in the recallable amounts.",
                field="recallable",
            )
        money = check_base_currency(state, amount, "A recallable amount", field="recallable")
        check_recallable_within_share(state, org, money, shares.get(org, 0))
        parts[org] = money.to_minor()
    return parts


def decide_approve_distribution(
    state: ConsortiumState, command: ApproveDistribution
) -> list[Event]:
    on = _start(state, command.effective_on)
    distribution = check_distribution(state, command.distribution_id)
    check_distribution_status(distribution, ("draft",), "approved")
    check_not_before(
        on, distribution.prepared_on, f"distribution {distribution.distribution_id!r} was prepared"
    )
    approver = check_distribution_approver(distribution, command.approved_by)
    return [DistributionApproved(distribution.distribution_id, approver)]


def decide_pay_distribution(state: ConsortiumState, command: PayDistribution) -> list[Event]:
    on = _start(state, command.effective_on)
    distribution = check_distribution(state, command.distribution_id)
    check_distribution_status(distribution, ("approved",), "paid")
    check_not_before(
        on, distribution.approved_on, f"distribution {distribution.distribution_id!r} was approved"
    )
    return [DistributionPaid(distribution.distribution_id)]


# --- dispatch ---------------------------------------------------------------------------

_CONSORTIUM_DECIDERS: Final[dict[type[Any], Callable[[ConsortiumState, Any], list[Event]]]] = {
    FormConsortium: decide_form_consortium,
    SetFundraisingTarget: decide_set_fundraising_target,
    AdmitPartner: decide_admit_partner,
    ChangePartnerRole: decide_change_partner_role,
    WithdrawPartner: decide_withdraw_partner,
    RecordCommitment: decide_record_commitment,
    AdvanceCommitmentStage: decide_advance_commitment_stage,
    AmendCommitment: decide_amend_commitment,
    PrepareCapitalCall: decide_prepare_capital_call,
    ApproveCapitalCall: decide_approve_capital_call,
    IssueCapitalCall: decide_issue_capital_call,
    CancelCapitalCall: decide_cancel_capital_call,
    ReceiveContribution: decide_receive_contribution,
    ReverseContribution: decide_reverse_contribution,
    ArrangeDebtFacility: decide_arrange_debt_facility,
    DrawDebtFacility: decide_draw_debt_facility,
    RepayDebtFacility: decide_repay_debt_facility,
    RecordFxRate: decide_record_fx_rate,
    # --- sealed periods ---
    ClosePeriod: decide_close_period,
    ProposeReopening: decide_propose_reopening,
    ApproveReopening: decide_approve_reopening,
    **_INTEREST_DECIDERS,
    # --- distributions ---
    PrepareDistribution: decide_prepare_distribution,
    ApproveDistribution: decide_approve_distribution,
    PayDistribution: decide_pay_distribution,
}


def decide(
    state: ConsortiumState,
    command: ConsortiumCommand,
    *,
    today: date | None = None,
    holding: StakeHistory | None = None,
) -> list[Event]:
    """Decide a consortium command; every event takes effect on `command.effective_on`.

    With `today`, an effective date after today is refused. The state is never changed.
    No command takes effect inside a closed period (sealed periods).
    RecordProceeds also needs `holding`, the asset's stake history as the service read it.
    """
    if isinstance(command, RecordProceeds):
        if holding is None:
            raise TypeError("RecordProceeds needs the asset's stake history.")
        check_not_in_future(_effective_on(command), today)
        return decide_record_proceeds(state, command, holding)
    decider = _CONSORTIUM_DECIDERS.get(type(command))
    if decider is None:
        raise TypeError(f"{type(command).__name__} is not a consortium command.")
    on = _effective_on(command)
    check_not_in_future(on, today)
    check_open_period(state, on)
    return decider(state, command)


def decide_for_asset(
    asset: AssetState,
    command: AssetCommand,
    *,
    sponsor: ConsortiumState | None = None,
    today: date | None = None,
    holders: Mapping[str, ConsortiumState] | None = None,
) -> list[Event]:
    """Decide an asset command; RegisterAsset also needs the sponsor consortium's state.

    ``holders``: the state of each consortium holder the command names, by slug; a stake
    event may not take effect inside a period such a holder has closed (sealed periods).
    The services always pass it; None (pure domain tests) leaves that check out."""
    on = _effective_on(command)
    check_not_in_future(on, today)
    if holders is not None:
        for slug in consortium_holders_of(command):
            holder = holders.get(slug)
            if holder is None:
                raise TypeError(f"The state of consortium {slug!r}, a holder, is missing.")
            check_open_period(holder, on)
    if isinstance(command, RegisterAsset):
        if sponsor is None:
            raise TypeError("RegisterAsset needs the sponsoring consortium's state.")
        return decide_register_asset(asset, command, sponsor)
    if isinstance(command, AcquireStake):
        return decide_acquire_stake(asset, command)
    if isinstance(command, TransferStake):
        return decide_transfer_stake(asset, command)
    if isinstance(command, SellStake):
        return decide_sell_stake(asset, command)
    raise TypeError(f"{type(command).__name__} is not an asset command.")


def _effective_on(command: ConsortiumCommand | AssetCommand) -> date:
    return check_date(command.effective_on, field="effective_on", what="The effective date")


# --- sealed periods ---


def consortium_holders_of(command: AssetCommand) -> tuple[str, ...]:
    """The consortia (by slug) whose stakes an asset command changes, sorted."""
    named: tuple[Holder, ...]
    if isinstance(command, TransferStake):
        named = (command.from_holder, command.to_holder)
    elif isinstance(command, AcquireStake | SellStake):
        named = (command.holder,)
    else:
        return ()
    return tuple(sorted({h.id for h in named if isinstance(h, Holder) and h.kind == "consortium"}))
