"""The demo's late payment and late joiner (Atlas Power Partners), checked by hand (see
``consortium.demo.interest_steps`` for the arithmetic)."""

import pytest
from django.core.management import call_command

from consortium.domain.events import LatePaymentInterestCharged
from consortium.streams import consortium_history, load_consortium

pytestmark = pytest.mark.django_db

BN = 1_000_000_000 * 100  # USD 1 bn in cents


def test_the_demo_late_payment_and_late_joiner_match_a_hand_computation():
    call_command("seed_demo", verbosity=0)
    state = load_consortium("atlas").state
    softbank, openai, oracle, arm = (
        state.partners[org] for org in ("brookfield", "temasek", "kkr", "adia")
    )
    # KKR paid 1.4 bn 30 days late at 8 %: 1.4 bn x 8 % x 30 / 365 = 9,205,479.45
    assert oracle.late_interest_minor == 920_547_945
    assert softbank.late_interest_minor == openai.late_interest_minor == 0
    [charged] = [
        d.event
        for d in consortium_history("atlas")
        if isinstance(d.event, LatePaymentInterestCharged)
    ]
    assert charged.contribution_id == "atlas-c1-kkr"
    # ADIA (5 bn) is called 20 % like the others: 1 bn, paid on the due date
    assert (arm.called_minor, arm.equalisation_called_minor, arm.contributed_minor) == (
        BN,
        BN,
        BN,
    )
    # 1 bn x 8 % x 61 / 365 = 13,369,863.01, shared 38 : 38 : 14 by largest remainder
    assert arm.equalisation_interest_paid_minor == 1_336_986_301
    assert [p.equalisation_interest_received_minor for p in (softbank, openai, oracle)] == [
        564_505_327,
        564_505_327,
        207_975_647,
    ]
    assert (softbank.called_minor, oracle.called_minor) == (38 * BN // 10, 14 * BN // 10)


def test_the_progress_pack_shows_the_demo_interest_and_equalisation_by_partner():
    """The progress pack's "Interest and equalisation" section carries the same figures,
    partner by partner, with their totals (paid equals received)."""
    from decimal import Decimal

    from consortium.reports.builders.progress import build_progress
    from consortium.reports.document import Amount, Anchor
    from ledger.store import head_state

    call_command("seed_demo", verbosity=0)
    position, chain_hash = head_state()
    state = load_consortium("atlas").state
    day = max(d.effective_on for d in consortium_history("atlas"))
    document = build_progress("atlas", Anchor(position, chain_hash), day)
    [section] = [s for s in document.sections if s.title == "Interest and equalisation"]
    assert section.table is not None
    titles = [c.title for c in section.table.columns]
    rows = {row[0]: dict(zip(titles, row, strict=True)) for row in section.table.rows}
    usd = lambda value: Amount(Decimal(value), "USD")  # noqa: E731
    kkr, adia = state.partners["kkr"].name, state.partners["adia"].name
    assert rows[kkr]["Late interest owed"] == usd("9205479.45")
    assert rows[kkr]["Equalisation interest received"] == usd("2079756.47")
    assert rows[adia]["Equalisation called"] == usd("1000000000.00")
    assert rows[adia]["Equalisation interest paid"] == usd("13369863.01")
    total = dict(zip(titles, section.table.total or (), strict=True))
    assert total["Equalisation interest paid"] == total["Equalisation interest received"]
