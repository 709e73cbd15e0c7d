"""A rebuild runs with the garbage collector paused (``rebuild-gc-pause``), and leaves it as
it found it; switched off, the collector runs throughout. Runs on both backends."""

import gc

import pytest
from django.test import override_settings

from ledger.projections import runner
from ledger.store import NewEvent, append
from ledger.testing.models import Tally, TallyProjection

pytestmark = pytest.mark.django_db
NAME = "test_tally"


@pytest.fixture
def collector_seen(monkeypatch) -> list[bool]:
    """Whether automatic collection was on, each time the projection applied a batch."""
    seen: list[bool] = []
    real = TallyProjection.apply

    def apply(self, events, *, generation, after):
        seen.append(gc.isenabled())
        real(self, events, generation=generation, after=after)

    monkeypatch.setattr(TallyProjection, "apply", apply)
    append("a", [NewEvent("Added", {"n": n}) for n in range(5)], expected_version=None)
    return seen


def test_a_rebuild_pauses_the_collector_and_resumes_it(collector_seen):
    assert gc.isenabled()
    runner.rebuild(NAME, batch=2)
    assert collector_seen == [False, False, False]
    assert gc.isenabled()
    assert {row.stream: row.total for row in Tally.live()} == {"a": 10}


def test_a_failed_rebuild_resumes_the_collector_too(collector_seen, monkeypatch):
    def explode(self, events, *, generation, after):
        raise RuntimeError("boom")

    monkeypatch.setattr(TallyProjection, "apply", explode)
    with pytest.raises(RuntimeError, match="boom"):
        runner.rebuild(NAME, batch=2)
    assert gc.isenabled()


def test_switched_off_the_collector_runs_throughout(collector_seen):
    with override_settings(SPEED_OFF=["rebuild-gc-pause"]):
        runner.rebuild(NAME, batch=2)
    assert collector_seen == [True, True, True]
