"""Every figure of the seed demo's projections, against values computed by hand.

AIP: equity target 30 bn, total target 100 bn. Signed equity BlackRock/GIP 8, Microsoft
8, MGX 6 (= 22 bn); xAI 3 bn soft-circled; Microsoft 2 bn corporate partnership indicated;
MGX site contribution AED 3,672,500,000.00 at 0.2723 = USD 1,000,021,750.00; a 20 bn
senior term loan, 5 bn drawn; one 4.4 bn call (20 % of each partner's signed equity, due
2025-03-14) of which Microsoft paid 1.6, MGX 1.2, BlackRock 1.0.

Stargate: total target 500 bn in five 100 bn tranches from 2025-01-21 to 2029-01-21
(deadline 2029-12-31). Signed equity SoftBank 19, OpenAI 19, Oracle 7 (= 45 bn); MGX 7 bn
soft-circled.
"""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from consortium.projections import asof, selectors
from consortium.projections.figures import PositionRow, ProgressRow

pytestmark = pytest.mark.django_db

BN = 100_000_000_000  # one billion USD in cents
M = 100_000_000  # one million USD in cents
AFTER_DUE = dt.date(2025, 6, 1)


def bn(amount: str) -> int:
    return int(Decimal(amount) * BN)


@pytest.fixture
def demo(helpers) -> None:
    call_command("seed_demo", stdout=StringIO())
    helpers.catch_up(batch=7)  # several batches


def progress_figures(row: ProgressRow) -> tuple[object, ...]:
    return (
        row.target_minor,
        row.indicated_minor,
        row.soft_circled_minor,
        row.signed_minor,
        row.called_minor,
        row.contributed_minor,
        row.unfunded_minor,
        row.outstanding_minor,
        row.signed_percent,
        row.contributed_percent,
    )


SITE = 100_002_175_000  # USD 1,000,021,750.00: the MGX site, AED 3,672,500,000.00 x 0.2723


def test_aip_progress(demo):
    progress = selectors.progress("aip")
    assert progress is not None
    assert (progress.slug, progress.name, progress.currency) == (
        "aip",
        "AI Infrastructure Partnership",
        "USD",
    )
    D = Decimal
    # target, indicated, soft-circled, signed, called, contributed, unfunded, outstanding, %s
    expected = {
        "equity": (
            bn("30"), 0, bn("3"), bn("22"), bn("4.4"), bn("3.8"), bn("17.7"), bn("0.6"),
            D("73.33"), D("12.67"),  # 22/30, 3.8/30; unfunded 17.6 + MGX's 0.1 recallable
        ),
        "asset_contribution": (None, 0, 0, SITE, 0, 0, SITE, 0, None, None),
        "corporate_partnership": (None, bn("2"), 0, 0, 0, 0, 0, 0, None, None),
        "debt": (None, 0, 0, bn("20"), bn("5"), bn("5"), bn("15"), 0, None, None),
        "total": (
            bn("100"), bn("2"), bn("3"), bn("42") + SITE, bn("9.4"), bn("8.8"),
            bn("32.7") + SITE, bn("0.6"),  # with MGX's 0.1 bn recallable (distributions)
            D("43.00"), D("8.80"),  # 43.00002175/100, 8.8/100
        ),
    }  # fmt: skip
    assert [r.instrument for r in progress.instruments] == list(expected)
    for row in progress.instruments:
        assert progress_figures(row) == expected[row.instrument], row.instrument
        assert row.currency == "USD"
        assert row.deadline is None
    assert progress.tranches == ()
    months = [(m.month, m.signed_minor, m.contributed_minor) for m in progress.months]
    assert months == [
        (dt.date(2024, 10, 1), bn("22"), 0),  # BlackRock, Microsoft 15 Oct; MGX 30 Oct
        (dt.date(2024, 11, 1), bn("22") + SITE, 0),  # MGX site, 20 Nov
        (dt.date(2024, 12, 1), bn("42") + SITE, 0),  # term loan arranged, 10 Dec
        (dt.date(2025, 1, 1), bn("42") + SITE, 0),
        (dt.date(2025, 2, 1), bn("42") + SITE, bn("5")),  # first draw, 14 Feb
        (dt.date(2025, 3, 1), bn("42") + SITE, bn("8.8")),  # 1.6 + 1.2 + 1.0 in March
    ]


