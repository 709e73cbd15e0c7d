"""Factories for consortium scenarios: people, and a formed consortium with partners."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from consortium import services as s
from consortium.domain.money import Money

FORMED = dt.date(2025, 1, 6)


def usd(amount: str) -> Money:
    return Money.of(Decimal(amount), "USD")


@pytest.fixture
def people(db) -> dict[str, s.Actor]:
    """Alice prepares, Bob approves; both are named, active users."""
    make = get_user_model().objects.create_user
    return {name: s.Actor(make(name, f"{name}@example.com")) for name in ("alice", "bob")}


@pytest.fixture
def alice(people: dict[str, s.Actor]) -> s.Actor:
    return people["alice"]


@pytest.fixture
def bob(people: dict[str, s.Actor]) -> s.Actor:
    return people["bob"]


@pytest.fixture
def formed(alice) -> Callable[..., str]:
    """Form consortium ``slug`` with partners and signed equity commitments (USD)."""

    def build(slug: str = "aip", signed: dict[str, str] | None = None) -> str:
        s.consortium_form(
            actor=alice, slug=slug, name=slug.upper(), base_currency="USD", formed_on=FORMED
        )
        for org, amount in (signed or {"mgx": "600.00", "microsoft": "400.00"}).items():
            s.partner_admit(
                actor=alice,
                slug=slug,
                organisation_id=org,
                name=org.title(),
                role="member",
                effective_on=FORMED,
            )
            s.commitment_record(
                actor=alice,
                slug=slug,
                commitment_id=f"{slug}-{org}",
                organisation_id=org,
                instrument="equity",
                amount=usd(amount),
                stage="signed",
                effective_on=FORMED,
            )
        return slug

    return build


@pytest.fixture
def issued_call(formed, alice, bob) -> str:
    """A 500.00 call on 'aip' (mgx 600 / microsoft 400 signed), issued: 300 / 200."""
    formed()
    s.capital_call_prepare(
        actor=alice,
        slug="aip",
        call_id="call-1",
        amount=usd("500.00"),
        due_on=dt.date(2025, 3, 1),
        purpose="Land",
        effective_on=dt.date(2025, 2, 1),
    )
    s.capital_call_approve(
        actor=bob, slug="aip", call_id="call-1", effective_on=dt.date(2025, 2, 2)
    )
    s.capital_call_issue(actor=bob, slug="aip", call_id="call-1", effective_on=dt.date(2025, 2, 3))
    return "call-1"
