"""Statements show late-payment interest and equalisation in the period (the demo's Atlas
Power Partners: KKR paid 30 days late, ADIA joined late; see ``demo.interest_steps``)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from consortium.reports import builders
from consortium.reports.document import Amount, Anchor
from ledger import store

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 12, 31)
MAY, JUNE_END = dt.date(2025, 5, 1), dt.date(2025, 6, 30)


def usd(value: str) -> Amount:
    return Amount(Decimal(value), "USD")


@pytest.fixture
def demo(db) -> Anchor:
    call_command("seed_demo", verbosity=0)
    head = store.read_head()
    return Anchor(head.position, head.hash)


def interest_section(document):
    [found] = [s for s in document.sections if s.title == "Interest and equalisation in the period"]
    return found


def test_the_late_payer_and_an_earlier_partner_see_interest(demo):
    kkr, adia = builders.build_statements("atlas", ["kkr", "adia"], MAY, JUNE_END, demo, DAY)
    section = interest_section(kkr)
    assert section.table is not None
    assert [row[1:] for row in section.table.rows] == [
        ("atlas-c1-kkr", "Late-payment interest charged", usd("9205479.45")),
        ("atlas-eq-call-adia", "Equalisation interest received", usd("2079756.47")),
    ]
    assert [row[0] for row in section.table.rows] == [dt.date(2025, 5, 31), dt.date(2025, 6, 4)]
    assert {f.label: f.value for f in section.facts} == {
        "Late-payment interest owed at the period's end": usd("9205479.45")
    }
    rows = interest_section(adia).table.rows
    assert [row[2:] for row in rows] == [
        ("Equalisation call (capital)", usd("1000000000.00")),
        ("Equalisation interest to pay", usd("13369863.01")),
    ]
    events = next(s for s in kkr.sections if s.title == "Events in the period")
    assert any("late-payment interest" in str(row) for row in events.table.rows)  # type: ignore[union-attr]


def test_a_period_without_interest_says_none(demo):
    [kkr] = builders.build_statements(
        "atlas", ["kkr"], dt.date(2025, 1, 21), dt.date(2025, 4, 30), demo, DAY
    )
    assert interest_section(kkr).paragraphs == ("None.",)
