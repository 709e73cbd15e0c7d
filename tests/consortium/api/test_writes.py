"""The write endpoints: every endpoint for every caller, idempotency, If-Match, the
words of a refusal, and bad input (always a 4xx problem, never an append)."""

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from consortium import services as s
from consortium.domain.money import Money, Percent
from consortium.domain.values import Holder
from consortium.models import ApiClient
from ledger import store
from ledger.models import Receipt
from tests.consortium.api.conftest import CALLERS

pytestmark = pytest.mark.django_db

FORMED = dt.date(2025, 1, 6)
PROBLEM = "application/problem+json"
A = "/api/v1/consortia/aip/"


def usd(amount: str) -> Money:
    return Money.of(Decimal(amount), "USD")


@pytest.fixture
def world(issued_call, alice, bob):
    """'aip' with mgx 600 / microsoft 400 signed; call-1 (500) issued, mgx paid 50 (c-1);
    100.00 of proceeds, distribution dist-1 a draft and dist-2 approved (10.00 each);
    call-2 a draft and call-3 approved (both prepared by alice); a pipeline commitment;
    facility fac-1 with 100 drawn; asset dc-1, half held by aip."""
    on = dt.date(2025, 2, 5)
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="c-1",
        call_id="call-1",
        organisation_id="mgx",
        amount=usd("50.00"),
        bank_reference="REF1",
        received_on=on,
    )
    for call in ("call-2", "call-3"):
        s.capital_call_prepare(
            actor=alice,
            slug="aip",
            call_id=call,
            amount=usd("100.00"),
            due_on=dt.date(2025, 4, 1),
            purpose="Power",
            effective_on=on,
        )
    s.capital_call_approve(actor=bob, slug="aip", call_id="call-3", effective_on=on)
    s.commitment_record(
        actor=alice,
        slug="aip",
        commitment_id="aip-pipe",
        organisation_id="mgx",
        instrument="corporate_partnership",
        amount=usd("80.00"),
        stage="indicated",
        effective_on=on,
    )
    s.partner_admit(
        actor=alice,
        slug="aip",
        organisation_id="jpm",
        name="JPMorgan",
        role="lender",
        effective_on=FORMED,
    )
    s.facility_arrange(
        actor=alice,
        slug="aip",
        facility_id="fac-1",
        lender="jpm",
        amount=usd("1000.00"),
        maturity_on=dt.date(2030, 1, 1),
        revolving=True,
        effective_on=on,
    )
    s.facility_draw(
        actor=bob,
        slug="aip",
        facility_id="fac-1",
        draw_id="d-1",
        amount=usd("100.00"),
        effective_on=on,
    )
    s.asset_register(
        actor=alice,
        asset_id="dc-1",
        sponsor="aip",
        kind="data_centre",
        name="DC One",
        location="Texas",
        capacity_mw=Decimal(100),
        estimated_cost=usd("1000.00"),
        effective_on=FORMED,
    )
    s.stake_acquire(
        actor=alice,
        asset_id="dc-1",
        holder=Holder.consortium("aip"),
        percent=Percent.of("50"),
        effective_on=on,
    )
    # --- distributions: 100.00 of proceeds; dist-1 a draft, dist-2 approved ---
    s.proceeds_record(
        actor=bob,
        slug="aip",
        proceeds_id="p-0",
        asset_id="dc-1",
        kind="income",
        amount=usd("100.00"),
        received_on=on,
    )
    for distribution_id in ("dist-1", "dist-2"):
        s.distribution_prepare(
            actor=alice,
            slug="aip",
            distribution_id=distribution_id,
            amount=usd("10.00"),
            kind="income",
            purpose="Rent",
            effective_on=on,
        )
    s.distribution_approve(actor=bob, slug="aip", distribution_id="dist-2", effective_on=on)
    return store.head()


