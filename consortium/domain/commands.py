"""Commands: what a deal team or finance system asks for, each with its effective date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from consortium.domain.money import Money, Percent
from consortium.domain.values import ClosingBalance, Holder, Tranche

# Vocabulary fields (role, instrument, stage, kind) are plain `str` here: the decision
# checks them against vocabulary.py, so callers can pass what a form or an API posted.


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount as a caller wrote it, before it meets its currency: a decimal, and the
    currency if the caller named one. Services accept it wherever they take ``Money`` and
    resolve an omitted currency to the command's default (the consortium's base currency,
    a facility's or a commitment's own currency)."""

    value: Decimal | int | str
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class FormConsortium:
    name: str
    slug: str
    base_currency: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class SetFundraisingTarget:
    instrument: str
    amount: Money
    effective_on: date
    deadline: date | None = None
    tranches: tuple[Tranche, ...] = ()


@dataclass(frozen=True, slots=True)
class AdmitPartner:
    organisation_id: str
    name: str
    role: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class ChangePartnerRole:
    organisation_id: str
    role: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class WithdrawPartner:
    organisation_id: str
    effective_on: date
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RecordCommitment:
    commitment_id: str
    organisation_id: str
    instrument: str
    amount: Money
    stage: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class AdvanceCommitmentStage:
    commitment_id: str
    stage: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class AmendCommitment:
    commitment_id: str
    amount: Money
    effective_on: date
    corrects_position: int | None = None  # sealed periods: the event it corrects


@dataclass(frozen=True, slots=True)
class PrepareCapitalCall:
    call_id: str
    amount: Money
    due_on: date
    purpose: str
    prepared_by: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class ApproveCapitalCall:
    call_id: str
    approved_by: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class IssueCapitalCall:
    call_id: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class CancelCapitalCall:
    call_id: str
    reason: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class ReceiveContribution:
    """`effective_on` is the day the cash was received (the event's `received_on`)."""

    contribution_id: str
    call_id: str
    organisation_id: str
    amount: Money
    bank_reference: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class ReverseContribution:
    """With `call_id`, the contribution must have been received on that capital call."""

    contribution_id: str
    reason: str
    effective_on: date
    call_id: str | None = None
    corrects_position: int | None = None  # sealed periods: the event it corrects


@dataclass(frozen=True, slots=True)
class ArrangeDebtFacility:
    facility_id: str
    lender: str
    amount: Money
    maturity_on: date
    revolving: bool
    effective_on: date


@dataclass(frozen=True, slots=True)
class DrawDebtFacility:
    facility_id: str
    draw_id: str
    amount: Money
    effective_on: date


@dataclass(frozen=True, slots=True)
class RepayDebtFacility:
    facility_id: str
    repayment_id: str
    amount: Money
    effective_on: date


@dataclass(frozen=True, slots=True)
class RecordFxRate:
    """`rate` is base-currency units per one unit of `currency`, in force from `effective_on`."""

    currency: str
    rate: Decimal
    effective_on: date


@dataclass(frozen=True, slots=True)
class RegisterAsset:
    asset_id: str
    sponsor: str
    kind: str
    name: str
    location: str
    capacity_mw: Decimal
    estimated_cost: Money
    effective_on: date


@dataclass(frozen=True, slots=True)
class AcquireStake:
    asset_id: str
    holder: Holder
    percent: Percent
    effective_on: date


@dataclass(frozen=True, slots=True)
class TransferStake:
    asset_id: str
    from_holder: Holder
    to_holder: Holder
    percent: Percent
    effective_on: date

    @property
    def holder(self) -> Holder:
        """The holder whose stake changes hands (as on the other stake commands)."""
        return self.from_holder


@dataclass(frozen=True, slots=True)
class SellStake:
    asset_id: str
    holder: Holder
    percent: Percent
    effective_on: date


# --- sealed periods ---


@dataclass(frozen=True, slots=True)
class SealBasis:
    """What the ledger held when a close was decided (the service reads it): the stream
    version the balances were computed on, the head position and its chain hash, and each
    partner's balances as of the closing date from the ledger up to that position."""

    version: int
    position: int
    chain_hash: str
    balances: tuple[ClosingBalance, ...]


@dataclass(frozen=True, slots=True)
class ClosePeriod:
    """Seal the books up to ``closing_date`` (on or before ``effective_on``)."""

    closing_date: date
    closed_by: str
    effective_on: date
    basis: SealBasis | None = None


@dataclass(frozen=True, slots=True)
class ProposeReopening:
    """Propose undoing the latest close; a second person approves."""

    reason: str
    proposed_by: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class ApproveReopening:
    approved_by: str
    effective_on: date


# --- interest and equalisation ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetInterestRate:
    """``kind`` is ``default`` (late payment) or ``equalisation``; ``rate`` is percent per
    year, in force from ``effective_on`` until the next rate of that kind."""

    kind: str
    rate: Decimal
    effective_on: date


@dataclass(frozen=True, slots=True)
class ProposeLateInterestWaiver:
    contribution_id: str
    proposed_by: str
    reason: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class ApproveLateInterestWaiver:
    contribution_id: str
    approved_by: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class PrepareEqualisationCall:
    """Call the late joiner ``organisation_id`` up to the earlier partners, due ``due_on``."""

    call_id: str
    organisation_id: str
    due_on: date
    prepared_by: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class ApproveEqualisationCall:
    call_id: str
    approved_by: str
    effective_on: date


# --- distributions ---


@dataclass(frozen=True, slots=True)
class RecordProceeds:
    """`effective_on` is the day the proceeds were received (the event's `received_on`)."""

    proceeds_id: str
    asset_id: str
    kind: str
    amount: Money
    effective_on: date


@dataclass(frozen=True, slots=True)
class StakeHistory:
    """What a proceeds decision needs from the asset's stream, read by the service:
    whether the asset is registered and since when (if ever) the consortium held a stake."""

    asset_id: str
    registered: bool
    held_from: date | None


@dataclass(frozen=True, slots=True)
class PrepareDistribution:
    """`recallable`: (organisation id, amount) pairs, each at most that partner's share."""

    distribution_id: str
    amount: Money
    kind: str
    basis: str
    recallable: tuple[tuple[str, Money], ...]
    purpose: str
    prepared_by: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class ApproveDistribution:
    distribution_id: str
    approved_by: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class PayDistribution:
    distribution_id: str
    effective_on: date


ConsortiumCommand = (
    FormConsortium
    | SetFundraisingTarget
    | AdmitPartner
    | ChangePartnerRole
    | WithdrawPartner
    | RecordCommitment
    | AdvanceCommitmentStage
    | AmendCommitment
    | PrepareCapitalCall
    | ApproveCapitalCall
    | IssueCapitalCall
    | CancelCapitalCall
    | ReceiveContribution
    | ReverseContribution
    | ArrangeDebtFacility
    | DrawDebtFacility
    | RepayDebtFacility
    | RecordFxRate
    # --- sealed periods ---
    | ClosePeriod
    | ProposeReopening
    | ApproveReopening
    # --- interest and equalisation ---
    | SetInterestRate
    | ProposeLateInterestWaiver
    | ApproveLateInterestWaiver
    | PrepareEqualisationCall
    | ApproveEqualisationCall
    # --- distributions ---
    | RecordProceeds
    | PrepareDistribution
    | ApproveDistribution
    | PayDistribution
)
AssetCommand = RegisterAsset | AcquireStake | TransferStake | SellStake
