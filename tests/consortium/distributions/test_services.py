"""Distributions and recallable capital through the services: each rule is tried and
broken, and a refusal appends nothing (tests/consortium/test_services.py's style)."""

import datetime as dt
from decimal import Decimal

import pytest

from consortium import services as s
from consortium.domain import errors
from consortium.domain.positions import partner_position, total_position
from consortium.streams import load_consortium
from tests.consortium.distributions.scenario import prepared, usd, with_proceeds
from tests.consortium.test_services import refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def aip(issued_call, alice, bob) -> str:
    return with_proceeds(alice, bob)


def test_proceeds_are_recorded_from_an_asset_the_consortium_holds(aip) -> None:
    state = load_consortium(aip).state
    assert state.proceeds_minor == 25000
    assert state.proceeds["p-sale"].kind == "sale"


def test_proceeds_from_an_asset_never_held_or_before_the_stake_are_refused(aip, alice, bob):
    s.asset_register(
        actor=alice,
        asset_id="dc-2",
        sponsor="aip",
        kind="data_centre",
        name="DC 2",
        location="Ohio",
        capacity_mw=Decimal("1"),
        estimated_cost=usd("10.00"),
        effective_on=dt.date(2025, 2, 1),
    )
    with refused(errors.NoStakeInAsset, "never held a stake in asset 'dc-2'"):
        s.proceeds_record(
            actor=bob,
            slug=aip,
            proceeds_id="p-x",
            asset_id="dc-2",
            kind="income",
            amount=usd("1.00"),
            received_on=dt.date(2025, 3, 1),
        )
    with refused(errors.NoStakeInAsset, "first held a stake in asset 'dc-1' on 2025-02-15"):
        s.proceeds_record(
            actor=bob,
            slug=aip,
            proceeds_id="p-x",
            asset_id="dc-1",
            kind="income",
            amount=usd("1.00"),
            received_on=dt.date(2025, 2, 14),
        )
    with refused(errors.UnknownAsset, "No asset 'dc-9'"):
        s.proceeds_record(
            actor=bob,
            slug=aip,
            proceeds_id="p-x",
            asset_id="dc-9",
            kind="income",
            amount=usd("1.00"),
            received_on=dt.date(2025, 3, 1),
        )
    with refused(errors.InvalidInput, "kind"):
        s.proceeds_record(
            actor=bob,
            slug=aip,
            proceeds_id="p-x",
            asset_id="dc-1",
            kind="dividend",
            amount=usd("1.00"),
            received_on=dt.date(2025, 3, 1),
        )


def test_a_distribution_is_prepared_approved_paid_and_its_recallable_part_can_be_called(
    aip, alice, bob
) -> None:
    prepared(alice)
    state = load_consortium(aip).state
    # Pro rata to contributed capital 300 / 200: 150 / 100, MGX's 60 recallable.
    assert state.distributions["d-1"].shares == {"mgx": 15000, "microsoft": 10000}
    assert state.distributions["d-1"].recallable == {"mgx": 6000}
    s.distribution_approve(
        actor=bob, slug=aip, distribution_id="d-1", effective_on=dt.date(2025, 5, 3)
    )
    assert partner_position(load_consortium(aip).state, "mgx").equity.unfunded == usd("300.00")
    s.distribution_pay(actor=bob, slug=aip, distribution_id="d-1", effective_on=dt.date(2025, 5, 5))
    state = load_consortium(aip).state
    mgx = state.partners["mgx"]
    assert (mgx.distributed_minor, mgx.recallable_minor) == (15000, 6000)
    # Unfunded = 600 signed - 300 called + 60 recallable not yet recalled.
    assert partner_position(state, "mgx").equity.unfunded == usd("360.00")
    assert total_position(state).unfunded == usd("560.00")

    # A call of more than the unfunded including recallable is refused...
    s.capital_call_prepare(
        actor=alice,
        slug=aip,
        call_id="call-2",
        amount=usd("560.00"),
        due_on=dt.date(2025, 7, 1),
        purpose="Build",
        effective_on=dt.date(2025, 6, 1),
    )
    with refused(errors.CallExceedsUnfunded, "560.00"):
        s.capital_call_prepare(
            actor=alice,
            slug=aip,
            call_id="call-3",
            amount=usd("560.01"),
            due_on=dt.date(2025, 7, 1),
            purpose="Build",
            effective_on=dt.date(2025, 6, 1),
        )
    s.capital_call_approve(actor=bob, slug=aip, call_id="call-2", effective_on=dt.date(2025, 6, 2))
    s.capital_call_issue(actor=bob, slug=aip, call_id="call-2", effective_on=dt.date(2025, 6, 3))
    state = load_consortium(aip).state
    # MGX is called its 300 unfunded commitment plus the 60 recalled; Microsoft its 200.
    assert state.calls["call-2"].allocations == {"mgx": 36000, "microsoft": 20000}
    mgx = state.partners["mgx"]
    assert (mgx.called_minor, mgx.recallable_minor, mgx.recalled_minor) == (66000, 0, 6000)
    assert total_position(state).unfunded == usd("0.00")


