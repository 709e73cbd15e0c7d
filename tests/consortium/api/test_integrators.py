"""What integrators tripped on (issue 11), each answered as HTTP says it should: 405 with
``Allow``, problem+json for everything under ``/api/v1/``, no redirect of a write, one
answer for a missing consortium, kebab-case problem types, readiness with lag, and a
schema that states real bounds in integrators' words."""

import datetime as dt
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from rest_framework.test import APIClient

from consortium import services as s
from consortium.api.errors import handle
from consortium.domain import errors as domain_errors
from ledger import store
from ledger.projections import runner

PROBLEM = "application/problem+json"
A = "/api/v1/consortia/aip/"


@pytest.fixture
def seeded(db) -> int:
    call_command("seed_demo", verbosity=0)
    runner.catch_up_all()
    return store.head()


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = json.loads(response.content)
    assert body["status"] == status
    return body


# --- methods a route does not have ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("get", A + "commitments/", {"POST", "OPTIONS"}),
        ("delete", A + "progress/", {"GET", "HEAD", "OPTIONS"}),
        ("put", A + "capital-calls/", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("patch", "/api/v1/consortia/", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("post", "/api/v1/events/", {"GET", "HEAD", "OPTIONS"}),
    ],
)
@pytest.mark.parametrize("role", ["deal_team", "finance", "auditor", "partner:mgx", "no_role"])
def test_a_method_the_route_lacks_is_405_with_allow_for_any_key(
    seeded, api_client_for, method, path, allowed, role
):
    response = getattr(api_client_for(role), method)(path)
    assert_problem(response, 405)
    assert {m.strip() for m in response["Allow"].split(",")} == allowed


def test_without_a_key_a_method_the_route_lacks_stays_401(seeded, api_client_for):
    assert_problem(api_client_for("none").get(A + "commitments/"), 401)


def test_a_role_without_the_capability_is_still_403_on_a_method_the_route_has(
    seeded, api_client_for
):
    assert_problem(api_client_for("auditor").post(A + "commitments/", {}, format="json"), 403)
    assert api_client_for("no_role").head(A + "progress/").status_code == 403


# --- every answer under /api/v1/ is problem+json -------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v1/consortia/aip/nothing/", "/api/v1/"])
def test_an_unknown_path_is_a_404_problem(seeded, api_client_for, path):
    body = assert_problem(api_client_for("deal_team").get(path), 404)
    assert body["type"].endswith("/not-found")
    assert path in body["detail"]


def test_a_request_django_refuses_is_a_problem_too(seeded):
    response = APIClient().get("/api/v1/healthz/", HTTP_HOST="evil.example")
    assert_problem(response, 400)


def test_outside_the_api_django_answers_as_usual(seeded):
    response = APIClient().get("/nothing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_path_id_no_ledger_stream_could_have_is_404_before_the_ledger_is_asked(
    seeded, api_client_for
):
    assert_problem(api_client_for("deal_team").get("/api/v1/consortia/a%20b/progress/"), 404)
    assert_problem(api_client_for("deal_team").get("/api/v1/assets/%C3%A9/ownership/"), 404)
    path = "/api/v1/consortia/a%20b/commitments/"
    assert_problem(api_client_for("deal_team").post(path, {}, format="json"), 404)


# --- no redirect of a write ----------------------------------------------------------------


def test_routes_answer_without_the_trailing_slash_never_redirecting(seeded, api_client_for):
    deal = api_client_for("deal_team")
    form = {"slug": "noslash", "name": "No Slash", "base_currency": "USD"}
    created = deal.post("/api/v1/consortia", form, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["slug"] == "noslash"
    target = {"instrument": "equity", "amount": "100.00"}
    assert deal.post("/api/v1/consortia/noslash/targets", target, format="json").status_code == 201
    assert deal.get("/api/v1/consortia/aip/progress").status_code == 200
    schema = json.loads(deal.get("/api/v1/schema/", HTTP_ACCEPT="application/json").content)
    assert all(path.endswith("/") for path in schema["paths"])


# --- min_position beyond the head -----------------------------------------------------------


@pytest.mark.parametrize("extra", [{}, {"as_of": "2030-01-01"}])
def test_min_position_beyond_the_head_is_refused_at_once(seeded, api_client_for, extra):
    api = api_client_for("auditor")
    for path in (A + "progress/", A + "positions/", "/api/v1/consortia/", A):
        params = {"min_position": seeded + 1, **extra}
        body = assert_problem(api.get(path, params), 422)
        assert body["type"].endswith("/position-beyond-head")
        assert "min_position" in body["errors"]
    assert api.get(A + "progress/", {"min_position": seeded}).status_code == 200


# --- parameters are checked before the ledger is asked --------------------------------------


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "1001"}, {"limit": "x"}])
def test_a_bad_limit_is_a_400_naming_the_limit(seeded, api_client_for, params):
    for path in ("/api/v1/events/", A + "events/"):
        body = assert_problem(api_client_for("auditor").get(path, params), 400)
        assert list(body["errors"]) == ["limit"], body


@pytest.mark.parametrize("name", ["known_at", "as_of", "min_position"])
def test_an_empty_view_parameter_is_refused(seeded, api_client_for, name):
    body = assert_problem(api_client_for("auditor").get(A + "progress/", {name: ""}), 400)
    assert list(body["errors"]) == [name]


