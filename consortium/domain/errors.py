"""Named domain errors: each says, in a deal team's words, why a command was refused."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A refused command: `message` is for people, `field` names the input at fault."""

    code: ClassVar[str] = "domain_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.message, self.field))


def _rebuild(cls: type[DomainError], message: str, field: str | None) -> DomainError:
    return cls(message, field=field)


class InvalidInput(DomainError):
    code = "invalid_input"


class InvalidAmount(InvalidInput):
    code = "invalid_amount"


class MalformedAmount(InvalidAmount):
    """The amount cannot be written in its currency (too many decimal places, too large):
    a fault of the input, not a rule of the deal."""

    code = "malformed_amount"


class InvalidCurrency(InvalidAmount):
    code = "invalid_currency"


class CurrencyMismatch(InvalidAmount):
    code = "currency_mismatch"


class InvalidPercent(InvalidInput):
    code = "invalid_percent"


class NotAPerson(InvalidInput):
    code = "not_a_person"


class TranchesDoNotMatchTarget(InvalidInput):
    code = "tranches_do_not_match_target"


class NotFound(DomainError):
    code = "not_found"


class UnknownConsortium(NotFound):
    """The consortium a command is addressed to has not been formed."""

    code = "unknown_consortium"


class UnknownAsset(NotFound):
    """The asset a command is addressed to has not been registered."""

    code = "unknown_asset"


class ContributionOnAnotherCall(NotFound):
    """The contribution exists, but was received on another capital call than the one named."""

    code = "contribution_on_another_call"


class NotAPartner(NotFound):
    code = "not_a_partner"


class AlreadyExists(DomainError):
    code = "already_exists"


class InvalidTransition(DomainError):
    code = "invalid_transition"


class AlreadyReversed(InvalidTransition):
    code = "already_reversed"


class WithdrawAfterCalled(InvalidTransition):
    code = "withdraw_after_called"


class PartnerHasOpenCommitments(InvalidTransition):
    code = "partner_has_open_commitments"


class AdvisorCannotCommit(DomainError):
    code = "advisor_cannot_commit"


class AmendBelowCalled(DomainError):
    code = "amend_below_called"


class CallExceedsUnfunded(DomainError):
    code = "call_exceeds_unfunded"


class ContributionExceedsOwed(DomainError):
    code = "contribution_exceeds_owed"


class SamePersonCannotApprove(DomainError):
    code = "same_person_cannot_approve"


class DrawExceedsAvailable(DomainError):
    code = "draw_exceeds_available"


class RepaymentExceedsDrawn(DomainError):
    code = "repayment_exceeds_drawn"


class StakesExceed100Percent(DomainError):
    code = "stakes_exceed_100_percent"


class StakeExceedsHolding(DomainError):
    code = "stake_exceeds_holding"


class MissingFxRate(DomainError):
    code = "missing_fx_rate"


class InvalidDate(DomainError):
    code = "invalid_date"


class DateBeforeFormation(InvalidDate):
    code = "date_before_formation"


class DateBeforeDependency(InvalidDate):
    code = "date_before_dependency"


class DateInFuture(InvalidDate):
    code = "date_in_future"


class FacilityMatured(InvalidDate):
    code = "facility_matured"


# --- sealed periods ---


class PeriodIsClosed(InvalidDate):
    """An event would take effect inside a period whose books are sealed."""

    code = "period_closed"


class SealBasisMoved(DomainError):
    """The ledger moved while a close was being sealed; deciding again settles it."""

    code = "seal_basis_moved"


# --- distributions ---


class NoStakeInAsset(DomainError):
    """Proceeds from an asset the consortium never held a stake in (by that date)."""

    code = "no_stake_in_asset"


class DistributionExceedsProceeds(DomainError):
    """A distribution of more than the proceeds received and not yet distributed."""

    code = "distribution_exceeds_proceeds"


class RecallableExceedsShare(DomainError):
    """A partner's recallable amount above its share of the distribution."""

    code = "recallable_exceeds_share"


class NothingToDistributeOn(InvalidInput):
    """No partner has contributed (or committed) anything to distribute pro rata to."""

    code = "nothing_to_distribute_on"
