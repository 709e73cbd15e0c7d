"""As-of views: the snapshot-served current fold equals a fold from the start, at and
around its boundaries (the latest effective date, the last recording)."""

import datetime as dt

import pytest
from django.core.management import call_command

from consortium import services as s
from consortium.domain.money import Money
from consortium.domain.state import ConsortiumState, fold_consortium, is_visible
from consortium.projections import asof
from consortium.projections.figures import ConsortiumTracker, progress_of
from consortium.streams import consortium_history
from ledger import caches
from ledger.store import read_stream

pytestmark = pytest.mark.django_db


def full_fold(slug: str, effective_on=None, known_at=None) -> ConsortiumTracker:
    tracker = ConsortiumTracker()
    for dated in consortium_history(slug):
        if is_visible(dated, as_of=effective_on, known_at=known_at):
            tracker.apply(dated)
    return tracker


@pytest.fixture
def aip_with_a_back_dated_last_event(alice) -> str:
    call_command("seed_demo", verbosity=0)
    s.partner_admit(
        actor=alice,
        slug="aip",
        organisation_id="late",
        name="Late",
        role="member",
        effective_on=dt.date(2025, 1, 2),
    )  # recorded last, effective long before
    return "aip"


def test_views_covering_the_whole_stream_come_from_the_snapshot_cache(
    aip_with_a_back_dated_last_event,
):
    slug = aip_with_a_back_dated_last_event
    latest = max(e.effective_on for e in read_stream(f"consortium-{slug}") if e.effective_on)
    last_recorded = read_stream(f"consortium-{slug}")[-1].recorded_at
    views: list[tuple[dt.date | None, dt.datetime | None]] = [
        (None, None),
        (latest, None),
        (latest + dt.timedelta(days=30), None),
        (None, last_recorded),
        (latest, last_recorded + dt.timedelta(seconds=1)),
        # not covering: a date before the latest, a time before the last recording
        (latest - dt.timedelta(days=1), None),
        (dt.date(2025, 1, 1), None),
        (None, last_recorded - dt.timedelta(microseconds=1)),
    ]
    for effective_on, known_at in views:
        caches.clear()
        expected = full_fold(slug, effective_on, known_at)
        actual = asof.progress_as_of(slug, effective_on=effective_on, known_at=known_at)
        assert actual == progress_of(expected), (effective_on, known_at)
        state: ConsortiumState = asof.consortium_as_of(
            slug, effective_on=effective_on, known_at=known_at
        )
        assert state == expected.state, (effective_on, known_at)
        assert state == fold_consortium(
            consortium_history(slug), as_of=effective_on, known_at=known_at
        )


def test_the_current_view_follows_new_events(aip_with_a_back_dated_last_event, alice):
    before = asof.progress_as_of("aip")
    s.commitment_record(
        actor=alice,
        slug="aip",
        commitment_id="aip-eq-late",
        organisation_id="late",
        instrument="equity",
        amount=Money.of("1000000.00", "USD"),
        stage="signed",
        effective_on=dt.date(2025, 6, 1),
    )
    after = asof.progress_as_of("aip")
    assert after == progress_of(full_fold("aip"))
    assert after != before


def test_a_view_at_a_position_is_what_the_ledger_held_when_its_head_was_there(
    aip_with_a_back_dated_last_event, alice
):
    """Given the head at P, when later events (one back-dated before everything) are
    appended, then the view bounded at P still gives the figures read live at P, in every
    as-of function, with or without a date."""
    from ledger.store import head

    slug = aip_with_a_back_dated_last_event
    at = head()
    live_then = {
        "progress": asof.progress_as_of(slug),
        "positions": asof.positions_as_of(slug, today=dt.date(2026, 1, 1)),
        "calls": asof.calls_as_of(slug, today=dt.date(2026, 1, 1)),
        "facilities": asof.facilities_as_of(slug),
        "assets": asof.consortium_assets_as_of(slug),
        "dated": asof.progress_as_of(slug, effective_on=dt.date(2025, 3, 1)),
    }
    s.commitment_record(
        actor=alice,
        slug=slug,
        commitment_id="aip-eq-late",
        organisation_id="late",
        instrument="equity",
        amount=Money.of("1000000.00", "USD"),
        stage="signed",
        effective_on=dt.date(2025, 1, 3),
    )
    assert asof.progress_as_of(slug) != live_then["progress"]
    bounded = {
        "progress": asof.progress_as_of(slug, upto_position=at),
        "positions": asof.positions_as_of(slug, today=dt.date(2026, 1, 1), upto_position=at),
        "calls": asof.calls_as_of(slug, today=dt.date(2026, 1, 1), upto_position=at),
        "facilities": asof.facilities_as_of(slug, upto_position=at),
        "assets": asof.consortium_assets_as_of(slug, upto_position=at),
        "dated": asof.progress_as_of(slug, effective_on=dt.date(2025, 3, 1), upto_position=at),
    }
    assert bounded == live_then
    # A bound at or beyond the head is the current view.
    assert asof.progress_as_of(slug, upto_position=head()) == asof.progress_as_of(slug)
    assert asof.progress_as_of(slug, upto_position=0) is None