def test_stargate_progress_and_tranches(demo):
    progress = selectors.progress("stargate")
    assert progress is not None
    rows = {r.instrument: progress_figures(r) for r in progress.instruments}
    assert rows["equity"] == (None, 0, bn("7"), bn("45"), 0, 0, bn("45"), 0, None, None)
    assert rows["asset_contribution"] == (None, 0, 0, 0, 0, 0, 0, 0, None, None)
    assert rows["corporate_partnership"] == (None, 0, 0, 0, 0, 0, 0, 0, None, None)
    assert rows["debt"] == (None, 0, 0, 0, 0, 0, 0, 0, None, None)
    assert rows["total"] == (
        bn("500"), 0, bn("7"), bn("45"), 0, 0, bn("45"), 0, Decimal("9.00"), Decimal("0.00")
    )  # fmt: skip
    assert progress.instrument("total").deadline == dt.date(2029, 12, 31)
    tranches = [
        (t.instrument, t.number, t.amount_minor, t.available_from, t.cumulative_minor,
         t.signed_minor, t.contributed_minor)
        for t in progress.tranches
    ]  # fmt: skip
    assert tranches == [
        ("total", 1, bn("100"), dt.date(2025, 1, 21), bn("100"), bn("45"), 0),
        ("total", 2, bn("100"), dt.date(2026, 1, 21), bn("200"), 0, 0),
        ("total", 3, bn("100"), dt.date(2027, 1, 21), bn("300"), 0, 0),
        ("total", 4, bn("100"), dt.date(2028, 1, 21), bn("400"), 0, 0),
        ("total", 5, bn("100"), dt.date(2029, 1, 21), bn("500"), 0, 0),
    ]
    months = [(m.month, m.signed_minor, m.contributed_minor) for m in progress.months]
    assert months == [(dt.date(2025, 1, 1), bn("45"), 0)]


def position_figures(row: PositionRow) -> tuple[object, ...]:
    return (
        row.role,
        row.is_active,
        row.equity_signed_minor,
        row.asset_contribution_signed_minor,
        row.corporate_partnership_signed_minor,
        row.debt_signed_minor,
        row.debt_drawn_minor,
        row.called_minor,
        row.contributed_minor,
        row.unfunded_minor,
        row.outstanding_minor,
        row.equity_share_percent,
    )


def test_aip_positions(demo):
    D = Decimal
    # role, active, signed equity/asset/corporate/debt, drawn, called, contributed,
    # unfunded, outstanding, share of signed equity; then overdue after the due date
    expected = {
        "blackrock-gip": (
            ("founding_member", True, bn("8"), 0, 0, 0, 0, bn("1.6"), bn("1.0"), bn("6.4"),
             bn("0.6"), D("36.3636")),  # 8/22
            bn("0.6"),
        ),
        "microsoft": (
            ("founding_member", True, bn("8"), 0, 0, 0, 0, bn("1.6"), bn("1.6"), bn("6.4"), 0,
             D("36.3636")),  # the 2 bn corporate partnership is only indicated
            0,
        ),
        "mgx": (
            ("founding_member", True, bn("6"), SITE, 0, 0, 0, bn("1.2"), bn("1.2"), bn("4.9"), 0,
             D("27.2727")),  # 6/22; unfunded 4.8 + the 0.1 bn recallable of aip-dist-1
            0,
        ),
        "nvidia": (("technical_advisor", True, 0, 0, 0, 0, 0, 0, 0, 0, 0, D("0")), 0),
        "senior-lenders": (("lender", True, 0, 0, 0, bn("20"), bn("5"), 0, 0, 0, 0, D("0")), 0),
        "xai": (("member", True, 0, 0, 0, 0, 0, 0, 0, 0, 0, D("0")), 0),  # soft-circled only
    }  # fmt: skip
    positions = selectors.positions("aip", today=AFTER_DUE)
    assert [p.figures.organisation_id for p in positions] == sorted(expected)
    for p in positions:
        figures, overdue = expected[p.figures.organisation_id]
        assert position_figures(p.figures) == figures, p.figures.organisation_id
        assert p.overdue_minor == overdue, p.figures.organisation_id
        assert p.figures.currency == "USD"
    # On the due date nothing is overdue yet; the day after, BlackRock's 0.6 bn is.
    on_due = selectors.positions("aip", today=dt.date(2025, 3, 14))
    assert [p.overdue_minor for p in on_due] == [0] * 6
    day_after = selectors.positions("aip", today=dt.date(2025, 3, 15))
    assert {p.figures.organisation_id: p.overdue_minor for p in day_after}["blackrock-gip"] == bn(
        "0.6"
    )
    # The figures add up to the progress row.
    aip = selectors.progress("aip")
    assert aip is not None
    equity = aip.instrument("equity")
    assert sum(p.figures.equity_signed_minor for p in positions) == equity.signed_minor
    assert sum(p.figures.called_minor for p in positions) == equity.called_minor
    assert sum(p.figures.contributed_minor for p in positions) == equity.contributed_minor


