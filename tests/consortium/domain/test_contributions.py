"""Contributions: rule 5 (never above what the partner owes on the call) and reversals."""

from __future__ import annotations

from datetime import date

from consortium.domain.commands import ReverseContribution
from consortium.domain.errors import (
    AlreadyExists,
    AlreadyReversed,
    ContributionExceedsOwed,
    ContributionOnAnotherCall,
    CurrencyMismatch,
    DateBeforeDependency,
    InvalidInput,
    InvalidTransition,
    NotAPartner,
    NotFound,
)
from consortium.domain.events import ContributionReceived
from consortium.domain.money import Money
from consortium.domain.positions import partner_position


def test_a_contribution_is_recorded_with_its_bank_reference(aip, make) -> None:
    aip.given(*make.called("call-1", "800000000"))
    events = aip.when(make.pay("p-1", "call-1", "mgx", "150000000"))
    assert events == [
        ContributionReceived(
            "p-1", "call-1", "mgx", make.usd("150000000"), date(2025, 4, 10), "REF-p-1"
        )
    ]
    equity = partner_position(aip.state, "mgx").equity
    assert equity.contributed == make.usd("150000000")
    assert equity.outstanding == make.usd("50000000")


def test_a_contribution_never_exceeds_what_the_partner_owes(aip, make) -> None:
    aip.given(*make.called("call-1", "800000000"))
    aip.given(make.pay("p-1", "call-1", "mgx", "150000000"))
    aip.refuses(
        make.pay("p-2", "call-1", "mgx", "50000000.01"),
        ContributionExceedsOwed,
        r"MGX owes USD 50,000,000.00 on capital call 'call-1'; a contribution of "
        r"USD 50,000,000.01 exceeds it",
    )
    aip.when(make.pay("p-2", "call-1", "mgx", "50000000"))
    assert aip.state.calls["call-1"].owed_minor("mgx") == 0


def test_a_partner_without_an_allocation_owes_nothing(aip, make) -> None:
    aip.given(*make.called("call-1", "800000000"))
    aip.refuses(make.pay("p-1", "call-1", "xai", "1"), ContributionExceedsOwed, "xAI owes USD 0.00")
    aip.refuses(make.pay("p-1", "call-1", "oracle", "1"), NotAPartner, "'oracle'")


def test_contributions_only_against_an_issued_call(aip, make) -> None:
    aip.given(make.prepare("call-1", "100"), make.approve("call-1"))
    aip.refuses(
        make.pay("p-1", "call-1", "mgx", "1"), InvalidTransition, "can be paid into only while"
    )


def test_contributions_are_in_base_currency_with_unique_ids_and_references(aip, make) -> None:
    from consortium.domain.commands import ReceiveContribution

    aip.given(*make.called("call-1", "800000000"), make.pay("p-1", "call-1", "mgx", "1"))
    aip.refuses(make.pay("p-1", "call-1", "mgx", "1"), AlreadyExists, "Contribution 'p-1'")
    eur = ReceiveContribution("p-2", "call-1", "mgx", Money.of(1, "EUR"), "R", date(2025, 4, 10))
    aip.refuses(eur, CurrencyMismatch, "base currency USD")
    blank = ReceiveContribution("p-2", "call-1", "mgx", make.usd(1), " ", date(2025, 4, 10))
    aip.refuses(blank, InvalidInput, "bank reference must not be blank")


def test_a_reversal_restores_what_is_owed_and_happens_once(aip, make) -> None:
    aip.given(*make.called("call-1", "800000000"), make.pay("p-1", "call-1", "mgx", "200000000"))
    aip.when(ReverseContribution("p-1", "Returned by the bank", date(2025, 4, 11)))
    assert aip.state.calls["call-1"].owed_minor("mgx") == 20_000_000_000
    assert aip.state.contributions["p-1"].reversed_on == date(2025, 4, 11)  # kept, not deleted
    assert partner_position(aip.state, "mgx").equity.contributed == Money.zero("USD")
    aip.refuses(
        ReverseContribution("p-1", "Again", date(2025, 4, 12)),
        AlreadyReversed,
        "already reversed on 2025-04-11",
    )
    aip.when(make.pay("p-2", "call-1", "mgx", "200000000", on=date(2025, 4, 12)))


def test_a_reversal_is_not_dated_before_the_receipt(aip, make) -> None:
    aip.given(*make.called("call-1", "800000000"), make.pay("p-1", "call-1", "mgx", "1"))
    aip.refuses(
        ReverseContribution("p-1", "Error", date(2025, 4, 9)),
        DateBeforeDependency,
        "before contribution 'p-1' was received on 2025-04-10",
    )


def test_a_reversal_naming_a_call_must_name_the_call_it_was_received_on(aip, make) -> None:
    # Given a contribution received on call-1
    aip.given(*make.called("call-1", "800000000"), make.pay("p-1", "call-1", "mgx", "1"))
    # When it is reversed as if it were on another call, then the rule refuses it
    aip.refuses(
        ReverseContribution("p-1", "Error", date(2025, 4, 11), call_id="call-2"),
        ContributionOnAnotherCall,
        "Contribution 'p-1' was received on capital call 'call-1', not 'call-2'",
    )
    assert aip.state.contributions["p-1"].reversed_on is None
    # And named with its own call, it is reversed
    aip.when(ReverseContribution("p-1", "Error", date(2025, 4, 11), call_id="call-1"))
    assert aip.state.contributions["p-1"].reversed_on == date(2025, 4, 11)


def test_a_reversal_of_an_unknown_contribution_names_it_whatever_the_call(aip, make) -> None:
    aip.given(*make.called("call-1", "800000000"))
    aip.refuses(
        ReverseContribution("p-404", "Error", date(2025, 4, 11), call_id="call-1"),
        NotFound,
        "No contribution 'p-404'",
    )