W, F = "write", "finance_write"
D = "2025-02-10"
# name: (path, body, capability)
ENDPOINTS: dict[str, tuple[str, dict[str, Any], str]] = {
    "form": (
        "/api/v1/consortia/",
        {"name": "Newco", "slug": "newco", "base_currency": "USD", "formed_on": "2025-01-01"},
        W,
    ),
    "target": (A + "targets/", {"instrument": "equity", "amount": "1000.00"}, W),
    "admit": (
        A + "partners/",
        {"organisation_id": "xai", "name": "xAI", "role": "member", "effective_on": D},
        W,
    ),
    "role": (A + "partners/mgx/role/", {"role": "founding_member", "effective_on": D}, W),
    "commit": (
        A + "commitments/",
        {
            "commitment_id": "aip-new",
            "organisation_id": "microsoft",
            "instrument": "asset_contribution",
            "amount": "50.00",
            "stage": "indicated",
            "effective_on": D,
        },
        W,
    ),
    "stage": (A + "commitments/aip-pipe/stage/", {"stage": "soft_circled", "effective_on": D}, W),
    "amend": (A + "commitments/aip-mgx/amend/", {"amount": "700.00", "effective_on": D}, W),
    "prepare": (
        A + "capital-calls/",
        {
            "call_id": "call-9",
            "amount": "100.00",
            "due_on": "2025-04-01",
            "purpose": "Land",
            "effective_on": D,
        },
        W,
    ),
    "approve": (A + "capital-calls/call-2/approve/", {"effective_on": D}, W),
    "issue": (A + "capital-calls/call-3/issue/", {"effective_on": D}, W),
    "cancel": (A + "capital-calls/call-2/cancel/", {"reason": "Not needed"}, W),
    "contribute": (
        A + "capital-calls/call-1/contributions/",
        {
            "contribution_id": "c-9",
            "organisation_id": "mgx",
            "amount": "100.00",
            "bank_reference": "REF9",
            "received_on": D,
        },
        F,
    ),
    "reverse": (
        A + "capital-calls/call-1/contributions/c-1/reverse/",
        {"reason": "Returned by the bank", "effective_on": D},
        F,
    ),
    "facility": (
        A + "facilities/",
        {
            "facility_id": "fac-9",
            "lender": "jpm",
            "amount": "1000.00",
            "maturity_on": "2030-01-01",
            "revolving": True,
            "effective_on": D,
        },
        W,
    ),
    "draw": (A + "facilities/fac-1/draws/", {"draw_id": "d-9", "amount": "10.00"}, F),
    "repay": (A + "facilities/fac-1/repayments/", {"repayment_id": "r-9", "amount": "10.00"}, F),
    "fx": (A + "fx-rates/", {"currency": "EUR", "rate": "1.08", "effective_on": D}, F),
    # --- interest and equalisation (the waiver endpoints: test_interest_writes.py) ---
    "interest_rate": (
        A + "interest-rates/",
        {"kind": "default", "rate": "8", "effective_on": D},
        F,
    ),
    "asset": (
        "/api/v1/assets/",
        {
            "asset_id": "dc-9",
            "sponsor": "aip",
            "kind": "data_centre",
            "name": "DC Nine",
            "location": "Virginia",
            "capacity_mw": "300",
            "estimated_cost": "2000.00",
            "effective_on": D,
        },
        W,
    ),
    "stake": (
        "/api/v1/assets/dc-1/stakes/",
        {
            "action": "acquire",
            "holder": {"kind": "organisation", "id": "mgx"},
            "percent": "10",
            "effective_on": D,
        },
        W,
    ),
    # sealed periods (reopening needs a closed period first: tests/consortium/api/
    # test_periods_api.py covers its two endpoints, REOPENING below)
    "close": (A + "periods/close/", {"closing_date": "2025-01-31", "effective_on": D}, F),
}
REOPENING = ("period_reopen_propose", "period_reopen_approve")
# --- distributions ---
ENDPOINTS.update(
    {
        "proceeds": (
            A + "proceeds/",
            {
                "proceeds_id": "p-9",
                "asset_id": "dc-1",
                "kind": "sale",
                "amount": "10.00",
                "received_on": D,
            },
            F,
        ),
        "distribute": (
            A + "distributions/",
            {
                "distribution_id": "dist-9",
                "amount": "10.00",
                "kind": "capital",
                "purpose": "Sale",
                "recallable": [{"organisation_id": "mgx", "amount": "1.00"}],
                "effective_on": D,
            },
            W,
        ),
        "distribution-approve": (A + "distributions/dist-1/approve/", {"effective_on": D}, F),
        "distribution-pay": (A + "distributions/dist-2/pay/", {"effective_on": D}, F),
    }
)
KEY_FIELDS: dict[str, dict[str, Any]] = {
    "form": {"slug": "newco"},
    "commit": {"commitment_id": "aip-new"},
    "prepare": {"call_id": "call-9", "status": "draft"},
    "approve": {"call_id": "call-2", "status": "approved"},
    "issue": {"call_id": "call-3", "status": "issued"},
    "cancel": {"call_id": "call-2", "status": "cancelled"},
    "contribute": {"contribution_id": "c-9", "amount": "100.00", "currency": "USD"},
    "reverse": {"contribution_id": "c-1"},
    "facility": {"facility_id": "fac-9", "revolving": True},
    "draw": {"draw_id": "d-9", "currency": "USD"},
    "repay": {"repayment_id": "r-9"},
    "asset": {"asset_id": "dc-9", "sponsor": "aip"},
    "stake": {"asset_id": "dc-1", "action": "acquire", "percent": "10"},
    "close": {"closing_date": "2025-01-31"},
    # --- distributions ---
    "proceeds": {"proceeds_id": "p-9", "kind": "sale", "amount": "10.00"},
    "distribute": {"distribution_id": "dist-9", "status": "draft"},
    "distribution-approve": {"distribution_id": "dist-1", "status": "approved"},
    "distribution-pay": {"distribution_id": "dist-2", "status": "paid"},
}