def test_stargate_positions(demo):
    D = Decimal
    positions = {p.figures.organisation_id: p for p in selectors.positions("stargate")}
    assert {org: position_figures(p.figures) for org, p in positions.items()} == {
        "mgx": ("member", True, 0, 0, 0, 0, 0, 0, 0, 0, 0, D("0")),  # 7 bn soft-circled
        "openai": ("founding_member", True, bn("19"), 0, 0, 0, 0, 0, 0, bn("19"), 0,
                   D("42.2222")),  # 19/45
        "oracle": ("member", True, bn("7"), 0, 0, 0, 0, 0, 0, bn("7"), 0, D("15.5556")),
        "softbank": ("founding_member", True, bn("19"), 0, 0, 0, 0, 0, 0, bn("19"), 0,
                     D("42.2222")),
    }  # fmt: skip
    assert all(p.overdue_minor == 0 for p in positions.values())


def test_aip_capital_call(demo):
    (call,) = selectors.capital_calls("aip", today=AFTER_DUE)
    f = call.figures
    assert (f.call_id, f.status, f.amount_minor, f.contributed_minor, f.outstanding_minor) == (
        "aip-call-1",
        "partly_paid",
        bn("4.4"),
        bn("3.8"),
        bn("0.6"),
    )
    assert (f.prepared_by, f.approved_by) == ("bob.finance", "alice.deal")
    assert (f.prepared_on, f.approved_on, f.issued_on, f.due_on, f.cancelled_on) == (
        dt.date(2025, 2, 10),
        dt.date(2025, 2, 11),
        dt.date(2025, 2, 12),
        dt.date(2025, 3, 14),
        None,
    )
    assert call.overdue
    allocations = [
        (a.figures.organisation_id, a.figures.amount_minor, a.figures.contributed_minor,
         a.figures.outstanding_minor, a.figures.status, a.overdue)
        for a in call.allocations
    ]  # fmt: skip
    assert allocations == [
        ("blackrock-gip", bn("1.6"), bn("1.0"), bn("0.6"), "partly_paid", True),
        ("mgx", bn("1.2"), bn("1.2"), 0, "settled", False),
        ("microsoft", bn("1.6"), bn("1.6"), 0, "settled", False),
    ]
    (before,) = selectors.capital_calls("aip", today=dt.date(2025, 3, 1))
    assert not before.overdue
    assert selectors.capital_calls("stargate") == []


