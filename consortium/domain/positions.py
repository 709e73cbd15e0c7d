"""Read-side figures per partner and in total: signed, called, contributed, unfunded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from consortium.domain.fx import to_base
from consortium.domain.money import Money
from consortium.domain.state import ConsortiumState
from consortium.domain.vocabulary import Instrument, Role, Stage


@dataclass(frozen=True, slots=True)
class EquityFigures:
    """unfunded = signed_equity - called; outstanding = called - contributed."""

    signed_equity: Money
    called: Money
    contributed: Money
    unfunded: Money
    outstanding: Money


@dataclass(frozen=True, slots=True)
class PartnerPosition:
    organisation_id: str
    name: str
    role: Role
    is_active: bool
    equity: EquityFigures


@dataclass(frozen=True, slots=True)
class DebtFigures:
    """In base currency at historical rates: each amount at the rate of its own date."""

    signed: Money
    drawn: Money
    repaid: Money
    outstanding: Money


def signed_equity_minor(state: ConsortiumState, organisation_id: str) -> int:
    """The partner's signed equity commitments, in base minor units (kept running)."""
    return state.partners[organisation_id].signed_equity_minor


def unfunded_minor(state: ConsortiumState, organisation_id: str) -> int:
    """What may still be called from the partner, in base minor units: its signed equity
    not yet called, plus recallable capital not yet recalled. As ``called`` counts the
    recalls too, that is ``signed - called + recalled + recallable`` (DOMAIN.md's "signed
    - called + recallable not yet recalled", with "called" the calls on the commitment);
    it stays within 0 and ``signed + recallable``."""
    partner = state.partners[organisation_id]
    return (
        signed_equity_minor(state, organisation_id)
        - partner.called_minor
        + partner.recalled_minor
        + partner.recallable_minor
    )


# --- distributions ---


def recallable_by_partner(state: ConsortiumState) -> dict[str, int]:
    """Recallable capital not yet recalled, by partner (base minor units)."""
    return {org: state.partners[org].recallable_minor for org in sorted(state.partners)}


def signed_equity_by_partner(state: ConsortiumState) -> dict[str, int]:
    return {org: signed_equity_minor(state, org) for org in sorted(state.partners)}


def unfunded_by_partner(state: ConsortiumState) -> dict[str, int]:
    return {org: unfunded_minor(state, org) for org in sorted(state.partners)}


def total_unfunded_minor(state: ConsortiumState) -> int:
    return sum(unfunded_by_partner(state).values())


def _figures(
    state: ConsortiumState, signed: int, called: int, contributed: int, recall: int = 0
) -> EquityFigures:
    """``recall``: recalled + recallable not yet recalled (what adds back to unfunded)."""

    def money(minor: int) -> Money:
        return Money.from_minor(minor, state.base_currency)

    return EquityFigures(
        signed_equity=money(signed),
        called=money(called),
        contributed=money(contributed),
        unfunded=money(signed - called + recall),
        outstanding=money(called - contributed),
    )


def partner_position(state: ConsortiumState, organisation_id: str) -> PartnerPosition:
    partner = state.partners[organisation_id]
    signed = signed_equity_minor(state, organisation_id)
    recall = partner.recalled_minor + partner.recallable_minor
    figures = _figures(state, signed, partner.called_minor, partner.contributed_minor, recall)
    return PartnerPosition(
        partner.organisation_id, partner.name, partner.role, partner.is_active, figures
    )


def partner_positions(state: ConsortiumState) -> list[PartnerPosition]:
    """Every partner, active or withdrawn, by organisation id."""
    return [partner_position(state, org) for org in sorted(state.partners)]


def total_position(state: ConsortiumState) -> EquityFigures:
    partners = state.partners.values()
    return _figures(
        state,
        sum(signed_equity_by_partner(state).values()),
        sum(p.called_minor for p in partners),
        sum(p.contributed_minor for p in partners),
        sum(p.recalled_minor + p.recallable_minor for p in partners),
    )


def commitment_totals(state: ConsortiumState) -> dict[tuple[Instrument, Stage], Money]:
    """Base-currency totals per (instrument, stage), each commitment at its historical rate."""
    totals: dict[tuple[Instrument, Stage], int] = {}
    for c in state.commitments.values():
        key = (c.instrument, c.stage)
        totals[key] = totals.get(key, 0) + c.base_amount_minor
    return {key: Money.from_minor(v, state.base_currency) for key, v in sorted(totals.items())}


def debt_totals(state: ConsortiumState) -> DebtFigures:
    """Arranged facilities count as signed debt; draws as debt funded."""
    facilities = state.facilities.values()
    signed = sum(f.base_amount_minor for f in facilities)
    drawn = sum(f.drawn_base_minor for f in facilities)
    repaid = sum(f.repaid_base_minor for f in facilities)

    def money(minor: int) -> Money:
        return Money.from_minor(minor, state.base_currency)

    return DebtFigures(money(signed), money(drawn), money(repaid), money(drawn - repaid))


def to_base_amount(state: ConsortiumState, amount: Money, on: date) -> Money:
    """`amount` in the base currency at the rate in force on `on` (MissingFxRate if none)."""
    return to_base(state.fx_rates, state.base_currency, amount, on)[0]