def test_an_empty_feed_parameter_is_refused(seeded, api_client_for):
    body = assert_problem(api_client_for("auditor").get("/api/v1/events/", {"after": ""}), 400)
    assert list(body["errors"]) == ["after"]


# --- problem types --------------------------------------------------------------------------


def _subclasses(cls: type) -> list[type]:
    return [cls, *(s for sub in cls.__subclasses__() for s in _subclasses(sub))]


@pytest.mark.parametrize("error", _subclasses(domain_errors.DomainError), ids=lambda e: e.__name__)
def test_every_domain_error_has_a_kebab_case_problem_type(error):
    response = handle(error("message", field="amount"), {})
    assert response is not None
    slug = response.data["type"].rsplit("/", 1)[-1]
    assert slug == slug.lower() and "_" not in slug and slug, slug


def test_every_problem_type_in_the_api_is_kebab_case(seeded, api_client_for):
    deal = api_client_for("deal_team")
    answers = [
        deal.post(A + "commitments/", {"amount": "x"}, format="json"),
        deal.get("/api/v1/nothing/"),
        deal.put(A + "commitments/"),
        api_client_for("none").get(A),
        deal.post(
            A + "capital-calls/call-1/approve/", {"effective_on": "2099-01-01"}, format="json"
        ),
    ]
    for response in answers:
        slug = json.loads(response.content)["type"].rsplit("/", 1)[-1]
        assert "_" not in slug, (response.status_code, slug)


# --- readiness -------------------------------------------------------------------------------


def test_readyz_reports_the_lag_and_is_not_ready_past_the_threshold(
    seeded, api_client_for, settings, monkeypatch
):
    ready = APIClient().get("/api/v1/readyz/")
    assert ready.status_code == 200
    assert all(p["lag_events"] == 0 for p in ready.json()["projections"])
    # An append whose catch-up is never triggered: the projections fall behind.
    monkeypatch.setattr(transaction, "on_commit", lambda *args, **kwargs: None)
    s.partner_admit(
        actor=s.Actor(api_client_for("deal_team").user),
        slug="aip",
        organisation_id="late",
        name="Late",
        role="member",
        effective_on=dt.date(2025, 6, 1),
    )
    settings.READYZ_MAX_LAG_SECONDS = 3600
    behind = APIClient().get("/api/v1/readyz/")
    assert behind.status_code == 200
    lags = {p["name"]: p["lag_events"] for p in behind.json()["projections"]}
    assert lags["consortium"] == 1
    settings.READYZ_MAX_LAG_SECONDS = -1
    body = assert_problem(APIClient().get("/api/v1/readyz/"), 503)
    assert "projections.consortium" in body["errors"]


# --- the schema --------------------------------------------------------------------------------


@pytest.fixture
def schema(db: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json").content
    )
    return loaded


def _parameter(schema: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    (found,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name]
    parameter: dict[str, Any] = found["schema"]
    return parameter


def test_the_schema_states_the_bounds_of_read_parameters(schema):
    limit = _parameter(schema, "/api/v1/events/", "limit")
    assert (limit["minimum"], limit["maximum"]) == (1, 1000)
    after = _parameter(schema, "/api/v1/events/", "after")
    assert after["minimum"] == 0
    position = _parameter(schema, "/api/v1/consortia/{slug}/progress/", "min_position")
    assert position["minimum"] == 0


def test_the_schema_states_if_match_as_a_quoted_version_and_currencies_as_an_enum(schema):
    post = schema["paths"]["/api/v1/consortia/{slug}/commitments/"]["post"]
    (if_match,) = [p for p in post["parameters"] if p["name"] == "If-Match"]
    assert if_match["schema"]["pattern"] == '^"[0-9]{1,18}"$'
    currency = schema["components"]["schemas"]["CommitmentInRequest"]["properties"]["currency"]
    ref = (currency.get("allOf") or [currency])[0]["$ref"].rsplit("/", 1)[-1]
    enum = schema["components"]["schemas"][ref]["enum"]
    assert "USD" in enum and "EUR" in enum and "BTC" not in enum


def test_the_schema_speaks_to_integrators_only(schema):
    text = json.dumps(schema)
    for note in ("shallow cop", "deep-cop", "DRF", "binds ", "_declared_fields"):
        assert note not in text, note


@pytest.mark.parametrize("role", ["finance", "no_role"])
def test_options_describes_a_route_to_any_valid_key(seeded, api_client_for, role):
    response = api_client_for(role).options(A + "commitments/")
    assert response.status_code == 200
    assert {m.strip() for m in response["Allow"].split(",")} == {"POST", "OPTIONS"}


def test_a_server_error_under_the_api_is_a_problem_and_elsewhere_djangos_page(db):
    from django.test import RequestFactory

    from config import urls

    factory = RequestFactory()
    api = urls.server_error(factory.post("/api/v1/consortia/"))
    assert api.status_code == 500
    assert api["Content-Type"] == PROBLEM
    assert json.loads(api.content)["type"].endswith("/server-error")
    page = urls.server_error(factory.get("/admin/"))
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")
