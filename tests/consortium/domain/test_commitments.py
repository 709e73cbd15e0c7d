"""Commitments: stages only move forward, withdrawal before any call, amendments >= called."""

from __future__ import annotations

from datetime import date

from consortium.domain.commands import AdvanceCommitmentStage, AmendCommitment
from consortium.domain.errors import (
    AlreadyExists,
    AmendBelowCalled,
    CurrencyMismatch,
    InvalidAmount,
    InvalidInput,
    InvalidTransition,
    NotFound,
    WithdrawAfterCalled,
)
from consortium.domain.events import CommitmentAmended, CommitmentStageAdvanced
from consortium.domain.money import Money
from consortium.domain.positions import partner_position

APRIL = date(2025, 4, 20)


def test_stages_move_forward_and_may_skip(aip, make) -> None:
    aip.given(make.commit("c-xai", "xai", "1000000000", stage="indicated", on=APRIL))
    assert aip.when(AdvanceCommitmentStage("c-xai", "signed", APRIL)) == [
        CommitmentStageAdvanced("c-xai", "signed")
    ]
    aip.refuses(
        AdvanceCommitmentStage("c-xai", "soft_circled", APRIL),
        InvalidTransition,
        "is signed; stages only move forward",
    )
    aip.refuses(AdvanceCommitmentStage("c-xai", "signed", APRIL), InvalidTransition, "forward")


def test_only_signed_equity_counts_as_committed(aip, make) -> None:
    aip.given(make.commit("c-xai", "xai", "1000000000", stage="soft_circled", on=APRIL))
    assert partner_position(aip.state, "xai").equity.signed_equity == Money.zero("USD")
    aip.given(AdvanceCommitmentStage("c-xai", "signed", APRIL))
    assert partner_position(aip.state, "xai").equity.unfunded == make.usd("1000000000")


def test_withdrawn_from_any_stage_while_nothing_is_called(aip, make) -> None:
    aip.when(AdvanceCommitmentStage("c-mgx", "withdrawn", APRIL))
    assert aip.state.commitments["c-mgx"].stage == "withdrawn"
    aip.refuses(
        AdvanceCommitmentStage("c-mgx", "signed", APRIL), InvalidTransition, "was withdrawn"
    )
    aip.refuses(AmendCommitment("c-mgx", make.usd("1"), APRIL), InvalidTransition, "was withdrawn")


def test_a_called_commitment_cannot_be_withdrawn(aip, make) -> None:
    aip.given(*make.called("call-1", "800000000"))
    aip.refuses(
        AdvanceCommitmentStage("c-mgx", "withdrawn", APRIL),
        WithdrawAfterCalled,
        "has USD 200,000,000.00 called already; it cannot be withdrawn",
    )


def test_an_amendment_never_goes_below_what_was_called(aip, make) -> None:
    aip.given(*make.called("call-1", "800000000"))
    aip.refuses(
        AmendCommitment("c-mgx", make.usd("199999999.99"), APRIL),
        AmendBelowCalled,
        "has USD 200,000,000.00 called already; it cannot be reduced to USD 199,999,999.99",
    )
    events = aip.when(AmendCommitment("c-mgx", make.usd("200000000"), APRIL))
    assert events == [
        CommitmentAmended("c-mgx", make.usd("200000000"), make.usd("200000000"), None)
    ]
    assert partner_position(aip.state, "mgx").equity.unfunded == Money.zero("USD")


def test_amendments_increase_or_reduce_in_the_commitment_currency(aip, make) -> None:
    aip.when(AmendCommitment("c-mgx", make.usd("2500000000"), APRIL))
    assert partner_position(aip.state, "mgx").equity.signed_equity == make.usd("2500000000")
    aip.refuses(
        AmendCommitment("c-mgx", make.usd("2500000000"), APRIL), InvalidTransition, "already"
    )
    aip.refuses(
        AmendCommitment("c-mgx", Money.of("1", "EUR"), APRIL), CurrencyMismatch, "is in USD"
    )
    aip.refuses(AmendCommitment("c-none", make.usd("1"), APRIL), NotFound, "No commitment")


def test_equity_commitments_are_positive_base_currency_amounts(aip, make) -> None:
    aip.refuses(make.commit("c-0", "xai", "0", on=APRIL), InvalidAmount, "positive amount")
    aip.refuses(make.commit("c-neg", "xai", "-5", on=APRIL), InvalidAmount, "positive amount")
    aip.refuses(
        make.commit("c-eur", "xai", Money.of("5", "EUR"), on=APRIL),
        CurrencyMismatch,
        "base currency USD, not EUR",
    )


def test_commitment_ids_are_unique_and_new_ones_not_withdrawn(aip, make) -> None:
    aip.refuses(make.commit("c-mgx", "xai", "1", on=APRIL), AlreadyExists, "'c-mgx' is already")
    aip.refuses(
        make.commit("c-new", "xai", "1", stage="withdrawn", on=APRIL), InvalidInput, "stage"
    )
    aip.refuses(
        make.commit("c-new", "xai", "1", instrument="debt", on=APRIL), InvalidInput, "instrument"
    )
