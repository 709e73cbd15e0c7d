"""The projections under the runner: batches, rebuilds, stale caches, statuses, look-through."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from consortium import services as s
from consortium.domain.money import Money, Percent
from consortium.domain.values import Holder
from consortium.projections import NAMES, asof, selectors
from consortium.projections.figures import Ownership, Progress
from ledger.projections import registry, runner

pytestmark = pytest.mark.django_db


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def progress(slug: str) -> Progress:
    found = selectors.progress(slug)
    assert found is not None
    return found


def owned(asset_id: str) -> Ownership:
    found = selectors.ownership(asset_id)
    assert found is not None
    return found


def seed() -> None:
    call_command("seed_demo", stdout=StringIO())


@pytest.mark.parametrize("name", NAMES)
def test_one_event_at_a_time_equals_one_batch(helpers, name):
    seed()
    runner.catch_up(name, batch=1)
    assert helpers.live_table(name) == helpers.fresh_rebuild(name)
    assert any(helpers.live_table(name).values())


def test_rebuild_switches_to_an_identical_generation(helpers):
    seed()
    helpers.catch_up()
    before = {name: helpers.live_table(name) for name in NAMES}
    for name in NAMES:
        runner.rebuild(name, batch=5)
        assert runner.live_generation(name) == 2
        assert helpers.live_table(name) == before[name]
        assert helpers.table(name, 1) == {model: [] for model in before[name]}
    # The live instances keep working on the new generation.
    s.capital_call_prepare(
        actor=s.Actor(_user("bob.finance")), slug="aip", call_id="aip-call-2",
        amount=usd("1000.00"), due_on=dt.date(2025, 9, 1), purpose="More land",
        effective_on=dt.date(2025, 8, 1),
    )  # fmt: skip
    helpers.catch_up()
    for name in NAMES:
        assert helpers.live_table(name) == helpers.fresh_rebuild(name), name
    assert [c.figures.call_id for c in selectors.capital_calls("aip")] == [
        "aip-call-1",
        "aip-call-2",
    ]


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


@pytest.mark.parametrize("name", NAMES)
def test_a_cache_that_missed_another_workers_batch_is_dropped(helpers, name):
    """Worker A applies a batch, worker B the next, then A again: A must not reuse its
    stale states for the streams B changed."""
    seed()
    events = helpers.events_for(name)
    cut1, cut2 = len(events) // 3, 2 * len(events) // 3
    a, b = type(registry.get(name))(), type(registry.get(name))()
    g = 50
    a.apply(events[:cut1], generation=g, after=0)
    b.apply(events[cut1:cut2], generation=g, after=events[cut1 - 1].position)
    a.apply(events[cut2:], generation=g, after=events[cut2 - 1].position)
    assert helpers.table(name, g) == helpers.fresh_rebuild(name)


@pytest.mark.parametrize("name", NAMES)
def test_a_cache_ahead_of_a_rolled_back_batch_is_dropped(helpers, name):
    seed()
    events = helpers.events_for(name)
    cut = len(events) // 2
    projection, g = type(registry.get(name))(), 51
    projection.apply(events[:cut], generation=g, after=0)
    with pytest.raises(RuntimeError), transaction.atomic():
        projection.apply(events[cut:], generation=g, after=events[cut - 1].position)
        raise RuntimeError("the checkpoint could not be saved")
    projection.apply(events[cut:], generation=g, after=events[cut - 1].position)
    assert helpers.table(name, g) == helpers.fresh_rebuild(name)


def test_call_status_through_its_life_and_overdue_only_at_read_time(
    issued_call, alice, bob, helpers
):
    helpers.catch_up()
    (call,) = selectors.capital_calls("aip", today=dt.date(2025, 3, 1))
    assert (call.figures.status, call.overdue) == ("issued", False)
    (late,) = selectors.capital_calls("aip", today=dt.date(2025, 3, 2))
    assert late.overdue and all(a.overdue for a in late.allocations)
    s.contribution_receive(
        actor=bob, slug="aip", contribution_id="k1", call_id="call-1", organisation_id="mgx",
        amount=usd("300.00"), bank_reference="R1", received_on=dt.date(2025, 2, 20),
    )  # fmt: skip
    s.contribution_receive(
        actor=bob, slug="aip", contribution_id="k2", call_id="call-1",
        organisation_id="microsoft", amount=usd("50.00"), bank_reference="R2",
        received_on=dt.date(2025, 2, 21),
    )  # fmt: skip
    helpers.catch_up()
    (call,) = selectors.capital_calls("aip", today=dt.date(2025, 3, 2))
    assert (call.figures.status, call.figures.contributed_minor, call.overdue) == (
        "partly_paid",
        35000,
        True,
    )
    assert [(a.figures.status, a.overdue) for a in call.allocations] == [
        ("settled", False),
        ("partly_paid", True),
    ]
    positions = {
        p.figures.organisation_id: p for p in selectors.positions("aip", today=dt.date(2025, 3, 2))
    }
    assert (positions["microsoft"].overdue_minor, positions["mgx"].overdue_minor) == (15000, 0)
    s.contribution_receive(
        actor=bob, slug="aip", contribution_id="k3", call_id="call-1",
        organisation_id="microsoft", amount=usd("150.00"), bank_reference="R3",
        received_on=dt.date(2025, 3, 5),
    )  # fmt: skip
    s.capital_call_prepare(
        actor=alice, slug="aip", call_id="call-2", amount=usd("10.00"),
        due_on=dt.date(2025, 4, 1), purpose="Fees", effective_on=dt.date(2025, 3, 6),
    )  # fmt: skip
    s.capital_call_prepare(
        actor=alice, slug="aip", call_id="call-3", amount=usd("10.00"),
        due_on=dt.date(2025, 4, 1), purpose="Fees", effective_on=dt.date(2025, 3, 6),
    )  # fmt: skip
    s.capital_call_approve(
        actor=bob, slug="aip", call_id="call-3", effective_on=dt.date(2025, 3, 7)
    )
    s.capital_call_prepare(
        actor=alice, slug="aip", call_id="call-4", amount=usd("10.00"),
        due_on=dt.date(2025, 4, 1), purpose="Fees", effective_on=dt.date(2025, 3, 6),
    )  # fmt: skip
    s.capital_call_cancel(
        actor=bob,
        slug="aip",
        call_id="call-4",
        reason="Duplicate",
        effective_on=dt.date(2025, 3, 7),
    )
    helpers.catch_up()
    calls = selectors.capital_calls("aip", today=dt.date(2026, 1, 1))
    assert [(c.figures.call_id, c.figures.status, c.overdue) for c in calls] == [
        ("call-1", "settled", False),
        ("call-2", "draft", False),
        ("call-3", "approved", False),
        ("call-4", "cancelled", False),
    ]
    assert calls == asof.calls_as_of("aip", today=dt.date(2026, 1, 1))


def test_a_back_dated_contribution_moves_every_later_month(issued_call, bob, helpers):
    s.contribution_receive(
        actor=bob, slug="aip", contribution_id="k1", call_id="call-1", organisation_id="mgx",
        amount=usd("100.00"), bank_reference="R1", received_on=dt.date(2025, 4, 2),
    )  # fmt: skip
    helpers.catch_up()
    months = [(m.month.month, m.signed_minor, m.contributed_minor) for m in progress("aip").months]
    assert months == [(1, 100000, 0), (2, 100000, 0), (3, 100000, 0), (4, 100000, 10000)]
    s.contribution_receive(
        actor=bob, slug="aip", contribution_id="k2", call_id="call-1", organisation_id="mgx",
        amount=usd("50.00"), bank_reference="R2", received_on=dt.date(2025, 2, 10),
    )  # fmt: skip
    s.contribution_reverse(
        actor=bob,
        slug="aip",
        contribution_id="k1",
        reason="Returned",
        effective_on=dt.date(2025, 4, 3),
    )
    helpers.catch_up()
    contributed = [(m.month.month, m.contributed_minor) for m in progress("aip").months]
    assert contributed == [(1, 0), (2, 5000), (3, 5000), (4, 5000)]
    assert selectors.progress("aip") == asof.progress_as_of("aip")
    march = asof.progress_as_of("aip", effective_on=dt.date(2025, 3, 31))
    assert march is not None
    # The series runs to the last month with a change (February) in that view.
    assert [(m.month.month, m.contributed_minor) for m in march.months] == [(1, 0), (2, 5000)]


def test_look_through_follows_a_holders_signed_equity(formed, alice, helpers):
    formed("aip", {"mgx": "600.00", "microsoft": "400.00"})
    s.asset_register(
        actor=alice, asset_id="dc-1", sponsor="aip", kind="data_centre", name="DC",
        location="Here", capacity_mw=Decimal("10"), estimated_cost=usd("1000.00"),
        effective_on=dt.date(2025, 1, 10),
    )  # fmt: skip
    s.stake_acquire(
        actor=alice, asset_id="dc-1", holder=Holder.consortium("aip"), percent=Percent.of("50"),
        effective_on=dt.date(2025, 1, 10),
    )  # fmt: skip
    helpers.catch_up()
    look = {r.organisation_id: r.total_percent for r in owned("dc-1").look_through}
    assert look == {"mgx": Decimal("30"), "microsoft": Decimal("20")}
    amended = s.commitment_amend(
        actor=alice, slug="aip", commitment_id="aip-microsoft", amount=usd("1400.00"),
        effective_on=dt.date(2025, 1, 12),
    )  # fmt: skip
    helpers.catch_up()
    ownership = owned("dc-1")
    look = {r.organisation_id: r.total_percent for r in ownership.look_through}
    assert look == {"mgx": Decimal("15"), "microsoft": Decimal("35")}  # 6/20 and 14/20 of 50
    assert ownership.position == amended.positions[-1]
    assert ownership == asof.ownership_as_of("dc-1")
    before = asof.ownership_as_of("dc-1", effective_on=dt.date(2025, 1, 11))
    assert before is not None
    assert {r.organisation_id: r.total_percent for r in before.look_through} == {
        "mgx": Decimal("30"),
        "microsoft": Decimal("20"),
    }


def test_as_known_at_a_time_ignores_what_was_recorded_later(formed, alice, helpers):
    formed()
    from django.utils import timezone

    known = timezone.now()
    s.commitment_amend(
        actor=alice, slug="aip", commitment_id="aip-mgx", amount=usd("900.00"),
        effective_on=dt.date(2025, 1, 6),
    )  # fmt: skip
    helpers.catch_up()
    assert progress("aip").instrument("equity").signed_minor == 130000
    then = asof.progress_as_of("aip", known_at=known)
    assert then is not None
    assert then.instrument("equity").signed_minor == 100000


@pytest.mark.parametrize("rolled_back", [False, True])
def test_ownership_drops_consortium_states_it_cannot_trust(formed, alice, helpers, rolled_back):
    """Ownership sees only some consortium events (their versions have gaps), so only the
    cache-level check can notice a batch it did not apply itself."""
    formed("aip", {"mgx": "600.00", "microsoft": "400.00"})
    s.asset_register(
        actor=alice, asset_id="dc-1", sponsor="aip", kind="data_centre", name="DC",
        location="Here", capacity_mw=Decimal("10"), estimated_cost=usd("1000.00"),
        effective_on=dt.date(2025, 1, 10),
    )  # fmt: skip
    s.stake_acquire(
        actor=alice, asset_id="dc-1", holder=Holder.consortium("aip"), percent=Percent.of("50"),
        effective_on=dt.date(2025, 1, 10),
    )  # fmt: skip
    first = len(helpers.events_for("ownership"))
    s.commitment_record(
        actor=alice, slug="aip", commitment_id="aip-mgx-2", organisation_id="mgx",
        instrument="equity", amount=usd("1000.00"), stage="signed",
        effective_on=dt.date(2025, 1, 11),
    )  # fmt: skip
    s.commitment_amend(
        actor=alice, slug="aip", commitment_id="aip-microsoft", amount=usd("500.00"),
        effective_on=dt.date(2025, 1, 12),
    )  # fmt: skip
    events = helpers.events_for("ownership")
    g = 52
    a = type(registry.get("ownership"))()
    a.apply(events[:first], generation=g, after=0)
    if rolled_back:  # a applied the middle batch, but its transaction rolled back
        with pytest.raises(RuntimeError), transaction.atomic():
            a.apply([events[first]], generation=g, after=events[first - 1].position)
            raise RuntimeError("rolled back")
        a.apply(events[first:], generation=g, after=events[first - 1].position)
    else:  # another worker applied the middle batch
        b = type(registry.get("ownership"))()
        b.apply([events[first]], generation=g, after=events[first - 1].position)
        a.apply(events[first + 1 :], generation=g, after=events[first].position)
    assert helpers.table("ownership", g) == helpers.fresh_rebuild("ownership")


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 600])  # 600: above PIPELINE_ROWS, through COPY
def test_replacing_rows_by_a_two_column_key_touches_only_those_keys(size):
    import datetime as dt

    from consortium.models import CapitalCallRow
    from ledger.projections.base import Keys, replace_rows

    def row(generation: int, slug: str, call: str, status: str = "draft") -> dict[str, object]:
        return {
            "generation": generation, "position": 1, "consortium": slug, "call_id": call,
            "currency": "USD", "due_on": dt.date(2025, 3, 1), "purpose": "p", "status": status,
            "prepared_by": "a", "prepared_on": dt.date(2025, 2, 1),
            "approved_by": None, "approved_on": None, "issued_on": None, "cancelled_on": None,
            "amount_minor": 100, "contributed_minor": 0, "outstanding_minor": 100,
        }  # fmt: skip

    replace_rows(
        1,
        [],
        [(CapitalCallRow, [row(g, s, c) for g in (1, 2) for s in ("aip", "sg") for c in "xyz"])],
    )
    changed = [("aip", "x"), ("aip", "y"), ("sg", "z")]
    new = [row(1, s, c, "issued") for s, c in changed]
    new += [row(1, "other", f"c-{i}") for i in range(size - len(new))]
    replace_rows(
        1, [Keys(CapitalCallRow, ("consortium", "call_id"), changed)], [(CapitalCallRow, new)]
    )
    rows = {
        (r.consortium, r.call_id): r.status for r in CapitalCallRow.objects.filter(generation=1)
    }
    assert {k: v for k, v in rows.items() if k[0] != "other"} == {
        ("aip", "x"): "issued", ("aip", "y"): "issued", ("aip", "z"): "draft",
        ("sg", "x"): "draft", ("sg", "y"): "draft", ("sg", "z"): "issued",
    }  # fmt: skip
    assert len(rows) == 6 - len(changed) + len(new)
    assert CapitalCallRow.objects.filter(generation=2).count() == 6


def test_facilities_repayment_restores_availability_only_when_revolving(formed, bob, helpers):
    formed()
    for facility_id, revolving in (("term", False), ("rcf", True)):
        s.facility_arrange(
            actor=bob, slug="aip", facility_id=facility_id, lender="mgx",
            amount=usd("1000.00"), maturity_on=dt.date(2030, 6, 30), revolving=revolving,
            effective_on=dt.date(2025, 2, 1),
        )  # fmt: skip
        s.facility_draw(
            actor=bob, slug="aip", facility_id=facility_id, draw_id=f"{facility_id}-d1",
            amount=usd("600.00"), effective_on=dt.date(2025, 3, 1),
        )  # fmt: skip
    helpers.catch_up()
    s.facility_repay(
        actor=bob, slug="aip", facility_id="rcf", repayment_id="rcf-r1", amount=usd("250.00"),
        effective_on=dt.date(2025, 4, 1),
    )  # fmt: skip
    s.facility_repay(
        actor=bob, slug="aip", facility_id="term", repayment_id="term-r1", amount=usd("250.00"),
        effective_on=dt.date(2025, 4, 1),
    )  # fmt: skip
    helpers.catch_up()
    facilities = selectors.facilities("aip")
    figures = {
        f.facility_id: (f.drawn_minor, f.repaid_minor, f.outstanding_minor, f.available_minor)
        for f in facilities
    }
    assert figures == {"rcf": (60000, 25000, 35000, 65000), "term": (60000, 25000, 35000, 40000)}
    assert {f.facility_id: f.revolving for f in facilities} == {"rcf": True, "term": False}
    assert facilities[1].maturity_on == dt.date(2030, 6, 30)
    assert facilities == asof.facilities_as_of("aip")
    view = asof.consortium_view_as_of("aip", effective_on=dt.date(2025, 3, 31))
    assert view.facilities == asof.facilities_as_of("aip", effective_on=dt.date(2025, 3, 31))
    assert view.positions == asof.positions_as_of("aip", effective_on=dt.date(2025, 3, 31))
    assert view.open_calls == [
        c
        for c in asof.calls_as_of("aip", effective_on=dt.date(2025, 3, 31))
        if c.figures.status in ("draft", "approved", "issued", "partly_paid")
    ]
    assert view.progress == asof.progress_as_of("aip", effective_on=dt.date(2025, 3, 31))
    march = asof.facilities_as_of("aip", effective_on=dt.date(2025, 3, 31))
    assert [(f.facility_id, f.repaid_minor, f.available_minor) for f in march] == [
        ("rcf", 0, 40000),
        ("term", 0, 40000),
    ]
    assert helpers.live_table("consortium") == helpers.fresh_rebuild("consortium")


def test_a_consortiums_assets_are_those_it_sponsors_or_holds(helpers):
    seed()
    helpers.catch_up()
    aip = selectors.consortium_assets("aip")
    # aip-dc-ohio: the demo's campus that pays income (distributions).
    assert [o.asset.asset_id for o in aip] == ["aip-dc-ohio", "aip-dc-virginia", "aip-power-texas"]
    stargate = selectors.consortium_assets("stargate")
    assert [o.asset.asset_id for o in stargate] == ["sg-dc-abilene"]
    assert aip == asof.consortium_assets_as_of("aip")
    before = asof.consortium_assets_as_of("aip", effective_on=dt.date(2025, 1, 16))
    assert [o.asset.asset_id for o in before] == ["aip-dc-virginia"]
    assert selectors.consortium_assets("nobody") == []
