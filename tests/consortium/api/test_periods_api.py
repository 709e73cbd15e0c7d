"""Sealed periods through the API: finance closes, a back-dated write into the closed
period is a 422 problem naming the period (nothing appended), reopening takes two people,
and a correction may name the position it corrects."""

from typing import Any

import pytest

from ledger import store
from tests.consortium.api.test_writes import A, assert_problem, post, world  # noqa: F401

pytestmark = pytest.mark.django_db

CLOSE = A + "periods/close/"
FX_IN_JANUARY = {"currency": "EUR", "rate": "1.08", "effective_on": "2025-01-20"}


def close_january(api: Any) -> dict[str, Any]:
    response = post(api, CLOSE, {"closing_date": "2025-01-31", "effective_on": "2025-02-10"})
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def test_finance_closes_a_period_and_is_answered_with_the_seal(world, api_client_for):  # noqa: F811
    finance = api_client_for("finance")
    body = close_january(finance)
    assert body["consortium"] == "aip" and body["closing_date"] == "2025-01-31"
    assert body["closed_by"] == finance.user.username
    assert body["positions"] == [store.head()]
    *before, event = store.read_stream("consortium-aip")
    # The head the decision saw: the consortium's own last event.
    assert event.type == "PeriodClosed" and event.data["position"] == before[-1].position <= world
    assert event.data["chain_hash"] == store.hash_at(before[-1].position)


@pytest.mark.parametrize(("caller", "status"), [("auditor", 403), ("partner:mgx", 403)])
def test_only_finance_and_the_deal_team_close(world, api_client_for, caller, status):  # noqa: F811
    body = {"closing_date": "2025-01-31", "effective_on": "2025-02-10"}
    assert_problem(post(api_client_for(caller), CLOSE, body), status)
    assert store.head() == world
    assert post(api_client_for("deal_team"), CLOSE, body).status_code == 201


def test_a_back_dated_contribution_into_the_closed_period_is_a_422_problem(
    world,  # noqa: F811
    api_client_for,
):
    finance = api_client_for("finance")
    close_january(finance)
    sealed = store.read_stream("consortium-aip")[-1].data["position"]
    head = store.head()
    response = post(
        finance,
        A + "capital-calls/call-1/contributions/",
        {
            "contribution_id": "c-late",
            "organisation_id": "microsoft",
            "amount": "10.00",
            "bank_reference": "LATE",
            "received_on": "2025-01-31",
        },
    )
    problem = assert_problem(response, 422)
    assert problem["type"].endswith("/period-closed")
    assert problem["detail"] == (
        f"AIP's books are closed up to 31 January 2025 (sealed at position {sealed}); record "
        "the correction in the next open period, dated 1 February 2025 or later."
    )
    assert "effective_on" in problem["errors"]
    assert store.head() == head


def test_a_back_dated_stake_of_the_consortium_is_a_422_problem(world, api_client_for):  # noqa: F811
    close_january(api_client_for("finance"))
    head = store.head()
    response = post(
        api_client_for("deal_team"),
        "/api/v1/assets/dc-1/stakes/",
        {
            "action": "acquire",
            "holder": {"kind": "consortium", "id": "aip"},
            "percent": "10",
            "effective_on": "2025-01-20",
        },
    )
    assert assert_problem(response, 422)["type"].endswith("/period-closed")
    assert store.head() == head


def test_reopening_through_the_api_takes_two_people(world, api_client_for):  # noqa: F811
    first, second = api_client_for("finance"), api_client_for("finance")
    close_january(first)
    assert_problem(post(first, A + "fx-rates/", FX_IN_JANUARY), 422)
    proposed = post(first, A + "periods/reopen/", {"reason": "A late bank statement"})
    assert proposed.status_code == 201, proposed.content
    assert proposed.json()["proposed_by"] == first.user.username
    head = store.head()
    refused = assert_problem(post(first, A + "periods/reopen/approve/", {}), 422)
    assert refused["type"].endswith("/same-person-cannot-approve")
    assert store.head() == head
    approved = post(second, A + "periods/reopen/approve/", {})
    assert approved.status_code == 201, approved.content
    assert approved.json()["approved_by"] == second.user.username
    # January is open again: a rate dated inside it, refused while it was closed, goes in.
    response = post(first, A + "fx-rates/", FX_IN_JANUARY)
    assert response.status_code == 201, response.content


def test_a_reversal_may_name_the_position_it_corrects(world, api_client_for):  # noqa: F811
    finance = api_client_for("finance")
    close_january(finance)
    response = post(
        finance,
        A + "capital-calls/call-1/contributions/c-1/reverse/",
        {"reason": "Returned by the bank", "effective_on": "2025-02-11", "corrects_position": 7},
    )
    assert response.status_code == 201, response.content
    assert response.json()["corrects_position"] == 7
    assert store.read_stream("consortium-aip")[-1].data["corrects_position"] == 7
    bad = post(
        finance,
        A + "capital-calls/call-1/contributions/c-1/reverse/",
        {"reason": "Again", "corrects_position": 0},
    )
    assert_problem(bad, 400)