def test_ownership_look_through(demo):
    D = Decimal

    def view(asset_id):
        o = selectors.ownership(asset_id)
        assert o is not None
        stakes = {(s.holder_kind, s.holder_id): s.percent for s in o.stakes}
        look = {
            r.organisation_id: (r.direct_percent, r.indirect_percent, r.total_percent)
            for r in o.look_through
        }
        return o.asset, stakes, look

    asset, stakes, look = view("aip-dc-virginia")
    assert stakes == {("consortium", "aip"): D("80"), ("organisation", "microsoft"): D("20")}
    # 80 % x 8/22 and 80 % x 6/22, exact, then rounded so that the parts sum to the whole:
    # rounded down they would show 99.9999 beside stakes of 100; the unit left goes to the
    # largest remainder (mgx's 21.81818...).
    assert look == {
        "blackrock-gip": (D("0"), D("29.0909"), D("29.0909")),
        "mgx": (D("0"), D("21.8182"), D("21.8182")),
        "microsoft": (D("20"), D("29.0909"), D("49.0909")),
    }
    assert (asset.stakes_percent, asset.look_through_percent) == (D("100"), D("100"))
    assert sum(total for _, _, total in look.values()) == D("100")
    assert (asset.sponsor, asset.kind, asset.capacity_mw, asset.estimated_cost_minor) == (
        "aip",
        "data_centre",
        D("1000"),
        bn("12"),
    )
    asset, stakes, look = view("aip-power-texas")
    assert stakes == {("consortium", "aip"): D("51")}
    assert look == {
        "blackrock-gip": (D("0"), D("18.5455"), D("18.5455")),
        "mgx": (D("0"), D("13.9091"), D("13.9091")),
        "microsoft": (D("0"), D("18.5454"), D("18.5454")),
    }  # two units left after rounding down, to the two largest remainders
    assert asset.look_through_percent == D("51")
    asset, stakes, look = view("sg-dc-abilene")
    assert stakes == {("consortium", "stargate"): D("85"), ("organisation", "oracle"): D("15")}
    assert look == {
        "openai": (D("0"), D("35.8889"), D("35.8889")),  # 85 x 19/45 = 35.8888...
        "oracle": (D("15"), D("13.2222"), D("28.2222")),  # 15 + 85 x 7/45
        "softbank": (D("0"), D("35.8889"), D("35.8889")),
    }
    assert asset.look_through_percent == D("100")
    assert sum(total for _, _, total in look.values()) == D("100")


def test_as_of_now_equals_live_and_earlier_dates_differ(demo):
    for slug in ("aip", "stargate"):
        assert asof.progress_as_of(slug) == selectors.progress(slug)
        assert asof.positions_as_of(slug, today=AFTER_DUE) == selectors.positions(
            slug, today=AFTER_DUE
        )
        assert asof.calls_as_of(slug, today=AFTER_DUE) == selectors.capital_calls(
            slug, today=AFTER_DUE
        )
    for asset_id in selectors.assets():
        assert asof.ownership_as_of(asset_id) == selectors.ownership(asset_id)
    # Before the call: nothing called; before the draw: no debt funded.
    early = asof.progress_as_of("aip", effective_on=dt.date(2025, 1, 31))
    assert early is not None
    assert early.instrument("equity").called_minor == 0
    assert early.instrument("debt").contributed_minor == 0
    assert early.months[-1].month == dt.date(2024, 12, 1)
    # On the due date, BlackRock's unpaid 0.6 bn is not yet overdue; a day later it is.
    on_due = asof.positions_as_of("aip", effective_on=dt.date(2025, 3, 14))
    assert sum(p.overdue_minor for p in on_due) == 0
    later = asof.positions_as_of("aip", effective_on=dt.date(2025, 3, 15))
    assert sum(p.overdue_minor for p in later) == bn("0.6")
    # Before Oracle's transfer, Stargate held Abilene outright.
    abilene = asof.ownership_as_of("sg-dc-abilene", effective_on=dt.date(2025, 5, 31))
    assert abilene is not None
    assert [(s.holder_id, s.percent) for s in abilene.stakes] == [("stargate", Decimal("100"))]
    assert asof.progress_as_of("stargate", effective_on=dt.date(2025, 1, 1)) is None
