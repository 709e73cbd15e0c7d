"""The demo's money coming back, checked by hand: AIP Campus Ohio pays income twice and is
partly sold; a USD 1.0 bn capital distribution with MGX's USD 100 m recallable."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from consortium.domain.positions import partner_position, total_position
from consortium.projections import asof, selectors
from consortium.streams import load_asset, load_consortium
from ledger.projections import runner

pytestmark = pytest.mark.django_db


def test_the_demo_distribution_matches_a_hand_computation():
    call_command("seed_demo", stdout=None)
    state = load_consortium("aip").state
    # Proceeds: 120,000,000.00 + 135,000,000.00 income + 1,500,000,000.00 sale.
    assert state.proceeds_minor == 1_755_000_000_00
    assert sorted((p.kind, p.amount_minor) for p in state.proceeds.values()) == [
        ("income", 120_000_000_00),
        ("income", 135_000_000_00),
        ("sale", 1_500_000_000_00),
    ]
    assert load_asset("aip-dc-ohio").state.total_percent == Decimal("75")
    # 1.0 bn pro rata to contributed 1.6 / 1.2 / 1.0 bn (3.8 bn), in cents:
    #   Microsoft 1e11 x 16/38 = 42,105,263,157.89..., MGX x 12/38 = 31,578,947,368.42...,
    #   BlackRock x 10/38 = 26,315,789,473.68...; the floors sum to 99,999,999,998, so the
    #   two largest remainders (.89 Microsoft, .68 BlackRock) take one cent each.
    distribution = state.distributions["aip-dist-1"]
    assert distribution.status == "paid"
    assert distribution.shares == {
        "blackrock-gip": 26_315_789_474,
        "microsoft": 42_105_263_158,
        "mgx": 31_578_947_368,
    }
    assert sum(distribution.shares.values()) == 1_000_000_000_00
    assert distribution.recallable == {"mgx": 100_000_000_00}
    # MGX: unfunded 6 bn - 1.2 bn called + 0.1 bn recallable = 4.9 bn; the total 17.7 bn.
    mgx = partner_position(state, "mgx").equity
    assert mgx.unfunded.amount == Decimal("4900000000.00")
    assert total_position(state).unfunded.amount == Decimal("17700000000.00")

    runner.catch_up_all()
    rows = {p.figures.organisation_id: p.figures for p in selectors.positions("aip")}
    assert rows["mgx"].distributed_minor == 31_578_947_368
    assert rows["mgx"].recallable_minor == 100_000_000_00
    # Net invested: 1,200,000,000.00 - 315,789,473.68 = 884,210,526.32; DPI 0.2631... -> 0.26.
    assert rows["mgx"].net_invested_minor == 88_421_052_632
    assert rows["mgx"].dpi == Decimal("0.26")
    # BlackRock: 263,157,894.74 / 1,000,000,000.00 = 0.2631... -> 0.26.
    assert rows["blackrock-gip"].dpi == Decimal("0.26")
    progress = selectors.progress("aip")
    assert progress is not None
    equity = progress.instrument("equity")
    assert equity.distributed_minor == 1_000_000_000_00
    assert equity.net_invested_minor == 2_800_000_000_00  # 3.8 bn - 1.0 bn of capital
    assert equity.dpi == Decimal("0.26")  # 1.0 / 3.8 = 0.263...
    assert selectors.progress("aip") == asof.progress_as_of("aip")