def expected_status(caller: str, capability: str) -> int:
    if caller in {"none", "bad_key", "revoked", "expired"}:
        return 401
    if caller == "deal_team" or (caller == "finance" and capability == F):
        return 201
    return 403


def post(api, path, body, **headers):
    return api.post(path, body, format="json", **headers)


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert {"type", "title", "status", "detail", "errors"} <= set(body)
    assert body["status"] == status
    return body


@pytest.mark.parametrize("name", ENDPOINTS)
def test_every_write_endpoint_records_and_answers_201(world, api_client_for, name):
    path, body, capability = ENDPOINTS[name]
    api = api_client_for("deal_team" if capability == W else "finance")
    response = post(api, path, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["positions"] and all(isinstance(p, int) for p in data["positions"])
    assert data["positions"][-1] == store.head() > world
    assert response["ETag"] == f'"{data["version"]}"'
    assert data["stream"] and isinstance(data["version"], int)
    assert KEY_FIELDS.get(name, {}).items() <= data.items()
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", ENDPOINTS)
def test_every_write_endpoint_for_every_caller(world, api_client_for, name, caller):
    path, body, capability = ENDPOINTS[name]
    response = post(api_client_for(caller), path, body)
    status = expected_status(caller, capability)
    if status == 201:
        assert response.status_code == 201, response.content
        assert store.head() > world
    else:
        assert_problem(response, status)
        assert store.head() == world


def test_roles_granted_in_another_consortium_do_not_apply(world, api_client_for):
    other = api_client_for("deal_team", "other")
    for name in ("target", "asset", "stake"):
        path, body, _ = ENDPOINTS[name]
        assert_problem(post(other, path, body), 403)
    scoped = api_client_for("deal_team", "aip")
    assert post(scoped, *ENDPOINTS["asset"][:2]).status_code == 201
    assert post(scoped, *ENDPOINTS["stake"][:2]).status_code == 201
    assert_problem(post(api_client_for("finance", "other"), *ENDPOINTS["draw"][:2]), 403)


def test_reads_still_answer_on_paths_shared_with_writes(world, api_client_for):
    from ledger.projections import runner

    runner.catch_up_all()
    api = api_client_for("auditor")
    for path in ("/api/v1/consortia/", A + "capital-calls/", "/api/v1/assets/"):
        assert api.get(path).status_code == 200, path


# --- idempotency ----------------------------------------------------------------------


def test_a_repeat_with_the_same_key_replays_and_appends_nothing(world, api_client_for):
    api = api_client_for("finance")
    path, body, _ = ENDPOINTS["contribute"]
    first = post(api, path, body, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    head = store.head()
    again = post(api, path, body, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and again["ETag"] == first["ETag"]
    assert store.head() == head
    # Days later, the same answer still.
    Receipt.objects.update(recorded_at=timezone.now() - dt.timedelta(days=30))
    later = post(api, path, body, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert later.json() == first.json() and later["Idempotent-Replayed"] == "true"
    assert store.head() == head


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_replay_has_the_first_answers_bytes_and_etag(world, api_client_for, name):
    # On PostgreSQL the receipt's body comes back from jsonb with its keys reordered: the
    # replay must still be the same bytes, in the response serializer's order.
    path, body, capability = ENDPOINTS[name]
    api = api_client_for("deal_team" if capability == W else "finance")
    first = post(api, path, body, HTTP_IDEMPOTENCY_KEY=f"key-{name}")
    assert first.status_code == 201, first.content
    again = post(api, path, body, HTTP_IDEMPOTENCY_KEY=f"key-{name}")
    assert again.status_code == 201
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert again["Idempotent-Replayed"] == "true"
    assert list(first.json())[-3:] == ["stream", "version", "positions"]


def test_a_replay_answers_even_when_the_command_would_now_be_refused(world, api_client_for):
    api = api_client_for("deal_team")
    path, body, _ = ENDPOINTS["form"]
    first = post(api, path, body, HTTP_IDEMPOTENCY_KEY="form-1")
    head = store.head()
    assert post(api, path, body).status_code == 422  # without the key: already exists
    again = post(api, path, body, HTTP_IDEMPOTENCY_KEY="form-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert store.head() == head


def test_the_same_key_with_another_body_is_422(world, api_client_for):
    api = api_client_for("finance")
    path, body, _ = ENDPOINTS["contribute"]
    post(api, path, body, HTTP_IDEMPOTENCY_KEY="pay-1")
    head = store.head()
    other = post(api, path, {**body, "amount": "101.00"}, HTTP_IDEMPOTENCY_KEY="pay-1")
    problem = assert_problem(other, 422)
    assert problem["type"].endswith("idempotency-key-reused")
    assert "Idempotency-Key" in problem["errors"]
    # ... and on another path.
    assert_problem(post(api, *ENDPOINTS["draw"][:2], HTTP_IDEMPOTENCY_KEY="pay-1"), 422)
    assert store.head() == head


def test_a_key_belongs_to_one_client(world, api_client_for):
    path, body, _ = ENDPOINTS["contribute"]
    body = {k: v for k, v in body.items() if k != "contribution_id"}  # a new id each time
    first = post(api_client_for("finance"), path, body, HTTP_IDEMPOTENCY_KEY="pay-1")
    second = post(api_client_for("finance"), path, body, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert first.json()["contribution_id"] != second.json()["contribution_id"]
    assert Receipt.objects.filter(key="pay-1").count() == 2


def test_a_repeat_is_refused_by_the_append_and_replays_the_first_answer(world, api_client_for):
    """No query looks the key up first: a repeat decides again and goes to the append,
    which finds the receipt under the ledger lock and appends nothing; or its command is
    refused (here, as a duplicate formation) and the key is looked up before answering."""
    api = api_client_for("finance")
    path, body, _ = ENDPOINTS["contribute"]
    body = {k: v for k, v in body.items() if k != "contribution_id"}  # would append again
    first = post(api, path, body, HTTP_IDEMPOTENCY_KEY="pay-1")
    head = store.head()
    twin = post(api, path, body, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert twin.status_code == 201 and twin["Idempotent-Replayed"] == "true"
    assert twin.json() == first.json()
    assert store.head() == head  # the append refused the known key and wrote nothing

    form_path, form_body, _ = ENDPOINTS["form"]
    deal = api_client_for("deal_team")
    formed = post(deal, form_path, form_body, HTTP_IDEMPOTENCY_KEY="form-1")
    head = store.head()
    twin = post(deal, form_path, form_body, HTTP_IDEMPOTENCY_KEY="form-1")  # AlreadyExists
    assert (twin.status_code, twin.json()) == (201, formed.json())
    assert twin["Idempotent-Replayed"] == "true"
    assert store.head() == head


def test_a_repeat_with_another_body_under_the_key_is_422(world, api_client_for):
    """The append finds the first request's receipt under the ledger lock, appends
    nothing, and the key's reuse is reported; so is it when the other body is refused."""
    api = api_client_for("finance")
    path, body, _ = ENDPOINTS["contribute"]
    body = {k: v for k, v in body.items() if k != "contribution_id"}
    assert post(api, path, body, HTTP_IDEMPOTENCY_KEY="pay-9").status_code == 201
    head = store.head()
    other = post(api, path, {**body, "bank_reference": "OTHER-REF"}, HTTP_IDEMPOTENCY_KEY="pay-9")
    assert_problem(other, 422)
    assert other.json()["type"].endswith("idempotency-key-reused")
    assert store.head() == head
    refused = post(api, path, {**body, "amount": "-1"}, HTTP_IDEMPOTENCY_KEY="pay-9")
    assert_problem(refused, 422)
    assert refused.json()["type"].endswith("idempotency-key-reused")
    assert store.head() == head


def test_a_refusal_is_not_recorded_so_a_retry_decides_again(world, api_client_for):
    api = api_client_for("finance")
    path, body, _ = ENDPOINTS["contribute"]
    refused = post(api, path, {**body, "amount": "900.00"}, HTTP_IDEMPOTENCY_KEY="pay-2")
    assert_problem(refused, 422)
    assert not Receipt.objects.filter(key="pay-2").exists()


@pytest.mark.parametrize("key", ["", "a b", "x" * 256, "clé"])
def test_a_malformed_idempotency_key_is_400(world, api_client_for, key):
    response = post(api_client_for("finance"), *ENDPOINTS["draw"][:2], HTTP_IDEMPOTENCY_KEY=key)
    assert_problem(response, 400)
    assert store.head() == world


# --- If-Match -----------------------------------------------------------------------------


def test_if_match_stale_is_412_and_appends_nothing(world, api_client_for):
    api = api_client_for("finance")
    path, body, _ = ENDPOINTS["draw"]
    first = post(api, path, body)
    etag, version = first["ETag"], first.json()["version"]
    head = store.head()
    stale = post(api, path, {**body, "draw_id": "d-10"}, HTTP_IF_MATCH=f'"{version - 1}"')
    problem = assert_problem(stale, 412)
    assert "changed since you read it" in problem["detail"]
    assert store.head() == head
    fresh = post(api, path, {**body, "draw_id": "d-11"}, HTTP_IF_MATCH=etag)
    assert fresh.status_code == 201, fresh.content
    assert fresh["ETag"] == f'"{version + 1}"'


def test_if_match_compares_strongly_so_a_weak_etag_is_412(world, api_client_for):
    api = api_client_for("finance")
    path, body, _ = ENDPOINTS["draw"]
    etag = post(api, path, body)["ETag"]
    head = store.head()
    weak = post(api, path, {**body, "draw_id": "d-12"}, HTTP_IF_MATCH=f"W/{etag}")
    problem = assert_problem(weak, 412)
    assert "weak ETag never matches" in problem["detail"]
    assert store.head() == head


@pytest.mark.parametrize("value", ["abc", '"1', '"-1"', "1, 2", "*", '"1.5"', "1"])
def test_a_malformed_if_match_is_400(world, api_client_for, value):
    response = post(api_client_for("finance"), *ENDPOINTS["draw"][:2], HTTP_IF_MATCH=value)
    assert_problem(response, 400)
    assert store.head() == world


def test_a_concurrent_change_is_retried_once_then_409(world, api_client_for, monkeypatch):
    from ledger.store import WrongExpectedVersion

    def always_moved(stream, *args, **kwargs):
        raise WrongExpectedVersion(stream, 0, 1)

    monkeypatch.setattr(s, "append", always_moved)
    problem = assert_problem(post(api_client_for("finance"), *ENDPOINTS["draw"][:2]), 409)
    assert problem["type"].endswith("concurrent-change")
    assert store.head() == world


# --- the rules, in words ---------------------------------------------------------------------


def test_the_preparer_cannot_approve_but_a_colleague_can(world, api_client_for):
    carol = api_client_for("deal_team", username="carol")
    carol_again = api_client_for("deal_team", username="carol")  # another key, same person
    dave = api_client_for("deal_team", username="dave")
    path, body, _ = ENDPOINTS["prepare"]
    prepared = post(carol, path, body)
    assert prepared.json()["prepared_by"] == "carol"
    head = store.head()
    approve = A + "capital-calls/call-9/approve/"
    problem = assert_problem(post(carol_again, approve, {}), 422)
    assert problem["detail"] == (
        "carol prepared capital call 'call-9'; a second person must approve it."
    )
    assert problem["type"].endswith("/same-person-cannot-approve")
    assert store.head() == head
    approved = post(dave, approve, {})
    assert approved.status_code == 201 and approved.json()["by"] == "dave"


def test_a_broken_rule_is_422_in_a_deal_teams_words(world, api_client_for):
    finance = api_client_for("finance")
    path, body, _ = ENDPOINTS["contribute"]
    problem = assert_problem(post(finance, path, {**body, "amount": "1000.00"}), 422)
    assert problem["detail"] == (
        "Mgx owes USD 250.00 on capital call 'call-1'; a contribution of USD 1,000.00 exceeds it."
    )
    assert problem["errors"] == {"amount": [problem["detail"]]}
    deal = api_client_for("deal_team")
    path, body, _ = ENDPOINTS["prepare"]
    problem = assert_problem(post(deal, path, {**body, "amount": "2000.00"}), 422)
    assert "unfunded equity is USD" in problem["detail"]
    assert "USD 2,000.00 exceeds it" in problem["detail"]
    assert store.head() == world


# --- bad input ----------------------------------------------------------------------------

CONTRIBUTE = ENDPOINTS["contribute"][1]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 100}, "amount"),
        ({"amount": 100.5}, "amount"),
        ({"amount": "-1.00"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "0.00"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "Infinity"}, "amount"),
        ({"amount": "1e5"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "1" * 40}, "amount"),
        ({"amount": "1000000000000000.00"}, "amount"),
        ({"amount": None}, "amount"),
        ({"currency": "XXX"}, "currency"),
        ({"currency": "usd"}, "currency"),
        ({"received_on": "2025-02-30"}, "received_on"),
        ({"received_on": "yesterday"}, "received_on"),
        ({"received_on": 20250210}, "received_on"),
        ({"organisation_id": 5}, "organisation_id"),
        ({"organisation_id": ["mgx"]}, "organisation_id"),
        ({"bank_reference": "REF\x00"}, "bank_reference"),
        ({"bank_reference": {"a": 1}}, "bank_reference"),
        ({"contribution_id": "has space"}, "contribution_id"),
        ({"bank_reference": "x" * 201}, "bank_reference"),
    ],
)
def test_bad_fields_are_400_with_the_field_named(world, api_client_for, change, field):
    response = post(
        api_client_for("finance"),
        A + "capital-calls/call-1/contributions/",
        {**CONTRIBUTE, **change},
    )
    problem = assert_problem(response, 400)
    assert field in problem["errors"], problem
    assert store.head() == world


@pytest.mark.parametrize(
    ("name", "change", "field"),
    [
        ("facility", {"revolving": "yes"}, "revolving"),
        ("facility", {"maturity_on": "2030-13-01"}, "maturity_on"),
        ("fx", {"rate": "-1"}, "rate"),
        ("fx", {"currency": "ZZZ"}, "currency"),
        ("stake", {"action": "transfer"}, "to_holder"),
        ("stake", {"holder": {"kind": "person", "id": "mgx"}}, "holder.kind"),
        ("stake", {"percent": "12.34567"}, "percent"),
        ("stake", {"percent": "101"}, "percent"),
        ("target", {"tranches": [{"amount": "1.001", "available_from": D}]}, "tranches.0.amount"),
        ("form", {"base_currency": "BTC"}, "base_currency"),
        ("form", {"slug": "Not A Slug"}, "slug"),
        ("asset", {"capacity_mw": "lots"}, "capacity_mw"),
    ],
)
def test_bad_fields_of_other_endpoints_are_400(world, api_client_for, name, change, field):
    path, body, _ = ENDPOINTS[name]
    api = api_client_for("deal_team")
    problem = assert_problem(post(api, path, {**body, **change}), 400)
    assert field in problem["errors"], problem
    assert store.head() == world


@pytest.mark.parametrize(
    "path",
    [
        A + "capital-calls/nope/contributions/",
        A + "capital-calls/call-1/contributions/c-404/reverse/",
        A + "facilities/nope/draws/",
    ],
)
def test_unknown_ids_are_422_not_found(world, api_client_for, path):
    body = {**CONTRIBUTE, "reason": "x"} if "reverse" in path else CONTRIBUTE
    problem = assert_problem(post(api_client_for("finance"), path, body), 422)
    assert problem["type"].endswith("/not-found"), problem
    assert store.head() == world


def test_a_contribution_reversed_on_another_call_is_refused_by_the_rule(world, api_client_for):
    path = A + "capital-calls/call-2/contributions/c-1/reverse/"
    problem = assert_problem(post(api_client_for("finance"), path, {"reason": "x"}), 422)
    assert problem["type"].endswith("/contribution-on-another-call"), problem
    assert "received on capital call 'call-1', not 'call-2'" in problem["detail"]
    assert store.head() == world


@pytest.mark.parametrize(
    ("path", "role", "body"),
    [
        ("/api/v1/consortia/nope/capital-calls/call-1/contributions/", "finance", CONTRIBUTE),
        ("/api/v1/consortia/nope/commitments/", "deal_team", None),
        ("/api/v1/assets/nope/stakes/", "deal_team", None),
    ],
)
def test_an_unknown_consortium_or_asset_in_the_url_is_404_as_on_reads(
    world, api_client_for, path, role, body
):
    if body is None:
        body = ENDPOINTS["stake" if "assets" in path else "commit"][1]
    problem = assert_problem(post(api_client_for(role), path, body), 404)
    assert problem["type"].endswith("/not-found"), problem
    read = api_client_for("deal_team").get("/api/v1/consortia/nope/progress/")
    assert read.status_code == 404
    assert read.json()["type"] == problem["type"]
    assert store.head() == world


def test_an_unknown_organisation_or_sponsor_in_the_body_is_422(world, api_client_for):
    finance = api_client_for("finance")
    path = A + "capital-calls/call-1/contributions/"
    assert_problem(post(finance, path, {**CONTRIBUTE, "organisation_id": "nobody"}), 422)
    deal = api_client_for("deal_team")
    nope = {**ENDPOINTS["asset"][1], "sponsor": "nope"}
    assert_problem(post(deal, "/api/v1/assets/", nope), 422)
    assert store.head() == world


RAW = [
    (b'{"amount": ', "application/json", 400),
    (b'{"amount": NaN}', "application/json", 400),
    (b"[1, 2]", "application/json", 400),
    (b'"text"', "application/json", 400),
    (b"", "application/json", 400),
    (b"\xff\xfe", "application/json", 400),
    (b'{"bank_reference": "\\ud800"}', "application/json", 400),
    (b'{"\\udfff": 1}', "application/json", 400),
    (b'{"bank_reference": "a\\u0000b"}', "application/json", 400),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
    (b'{"amount": 1' + b"0" * 5000 + b"}", "application/json", 400),
    (b"amount=1", "application/x-www-form-urlencoded", 415),
    (b"amount=1", "text/plain", 415),
]


@pytest.mark.parametrize(("raw", "content_type", "status"), RAW)
def test_malformed_bodies_are_problems(world, api_client_for, raw, content_type, status):
    api = api_client_for("finance")
    response = api.post(
        A + "capital-calls/call-1/contributions/",
        raw,
        content_type=content_type,
        HTTP_IDEMPOTENCY_KEY="raw-1",
    )
    assert_problem(response, status)
    assert store.head() == world
    assert not Receipt.objects.exists()


def test_an_oversized_body_is_413(world, api_client_for, settings):
    big = {**CONTRIBUTE, "padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    response = post(api_client_for("finance"), A + "capital-calls/call-1/contributions/", big)
    assert_problem(response, 413)
    assert store.head() == world


def test_defaults_today_and_the_base_currency(world, api_client_for):
    response = post(
        api_client_for("finance"),
        A + "capital-calls/call-1/contributions/",
        {"organisation_id": "mgx", "amount": "1", "bank_reference": "R"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["received_on"] == timezone.now().date().isoformat()
    assert body["currency"] == "USD" and body["amount"] == "1.00"
    assert body["contribution_id"]


def test_the_correlation_id_is_recorded_and_the_source_is_api(world, api_client_for):
    response = post(
        api_client_for("finance"), *ENDPOINTS["draw"][:2], HTTP_X_CORRELATION_ID="erp-batch-7"
    )
    event = store.read_all(after=response.json()["positions"][0] - 1, limit=1)[0]
    assert event.metadata["correlation_id"] == "erp-batch-7"
    assert event.metadata["source"] == "api"
    assert_problem(
        post(api_client_for("finance"), *ENDPOINTS["draw"][:2], HTTP_X_CORRELATION_ID="a b"), 400
    )


def test_every_write_is_in_the_schema_with_its_problems(client):
    schema = json.loads(client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").content)
    paths = schema["paths"]
    for path, _, _ in ENDPOINTS.values():
        template = path.removeprefix("/api").replace("/aip/", "/{slug}/")
        found = [p for p in paths if p.endswith(template.split("/", 3)[-1][:8]) or p]
        assert found
    operations = [op for item in paths.values() for op in item.values() if "operationId" in op]
    writes = [op for op in operations if "writes" in op.get("tags", [])]
    # + the waiver and equalisation endpoints (test_interest_writes, test_equalisation_writes)
    assert len(writes) == len(ENDPOINTS) + len(REOPENING) + 4
    assert set(REOPENING) <= {op["operationId"] for op in writes}
    for op in writes:
        codes = set(op["responses"])
        assert {"201", "400", "401", "403", "409", "412", "413", "422"} <= codes
        assert "application/problem+json" in op["responses"]["422"]["content"]


def test_a_client_named_in_any_script_keys_its_requests(world, api_client_for):
    """A client's name is free text; its keys' scope is its id, which a receipt accepts."""
    api = api_client_for("finance")
    ApiClient.objects.update(name="Finance ERP — Zürich")
    path, body, _ = ENDPOINTS["contribute"]
    body = {k: v for k, v in body.items() if k != "contribution_id"}
    first = post(api, path, body, HTTP_IDEMPOTENCY_KEY="pay-zh")
    assert first.status_code == 201
    twin = post(api, path, body, HTTP_IDEMPOTENCY_KEY="pay-zh")
    assert (twin.status_code, twin.json()) == (201, first.json())
    assert twin["Idempotent-Replayed"] == "true"
