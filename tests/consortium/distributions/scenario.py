"""A consortium with contributed capital, a stake in a data centre and proceeds from it,
built through the services: the starting point of the distribution tests (service, API,
admin form). Figures: AIP signed MGX 600 / Microsoft 400, called and paid 300 / 200;
proceeds 100 income + 150 sale from asset dc-1."""

import datetime as dt
from decimal import Decimal

from consortium import services as s
from consortium.domain.money import Money, Percent
from consortium.domain.values import Holder


def usd(amount: str) -> Money:
    return Money.of(Decimal(amount), "USD")


def with_proceeds(alice: s.Actor, bob: s.Actor) -> str:
    """AIP (from the ``issued_call`` fixture) paid in full, holding 40 % of dc-1, with
    250.00 of proceeds received; returns the slug."""
    for org, amount, ref in (("mgx", "300.00", "W-1"), ("microsoft", "200.00", "W-2")):
        s.contribution_receive(
            actor=bob,
            slug="aip",
            contribution_id=f"c-{org}",
            call_id="call-1",
            organisation_id=org,
            amount=usd(amount),
            bank_reference=ref,
            received_on=dt.date(2025, 2, 10),
        )
    s.asset_register(
        actor=alice,
        asset_id="dc-1",
        sponsor="aip",
        kind="data_centre",
        name="DC 1",
        location="Virginia",
        capacity_mw=Decimal("100"),
        estimated_cost=usd("1000.00"),
        effective_on=dt.date(2025, 2, 1),
    )
    s.stake_acquire(
        actor=alice,
        asset_id="dc-1",
        holder=Holder.consortium("aip"),
        percent=Percent.of("40"),
        effective_on=dt.date(2025, 2, 15),
    )
    s.proceeds_record(
        actor=bob,
        slug="aip",
        proceeds_id="p-income",
        asset_id="dc-1",
        kind="income",
        amount=usd("100.00"),
        received_on=dt.date(2025, 3, 31),
    )
    s.proceeds_record(
        actor=bob,
        slug="aip",
        proceeds_id="p-sale",
        asset_id="dc-1",
        kind="sale",
        amount=usd("150.00"),
        received_on=dt.date(2025, 4, 30),
    )
    return "aip"


def prepared(alice: s.Actor, amount: str = "250.00", recallable: str = "60.00") -> None:
    """Distribution d-1 of ``amount`` (capital), MGX's part recallable up to ``recallable``."""
    s.distribution_prepare(
        actor=alice,
        slug="aip",
        distribution_id="d-1",
        amount=usd(amount),
        kind="capital",
        purpose="Sale of part of DC 1",
        recallable={"mgx": usd(recallable)},
        effective_on=dt.date(2025, 5, 2),
    )
