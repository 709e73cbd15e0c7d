"""A finance system's day, written as one would be: post the wires received against the
issued call (retrying each request with its Idempotency-Key, as after a timeout), follow
the event feed from 0 to the head, and reconcile partner positions against the feed."""

import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from ledger.projections import runner

# Committed transactions, so the projections catch up after each write as in production.
pytestmark = pytest.mark.django_db(transaction=True)

CALL = "/api/v1/consortia/aip/capital-calls/aip-call-1/contributions/"
WIRES = [  # BlackRock/GIP still owes USD 600m on the call: paid in two wires
    {
        "contribution_id": "erp-wire-1",
        "organisation_id": "blackrock-gip",
        "amount": "400000000.00",
        "currency": "USD",
        "bank_reference": "BLK-FED-9001",
        "received_on": "2025-03-20",
    },
    {
        "contribution_id": "erp-wire-2",
        "organisation_id": "blackrock-gip",
        "amount": "200000000.00",
        "currency": "USD",
        "bank_reference": "BLK-FED-9002",
        "received_on": "2025-03-27",
    },
]


def get_until_caught_up(api: APIClient, url: str, min_position: int) -> dict[str, Any]:
    """Read-your-writes: honour a 503's Retry-After a few times."""
    for _ in range(20):
        response = api.get(url, {"min_position": min_position})
        if response.status_code != 503:
            assert response.status_code == 200, response.content
            body: dict[str, Any] = response.json()
            return body
        assert response["Retry-After"] == "1"
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            runner.catch_up_all()  # stands in for the Celery worker in this test
        time.sleep(0.05)
    raise AssertionError(f"{url} never reached position {min_position}")


def follow_feed(api: APIClient, after: int = 0, limit: int = 10) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        response = api.get("/api/v1/events/", {"after": after, "limit": limit})
        assert response.status_code == 200, response.content
        page = response.json()
        if not page["results"]:
            return events
        events += page["results"]
        after = page["next_after"]


def minor(text: str) -> int:
    return int(Decimal(text) * 100)


def test_a_finance_system_posts_wires_and_reconciles(api_client_for):
    call_command("seed_demo", verbosity=0)
    runner.catch_up_all()
    finance = api_client_for("finance", username="treasury-erp")

    written: list[int] = []
    for number, wire in enumerate(WIRES, start=1):
        key = f"treasury-erp:wire:{number}"
        first = finance.post(CALL, wire, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert first.status_code == 201, first.content
        for _ in range(2):  # the ERP timed out and retries: same key, same body
            again = finance.post(CALL, wire, format="json", HTTP_IDEMPOTENCY_KEY=key)
            assert again.status_code == 201
            assert again["Idempotent-Replayed"] == "true"
            assert again.json() == first.json()
        written += first.json()["positions"]

    # Every event exactly once, from 0 to the head, and each wire only once in it.
    events = follow_feed(finance)
    positions = [e["position"] for e in events]
    assert positions == sorted(set(positions))
    assert positions[-1] >= max(written)
    received = [e for e in events if e["type"] == "ContributionReceived"]
    ids = [e["data"]["contribution_id"] for e in received]
    assert ids.count("erp-wire-1") == ids.count("erp-wire-2") == 1

    # Reconcile: each partner's contributed figure equals the feed's contributions less
    # reversals, once the positions reflect the last position we wrote.
    from_feed: dict[str, int] = defaultdict(int)
    by_id: dict[str, tuple[str, int]] = {}
    for event in events:
        if event["stream"] != "consortium-aip":
            continue
        data = event["data"]
        if event["type"] == "ContributionReceived":
            org, amount = data["organisation_id"], minor(str(data["amount"]["amount"]))
            by_id[data["contribution_id"]] = (org, amount)
            from_feed[org] += amount
        elif event["type"] == "ContributionReversed":
            org, amount = by_id[data["contribution_id"]]
            from_feed[org] -= amount
    body = get_until_caught_up(finance, "/api/v1/consortia/aip/positions/", max(written))
    assert body["position"] >= max(written)
    by_org = {p["organisation_id"]: p for p in body["results"]}
    for org, row in by_org.items():
        assert minor(row["contributed"]) == from_feed.get(org, 0), org
        assert minor(row["outstanding"]) == minor(row["called"]) - minor(row["contributed"])
    assert by_org["blackrock-gip"]["contributed"] == "1600000000.00"
    assert by_org["blackrock-gip"]["outstanding"] == "0.00"

    calls = get_until_caught_up(finance, "/api/v1/consortia/aip/capital-calls/", max(written))
    (call,) = calls["results"]
    assert call["status"] == "settled"
    assert call["contributed"] == call["amount"] == "4400000000.00"
