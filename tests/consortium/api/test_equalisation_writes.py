"""Equalisation through the API: the DOMAIN.md example (A 60, B 40 called 50 %, C commits
50 and is equalised on 1 July at 8 %: 25 plus 0.67, paid 0.40 to A and 0.27 to B), two
people, the positions; refusals are problem+json with nothing appended."""

import datetime as dt
from decimal import Decimal

import pytest

from consortium import services as s
from consortium.domain.events import EqualisationCallPrepared, event_from_stored
from ledger import store
from ledger.projections import runner
from tests.consortium.conftest import usd

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
E = "/api/v1/consortia/example/"


def post(api, path, body):
    return api.post(path, body, format="json")


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    return response.json()


@pytest.fixture
def example(formed, alice, bob):
    """DOMAIN.md's example: 'example' with A 60 and B 40 signed, called 50 % (A 30, B 20)
    due 1 March and paid; C admitted on 1 May with 50 signed; equalisation rate 8 %."""
    formed("example", {"a": "60.00", "b": "40.00"})
    s.interest_rate_set(
        actor=bob, slug="example", kind="equalisation", rate=Decimal(8),
        effective_on=dt.date(2025, 1, 6),
    )  # fmt: skip
    s.capital_call_prepare(
        actor=alice, slug="example", call_id="call-1", amount=usd("50.00"),
        due_on=dt.date(2025, 3, 1), purpose="Land", effective_on=dt.date(2025, 2, 1),
    )  # fmt: skip
    s.capital_call_approve(
        actor=bob, slug="example", call_id="call-1", effective_on=dt.date(2025, 2, 2)
    )
    s.capital_call_issue(
        actor=bob, slug="example", call_id="call-1", effective_on=dt.date(2025, 2, 3)
    )
    for org, amount in (("a", "30.00"), ("b", "20.00")):
        s.contribution_receive(
            actor=bob, slug="example", contribution_id=f"k-{org}", call_id="call-1",
            organisation_id=org, amount=usd(amount), bank_reference=org,
            received_on=dt.date(2025, 3, 1),
        )  # fmt: skip
    s.partner_admit(
        actor=alice, slug="example", organisation_id="c", name="C", role="member",
        effective_on=dt.date(2025, 5, 1),
    )  # fmt: skip
    s.commitment_record(
        actor=alice, slug="example", commitment_id="example-c", organisation_id="c",
        instrument="equity", amount=usd("50.00"), stage="signed",
        effective_on=dt.date(2025, 5, 1),
    )  # fmt: skip
    return "example"


PREPARE = {
    "call_id": "eq-c",
    "organisation_id": "c",
    "due_on": "2025-07-01",
    "effective_on": "2025-06-01",
}


def test_the_domain_example_through_the_api(example, api_client_for):
    carol = api_client_for("deal_team", username="carol")
    dave = api_client_for("deal_team", username="dave")
    head = store.head()
    prepared = post(carol, E + "equalisation-calls/", PREPARE)
    assert prepared.status_code == 201, prepared.content
    assert prepared.json()["prepared_by"] == "carol"
    [recorded] = store.read_all(after=head)
    event = event_from_stored(recorded.type, recorded.data)
    assert isinstance(event, EqualisationCallPrepared)
    assert (event.amount, event.interest) == (usd("25.00"), usd("0.67"))
    assert [(a.organisation_id, a.amount) for a in event.interest_shares] == [
        ("a", usd("0.40")),
        ("b", usd("0.27")),
    ]
    approve = E + "equalisation-calls/eq-c/approve/"
    head = store.head()
    same = assert_problem(post(carol, approve, {"effective_on": "2025-06-02"}), 422)
    assert same["detail"] == (
        "carol prepared equalisation call 'eq-c'; a second person must approve it."
    )
    assert store.head() == head
    approved = post(dave, approve, {"effective_on": "2025-06-02"})
    assert approved.status_code == 201, approved.content
    assert approved.json()["status"] == "issued"
    runner.catch_up_all()
    rows = {p["organisation_id"]: p for p in dave.get(E + "positions/").json()["results"]}
    c = rows["c"]
    assert (c["called"], c["equalisation_called"], c["equalisation_owed"]) == (
        "25.00",
        "25.00",
        "25.00",
    )
    assert (c["equalisation_interest_paid"], c["unfunded"]) == ("0.67", "25.00")
    assert rows["a"]["equalisation_interest_received"] == "0.40"
    assert rows["b"]["equalisation_interest_received"] == "0.27"
    assert (rows["a"]["called"], rows["b"]["called"]) == ("30.00", "20.00")
    calls = {x["call_id"]: x for x in dave.get(E + "capital-calls/").json()["results"]}
    assert calls["eq-c"]["amount"] == "25.00"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({**PREPARE, "organisation_id": "a"}, "no capital was called before that"),
        ({**PREPARE, "organisation_id": "nobody"}, "'nobody' is not a partner of EXAMPLE"),
        ({**PREPARE, "due_on": "2025-05-31"}, "is before the call's own date"),
        ({**PREPARE, "call_id": "call-1"}, "already"),
    ],
)
def test_equalisation_refusals_are_422_and_append_nothing(example, api_client_for, body, words):
    head = store.head()
    problem = assert_problem(
        post(api_client_for("deal_team"), E + "equalisation-calls/", body), 422
    )
    assert words in problem["detail"]
    assert store.head() == head


def test_only_the_deal_team_prepares_equalisation(example, api_client_for):
    head = store.head()
    for role in ("finance", "auditor", "partner:a"):
        assert_problem(post(api_client_for(role), E + "equalisation-calls/", PREPARE), 403)
    assert store.head() == head
