"""A live dashboard's cost does not grow with the ledger: the same number of queries at two
ledger sizes, none of them reading events. The as-of view is the one that folds them."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consortium import services as s
from consortium.models import RoleGrant
from ledger.projections import registry, runner
from ledger.store import head

pytestmark = pytest.mark.django_db

PAGES = [("admin:index", []), ("admin:workspace-consortium", ["aip"])]


def catch_up() -> None:
    """Every registered projection (tests may have registered their own) to the head."""
    for name in registry.names():
        runner.catch_up(name)


def grow_the_ledger(events: int) -> None:
    """Append ``events`` more AIP events (FX rates, each a day later)."""
    user = get_user_model().objects.get(username="bob.finance")
    for day in range(events):
        s.fx_rate_record(
            actor=s.Actor(user),
            slug="aip",
            currency="EUR",
            rate=Decimal("1.08") + Decimal(day) / 10_000,
            effective_on=dt.date(2025, 4, 1) + dt.timedelta(days=day),
        )
    catch_up()


def queries(client, name: str, args: list[str]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


@pytest.fixture
def reader(client):
    call_command("seed_demo", stdout=StringIO())
    catch_up()
    user = get_user_model().objects.create_user("ann", password="pw", is_staff=True)
    RoleGrant.objects.create(user=user, role="deal_team", consortium="")
    client.force_login(user)
    return client


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_live_pages_cost_the_same_queries_at_two_ledger_sizes_and_read_no_events(
    reader, django_assert_max_num_queries, name, args
):
    small = queries(reader, name, args)
    before = head()
    grow_the_ledger(120)
    assert head() >= before + 120
    large = queries(reader, name, args)
    assert len(large) == len(small)
    with django_assert_max_num_queries(len(small)):
        reader.get(reverse(name, args=args))
    assert not [sql for sql in small + large if "ledger_event" in sql]


def test_the_as_of_view_reads_the_ledger(reader):
    with CaptureQueriesContext(connection) as captured:
        response = reader.get(
            reverse("admin:workspace-consortium", args=["aip"]), {"on": "2025-03-01"}
        )
    assert response.status_code == 200
    assert [q for q in captured.captured_queries if "ledger_event" in q["sql"]]
