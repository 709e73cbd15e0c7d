"""The distribution endpoints: proceeds, prepare, approve, pay; each rule broken through
the API is a 4xx problem+json in a deal team's words and appends nothing."""

from typing import Any

import pytest

from consortium.streams import load_consortium
from ledger import store
from tests.consortium.distributions.scenario import with_proceeds

pytestmark = pytest.mark.django_db

A = "/api/v1/consortia/aip/"
PROBLEM = "application/problem+json"
D = "2025-06-01"
BODY: dict[str, Any] = {
    "distribution_id": "d-1",
    "amount": "250.00",
    "kind": "capital",
    "recallable": [{"organisation_id": "mgx", "amount": "60.00"}],
    "purpose": "Sale of part of DC 1",
    "effective_on": "2025-05-02",
}


@pytest.fixture
def world(issued_call, alice, bob) -> int:
    with_proceeds(alice, bob)
    return store.head()


def post(api, path, body):
    return api.post(path, body, format="json")


def problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    return body


def test_proceeds_then_a_distribution_prepared_approved_and_paid(world, api_client_for):
    finance = api_client_for("finance")
    recorded = post(
        finance,
        A + "proceeds/",
        {
            "proceeds_id": "p-3",
            "asset_id": "dc-1",
            "kind": "income",
            "amount": "10.00",
            "received_on": "2025-05-01",
        },
    )
    assert recorded.status_code == 201, recorded.content
    assert recorded.json()["kind"] == "income" and recorded.json()["amount"] == "10.00"
    deal = api_client_for("deal_team", username="carol")
    prepared = post(deal, A + "distributions/", BODY)
    assert prepared.status_code == 201, prepared.content
    body = prepared.json()
    assert body["status"] == "draft" and body["prepared_by"] == "carol"
    assert body["recallable"] == [{"amount": "60.00", "organisation_id": "mgx"}]
    approved = post(finance, A + "distributions/d-1/approve/", {"effective_on": "2025-05-03"})
    assert approved.status_code == 201, approved.content
    assert approved.json()["status"] == "approved"
    paid = post(finance, A + "distributions/d-1/pay/", {"effective_on": "2025-05-05"})
    assert paid.status_code == 201, paid.content
    state = load_consortium("aip").state
    assert state.partners["mgx"].recallable_minor == 6000
    assert state.distributions["d-1"].status == "paid"


def test_each_broken_rule_is_a_problem_and_appends_nothing(world, api_client_for):
    carol = api_client_for("deal_team", username="carol")
    finance = api_client_for("finance")
    over = problem(post(carol, A + "distributions/", {**BODY, "amount": "250.01"}), 422)
    assert over["detail"] == (
        "AIP has USD 250.00 of proceeds not yet distributed; a distribution of USD 250.01 "
        "exceeds it."
    )
    assert over["type"].endswith("/distribution-exceeds-proceeds")
    recall = {**BODY, "recallable": [{"organisation_id": "mgx", "amount": "150.01"}]}
    above = problem(post(carol, A + "distributions/", recall), 422)
    assert above["errors"] == {"recallable": [above["detail"]]}
    assert "Mgx's share of the distribution is USD 150.00" in above["detail"]
    twice = {**BODY, "recallable": BODY["recallable"] * 2}
    assert "recallable" in problem(post(carol, A + "distributions/", twice), 400)["errors"]
    bad_kind = problem(post(carol, A + "distributions/", {**BODY, "kind": "bonus"}), 400)
    assert "kind" in bad_kind["errors"]
    never = {"asset_id": "dc-9", "kind": "income", "amount": "1.00", "received_on": "2025-05-01"}
    assert problem(post(finance, A + "proceeds/", never), 404)["detail"].startswith("No asset")
    assert store.head() == world

    assert post(carol, A + "distributions/", BODY).status_code == 201
    head = store.head()
    unapproved = problem(post(finance, A + "distributions/d-1/pay/", {}), 422)
    assert "is draft; it can be paid only while approved" in unapproved["detail"]
    carol_again = api_client_for("deal_team", username="carol")
    own = problem(post(carol_again, A + "distributions/d-1/approve/", {}), 422)
    assert own["detail"] == "carol prepared distribution 'd-1'; a second person must approve it."
    unknown = problem(post(finance, A + "distributions/d-9/approve/", {}), 422)
    assert "No distribution 'd-9'" in unknown["detail"]
    assert store.head() == head


def test_a_call_above_unfunded_including_recallable_is_refused(world, api_client_for):
    carol = api_client_for("deal_team", username="carol")
    finance = api_client_for("finance")
    assert post(carol, A + "distributions/", BODY).status_code == 201
    assert post(finance, A + "distributions/d-1/approve/", {"effective_on": "2025-05-03"})
    assert post(finance, A + "distributions/d-1/pay/", {"effective_on": "2025-05-05"})
    head = store.head()
    call = {"amount": "560.01", "due_on": "2025-07-01", "purpose": "Build", "effective_on": D}
    refused = problem(post(carol, A + "capital-calls/", call), 422)
    assert "The total unfunded equity is USD 560.00" in refused["detail"]
    assert store.head() == head
    assert post(carol, A + "capital-calls/", {**call, "amount": "560.00"}).status_code == 201


def test_only_finance_or_the_deal_team_may_pay_and_auditors_nothing(world, api_client_for):
    auditor = api_client_for("auditor")
    assert problem(post(auditor, A + "distributions/", BODY), 403)
    assert problem(post(api_client_for("finance"), A + "distributions/", BODY), 403)
    assert store.head() == world