def test_over_distributing_the_proceeds_is_refused(aip, alice) -> None:
    with refused(errors.DistributionExceedsProceeds, r"250\.00 of proceeds"):
        prepared(alice, amount="250.01")
    prepared(alice, amount="200.00", recallable="0.01")
    with refused(errors.DistributionExceedsProceeds, r"50\.00 of proceeds"):
        s.distribution_prepare(
            actor=alice,
            slug=aip,
            distribution_id="d-2",
            amount=usd("50.01"),
            kind="income",
            purpose="Rent",
            effective_on=dt.date(2025, 5, 2),
        )


def test_a_recallable_amount_above_the_partners_share_is_refused(aip, alice) -> None:
    with refused(errors.RecallableExceedsShare, r"Mgx's share of the distribution is .*150\.00"):
        prepared(alice, recallable="150.01")
    with refused(errors.NotAPartner, "nvidia"):
        s.distribution_prepare(
            actor=alice,
            slug=aip,
            distribution_id="d-1",
            amount=usd("10.00"),
            kind="capital",
            purpose="x",
            recallable={"nvidia": usd("1.00")},
            effective_on=dt.date(2025, 5, 2),
        )


def test_the_preparer_cannot_approve_and_an_unapproved_distribution_cannot_be_paid(
    aip, alice, bob
) -> None:
    prepared(alice)
    with refused(errors.InvalidTransition, "is draft; it can be paid only while approved"):
        s.distribution_pay(
            actor=bob, slug=aip, distribution_id="d-1", effective_on=dt.date(2025, 5, 5)
        )
    with refused(errors.SamePersonCannotApprove, "alice prepared distribution 'd-1'"):
        s.distribution_approve(
            actor=alice, slug=aip, distribution_id="d-1", effective_on=dt.date(2025, 5, 3)
        )
    s.distribution_approve(
        actor=bob, slug=aip, distribution_id="d-1", effective_on=dt.date(2025, 5, 3)
    )
    with refused(errors.InvalidTransition, "is approved; it can be approved only while draft"):
        s.distribution_approve(
            actor=bob, slug=aip, distribution_id="d-1", effective_on=dt.date(2025, 5, 3)
        )
    s.distribution_pay(actor=bob, slug=aip, distribution_id="d-1", effective_on=dt.date(2025, 5, 5))
    with refused(errors.InvalidTransition, "is paid"):
        s.distribution_pay(
            actor=bob, slug=aip, distribution_id="d-1", effective_on=dt.date(2025, 5, 6)
        )


def test_distributing_before_anything_was_contributed_is_refused(formed, alice) -> None:
    formed()
    with refused(errors.DistributionExceedsProceeds, "0.00 of proceeds"):
        prepared(alice)


def test_a_call_is_never_issued_before_recallable_capital_it_could_recall_was_paid(
    aip, alice, bob
) -> None:
    """Else an as-of view between the two dates would show a recall of nothing."""
    s.capital_call_prepare(
        actor=alice,
        slug=aip,
        call_id="call-2",
        amount=usd("100.00"),
        due_on=dt.date(2025, 7, 1),
        purpose="Build",
        effective_on=dt.date(2025, 5, 1),
    )
    s.capital_call_approve(actor=bob, slug=aip, call_id="call-2", effective_on=dt.date(2025, 5, 2))
    prepared(alice)
    s.distribution_approve(
        actor=bob, slug=aip, distribution_id="d-1", effective_on=dt.date(2025, 5, 3)
    )
    s.distribution_pay(actor=bob, slug=aip, distribution_id="d-1", effective_on=dt.date(2025, 5, 5))
    with refused(errors.DateBeforeDependency, "recallable capital was paid on 2025-05-05"):
        s.capital_call_issue(
            actor=bob, slug=aip, call_id="call-2", effective_on=dt.date(2025, 5, 4)
        )
    s.capital_call_issue(actor=bob, slug=aip, call_id="call-2", effective_on=dt.date(2025, 5, 5))
