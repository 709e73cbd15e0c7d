"""Per-client rate limits: a sliding-window counter with constant work per request."""

import pytest
from django.core.cache import cache

from consortium.api import throttling

pytestmark = pytest.mark.django_db
WHOAMI = "/api/v1/whoami/"


@pytest.fixture
def clock(monkeypatch):
    """A settable clock for the throttle (seconds); the rate is 4 a minute."""
    cache.clear()
    now = {"t": 600.0}  # the start of a window
    monkeypatch.setattr(throttling.ClientRateThrottle, "timer", lambda self: now["t"])
    monkeypatch.setattr(throttling.ClientRateThrottle, "THROTTLE_RATES", {"client": "4/min"})
    yield now
    cache.clear()


def test_a_client_over_its_rate_gets_429_with_retry_after(clock, api_client_for):
    api = api_client_for("auditor")
    assert [api.get(WHOAMI).status_code for _ in range(4)] == [200] * 4
    refused = api.get(WHOAMI)
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused["Retry-After"] == "60"  # the window has just begun
    other = api_client_for("auditor")  # another client has its own allowance
    assert other.get(WHOAMI).status_code == 200


def test_the_previous_window_counts_in_proportion_to_its_overlap(clock, api_client_for):
    api = api_client_for("auditor")
    for _ in range(4):
        assert api.get(WHOAMI).status_code == 200
    clock["t"] += 60  # next window: 4 x 100 % of the previous still counts
    assert api.get(WHOAMI).status_code == 429
    clock["t"] += 30  # halfway: 4 x 50 % = 2 counted, room for 2
    assert [api.get(WHOAMI).status_code for _ in range(3)] == [200, 200, 429]
    # 4 x (1 - elapsed) + 2 < 4 once elapsed passes one half: at once (1 s, the least).
    assert api.get(WHOAMI)["Retry-After"] == "1"
    clock["t"] += 15  # three quarters: 4 x 25 % + 2 = 3 counted, room for 1
    assert [api.get(WHOAMI).status_code for _ in range(2)] == [200, 429]
    clock["t"] += 120  # two windows on, nothing counts
    assert api.get(WHOAMI).status_code == 200


def test_retry_after_within_a_window_is_when_the_estimate_drops_below_the_limit():
    wait = throttling.ClientRateThrottle._seconds_until_allowed
    # previous 8, current 2, limit 4: need 8 x (1 - e) < 2, e > 0.75: 15 s after e = 0.5.
    assert wait(2, 8, 4, 0.5, 60) == pytest.approx(15.0)
    assert wait(4, 8, 4, 0.5, 60) == pytest.approx(30.0)
    assert wait(1, 0, 4, 0.25, 60) == pytest.approx(45.0)
