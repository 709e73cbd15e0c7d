"""Rendered answers and events kept per process (``consortium.api.rendered``): a kept
answer is byte for byte what a fresh render gives, and no write is ever hidden by one."""

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consortium import services as s
from consortium.api import rendered
from consortium.domain.money import Money
from ledger import store
from ledger.projections import runner
from tests.consortium.api.test_reads import ENDPOINTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db) -> int:
    call_command("seed_demo", verbosity=0)
    runner.catch_up_all()
    return store.head()


@pytest.fixture
def client_for(api_client_for):
    return api_client_for


def _commit(amount: str) -> None:
    alice = get_user_model().objects.get(username="alice.deal")
    s.commitment_record(
        actor=s.Actor(alice),
        slug="aip",
        commitment_id=f"extra-{amount}",
        organisation_id="mgx",
        instrument="equity",
        amount=Money.of(amount, "USD"),
        stage="signed",
        effective_on=dt.date(2025, 6, 1),
    )


def _tables(queries: CaptureQueriesContext) -> str:
    return " ".join(q["sql"] for q in queries.captured_queries)


def test_a_kept_progress_answer_equals_a_fresh_one_and_a_write_retires_it(seeded, client_for):
    api = client_for("finance")
    first = api.get(ENDPOINTS["progress"])
    with CaptureQueriesContext(connection) as kept_read:
        kept = api.get(ENDPOINTS["progress"])
    assert kept.content == first.content
    assert "fundraising" not in _tables(kept_read)  # answered from the kept render
    rendered.clear()
    assert api.get(ENDPOINTS["progress"]).content == first.content

    def signed(body):
        return {row["instrument"]: row["signed"] for row in body["instruments"]}["equity"]

    signed_before = signed(first.json())
    _commit("1000000.00")
    runner.catch_up_all()
    after = api.get(ENDPOINTS["progress"]).json()
    assert after["position"] == store.head() > first.json()["position"]
    assert signed(after) != signed_before


def test_an_answer_built_while_a_catch_up_committed_is_not_kept(seeded, client_for, monkeypatch):
    api = client_for("finance")
    states = iter([(10, 1), (11, 1)])  # moved on between the two looks
    real = runner.live_state
    monkeypatch.setattr(runner, "live_state", lambda name: next(states, None) or real(name))
    api.get(ENDPOINTS["progress"])
    assert rendered.answers.get((("progress", "aip"), (10, 1))) is None


def test_ownership_is_kept_by_the_ownership_projections_state(seeded, client_for):
    api = client_for("auditor")
    first = api.get(ENDPOINTS["ownership"])
    assert first.status_code == 200
    state = runner.live_state("ownership")
    assert rendered.answers.get((("ownership", "aip-dc-virginia"), state)) == first.content
    assert api.get("/api/v1/assets/no-such-asset/ownership/").status_code == 404


def test_unknown_consortia_are_never_kept(seeded, client_for):
    api = client_for("finance")
    assert api.get("/api/v1/consortia/nobody/progress/").status_code == 404
    assert api.get("/api/v1/consortia/nobody/progress/").status_code == 404


@pytest.mark.parametrize("limit", [1, 7, 100])
def test_a_feed_page_of_kept_events_equals_one_read_from_the_ledger(seeded, client_for, limit):
    api = client_for("auditor")
    pages = []
    for after in range(0, seeded, limit):
        pages.append(api.get(ENDPOINTS["events"], {"after": after, "limit": limit}))
    for after, first in zip(range(0, seeded, limit), pages, strict=True):
        with CaptureQueriesContext(connection) as queries:
            again = api.get(ENDPOINTS["events"], {"after": after, "limit": limit})
        assert again.content == first.content
        assert "ledger_event" not in _tables(queries)
    rendered.clear()
    body = api.get(ENDPOINTS["events"], {"after": 0, "limit": limit}).json()
    assert body == json.loads(pages[0].content)
    assert [e["position"] for e in body["results"]] == list(range(1, min(limit, seeded) + 1))


def test_a_kept_page_at_the_tail_grows_with_the_ledger(seeded, client_for):
    api = client_for("auditor")
    tail = api.get(ENDPOINTS["events"], {"after": seeded - 2, "limit": 100}).json()
    assert [e["position"] for e in tail["results"]] == [seeded - 1, seeded]
    _commit("2000000.00")
    grown = api.get(ENDPOINTS["events"], {"after": seeded - 2, "limit": 100}).json()
    assert [e["position"] for e in grown["results"]] == [seeded - 1, seeded, seeded + 1]
    assert grown["next_after"] == grown["head"] == seeded + 1
    assert grown["results"][:2] == tail["results"]


@pytest.mark.parametrize(
    "params", [{"after": "5.0"}, {"limit": "0"}, {"limit": "1001"}, {"after": "-1"}]
)
def test_feed_parameters_outside_the_plain_form_still_get_the_serializers_answer(
    seeded, client_for, params
):
    response = client_for("auditor").get(ENDPOINTS["events"], params)
    expected = 200 if params == {"after": "5.0"} else 400
    assert response.status_code == expected
