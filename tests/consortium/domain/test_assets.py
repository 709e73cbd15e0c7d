"""Assets and stakes: rule 6 (at most 100 % in one asset); holders part only with what they hold."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from consortium.domain.commands import AcquireStake, RegisterAsset, SellStake, TransferStake
from consortium.domain.errors import (
    AlreadyExists,
    DateBeforeDependency,
    DateBeforeFormation,
    InvalidAmount,
    InvalidInput,
    MissingFxRate,
    NotFound,
    StakeExceedsHolding,
    StakesExceed100Percent,
)
from consortium.domain.money import Money, Percent
from consortium.domain.values import Holder

AIP = Holder.consortium("aip")
MGX = Holder.organisation("mgx")
MICROSOFT = Holder.organisation("microsoft")


def test_stakes_in_one_asset_never_exceed_100_percent(data_centre, make) -> None:
    data_centre.given(make.stake(AIP, "80"), make.stake(MGX, "15.5"))
    data_centre.refuses(
        make.stake(MICROSOFT, "4.5001"),
        StakesExceed100Percent,
        "95.5 % of Campus One is already held; acquiring 4.5001 % more would make 100.0001 %",
    )
    data_centre.when(make.stake(MICROSOFT, "4.5"))
    assert data_centre.state.total_percent == Decimal("100")


def test_a_holder_cannot_sell_or_transfer_more_than_it_holds(data_centre, make) -> None:
    data_centre.given(make.stake(AIP, "60"))
    on = date(2025, 3, 1)
    data_centre.refuses(
        TransferStake("dc-1", AIP, MGX, Percent.of("60.0001"), on),
        StakeExceedsHolding,
        "The consortium aip holds 60 % of Campus One; it cannot part with 60.0001 %",
    )
    data_centre.refuses(
        SellStake("dc-1", MGX, Percent.of("1"), on), StakeExceedsHolding, "holds 0 %"
    )
    data_centre.when(TransferStake("dc-1", AIP, MGX, Percent.of("20"), on))
    data_centre.when(SellStake("dc-1", AIP, Percent.of("40"), on))
    assert data_centre.state.holdings == {MGX: Decimal("20")}
    assert data_centre.state.total_percent == Decimal("20")


def test_a_stake_cannot_be_transferred_to_its_holder(data_centre, make) -> None:
    data_centre.given(make.stake(AIP, "60"))
    data_centre.refuses(
        TransferStake("dc-1", AIP, AIP, Percent.of("1"), date(2025, 3, 1)), InvalidInput, "itself"
    )


def test_stake_dates_follow_registration_and_acquisition(data_centre, make) -> None:
    data_centre.refuses(
        make.stake(AIP, "10", on=date(2025, 1, 14)),
        DateBeforeFormation,
        "Campus One's registration",
    )
    data_centre.given(make.stake(AIP, "10", on=date(2025, 2, 1)))
    data_centre.refuses(
        SellStake("dc-1", AIP, Percent.of("5"), date(2025, 1, 31)),
        DateBeforeDependency,
        "before the consortium aip acquired its stake on 2025-02-01",
    )


def _register(**changes) -> RegisterAsset:
    values = {
        "asset_id": "dc-2",
        "sponsor": "aip",
        "kind": "energy_facility",
        "name": "Solar One",
        "location": "Abu Dhabi, AE",
        "capacity_mw": Decimal("750.5"),
        "estimated_cost": Money.of("4000000000", "AED"),
        "effective_on": date(2025, 2, 1),
    }
    return RegisterAsset(**{**values, **changes})


def test_registration_needs_a_rate_for_a_foreign_cost(aip, unregistered, make) -> None:
    unregistered.refuses(
        _register(), MissingFxRate, "No AED/USD rate is recorded in force on 2025-02-01"
    )
    aip.given(make.rate("AED", "0.2723", date(2025, 1, 1)))
    unregistered.when(_register())
    assert unregistered.state.estimated_cost_base_minor == 108_920_000_000  # USD 1.0892 bn
    unregistered.refuses(_register(), AlreadyExists, "already registered")


def test_registration_checks_kind_capacity_and_dates(unregistered) -> None:
    usd = Money.of("1", "USD")
    unregistered.refuses(_register(estimated_cost=usd, kind="mine"), InvalidInput, "kind")
    unregistered.refuses(
        _register(estimated_cost=usd, capacity_mw=Decimal("-1")), InvalidAmount, "MW"
    )
    unregistered.refuses(
        _register(estimated_cost=usd, effective_on=date(2024, 1, 1)),
        DateBeforeFormation,
        "formation on 2024-09-17",
    )
    unregistered.refuses(
        AcquireStake("dc-2", AIP, Percent.of("1"), date(2025, 3, 1)), NotFound, "No asset 'dc-2'"
    )
