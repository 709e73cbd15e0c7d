"""asof.consortium_views_as_of: several dates from one read of the stream equal one
consortium_view_as_of per date, at the head and at an earlier position."""

import datetime as dt

import pytest
from django.core.management import call_command

from consortium import services as s
from consortium.projections import asof
from ledger import store

pytestmark = pytest.mark.django_db

DATES = [
    dt.date(2024, 9, 16),  # before AIP was formed
    dt.date(2025, 2, 12),  # the call issued
    dt.date(2025, 3, 14),  # its due date
    dt.date(2025, 3, 15),  # BlackRock overdue
    dt.date(2030, 1, 1),  # after everything
]


def single(slug: str, day: dt.date, position: int | None) -> asof.ConsortiumAsOf:
    return asof.consortium_view_as_of(slug, effective_on=day, today=day, upto_position=position)


def test_views_at_several_dates_equal_one_view_per_date(db, alice):
    call_command("seed_demo", verbosity=0)
    position = store.head()
    s.partner_admit(
        actor=alice,
        slug="aip",
        organisation_id="late",
        name="Late",
        role="member",
        effective_on=dt.date(2025, 1, 2),
    )
    for bound in (position, None):
        views = asof.consortium_views_as_of("aip", DATES, upto_position=bound)
        for day, view in zip(DATES, views, strict=True):
            expected = single("aip", day, bound)
            assert (view.progress, view.positions, view.open_calls, view.facilities) == (
                expected.progress,
                expected.positions,
                expected.open_calls,
                expected.facilities,
            )
            assert view.state == expected.state
    late = asof.consortium_views_as_of("aip", [dt.date(2030, 1, 1)])[0]
    bounded = asof.consortium_views_as_of("aip", [dt.date(2030, 1, 1)], upto_position=position)[0]
    assert "late" in late.state.partners and "late" not in bounded.state.partners
    assert asof.consortium_views_as_of("aip", [DATES[0]])[0].progress is None
    [without] = asof.consortium_views_as_of("aip", [DATES[2]], open_calls=False)
    [with_calls] = asof.consortium_views_as_of("aip", [DATES[2]])
    assert without.open_calls == [] and len(with_calls.open_calls) == 1
    assert without.positions == with_calls.positions
