# ruff: noqa: F811 (fixtures imported from test_notices are arguments here)
"""Distribution notices: paying a distribution makes the ``distribution_notices`` consumer
store each partner's notice (its statement for the day of payment, showing its share and
the recallable part) and send it to that partner's recipients only; replays (a rebuild, a
repeated task) store and send nothing twice."""

import datetime as dt
from decimal import Decimal

import pytest

from consortium import services as s
from consortium.domain.money import Percent
from consortium.domain.values import Holder
from consortium.models import Delivery, DistributionNoticeRequest, StoredReport
from consortium.reports.distribution_notices import NAME, make_distribution_notices
from ledger.projections import runner
from tests.consortium.conftest import usd
from tests.consortium.reports.test_notices import (  # noqa: F401 (fixtures)
    RECIPIENTS,
    delivered,
    in_process,
    issue,
    media,
    partners,
)

pytestmark = pytest.mark.django_db


def pay_a_distribution(alice, bob) -> None:
    """call-1 paid in full (mgx 300, microsoft 200); 250.00 of sale proceeds from dc-1;
    distribution d-1 of 250.00 (mgx 150.00 of it, 60.00 recallable; microsoft 100.00)."""
    issue(alice, bob)
    for org, amount in (("mgx", "300.00"), ("microsoft", "200.00")):
        s.contribution_receive(
            actor=bob, slug="aip", contribution_id=f"c-{org}", call_id="call-1",
            organisation_id=org, amount=usd(amount), bank_reference="W",
            received_on=dt.date(2025, 2, 10),
        )  # fmt: skip
    s.asset_register(
        actor=alice, asset_id="dc-1", sponsor="aip", kind="data_centre", name="DC 1",
        location="Ohio", capacity_mw=Decimal("10"), estimated_cost=usd("1000.00"),
        effective_on=dt.date(2025, 2, 1),
    )  # fmt: skip
    s.stake_acquire(
        actor=alice, asset_id="dc-1", holder=Holder.consortium("aip"),
        percent=Percent.of("50"), effective_on=dt.date(2025, 2, 1),
    )  # fmt: skip
    s.proceeds_record(
        actor=bob, slug="aip", proceeds_id="p-1", asset_id="dc-1", kind="sale",
        amount=usd("250.00"), received_on=dt.date(2025, 4, 1),
    )  # fmt: skip
    s.distribution_prepare(
        actor=alice, slug="aip", distribution_id="d-1", amount=usd("250.00"), kind="capital",
        purpose="Sale", recallable={"mgx": usd("60.00")}, effective_on=dt.date(2025, 4, 2),
    )  # fmt: skip
    s.distribution_approve(
        actor=bob, slug="aip", distribution_id="d-1", effective_on=dt.date(2025, 4, 3)
    )
    s.distribution_pay(
        actor=bob, slug="aip", distribution_id="d-1", effective_on=dt.date(2025, 4, 4)
    )


@pytest.fixture
def paid(partners, alice, bob, in_process, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        pay_a_distribution(alice, bob)
        runner.catch_up_all()


def test_the_command_only_appends_and_the_consumer_asks_for_the_notices(partners, alice, bob):
    pay_a_distribution(alice, bob)
    assert not DistributionNoticeRequest.objects.exists()
    runner.catch_up_all()
    (request,) = DistributionNoticeRequest.live()
    assert (request.consortium, request.distribution_id, request.paid_on) == (
        "aip",
        "d-1",
        dt.date(2025, 4, 4),
    )


def test_each_partner_with_a_share_gets_its_own_notice_at_its_own_recipients(paid):
    stored = StoredReport.objects.filter(key__startswith="distribution-notice:")
    assert sorted((r.kind, r.organisation_id, r.format) for r in stored) == [
        ("statement", "mgx", "html"),
        ("statement", "mgx", "pdf"),
        ("statement", "microsoft", "html"),
        ("statement", "microsoft", "pdf"),
    ]
    mgx = next(r for r in stored if r.organisation_id == "mgx" and r.format == "html")
    with mgx.file.open("rb") as f:
        html = f.read().decode()
    assert "Distributions in the period" in html and "d-1" in html
    assert "150.00" in html and "60.00" in html  # its share, and the recallable part
    ours = Delivery.objects.filter(key__startswith="distribution-notice:")
    assert sorted(d.recipient for d in ours) == sorted(e for es in RECIPIENTS.values() for e in es)
    assert delivered() == {email: {org} for org, emails in RECIPIENTS.items() for email in emails}
    for delivery in ours:
        org = next(iter(delivery.reports.all())).organisation_id
        assert delivery.key == f"distribution-notice:aip:d-1:{org}:{delivery.recipient}"
        assert delivery.subject == "Distribution notice: AIP, distribution d-1"


def test_a_repeated_task_or_a_rebuild_stores_and_sends_nothing_twice(
    paid,
    in_process,
    django_capture_on_commit_callbacks,
):
    reports, deliveries = StoredReport.objects.count(), Delivery.objects.count()
    make_distribution_notices.delay("aip", "d-1")
    with django_capture_on_commit_callbacks(execute=True) as queued:
        runner.rebuild(NAME)
    assert (StoredReport.objects.count(), Delivery.objects.count()) == (reports, deliveries)
    assert [c for c in queued if "queue_distribution_notices" in c.__qualname__] == []
