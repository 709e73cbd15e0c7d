"""``manage.py seed_demo``: the AIP and Stargate demo, loaded twice, checked by hand."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from consortium.domain.positions import partner_positions
from consortium.streams import load_asset, load_consortium
from ledger.store import head

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_loading_twice_changes_nothing_the_second_time():
    assert (
        "71 commands recorded" in seed()
    )  # 42, 20 of interest and equalisation, 9 of distributions
    loaded = head()
    assert "nothing changed" in seed()
    assert head() == loaded


def test_the_aip_figures_match_a_hand_computation():
    seed()
    state = load_consortium("aip").state
    positions = {p.organisation_id: p.equity for p in partner_positions(state)}
    # Signed equity 8 + 8 + 6 = 22 bn; the 4.4 bn call is 20 % of each partner's signed equity.
    expected = {  # signed, called, contributed, unfunded, outstanding (USD bn)
        "blackrock-gip": ("8", "1.6", "1.0", "6.4", "0.6"),
        "microsoft": ("8", "1.6", "1.6", "6.4", "0"),
        "mgx": ("6", "1.2", "1.2", "4.9", "0"),  # 4.8 + 0.1 recallable (aip-dist-1)
        "xai": ("0", "0", "0", "0", "0"),  # soft-circled only: pipeline, not signed
        "nvidia": ("0", "0", "0", "0", "0"),  # technical advisor: no capital
    }
    billion = Decimal(1_000_000_000)
    for org, figures in expected.items():
        equity = positions[org]
        actual = (
            equity.signed_equity,
            equity.called,
            equity.contributed,
            equity.unfunded,
            equity.outstanding,
        )
        assert [m.amount for m in actual] == [Decimal(f) * billion for f in figures], org
    assert state.partners["nvidia"].role == "technical_advisor"
    # The MGX site contribution: AED 3,672,500,000.00 at 0.2723 = USD 1,000,021,750.00
    assert state.commitments["aip-site-mgx"].base_amount_minor == 100002175000


def test_stargate_has_a_first_tranche_now_and_the_rest_over_four_years():
    seed()
    state = load_consortium("stargate").state
    total = state.targets["total"]
    assert total.amount_minor == 500_000_000_000 * 100
    assert [amount for amount, _ in total.tranches] == [100_000_000_000 * 100] * 5
    assert [on.year for _, on in total.tranches] == [2025, 2026, 2027, 2028, 2029]
    assert "mgx" in state.partners  # one organisation, partner of two consortia


def test_assets_have_stakes_never_above_100_percent():
    seed()
    virginia = load_asset("aip-dc-virginia").state
    assert virginia.total_percent == Decimal("100")
    abilene = load_asset("sg-dc-abilene").state
    assert {str(h): p for h, p in abilene.holdings.items()} == {
        "consortium stargate": Decimal("85"),
        "organisation oracle": Decimal("15"),
    }
