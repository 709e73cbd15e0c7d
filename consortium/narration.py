"""Events in words, for the history, a form's "changed since" list, success messages and
the partner statements' list of the period's events.

``describe(recorded, names)`` is one plain sentence for a ledger event ("MGX committed
USD 5.0 bn equity, signed"). ``names`` maps organisation ids, consortium slugs and asset
ids to display names where the caller knows them (``names_for`` builds it from the folded
consortium states); an id without a name is shown as the id. Amounts are written in
summary form and percentages with two decimals (``consortium.formatting``).

The consortium and asset events are decoded with the domain's codec
(``consortium.streams.to_dated``); ``AccessChanged`` (stream ``access``: users, role
grants and API clients) is read from its plain data; any other type, or data that does
not decode, is named by its type and stream rather than failing the page.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from consortium.access_log import EVENT_TYPE as ACCESS_CHANGED
from consortium.access_log import STREAM as ACCESS_STREAM
from consortium.domain import events as e
from consortium.domain.money import Money
from consortium.domain.values import Holder
from consortium.domain.vocabulary import label
from consortium.formatting import iso, percent, summary
from consortium.projections.common import slug_of
from consortium.streams import load_consortium, registered_assets, to_dated
from ledger.store import RecordedEvent

Names = Mapping[str, str]


def describe(recorded: RecordedEvent, names: Names | None = None) -> str:
    """One sentence for the event; never raises for an unknown type or odd data."""
    names = names or {}
    if recorded.type == ACCESS_CHANGED:
        return _access(recorded.data, names)
    if recorded.type not in e.EVENT_TYPES:
        return _unknown(recorded)
    try:
        event = to_dated(recorded).event
    except (ValueError, TypeError, KeyError):  # a shape the codec refuses: say so, plainly
        return f"{type_words(recorded.type)} (data not readable; stream {recorded.stream})"
    return _SENTENCES[type(event)](event, _Context(recorded.stream, names))


def names_for(slugs: Collection[str]) -> dict[str, str]:
    """Display names for the consortia ``slugs``: each consortium's name, its partners'
    names (from the folded consortium states) and the names of the assets it sponsors."""
    names: dict[str, str] = {}
    for slug in slugs:
        state = load_consortium(slug).state
        if not state.is_formed:
            continue
        names[slug] = state.name
        for partner in state.partners.values():
            names.setdefault(partner.organisation_id, partner.name)
    for asset_id, name in registered_assets(slugs).items():
        names.setdefault(asset_id, name)
    return names


class _Context:
    """What a sentence needs besides the event: the stream and the names."""

    def __init__(self, stream: str, names: Names) -> None:
        self.stream = stream
        self.names = names

    def name(self, key: str) -> str:
        return self.names.get(key, key)

    @property
    def consortium(self) -> str:
        return self.name(slug_of(self.stream))

    def holder(self, holder: Holder) -> str:
        return self.name(holder.id)


def type_words(kind: str) -> str:
    """``CapitalCallPrepared`` -> "Capital call prepared"."""
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in kind).strip()
    return spaced[:1].upper() + spaced[1:]


def _unknown(recorded: RecordedEvent) -> str:
    return f"{type_words(recorded.type)} ({recorded.type} on stream {recorded.stream})"


def _in_base(amount: Money, base: Money, fx_rate: object) -> str:
    """The amount, with its base-currency value when it was converted."""
    if fx_rate is None or amount.currency == base.currency:
        return summary(amount)
    return f"{summary(amount)} ({summary(base)})"


def _with_reason(sentence: str, reason: str) -> str:
    return f"{sentence}: {reason}" if reason else sentence


# --- the consortium stream ----------------------------------------------------------------


def _formed(ev: e.ConsortiumFormed, c: _Context) -> str:
    return f"{ev.name} was formed, base currency {ev.base_currency}, on {iso(ev.formed_on)}"


def _target(ev: e.FundraisingTargetSet, c: _Context) -> str:
    sentence = f"{c.consortium} set its {label(ev.instrument)} target to {summary(ev.amount)}"
    details = []
    if ev.tranches:
        details.append(f"{len(ev.tranches)} tranche{'s' if len(ev.tranches) != 1 else ''}")
    if ev.deadline is not None:
        details.append(f"deadline {iso(ev.deadline)}")
    return f"{sentence} ({', '.join(details)})" if details else sentence


def _admitted(ev: e.PartnerAdmitted, c: _Context) -> str:
    return f"{ev.name} was admitted to {c.consortium} as {label(ev.role)}"


def _role_changed(ev: e.PartnerRoleChanged, c: _Context) -> str:
    return f"{c.name(ev.organisation_id)} became {label(ev.role)} of {c.consortium}"


def _withdrew(ev: e.PartnerWithdrew, c: _Context) -> str:
    return _with_reason(f"{c.name(ev.organisation_id)} withdrew from {c.consortium}", ev.reason)


def _committed(ev: e.CommitmentRecorded, c: _Context) -> str:
    amount = _in_base(ev.amount, ev.base_amount, ev.fx_rate)
    who = c.name(ev.organisation_id)
    return f"{who} committed {amount} {label(ev.instrument)}, {label(ev.stage)}"


def _stage(ev: e.CommitmentStageAdvanced, c: _Context) -> str:
    if ev.stage == "withdrawn":
        return f"Commitment {ev.commitment_id} was withdrawn"
    return f"Commitment {ev.commitment_id} moved to {label(ev.stage)}"


def _amended(ev: e.CommitmentAmended, c: _Context) -> str:
    amount = _in_base(ev.amount, ev.base_amount, ev.fx_rate)
    return _correcting(f"Commitment {ev.commitment_id} amended to {amount}", ev.corrects_position)


def _prepared(ev: e.CapitalCallPrepared, c: _Context) -> str:
    return (
        f"Capital call {ev.call_id} of {summary(ev.amount)} prepared by {ev.prepared_by}, "
        f"due {iso(ev.due_on)}"
    )


def _approved(ev: e.CapitalCallApproved, c: _Context) -> str:
    return f"Capital call {ev.call_id} approved by {ev.approved_by}"


def _issued(ev: e.CapitalCallIssued, c: _Context) -> str:
    count = len(ev.allocations)
    if not count:
        return f"Capital call {ev.call_id} issued"
    total = Money.from_minor(
        sum(a.amount.to_minor() for a in ev.allocations), ev.allocations[0].amount.currency
    )
    partners = "partner" if count == 1 else "partners"
    return f"Capital call {ev.call_id} issued: {summary(total)} to {count} {partners}"


def _cancelled(ev: e.CapitalCallCancelled, c: _Context) -> str:
    return _with_reason(f"Capital call {ev.call_id} cancelled", ev.reason)


def _received(ev: e.ContributionReceived, c: _Context) -> str:
    return (
        f"{c.name(ev.organisation_id)} paid {summary(ev.amount)} on capital call {ev.call_id}, "
        f"received {iso(ev.received_on)} (ref. {ev.bank_reference})"
    )


def _reversed(ev: e.ContributionReversed, c: _Context) -> str:
    sentence = _correcting(f"Contribution {ev.contribution_id} reversed", ev.corrects_position)
    return _with_reason(sentence, ev.reason)


def _arranged(ev: e.DebtFacilityArranged, c: _Context) -> str:
    kind = "revolving facility" if ev.revolving else "facility"
    amount = _in_base(ev.amount, ev.base_amount, ev.fx_rate)
    return (
        f"{c.name(ev.lender)} arranged {kind} {ev.facility_id} of {amount}, "
        f"maturing {iso(ev.maturity_on)}"
    )


def _drawn(ev: e.DebtFacilityDrawn, c: _Context) -> str:
    amount = _in_base(ev.amount, ev.base_amount, ev.fx_rate)
    return f"{amount} drawn on facility {ev.facility_id} (draw {ev.draw_id})"


def _repaid(ev: e.DebtFacilityRepaid, c: _Context) -> str:
    amount = _in_base(ev.amount, ev.base_amount, ev.fx_rate)
    return f"{amount} repaid on facility {ev.facility_id} (repayment {ev.repayment_id})"


def _fx(ev: e.FxRateRecorded, c: _Context) -> str:
    return (
        f"{c.consortium} recorded an FX rate of {ev.rate} per {ev.currency}, "
        f"in force from {iso(ev.effective_on)}"
    )


# --- interest and equalisation ---------------------------------------------------------


def _rate_set(ev: e.InterestRateSet, c: _Context) -> str:
    words = "default (late-payment)" if ev.kind == "default" else ev.kind
    return (
        f"{c.consortium} set its {words} interest rate to {ev.rate} % a year, "
        f"in force from {iso(ev.in_force_from)}"
    )


def _late_interest(ev: e.LatePaymentInterestCharged, c: _Context) -> str:
    days = (ev.received_on - ev.due_on).days
    return (
        f"{c.name(ev.organisation_id)} owes {summary(ev.amount)} late-payment interest on "
        f"contribution {ev.contribution_id} ({days} days late on capital call "
        f"{ev.call_id} at {ev.rate} % a year)"
    )


def _waiver_proposed(ev: e.LatePaymentInterestWaiverProposed, c: _Context) -> str:
    return _with_reason(
        f"{ev.proposed_by} proposed waiving the late-payment interest on contribution "
        f"{ev.contribution_id}",
        ev.reason,
    )


def _waived(ev: e.LatePaymentInterestWaived, c: _Context) -> str:
    return (
        f"{ev.approved_by} approved waiving the late-payment interest on contribution "
        f"{ev.contribution_id}"
    )


def _equalisation_prepared(ev: e.EqualisationCallPrepared, c: _Context) -> str:
    shares = ", ".join(
        f"{summary(a.amount)} to {c.name(a.organisation_id)}" for a in ev.interest_shares
    )
    joiner = c.name(ev.organisation_id)
    return (
        f"Equalisation call {ev.call_id} prepared by {ev.prepared_by}: {joiner} "
        f"to pay {summary(ev.amount)} due {iso(ev.due_on)} (calls {', '.join(ev.call_ids)}) "
        f"plus {summary(ev.interest)} equalisation interest at {ev.rate} % a year"
        + (f", paid {shares}" if shares else "")
    )


def _equalisation_approved(ev: e.EqualisationCallApproved, c: _Context) -> str:
    return f"Equalisation call {ev.call_id} approved by {ev.approved_by} and issued"


_INTEREST_SENTENCES: dict[type[e.Event], Callable[[Any, _Context], str]] = {
    e.InterestRateSet: _rate_set,
    e.LatePaymentInterestCharged: _late_interest,
    e.LatePaymentInterestWaiverProposed: _waiver_proposed,
    e.LatePaymentInterestWaived: _waived,
    e.EqualisationCallPrepared: _equalisation_prepared,
    e.EqualisationCallApproved: _equalisation_approved,
}


# --- the asset stream -------------------------------------------------------------------


def _registered(ev: e.AssetRegistered, c: _Context) -> str:
    cost = _in_base(ev.estimated_cost, ev.estimated_cost_base, ev.fx_rate)
    return (
        f"{c.name(ev.sponsor)} registered {label(ev.kind)} {ev.name} in {ev.location} "
        f"({ev.capacity_mw:,} MW, estimated {cost})"
    )


def _acquired(ev: e.StakeAcquired, c: _Context) -> str:
    return (
        f"{c.holder(ev.holder)} took a {percent(ev.percent.value)} stake in {c.name(ev.asset_id)}"
    )


def _transferred(ev: e.StakeTransferred, c: _Context) -> str:
    return (
        f"{c.holder(ev.from_holder)} transferred a {percent(ev.percent.value)} stake in "
        f"{c.name(ev.asset_id)} to {c.holder(ev.to_holder)}"
    )


def _sold(ev: e.StakeSold, c: _Context) -> str:
    return (
        f"{c.holder(ev.holder)} sold a {percent(ev.percent.value)} stake in {c.name(ev.asset_id)}"
    )


# --- sealed periods ---


def _period_closed(ev: e.PeriodClosed, c: _Context) -> str:
    partners = "partner" if len(ev.balances) == 1 else "partners"
    return (
        f"{c.consortium}'s books closed up to {iso(ev.closing_date)} by {ev.closed_by}, sealed "
        f"at position {ev.position} ({ev.chain_hash[:12]}…) with the balances of "
        f"{len(ev.balances)} {partners}"
    )


def _reopen_proposed(ev: e.PeriodReopenProposed, c: _Context) -> str:
    return _with_reason(
        f"{ev.proposed_by} proposed reopening {c.consortium}'s period closed up to "
        f"{iso(ev.closing_date)}",
        ev.reason,
    )


def _reopened(ev: e.PeriodReopened, c: _Context) -> str:
    return (
        f"{c.consortium}'s period closed up to {iso(ev.closing_date)} was reopened: proposed "
        f"by {ev.proposed_by}, approved by {ev.approved_by}"
    )


def _correcting(sentence: str, corrects_position: int | None) -> str:
    if corrects_position is None:
        return sentence
    return f"{sentence}, correcting position {corrects_position}"


# --- distributions ----------------------------------------------------------------------


def _proceeds(ev: e.ProceedsReceived, c: _Context) -> str:
    kind = "income" if ev.kind == "income" else "sale proceeds"
    return (
        f"{c.consortium} received {summary(ev.amount)} of {kind} from {c.name(ev.asset_id)}, "
        f"on {iso(ev.received_on)} ({ev.proceeds_id})"
    )


def _distribution_prepared(ev: e.DistributionPrepared, c: _Context) -> str:
    recallable = [s for s in ev.shares if s.recallable.is_positive()]
    sentence = (
        f"Distribution {ev.distribution_id} of {summary(ev.amount)} ({label(ev.kind)}) "
        f"prepared by {ev.prepared_by}, to {len(ev.shares)} "
        f"{'partner' if len(ev.shares) == 1 else 'partners'} pro rata to "
        f"{'contributed capital' if ev.basis == 'contributed' else 'commitment'}"
    )
    if recallable:
        total = Money.from_minor(
            sum(s.recallable.to_minor() for s in recallable), ev.amount.currency
        )
        sentence += f", {summary(total)} of it recallable"
    return sentence


def _distribution_approved(ev: e.DistributionApproved, c: _Context) -> str:
    return f"Distribution {ev.distribution_id} approved by {ev.approved_by}"


def _distribution_paid(ev: e.DistributionPaid, c: _Context) -> str:
    return f"Distribution {ev.distribution_id} paid"


_SENTENCES: dict[type[e.Event], Callable[[Any, _Context], str]] = {
    e.ConsortiumFormed: _formed,
    e.FundraisingTargetSet: _target,
    e.PartnerAdmitted: _admitted,
    e.PartnerRoleChanged: _role_changed,
    e.PartnerWithdrew: _withdrew,
    e.CommitmentRecorded: _committed,
    e.CommitmentStageAdvanced: _stage,
    e.CommitmentAmended: _amended,
    e.CapitalCallPrepared: _prepared,
    e.CapitalCallApproved: _approved,
    e.CapitalCallIssued: _issued,
    e.CapitalCallCancelled: _cancelled,
    e.ContributionReceived: _received,
    e.ContributionReversed: _reversed,
    e.DebtFacilityArranged: _arranged,
    e.DebtFacilityDrawn: _drawn,
    e.DebtFacilityRepaid: _repaid,
    e.FxRateRecorded: _fx,
    e.AssetRegistered: _registered,
    e.StakeAcquired: _acquired,
    e.StakeTransferred: _transferred,
    e.StakeSold: _sold,
    # --- sealed periods ---
    e.PeriodClosed: _period_closed,
    e.PeriodReopenProposed: _reopen_proposed,
    e.PeriodReopened: _reopened,
    **_INTEREST_SENTENCES,
    # --- distributions ---
    e.ProceedsReceived: _proceeds,
    e.DistributionPrepared: _distribution_prepared,
    e.DistributionApproved: _distribution_approved,
    e.DistributionPaid: _distribution_paid,
}


# --- access (users, role grants, API clients) --------------------------------------------


def _grant(data: Mapping[str, Any], names: Names) -> str:
    role = str(data.get("role") or "a role")
    org = data.get("organisation_id")
    if role == "partner" and org:
        role = f"partner:{org} ({names.get(org, org)})" if org in names else f"partner:{org}"
    where = data.get("consortium")
    scope = f"in {names.get(where, where)}" if where else "in every consortium"
    return f"{role} {scope}"


def _access(data: Mapping[str, Any], names: Names) -> str:
    action = data.get("action")
    user = data.get("user") or "a user"
    client = data.get("client") or "an API client"
    changed = data.get("changed") or []
    if action == "user_created":
        return f"User {user} was created"
    if action == "user_changed":
        fields = f" ({', '.join(str(f) for f in changed)})" if changed else ""
        return f"User {user} was changed{fields}"
    if action == "role_granted":
        return f"{user} was granted {_grant(data, names)}"
    if action == "role_revoked":
        return f"{user} lost {_grant(data, names)}"
    if action == "api_client_created":
        owner = f" for {data['user']}" if data.get("user") else ""
        return f"API client {client} was created{owner}"
    if action == "api_client_revoked":
        return f"API client {client} was revoked"
    if str(action).startswith("payment_instruction_"):
        return _instruction(str(action), data, names)
    return f"Access changed ({action or 'unspecified'}) on stream {ACCESS_STREAM}"


def _instruction(action: str, data: Mapping[str, Any], names: Names) -> str:
    """Payment instructions proposed, approved or rejected (``reports.instructions``)."""
    user = data.get("user") or "someone"
    where = data.get("consortium") or ""
    details = data.get("instruction") or {}
    number = details.get("id", "?")
    bank = (
        f"{details.get('beneficiary', '?')}, {details.get('bank', '?')}, account "
        f"{details.get('account', '?')}, BIC {details.get('bic', '?')}"
    )
    scope = names.get(where, where)
    if action == "payment_instruction_proposed":
        return f"{user} proposed payment instructions #{number} for {scope}: {bank}"
    verb = "approved" if action == "payment_instruction_approved" else "rejected"
    proposer = details.get("proposed_by") or "another person"
    return (
        f"{user} {verb} payment instructions #{number} for {scope} (proposed by {proposer}): {bank}"
    )
