"""Interest through the API: a late contribution's interest is appended with it and shows
in the positions; the waiver takes two people; refusals are problem+json 4xx with nothing
appended (a lone waiver, a negative or absurd rate, interest that does not exist)."""

import datetime as dt
from decimal import Decimal

import pytest

from consortium import services as s
from ledger import store
from ledger.projections import runner

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
A = "/api/v1/consortia/aip/"
WAIVER = A + "contributions/c-late/late-interest/waiver/"


def post(api, path, body):
    return api.post(path, body, format="json")


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    return response.json()


@pytest.fixture
def late(issued_call, bob):
    """'aip': call-1 of 500.00 due 1 March 2025 (mgx 300, microsoft 200); the default rate
    is 8 % from 6 January."""
    s.interest_rate_set(
        actor=bob, slug="aip", kind="default", rate=Decimal(8), effective_on=dt.date(2025, 1, 6)
    )
    return "aip"


def pay_late(api):
    """mgx pays its 300.00 on 31 March, 30 days late: 300 x 8 % x 30 / 365 = 1.9726... ->
    USD 1.97 of interest."""
    return post(
        api,
        A + "capital-calls/call-1/contributions/",
        {
            "contribution_id": "c-late",
            "organisation_id": "mgx",
            "amount": "300.00",
            "bank_reference": "MGX-LATE",
            "received_on": "2025-03-31",
        },
    )


def test_a_late_contribution_appends_its_interest_and_shows_in_positions(late, api_client_for):
    finance = api_client_for("finance")
    head = store.head()
    response = pay_late(finance)
    assert response.status_code == 201, response.content
    appended = store.read_all(after=head)
    assert [e.type for e in appended] == ["ContributionReceived", "LatePaymentInterestCharged"]
    assert response.json()["positions"] == [e.position for e in appended]
    assert appended[1].data["amount"] == {"amount": "1.97", "currency": "USD"}
    runner.catch_up_all()
    rows = {p["organisation_id"]: p for p in finance.get(A + "positions/").json()["results"]}
    assert (rows["mgx"]["late_interest_owed"], rows["mgx"]["currency"]) == ("1.97", "USD")
    assert rows["microsoft"]["late_interest_owed"] == "0.00"
    assert rows["mgx"]["called"] == rows["mgx"]["contributed"]  # interest is not capital


def test_an_on_time_contribution_owes_no_interest(late, api_client_for):
    head = store.head()
    response = post(
        api_client_for("finance"),
        A + "capital-calls/call-1/contributions/",
        {
            "contribution_id": "c-on-time",
            "organisation_id": "microsoft",
            "amount": "200.00",
            "bank_reference": "MS",
            "received_on": "2025-03-01",
        },
    )
    assert response.status_code == 201
    assert [e.type for e in store.read_all(after=head)] == ["ContributionReceived"]


def test_the_waiver_takes_two_people(late, api_client_for):
    carol = api_client_for("finance", username="carol")
    carol_again = api_client_for("finance", username="carol")  # another key, same person
    dave = api_client_for("finance", username="dave")
    pay_late(carol)
    head = store.head()
    lone = assert_problem(post(carol, WAIVER + "approve/", {}), 422)
    assert "Nobody has proposed waiving" in lone["detail"]
    proposed = post(
        carol, WAIVER, {"reason": "The bank held the wire", "effective_on": "2025-04-01"}
    )
    assert proposed.status_code == 201, proposed.content
    assert proposed.json()["proposed_by"] == "carol"
    head = store.head()
    same = assert_problem(
        post(carol_again, WAIVER + "approve/", {"effective_on": "2025-04-02"}), 422
    )
    assert same["detail"] == "carol proposed this waiver; a second person must approve it."
    assert same["type"].endswith("/same-person-cannot-approve")
    assert store.head() == head
    approved = post(dave, WAIVER + "approve/", {"effective_on": "2025-04-02"})
    assert approved.status_code == 201, approved.content
    assert approved.json()["approved_by"] == "dave"
    runner.catch_up_all()
    mgx = next(
        p for p in dave.get(A + "positions/").json()["results"] if p["organisation_id"] == "mgx"
    )
    assert (mgx["late_interest_owed"], mgx["late_interest_waived"]) == ("0.00", "1.97")


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"kind": "default", "rate": "-8"}, 400, ""),  # not a decimal string the API takes
        ({"kind": "default", "rate": "800"}, 422, "800 % a year is more than 100 %"),
        ({"kind": "default", "rate": "8.123456"}, 422, "at most 4 decimal places"),
        ({"kind": "penalty", "rate": "8"}, 400, ""),
        ({"kind": "default", "rate": 8}, 400, ""),  # a JSON number could be a float
    ],
)
def test_negative_or_absurd_rates_are_problems_and_append_nothing(
    late, api_client_for, body, status, words
):
    head = store.head()
    problem = assert_problem(post(api_client_for("finance"), A + "interest-rates/", body), status)
    assert words in problem["detail"]
    assert store.head() == head


def test_waiving_interest_that_does_not_exist_is_422(late, api_client_for):
    head = store.head()
    problem = assert_problem(
        post(api_client_for("finance"), WAIVER, {"reason": "Nothing to waive"}), 422
    )
    assert problem["detail"] == "No late-payment interest is charged on contribution 'c-late'."
    assert store.head() == head


def test_only_finance_and_deal_teams_set_rates_and_waive(late, api_client_for):
    for role in ("auditor", "partner:mgx"):
        head = store.head()
        response = post(
            api_client_for(role), A + "interest-rates/", {"kind": "default", "rate": "9"}
        )
        assert_problem(response, 403)
        assert_problem(post(api_client_for(role), WAIVER, {"reason": "x"}), 403)
        assert store.head() == head
