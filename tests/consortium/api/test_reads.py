"""The read endpoints: every endpoint for every role, partner narrowing, as-of views,
``min_position``, the event feed's exactly-once paging, and the health probes."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from consortium import services as s
from consortium.api import reads
from consortium.api.access import digest, new_key
from consortium.models import ApiClient, RoleGrant
from consortium.projections import asof
from ledger import store
from ledger.projections import runner

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "consortia": "/api/v1/consortia/",
    "consortium": "/api/v1/consortia/aip/",
    "progress": "/api/v1/consortia/aip/progress/",
    "positions": "/api/v1/consortia/aip/positions/",
    "calls": "/api/v1/consortia/aip/capital-calls/",
    "stream": "/api/v1/consortia/aip/events/",
    "assets": "/api/v1/assets/",
    "ownership": "/api/v1/assets/aip-dc-virginia/ownership/",
    "events": "/api/v1/events/",
}
PARTNER_READABLE = {"positions", "calls"}
ROLES = ["deal_team", "finance", "auditor", "partner:mgx", "no_role", "none", "bad_key"]


@pytest.fixture
def seeded(db) -> int:
    """The demo loaded and projected; returns the ledger head."""
    call_command("seed_demo", verbosity=0)
    runner.catch_up_all()
    return store.head()


@pytest.fixture
def client_for(db) -> Callable[..., APIClient]:
    """An API client authenticated with a fresh key for ``role`` (``partner:<org>``)."""
    made = 0

    def make(role: str, consortium: str = "") -> APIClient:
        nonlocal made
        made += 1
        api = APIClient()
        if role == "none":
            return api
        if role == "bad_key":
            api.credentials(HTTP_AUTHORIZATION="Bearer csk_not-a-real-key")
            return api
        user = get_user_model().objects.create_user(f"reader-{made}-{role.replace(':', '-')}")
        key = new_key()
        ApiClient.objects.create(
            name=f"reader-{made}", user=user, key_prefix=key[:12], key_digest=digest(key)
        )
        if role != "no_role":
            name, _, org = role.partition(":")
            RoleGrant.objects.create(
                user=user, role=name, organisation_id=org, consortium=consortium
            )
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return api

    return make


def expected_status(role: str, endpoint: str) -> int:
    if role in {"none", "bad_key"}:
        return 401
    if role == "no_role":
        return 403
    if role.startswith("partner:"):
        return 200 if endpoint in PARTNER_READABLE else 403
    return 200


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_every_read_for_every_role(seeded, client_for, endpoint, role):
    response = client_for(role).get(ENDPOINTS[endpoint])
    assert response.status_code == expected_status(role, endpoint), response.content
    if response.status_code != 200:
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == response.status_code


def test_a_partner_reads_only_its_own_rows(seeded, client_for):
    partner = client_for("partner:mgx", "aip")
    positions = partner.get(ENDPOINTS["positions"]).json()["results"]
    assert [p["organisation_id"] for p in positions] == ["mgx"]
    assert positions[0]["contributed"] == "1200000000.00"
    calls = partner.get(ENDPOINTS["calls"]).json()["results"]
    assert [c["call_id"] for c in calls] == ["aip-call-1"]
    assert [a["organisation_id"] for a in calls[0]["allocations"]] == ["mgx"]
    assert calls[0]["amount"] == calls[0]["allocations"][0]["amount"] == "1200000000.00"
    everyone = client_for("deal_team").get(ENDPOINTS["positions"]).json()["results"]
    assert len(everyone) > 1
    full = client_for("deal_team").get(ENDPOINTS["calls"]).json()["results"][0]
    assert full["amount"] == "4400000000.00"
    assert len(full["allocations"]) > 1


def test_a_partner_granted_in_one_consortium_is_refused_in_another(seeded, client_for):
    partner = client_for("partner:mgx", "aip")
    assert partner.get("/api/v1/consortia/stargate/positions/").status_code == 403


def test_live_figures_and_their_position(seeded, client_for):
    api = client_for("finance")
    body = api.get(ENDPOINTS["progress"]).json()
    assert body["position"] == seeded
    assert body["as_of"] is None and body["known_at"] is None
    equity = next(r for r in body["instruments"] if r["instrument"] == "equity")
    assert equity["signed"] == "22000000000.00"
    assert equity["called"] == "4400000000.00"
    assert Decimal(equity["contributed"]) == Decimal("3800000000.00")
    detail = api.get(ENDPOINTS["consortium"]).json()
    assert detail["base_currency"] == "USD"
    assert {"mgx", "microsoft", "blackrock-gip"} <= {
        p["organisation_id"] for p in detail["partners"]
    }
    assert detail["total"] == next(r for r in body["instruments"] if r["instrument"] == "total")


@pytest.mark.parametrize("params", [{"as_of": "2025-03-05"}, {"as_of": "2025-02-12"}])
def test_as_of_equals_the_as_of_fold(seeded, client_for, params):
    api = client_for("auditor")
    on = dt.date.fromisoformat(params["as_of"])
    body = api.get(ENDPOINTS["progress"], params).json()
    assert body["position"] == seeded and body["as_of"] == params["as_of"]
    folded = asof.progress_as_of("aip", effective_on=on)
    assert folded is not None
    expected = reads.progress_body(folded)
    assert {k: body[k] for k in expected} == expected
    positions = api.get(ENDPOINTS["positions"], params).json()["results"]
    assert positions == [
        reads.position_body(p) for p in asof.positions_as_of("aip", effective_on=on)
    ]
    calls = api.get(ENDPOINTS["calls"], params).json()["results"]
    assert calls == [reads.call_body(c) for c in asof.calls_as_of("aip", effective_on=on)]
    owned = api.get(ENDPOINTS["ownership"], params).json()
    found = asof.ownership_as_of("aip-dc-virginia", effective_on=on)
    assert found is not None
    assert {k: owned[k] for k in ("asset", "stakes", "look_through")} == reads.ownership_body(found)


def test_as_of_before_contributions_differs_from_live(seeded, client_for):
    api = client_for("finance")
    early = api.get(ENDPOINTS["positions"], {"as_of": "2025-03-05"}).json()["results"]
    late = api.get(ENDPOINTS["positions"]).json()["results"]
    by_org = {p["organisation_id"]: p for p in early}
    assert by_org["mgx"]["contributed"] == "0.00"
    assert {p["organisation_id"]: p for p in late}["mgx"]["contributed"] == "1200000000.00"


def test_known_at_equals_the_as_of_fold(seeded, client_for):
    api = client_for("deal_team")
    before = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert api.get(ENDPOINTS["progress"], {"known_at": before}).status_code == 404
    assert api.get(ENDPOINTS["ownership"], {"known_at": before}).status_code == 404
    listed = api.get(ENDPOINTS["consortia"], {"known_at": before}).json()
    assert listed["results"] == []
    now = timezone.now()
    body = api.get(ENDPOINTS["progress"], {"known_at": now.isoformat()}).json()
    folded = asof.progress_as_of("aip", known_at=now)
    assert folded is not None
    expected = reads.progress_body(folded)
    assert {k: body[k] for k in expected} == expected
    live = api.get(ENDPOINTS["progress"]).json()
    assert {k: live[k] for k in expected} == expected


def test_unknown_slug_and_asset_are_404_problems(seeded, client_for):
    api = client_for("deal_team")
    for url in (
        "/api/v1/consortia/nope/",
        "/api/v1/consortia/nope/progress/",
        "/api/v1/consortia/nope/positions/",
        "/api/v1/consortia/nope/capital-calls/",
        "/api/v1/consortia/nope/events/",
        "/api/v1/assets/nope/ownership/",
    ):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["title"]


@pytest.mark.parametrize(
    "params",
    [
        {"as_of": "2025-02-30"},
        {"as_of": "yesterday"},
        {"known_at": "noon"},
        {"min_position": "-1"},
        {"min_position": "x"},
    ],
)
def test_bad_view_parameters_are_400_problems(seeded, client_for, params):
    response = client_for("deal_team").get(ENDPOINTS["progress"], params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == set(params)


def test_min_position_waits_then_503_until_the_projections_catch_up(seeded, client_for):
    # Inside the test's transaction no on-commit catch-up runs: the projections lag.
    alice = get_user_model().objects.get(username="alice.deal")
    result = s.partner_admit(
        actor=s.Actor(alice),
        slug="aip",
        organisation_id="late-partner",
        name="Late Partner",
        role="member",
        effective_on=dt.date(2025, 6, 1),
    )
    wanted = max(result.positions)
    api = client_for("finance")
    for endpoint in ("consortia", "consortium", "progress", "positions", "calls"):
        lagging = api.get(ENDPOINTS[endpoint], {"min_position": wanted})
        assert lagging.status_code == 503, endpoint
        assert lagging["Retry-After"] == "1"
        assert lagging["Content-Type"] == "application/problem+json"
    # The as-of fold reads the ledger itself: it is never behind.
    folded = api.get(ENDPOINTS["positions"], {"min_position": wanted, "as_of": "2025-12-31"})
    assert folded.status_code == 200
    assert "late-partner" in {p["organisation_id"] for p in folded.json()["results"]}
    beyond = api.get(ENDPOINTS["progress"], {"min_position": wanted + 1000})
    assert beyond.status_code == 422  # not a wait: that position does not exist yet
    runner.catch_up_all()
    caught_up = api.get(ENDPOINTS["positions"], {"min_position": wanted})
    assert caught_up.status_code == 200
    assert caught_up.json()["position"] >= wanted
    assert "late-partner" in {p["organisation_id"] for p in caught_up.json()["results"]}


def test_lists_are_cursor_paginated_and_filterable(seeded, client_for):
    api = client_for("deal_team")
    page = api.get(ENDPOINTS["consortia"], {"page_size": 1}).json()
    slugs = [page["results"][0]["slug"]]
    while page["next"]:
        page = api.get(page["next"]).json()
        slugs += [r["slug"] for r in page["results"]]
    assert slugs == ["aip", "atlas", "stargate"]  # atlas: the interest demo
    only = api.get(ENDPOINTS["consortia"], {"slug": "stargate"}).json()["results"]
    assert [r["slug"] for r in only] == ["stargate"]
    assert api.get(ENDPOINTS["consortia"], {"base_currency": "EUR"}).json()["results"] == []
    assets = api.get(ENDPOINTS["assets"], {"sponsor": "aip"}).json()["results"]
    assert {a["asset_id"] for a in assets} == {
        "aip-dc-ohio",  # --- distributions: the demo's campus that pays income ---
        "aip-dc-virginia",
        "aip-power-texas",
    }
    assert api.get(ENDPOINTS["consortia"], {"cursor": "garbage"}).status_code == 404


@pytest.mark.parametrize("limit", [1, 7, 100, 1000])
def test_following_next_after_sees_every_event_exactly_once(seeded, client_for, limit):
    api = client_for("auditor")
    seen: list[int] = []
    after = 0
    while True:
        body = api.get(ENDPOINTS["events"], {"after": after, "limit": limit}).json()
        assert len(body["results"]) <= limit
        seen += [e["position"] for e in body["results"]]
        if not body["results"]:
            assert body["next_after"] == after
            break
        after = body["next_after"]
    assert seen == [e.position for e in store.read_all(after=0, limit=10_000)]
    assert seen[-1] == seeded
    first = api.get(ENDPOINTS["events"], {"limit": 1}).json()["results"][0]
    assert set(first) == {
        "position", "stream", "version", "type", "schema_version", "data", "metadata",
        "effective_on", "recorded_at", "hash",
    }  # fmt: skip


def test_a_consortiums_feed_pages_by_position_too(seeded, client_for):
    api = client_for("auditor")
    seen, after = [], 0
    while True:
        body = api.get(ENDPOINTS["stream"], {"after": after, "limit": 5}).json()
        if not body["results"]:
            break
        seen += body["results"]
        after = body["next_after"]
    assert {e["stream"] for e in seen} == {"consortium-aip"}
    assert [e["version"] for e in seen] == list(range(1, len(seen) + 1))
    assert [e["position"] for e in seen] == [
        e.position for e in store.read_stream("consortium-aip")
    ]


@pytest.mark.parametrize(
    "params", [{"after": "-1"}, {"limit": "0"}, {"limit": "1001"}, {"after": "x"}, {"limit": "1.5"}]
)
def test_bad_feed_parameters_are_400_problems(seeded, client_for, params):
    for url in (ENDPOINTS["events"], ENDPOINTS["stream"]):
        response = client_for("auditor").get(url, params)
        assert response.status_code == 400, (url, params)
        assert response["Content-Type"] == "application/problem+json"


def test_health_probes_need_no_authentication(seeded):
    api = APIClient()
    assert api.get("/api/v1/healthz/").json() == {"status": "ok"}
    assert api.get("/healthz").status_code == 200
    ready = api.get("/api/v1/readyz/")
    assert ready.status_code == 200, ready.content
    body = ready.json()
    assert body["database"] == "ok"
    assert {p["name"] for p in body["projections"]} >= {"consortium", "ownership"}
    assert all(p["lag_events"] == 0 for p in body["projections"])


def test_readyz_is_503_when_a_projection_lags_too_long(seeded, settings, monkeypatch):
    settings.READYZ_MAX_LAG_SECONDS = 0
    lagging = [
        runner.Status("consortium", 1, 5, 1, 4, 12.0, "", None, False, 0),
    ]
    monkeypatch.setattr(runner, "status", lambda: lagging)
    response = APIClient().get("/api/v1/readyz/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert "projections.consortium" in response.json()["errors"]


def test_readyz_is_503_when_the_broker_is_unreachable(seeded, monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    response = APIClient().get("/api/v1/readyz/")
    assert response.status_code == 503
    assert "broker" in response.json()["errors"]
